"""US street addresses in one standard form (USPS Publication 28 style).

``usaddress`` (a CRF tagger) splits the address into labelled parts; the
parts are then written with the USPS abbreviations: street suffixes
(Street -> ST), directionals (North -> N), unit designators (Apartment, Apt,
Unit and # -> APT), states (Florida -> FL), five-digit ZIP codes. The normal
form is ``"123 N MAIN ST APT 4B, WEST PALM BEACH, FL 33401"``; any part but
the street line may be missing.
"""

from __future__ import annotations

import re
from collections import OrderedDict

import usaddress
from anyascii import anyascii

from deconflict._regions import US_STATES, region_code


class AddressError(ValueError):
    pass


def _table(groups: dict[str, tuple[str, ...]]) -> dict[str, str]:
    table = {}
    for standard, variants in groups.items():
        table[standard] = standard
        for v in variants:
            table[v] = standard
    return table


# USPS Publication 28, appendix C1 (the suffixes met in practice).
SUFFIXES = _table(
    {
        "ALY": ("ALLEY", "ALLEE", "ALLY"),
        "ANX": ("ANNEX", "ANNX", "ANEX"),
        "ARC": ("ARCADE",),
        "AVE": ("AVENUE", "AV", "AVEN", "AVENU", "AVN", "AVNUE"),
        "BYU": ("BAYOU", "BAYOO"),
        "BCH": ("BEACH",),
        "BND": ("BEND",),
        "BLF": ("BLUFF", "BLUF"),
        "BLVD": ("BOULEVARD", "BOUL", "BOULV", "BLV"),
        "BR": ("BRANCH", "BRNCH"),
        "BRG": ("BRIDGE", "BRDGE"),
        "BRK": ("BROOK",),
        "BYP": ("BYPASS", "BYPA", "BYPAS", "BYPS"),
        "CSWY": ("CAUSEWAY", "CAUSWA"),
        "CTR": ("CENTER", "CENTRE", "CEN", "CENT", "CENTR", "CNTER", "CNTR"),
        "CIR": ("CIRCLE", "CIRC", "CIRCL", "CRCL", "CRCLE"),
        "CLF": ("CLIFF",),
        "CLB": ("CLUB",),
        "CMN": ("COMMON",),
        "COR": ("CORNER",),
        "CRSE": ("COURSE",),
        "CT": ("COURT", "CRT"),
        "CTS": ("COURTS",),
        "CV": ("COVE",),
        "CRK": ("CREEK",),
        "CRES": ("CRESCENT", "CRSENT", "CRSNT"),
        "XING": ("CROSSING", "CRSSNG"),
        "DL": ("DALE",),
        "DM": ("DAM",),
        "DR": ("DRIVE", "DRIV", "DRV"),
        "EST": ("ESTATE",),
        "ESTS": ("ESTATES",),
        "EXPY": ("EXPRESSWAY", "EXP", "EXPR", "EXPRESS", "EXPW"),
        "EXT": ("EXTENSION", "EXTN", "EXTNSN"),
        "FLS": ("FALLS",),
        "FRY": ("FERRY", "FRRY"),
        "FLD": ("FIELD",),
        "FLDS": ("FIELDS",),
        "FLT": ("FLAT",),
        "FRD": ("FORD",),
        "FRST": ("FOREST", "FORESTS"),
        "FRK": ("FORK",),
        "FT": ("FORT", "FRT"),
        "FWY": ("FREEWAY", "FREEWY", "FRWAY", "FRWY"),
        "GDN": ("GARDEN", "GARDN", "GRDEN", "GRDN"),
        "GDNS": ("GARDENS", "GRDNS"),
        "GTWY": ("GATEWAY", "GATEWY", "GATWAY", "GTWAY"),
        "GLN": ("GLEN",),
        "GRN": ("GREEN",),
        "GRV": ("GROVE", "GROV"),
        "HBR": ("HARBOR", "HARB", "HARBR", "HRBOR"),
        "HVN": ("HAVEN",),
        "HTS": ("HEIGHTS", "HT"),
        "HWY": ("HIGHWAY", "HIGHWY", "HIWAY", "HIWY", "HWAY"),
        "HL": ("HILL",),
        "HLS": ("HILLS",),
        "HOLW": ("HOLLOW", "HLLW", "HOLLOWS", "HOLWS"),
        "IS": ("ISLAND", "ISLND"),
        "ISS": ("ISLANDS", "ISLNDS"),
        "JCT": ("JUNCTION", "JCTION", "JCTN", "JUNCTN", "JUNCTON"),
        "KY": ("KEY",),
        "KYS": ("KEYS",),
        "LK": ("LAKE",),
        "LKS": ("LAKES",),
        "LNDG": ("LANDING", "LNDNG"),
        "LN": ("LANE",),
        "LOOP": ("LOOPS",),
        "MALL": (),
        "MNR": ("MANOR",),
        "MDW": ("MEADOW",),
        "MDWS": ("MEADOWS", "MEDOWS"),
        "ML": ("MILL",),
        "MT": ("MOUNT", "MNT"),
        "MTN": ("MOUNTAIN", "MNTAIN", "MNTN", "MOUNTIN", "MTIN"),
        "OVAL": ("OVL",),
        "OPAS": ("OVERPASS",),
        "PARK": ("PRK", "PARKS"),
        "PKWY": ("PARKWAY", "PARKWY", "PKWAY", "PKY", "PARKWAYS", "PKWYS"),
        "PASS": (),
        "PATH": ("PATHS",),
        "PIKE": ("PIKES",),
        "PNES": ("PINES",),
        "PL": ("PLACE",),
        "PLN": ("PLAIN",),
        "PLZ": ("PLAZA", "PLZA"),
        "PT": ("POINT",),
        "PRT": ("PORT",),
        "PR": ("PRAIRIE", "PRR"),
        "RADL": ("RADIAL", "RAD", "RADIEL"),
        "RNCH": ("RANCH", "RANCHES", "RNCHS"),
        "RDG": ("RIDGE", "RDGE"),
        "RIV": ("RIVER", "RVR", "RIVR"),
        "RD": ("ROAD",),
        "RDS": ("ROADS",),
        "RTE": ("ROUTE",),
        "ROW": (),
        "RUN": (),
        "SHR": ("SHORE",),
        "SHRS": ("SHORES",),
        "SPG": ("SPRING", "SPNG", "SPRNG"),
        "SPGS": ("SPRINGS", "SPNGS", "SPRNGS"),
        "SQ": ("SQUARE", "SQR", "SQRE", "SQU"),
        "STA": ("STATION", "STATN", "STN"),
        "ST": ("STREET", "STRT", "STR"),
        "STS": ("STREETS",),
        "SMT": ("SUMMIT", "SUMIT", "SUMITT"),
        "TER": ("TERRACE", "TERR"),
        "TRCE": ("TRACE", "TRACES"),
        "TRAK": ("TRACK", "TRACKS", "TRK", "TRKS"),
        "TRL": ("TRAIL", "TRAILS", "TRLS"),
        "TUNL": ("TUNNEL", "TUNEL", "TUNLS", "TUNNELS", "TUNNL"),
        "TPKE": ("TURNPIKE", "TRNPK", "TURNPK"),
        "UN": ("UNION",),
        "VLY": ("VALLEY", "VALLY", "VLLY"),
        "VIA": ("VIADUCT", "VDCT", "VIADCT"),
        "VW": ("VIEW",),
        "VLG": ("VILLAGE", "VILL", "VILLAG", "VILLG", "VILLIAGE"),
        "VIS": ("VISTA", "VIST", "VST", "VSTA"),
        "WALK": ("WALKS",),
        "WAY": ("WY",),
        "WL": ("WELL",),
        "WLS": ("WELLS",),
    }
)

DIRECTIONALS = _table(
    {
        "N": ("NORTH", "NO"),
        "S": ("SOUTH", "SO"),
        "E": ("EAST",),
        "W": ("WEST",),
        "NE": ("NORTHEAST", "NORTH EAST", "N E"),
        "NW": ("NORTHWEST", "NORTH WEST", "N W"),
        "SE": ("SOUTHEAST", "SOUTH EAST", "S E"),
        "SW": ("SOUTHWEST", "SOUTH WEST", "S W"),
    }
)

# Unit designators. Apartment, unit and "#" name the same thing in practice
# ("Apt 4B" on one form is "Unit 4B" or "#4B" on another), so they share one.
UNITS = _table(
    {
        "APT": ("APARTMENT", "UNIT", "#", "NO", "NUMBER", "NUM"),
        "STE": ("SUITE",),
        "RM": ("ROOM",),
        "FL": ("FLOOR", "FLR"),
        "BLDG": ("BUILDING",),
        "LOT": (),
        "TRLR": ("TRAILER",),
        "SPC": ("SPACE",),
        "OFC": ("OFFICE",),
        "DEPT": ("DEPARTMENT",),
        "BSMT": ("BASEMENT",),
        "PH": ("PENTHOUSE",),
        "LOWR": ("LOWER",),
        "UPPR": ("UPPER",),
        "REAR": (),
        "FRNT": ("FRONT",),
        "SIDE": (),
        "LBBY": ("LOBBY",),
        "HNGR": ("HANGER", "HANGAR"),
        "PIER": (),
        "SLIP": (),
        "STOP": (),
        "KEY": (),
    }
)

# Types written before a route number or letter: "US Highway 1", "Avenue A".
_ROUTE_TYPES = {
    w for w, std in SUFFIXES.items() if std in ("HWY", "RTE", "AVE", "RD", "FWY", "EXPY", "TPKE")
}

_ORDINALS = {
    "FIRST": "1ST",
    "SECOND": "2ND",
    "THIRD": "3RD",
    "FOURTH": "4TH",
    "FIFTH": "5TH",
    "SIXTH": "6TH",
    "SEVENTH": "7TH",
    "EIGHTH": "8TH",
    "NINTH": "9TH",
    "TENTH": "10TH",
    "ELEVENTH": "11TH",
    "TWELFTH": "12TH",
}

_STREET_LABELS = (
    "AddressNumberPrefix",
    "AddressNumber",
    "AddressNumberSuffix",
    "StreetNamePreModifier",
    "StreetNamePreDirectional",
    "StreetNamePreType",
    "StreetName",
    "StreetNamePostType",
    "StreetNamePostDirectional",
)
_UNIT_LABELS = (
    "OccupancyType",
    "OccupancyIdentifier",
    "SubaddressType",
    "SubaddressIdentifier",
)
_TAIL = re.compile(r"^(?:(?P<state>[A-Z]{2})(?: |$))?(?P<zip>\d{5})?$")


# A street line ending in a unit: the designator, then a number (or a single letter).
_TRAILING_UNIT = re.compile(
    r"(?P<street>\d.*?\S)\s+"
    r"(?P<type>APT|APARTMENT|UNIT|STE|SUITE|RM|ROOM|LOT|SPC|SPACE|TRLR|TRAILER|FLR|FLOOR|NO|#)"
    r"(?:\s*#)?\s+(?P<id>[A-Z]?\d[A-Z0-9]*(?:-[A-Z0-9]+)?|[A-Z])"
)
# A unit designator run into its number: "Apt4B", "STE210", "Rm#12".
_GLUED_UNIT = re.compile(
    r"\b(APT|APARTMENT|UNIT|STE|SUITE|RM|ROOM|BLDG|BUILDING|LOT|SPC|SPACE|TRLR|TRAILER|FLR"
    r"|FLOOR|OFC|OFFICE|DEPT|PH)(?=\d)"
)


def normalize(raw: str) -> str:
    """The standard form of ``raw``; :class:`AddressError` when it is not a street address."""
    text = anyascii(raw).upper()
    text = _GLUED_UNIT.sub(r"\1 ", text)
    text = re.sub(r"#\s*", " # ", text)
    text = re.sub(r"[^A-Z0-9#/ ,\-]+", " ", text.replace(".", " ").replace("'", ""))
    text = " ".join(text.split())
    if not text:
        raise AddressError("empty value")
    # A unit that ends the street line, before the first comma, is read here: the tagger
    # mistakes it after a directional written last ("9887 Ocean St N Rm 30, ...").
    head, comma, tail = text.partition(",")
    trailing = _TRAILING_UNIT.fullmatch(head.strip()) if comma else None
    if trailing:
        text = f"{trailing['street']},{tail}"
    parts = _repair_units(_tag(text))
    if trailing:
        for label in ("OccupancyType", "OccupancyIdentifier"):
            if label in parts:  # the tagger read another unit: it is a building, say
                parts[label.replace("Occupancy", "Subaddress")] = parts.pop(label)
        parts["OccupancyType"] = trailing["type"]
        parts["OccupancyIdentifier"] = trailing["id"]

    if "USPSBoxID" in parts:
        street = f"PO BOX {_unit_id(parts['USPSBoxID'])}"
    else:
        if "AddressNumber" not in parts or "StreetName" not in parts:
            raise AddressError("needs a house number and a street (or a PO box)")
        if not re.search(r"\d", parts["AddressNumber"]):
            raise AddressError(f"the house number {parts['AddressNumber']!r} has no digit")
        street = " ".join(_street_words(parts))
    unit = _unit(parts)
    if unit:
        street = f"{street} {unit}"

    city = _words(parts.get("PlaceName", ""))
    state = ""
    if parts.get("StateName"):
        state = region_code(parts["StateName"]) or ""
        if state not in US_STATES:
            # an unknown "state" is most likely the end of the city's name
            city = f"{city} {_words(parts['StateName'])}".strip()
            state = ""
    zip5 = ""
    if parts.get("ZipCode"):
        digits = re.sub(r"\D", "", parts["ZipCode"])
        if len(digits) not in (5, 9):
            raise AddressError(f"ZIP code {parts['ZipCode']!r} is neither 5 nor 9 digits")
        zip5 = digits[:5]
    tail = " ".join(p for p in (state, zip5) if p)
    return ", ".join(p for p in (street, city, tail) if p)


def split(normalized: str) -> tuple[str, str, str, str]:
    """``(street, city, state, zip)`` of a normalised address ("" where missing)."""
    pieces = normalized.split(", ")
    street, rest = pieces[0], pieces[1:]
    state = zip5 = city = ""
    if rest:
        tail = _TAIL.match(rest[-1])
        if tail and (tail["state"] or tail["zip"]):
            state, zip5 = tail["state"] or "", tail["zip"] or ""
            rest = rest[:-1]
    if rest:
        city = rest[0]
    return street, city, state, zip5


def keys(normalized: str) -> frozenset[str]:
    """Keys under which two forms of one address meet.

    The street line with the ZIP code, and the street line with the city and
    state, so that ``"..., 33401"`` and ``"..., WEST PALM BEACH, FL"`` meet.
    A street line with neither is indexed alone and meets only its equals.
    The street line is compared as :func:`comparable_street` writes it, so
    that ``APT 4B``, ``STE 4B`` and ``# 4B`` meet, as do ``N MAIN ST`` and
    ``MAIN ST N``.
    """
    street, city, state, zip5 = split(normalized)
    street = comparable_street(street)
    found = set()
    if zip5:
        found.add(f"{street}|{zip5}")
    if city and state:
        found.add(f"{street}|{city}|{state}")
    if not found:
        found.add("|".join(p for p in (street, city, state) if p))
    return frozenset(found)


# Unit designators that stand alone, without a number ("REAR", "UPPR").
_LONE_UNITS = frozenset(
    w for w, std in UNITS.items() if std in {"BSMT", "FRNT", "LBBY", "LOWR", "REAR", "SIDE", "UPPR"}
)
# Designators as standard forms write them, and as a street line keeps those the tagger
# left in it ("DIXIE HWY TRAILER 7").
_UNIT_TYPES = frozenset(UNITS) - {"#"}
_ORDINAL = re.compile(r"(\d+)(?:ST|ND|RD|TH)")


def comparable_street(street: str) -> str:
    """A standard street line with what records write differently of one place made alike.

    The type of a unit is left out, its number kept (``APT 4B``, ``UNIT 4B``,
    ``STE 4B``, ``# 4B`` are all ``# 4B``: forms and people name one door
    differently); a directional written after the street (``MAIN ST N``) is
    put before it (``N MAIN ST``), unless the street has one there already;
    a numbered street is its number (``2ND AVE``, ``2 AVE``).
    """
    words = [_ORDINAL.sub(r"\1", w) if _ORDINAL.fullmatch(w) else w for w in street.split()]
    start = _unit_start(words)
    line, unit = words[:start], words[start:]
    folded = []
    for i, w in enumerate(unit):
        if w in _UNIT_TYPES and (w not in _LONE_UNITS or i + 1 < len(unit)):
            folded.append("#")
        else:
            folded.append(w)
    name = line[1:]
    if (
        len(name) >= 3
        and name[-1] in _DIRECTIONAL_FORMS
        and name[-2] in _SUFFIX_FORMS
        and name[0] not in _DIRECTIONAL_FORMS
    ):
        line = [line[0], name[-1], *name[:-1]]
    return " ".join([*line, *folded])


_DIRECTIONAL_FORMS = frozenset(DIRECTIONALS.values())
_SUFFIX_FORMS = frozenset(SUFFIXES.values())


def _unit_start(words: list[str]) -> int:
    """Where the unit part of a standard street line begins (``len(words)`` when none):
    the first designator after the street from which every word is a designator or its
    number."""
    for start in range(2, len(words)):
        i = start
        while i < len(words) and words[i] in _UNIT_TYPES:
            i += 1 if words[i] in _LONE_UNITS else 2
        if i == len(words) and (words[start] not in _LONE_UNITS or start == len(words) - 1):
            return start
    return len(words)


def _tag(text: str) -> dict[str, str]:
    try:
        tagged, _kind = usaddress.tag(text)
        return {label: value.strip(" ,") for label, value in tagged.items()}
    except usaddress.RepeatedLabelError as exc:
        # Keep the first occurrence of each label; repeated ones are mostly noise
        # ("123 Main St, Main St Plaza").
        merged: OrderedDict[str, str] = OrderedDict()
        for token, label in exc.parsed_string:
            if label in merged and label not in ("PlaceName", "StreetName"):
                continue
            merged[label] = f"{merged.get(label, '')} {token}".strip()
        return {label: value.strip(" ,") for label, value in merged.items()}


def _repair_units(parts: dict[str, str]) -> dict[str, str]:
    """What the tagger ran into a unit's number after a comma ("Apt 3, 33430") is the ZIP
    code (or the city) that follows it."""
    for label in ("OccupancyIdentifier", "SubaddressIdentifier"):
        value = parts.get(label, "")
        if "," not in value:
            continue
        ident, rest = (v.strip() for v in value.split(",", 1))
        parts[label] = ident
        if re.fullmatch(r"\d{5}(?:-?\d{4})?", rest) and "ZipCode" not in parts:
            parts["ZipCode"] = rest
        elif rest and "PlaceName" not in parts:
            parts["PlaceName"] = rest
    return parts


def _words(value: str) -> str:
    return " ".join(re.sub(r"[^A-Z0-9 ]+", " ", value).split())


def _street_words(parts: dict[str, str]) -> list[str]:
    """The street line in USPS abbreviations, decided by word position, not by tag.

    The tagger is not steady on the inside of a street line (it tags "Forest"
    in "Forest Hill Blvd" as a street type in one spelling and as a name in
    another), so only the house number is taken from the tags; the words
    after it are read by position: a directional first or last, the suffix
    last, a route type ("Highway 1", "Avenue A") before a number or letter.
    """
    number = "".join(
        _words(parts.get(label, "")).replace(" ", "")
        for label in ("AddressNumberPrefix", "AddressNumber", "AddressNumberSuffix")
    )
    words = [w for label in _STREET_LABELS[3:] for w in _words(parts.get(label, "")).split()]
    words = _merge_directionals(words)
    end = len(words)
    if end >= 3 and words[-1] in DIRECTIONALS and words[-2] in SUFFIXES:
        words[-1] = DIRECTIONALS[words[-1]]
        end -= 1
    # "North St" is a street named North; "North Main", "North Main St" are Main.
    if words and words[0] in DIRECTIONALS and (end >= 3 or (end == 2 and words[1] not in SUFFIXES)):
        words[0] = DIRECTIONALS[words[0]]
    if end >= 2 and words[end - 1] in SUFFIXES:
        words[end - 1] = SUFFIXES[words[end - 1]]
    for i, w in enumerate(words[: end - 1]):
        following = words[i + 1]
        if w in _ROUTE_TYPES and (following[0].isdigit() or len(following) == 1):
            words[i] = SUFFIXES.get(w, w)
        else:
            words[i] = _ORDINALS.get(w, w)
    return [number, *words]


def _merge_directionals(words: list[str]) -> list[str]:
    """``N W 3RD AVE`` -> ``NW 3RD AVE``, ``2ND ST SOUTH WEST`` -> ``2ND ST SW``: a
    two-letter directional written apart, first or last."""
    if len(words) >= 3:
        pair = _two_word_directional(words[0], words[1])
        if pair:
            words = [pair, *words[2:]]
    if len(words) >= 4:
        pair = _two_word_directional(words[-2], words[-1])
        if pair:
            words = [*words[:-2], pair]
    return words


def _two_word_directional(first: str, second: str) -> str | None:
    """``N E``, ``NORTH EAST``, ``SOUTH W`` -> ``NE``, ``NE``, ``SW``; else ``None``."""
    if first in ("NO", "SO"):  # "No." is also a number sign
        return None
    one, two = DIRECTIONALS.get(first), DIRECTIONALS.get(second)
    if one in ("N", "S") and two in ("E", "W"):
        return f"{one}{two}"
    return None


def _unit(parts: dict[str, str]) -> str:
    """``"Apt 4B"``, ``"#4b"``, ``"Unit 04B"`` -> ``"APT 4B"``; ``"Suite 201"`` -> ``"STE 201"``."""
    found = []
    for type_label, id_label in (
        ("SubaddressType", "SubaddressIdentifier"),
        ("OccupancyType", "OccupancyIdentifier"),
    ):
        kind = " ".join(parts.get(type_label, "").replace("#", " # ").split())
        kind = re.sub(r"[^A-Z# ]+", "", kind).strip()
        ident = _unit_id(parts.get(id_label, ""))
        if kind or ident:
            found.append(f"{UNITS.get(kind, kind) if kind else 'APT'} {ident}".strip())
    return " ".join(found)


def _unit_id(value: str) -> str:
    words = value.split()
    while len(words) > 1 and words[0] in ("NO", "NUM", "NUMBER", "#"):
        words = words[1:]
    ident = re.sub(r"[^A-Z0-9]", "", "".join(words))
    ordinal = re.fullmatch(r"(\d+)(?:ST|ND|RD|TH)", ident)  # "2nd Floor" -> FL 2
    if ordinal:
        ident = ordinal[1]
    return ident.lstrip("0") or ident
