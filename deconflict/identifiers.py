"""Normalising target identifiers, and the exact keys that index them.

Each kind has one normal form, so that two records of the same phone, plate,
VIN, e-mail, handle, address or business compare equal as plain strings.
:func:`exact_keys` is a function of that normal form alone: the app indexes
the keys, and a peer office could compare keyed hashes of them instead of the
values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from urllib.parse import urlsplit

import phonenumbers
from anyascii import anyascii

from deconflict import _address
from deconflict._regions import region_code


class IdentifierKind(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    PLATE = "plate"
    VIN = "vin"
    ADDRESS = "address"
    HANDLE = "handle"
    BUSINESS = "business"


class InvalidIdentifier(ValueError):
    """A raw identifier that has no normal form; the message names the kind and why."""

    def __init__(self, kind: IdentifierKind | str, reason: str) -> None:
        self.kind = str(kind)
        self.reason = reason
        super().__init__(f"{self.kind}: {reason}")


@dataclass(frozen=True)
class Identifier:
    """One identifier of a target; ``value`` is already normalised."""

    kind: IdentifierKind
    value: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", _kind(self.kind))

    @classmethod
    def parse(
        cls, kind: IdentifierKind | str, raw: str, *, default_region: str = "US"
    ) -> Identifier:
        """Normalise ``raw`` and wrap it: ``Identifier.parse("phone", "(561) 555-0134")``."""
        return cls(_kind(kind), normalize(kind, raw, default_region=default_region))


@dataclass(frozen=True)
class EmailRules:
    """Which mail providers ignore dots in the local part, and which deliver ``+tags``.

    Only providers known to do so: elsewhere ``j.doe`` and ``jdoe`` may well
    be two people.
    """

    dotless: frozenset[str] = frozenset({"gmail.com"})
    plus_tags: frozenset[str] = frozenset(
        {
            "gmail.com",
            "outlook.com",
            "hotmail.com",
            "live.com",
            "icloud.com",
            "me.com",
            "mac.com",
            "protonmail.com",
            "proton.me",
            "pm.me",
            "fastmail.com",
        }
    )
    aliases: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType({"googlemail.com": "gmail.com"})
    )


DEFAULT_EMAIL_RULES = EmailRules()


def normalize(
    kind: IdentifierKind | str,
    raw: str,
    *,
    default_region: str = "US",
    email_rules: EmailRules = DEFAULT_EMAIL_RULES,
) -> str:
    """The normal form of ``raw`` as an identifier of ``kind``.

    Raises :class:`InvalidIdentifier` (a ``ValueError``) with the reason when
    ``raw`` is not a valid identifier of that kind.
    """
    k = _kind(kind)
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidIdentifier(k, "empty value")
    match k:
        case IdentifierKind.PHONE:
            return normalize_phone(raw, default_region=default_region)
        case IdentifierKind.EMAIL:
            return normalize_email(raw, rules=email_rules)
        case IdentifierKind.PLATE:
            return normalize_plate(raw)
        case IdentifierKind.VIN:
            return normalize_vin(raw)
        case IdentifierKind.ADDRESS:
            return normalize_address(raw)
        case IdentifierKind.HANDLE:
            return normalize_handle(raw)
        case IdentifierKind.BUSINESS:
            return normalize_business(raw)
    raise AssertionError(k)  # pragma: no cover - the match above is exhaustive


@lru_cache(maxsize=65536)  # asked of every candidate's identifiers, on every check
def exact_keys(kind: IdentifierKind | str, normalized: str) -> frozenset[str]:
    """The blocking keys of a normalised identifier, each prefixed with its kind.

    Two identifiers that share a key match. A key with ``~`` after the kind
    is a weaker one: a plate with O/0 and I/1 folded (``plate~:FL:ABC103``),
    a phone line without its extension. An address has two keys, its street
    line with the ZIP code and with the city and state; a business one for
    each name on either side of "DBA". Computed from the normalised value
    alone, so that a peer office can compare keyed hashes of the keys
    without either side revealing the values.
    """
    k = _kind(kind)
    keys = {f"{k}:{normalized}"}
    match k:
        case IdentifierKind.PLATE:
            keys.add(f"plate~:{fold_plate(normalized)}")
        case IdentifierKind.PHONE:
            keys.add(f"phone~:{normalized.split(';', 1)[0]}")
        case IdentifierKind.ADDRESS:
            keys = {f"address:{key}" for key in _address.keys(normalized)}
        case IdentifierKind.BUSINESS:
            keys |= {f"business:{name}" for name in normalized.split(" DBA ") if name}
    return frozenset(keys)


def _kind(kind: IdentifierKind | str) -> IdentifierKind:
    try:
        return IdentifierKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in IdentifierKind)
        raise InvalidIdentifier(str(kind), f"unknown identifier kind (one of {known})") from None


# -- phone -------------------------------------------------------------------


# An extension written after the number: "ext. 12", "x12", "#12", "ramal 12" (Spanish and
# Portuguese), "poste 12" (French), "anexo 12", "interno 12", ";ext=12" (RFC 3966), ", 12".
_EXTENSION = re.compile(
    r"""(?:\s*[,;]\s*|\s+|(?<=\d))
        (?:(?:ext(?:ension|ensi[oó]n|n)?|x|ramal|poste|anexo|interno|int|extn)\s*[.:=#-]?\s*
          |\#\s*
          |(?<=[,;])\s*)
        (?P<ext>\d{1,10})\s*\#?\s*(?:\([^()\d]*\))?\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
# A note in brackets after the number: "(cell)", "(work)".
_NOTE = re.compile(r"\s*\([^()\d]*\)\s*$")
# International access codes written instead of "+": 011 (North America), 0011 (Australia),
# 010 (Japan), 00 (most of the world); tried when the number is not valid as written.
_ACCESS_CODES = ("011", "0011", "010", "00")
# Mobile digits some countries once required after the country code, dropped to give the
# number every form of it shares: Mexico's "1" (+52 1 55 ... until 2019), Argentina's "9"
# (+54 9 11 ..., the international form of a mobile, which records also write without it).
_LEGACY_MOBILE_DIGITS = {52: ("1", 10), 54: ("9", 10)}


def normalize_phone(raw: str, *, default_region: str = "US") -> str:
    """E.164 (``+15615550134``) of the subscriber number, with ``;ext=2`` when an extension is
    given.

    Every way the number is dialled gives one form: a leading international
    access code (011 from North America, 00 from Europe) for ``+``, and
    without the mobile digit a country once put after its code (Mexico's 1,
    Argentina's 9). The extension is kept apart, after ``;ext=``, without
    leading zeros, so that two people behind one switchboard are not one
    phone; :func:`exact_keys` adds the line without it as a weaker key.
    """
    text = raw.strip()
    if text.lower().startswith("tel:"):
        text = text[4:]
    text = text.replace(";ext=", " ext ").replace(";EXT=", " ext ")
    text = _NOTE.sub("", text)
    extension = ""
    found = _EXTENSION.search(text)
    if found and re.search(r"\d{4}", text[: found.start()]):
        extension, text = found["ext"], text[: found.start()]
    number = _parse_phone(text, default_region)
    extension = extension or (number.extension or "")
    number.extension = None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    extension = extension.lstrip("0") or extension
    return f"{e164};ext={extension}" if extension else e164


def _parse_phone(text: str, default_region: str) -> phonenumbers.PhoneNumber:
    """The valid number ``text`` dials, trying international access codes for ``+``; without
    its country's old mobile digit."""
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidIdentifier(IdentifierKind.PHONE, f"not a phone number ({exc})") from None
    candidates = [number]
    digits = re.sub(r"[^\d+]", "", text)
    for code in _ACCESS_CODES:
        if digits.startswith(code):
            try:
                candidates.append(phonenumbers.parse("+" + digits[len(code) :], None))
            except phonenumbers.NumberParseException:
                continue
    for candidate in candidates:
        shorter = _without_legacy_digit(candidate)
        forms = (candidate, shorter, _with_legacy_digit(shorter))
        if any(form is not None and phonenumbers.is_valid_number(form) for form in forms):
            shorter.extension = number.extension
            return shorter
    national = phonenumbers.national_significant_number(number)
    raise InvalidIdentifier(
        IdentifierKind.PHONE,
        f"not a valid number ({len(national)} digits for +{number.country_code};"
        " is the area code missing or a digit wrong?)",
    )


def _with_legacy_digit(number: phonenumbers.PhoneNumber) -> phonenumbers.PhoneNumber | None:
    """The number with its country's mobile digit (a mobile written without it is valid only
    with it: +54 11 ... for +54 9 11 ...); ``None`` where the country has none."""
    rule = _LEGACY_MOBILE_DIGITS.get(number.country_code or 0)
    national = phonenumbers.national_significant_number(number)
    if rule is None or len(national) != rule[1]:
        return None
    return phonenumbers.PhoneNumber(
        country_code=number.country_code, national_number=int(rule[0] + national)
    )


def _without_legacy_digit(number: phonenumbers.PhoneNumber) -> phonenumbers.PhoneNumber:
    """The number without its country's old mobile digit (+52 1 55... -> +52 55...)."""
    rule = _LEGACY_MOBILE_DIGITS.get(number.country_code or 0)
    national = phonenumbers.national_significant_number(number)
    if rule is None or not national.startswith(rule[0]) or len(national) != rule[1] + 1:
        return number
    return phonenumbers.PhoneNumber(
        country_code=number.country_code, national_number=int(national[1:])
    )


# -- e-mail ------------------------------------------------------------------

_LOCAL = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~.-]+$")
_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def normalize_email(raw: str, *, rules: EmailRules = DEFAULT_EMAIL_RULES) -> str:
    """Lower case; dots and ``+tags`` dropped where the provider ignores them."""
    text = raw.strip().lower()
    if text.startswith("mailto:"):
        text = text[7:]
    text = text.strip("<>")
    if text.count("@") != 1:
        raise InvalidIdentifier(IdentifierKind.EMAIL, "needs exactly one @")
    local, domain = text.split("@")
    domain = domain.rstrip(".")
    if not local or not _LOCAL.match(local) or ".." in local:
        raise InvalidIdentifier(IdentifierKind.EMAIL, f"the part before @ is not valid: {local!r}")
    if not _DOMAIN.match(domain):
        raise InvalidIdentifier(IdentifierKind.EMAIL, f"not a mail domain: {domain!r}")
    domain = rules.aliases.get(domain, domain)
    if domain in rules.plus_tags:
        local = local.split("+", 1)[0]
    if domain in rules.dotless:
        local = local.replace(".", "")
    if not local:
        raise InvalidIdentifier(IdentifierKind.EMAIL, "nothing left before @ once the tag is cut")
    return f"{local}@{domain}"


# -- vehicle plate -----------------------------------------------------------

_PLATE_FOLD = str.maketrans({"O": "0", "I": "1"})


def normalize_plate(raw: str) -> str:
    """``STATE:PLATE``: ``"fl: abc-123"``, ``"FL ABC-123"``, ``"ABC 123 (Florida)"`` ->
    ``"FL:ABC123"``.

    A plate means nothing without its issuing state, so the state is required (a code such
    as ``FL`` or a name such as ``Florida``): after a colon, or as a separate word before or
    after the plate (never guessed from inside the plate, ``FLABC123``).
    """
    if ":" in raw:
        state_raw, plate_raw = raw.split(":", 1)
    else:
        state_raw, plate_raw = _state_and_plate(raw)
    state = region_code(state_raw)
    if state is None:
        raise InvalidIdentifier(
            IdentifierKind.PLATE, f"unknown issuing state {state_raw.strip()!r}"
        )
    plate = re.sub(r"[\s\-.·•]", "", anyascii(plate_raw)).upper()
    if not plate:
        raise InvalidIdentifier(IdentifierKind.PLATE, "no plate number after the state")
    if not plate.isalnum() or not plate.isascii():
        raise InvalidIdentifier(IdentifierKind.PLATE, f"only letters and digits, not {plate!r}")
    if len(plate) > 8:
        raise InvalidIdentifier(IdentifierKind.PLATE, f"at most 8 characters, not {len(plate)}")
    return f"{state}:{plate}"


#: what separates a state written beside a plate from it: blanks, dashes, commas, brackets
_PLATE_WORDS = re.compile(r"[\s,;()\[\]/\-–—]+")
#: a state written as a word: letters (``Fla.``, ``New York``), never a plate's digits
_STATE_WORD = re.compile(r"^[A-Za-z][A-Za-z.]*$")


def _state_and_plate(raw: str) -> tuple[str, str]:
    """The state written as words before or after the plate, and the plate's words.

    Both ends naming a state (``CA 123 NY``) is refused rather than guessed.
    """
    words = [w for w in _PLATE_WORDS.split(raw) if w]
    found: list[tuple[str, str]] = []
    for size in (3, 2, 1):
        if len(words) <= size:
            continue
        for state_words, rest in ((words[:size], words[size:]), (words[-size:], words[:-size])):
            if all(_STATE_WORD.match(w) for w in state_words):
                state = " ".join(state_words)
                if region_code(state) is not None:
                    found.append((state, " ".join(rest)))
        if found:
            break
    states = {region_code(state) for state, _ in found}
    if len(states) > 1:
        raise InvalidIdentifier(
            IdentifierKind.PLATE,
            "two issuing states: which one is it? (write it as FL:ABC123)",
        )
    if not found:
        raise InvalidIdentifier(
            IdentifierKind.PLATE, "the issuing state is missing (write it as FL:ABC123)"
        )
    return found[0]


def fold_plate(normalized: str) -> str:
    """The plate with the letters read as digits that witnesses and cameras confuse (O/0, I/1)."""
    state, _, plate = normalized.partition(":")
    return f"{state}:{plate.translate(_PLATE_FOLD)}"


# -- VIN ---------------------------------------------------------------------

_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_check_digit(vin: str) -> str:
    """The check digit (position 9) that a 17-character VIN must carry (49 CFR 565.15)."""
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def normalize_vin(raw: str) -> str:
    """17 characters, upper case, no I, O or Q.

    The check digit is not required to match: vehicles built before 1981 or
    for other markets may carry none, and a typo in one record is worth
    finding. :func:`identifier_warning` says when it does not match; the VIN
    still matches exactly on its normal form.
    """
    vin = re.sub(r"[\s\-]", "", raw).upper()
    if len(vin) != 17:
        raise InvalidIdentifier(IdentifierKind.VIN, f"must have 17 characters, not {len(vin)}")
    banned = sorted(set(vin) & set("IOQ"))
    if banned:
        raise InvalidIdentifier(
            IdentifierKind.VIN, f"contains {', '.join(banned)} (VINs never use I, O or Q)"
        )
    bad = sorted({c for c in vin if c not in _VIN_VALUES})
    if bad:
        raise InvalidIdentifier(
            IdentifierKind.VIN, f"contains {''.join(bad)!r}: letters and digits only"
        )
    return vin


def identifier_warning(kind: IdentifierKind | str, normalized: str) -> str | None:
    """What is doubtful about a valid identifier (its normal form), or ``None``: the words a
    form or an import shows beside a value it stores all the same.

    Only VINs have one today: a check digit (the 9th character) that does not match.
    """
    if _kind(kind) is IdentifierKind.VIN and normalized[8] != vin_check_digit(normalized):
        return (
            f"check digit {normalized[8]} does not match (it should be "
            f"{vin_check_digit(normalized)}): a pre-1981 or foreign VIN, or a typo; "
            "stored, and matched only as written"
        )
    return None


# -- social handle -----------------------------------------------------------

PLATFORM_ALIASES: dict[str, str] = {
    "ig": "instagram",
    "insta": "instagram",
    "instagram": "instagram",
    "twitter": "x",
    "tw": "x",
    "x": "x",
    "fb": "facebook",
    "facebook": "facebook",
    "meta": "facebook",
    "messenger": "facebook",
    "snap": "snapchat",
    "sc": "snapchat",
    "snapchat": "snapchat",
    "tg": "telegram",
    "telegram": "telegram",
    "tt": "tiktok",
    "tiktok": "tiktok",
    "of": "onlyfans",
    "onlyfans": "onlyfans",
    "cash": "cashapp",
    "cashapp": "cashapp",
    "cashtag": "cashapp",
    "venmo": "venmo",
    "kik": "kik",
    "discord": "discord",
    "reddit": "reddit",
    "whatsapp": "whatsapp",
    "wa": "whatsapp",
    "threads": "threads",
}

# Hosts whose profile URLs name the handle as the first path segment.
_PROFILE_HOSTS: dict[str, str] = {
    "instagram.com": "instagram",
    "twitter.com": "x",
    "x.com": "x",
    "facebook.com": "facebook",
    "tiktok.com": "tiktok",
    "snapchat.com": "snapchat",
    "t.me": "telegram",
    "telegram.me": "telegram",
    "onlyfans.com": "onlyfans",
    "cash.app": "cashapp",
    "venmo.com": "venmo",
    "kik.me": "kik",
    "reddit.com": "reddit",
    "threads.net": "threads",
}
_HANDLE = re.compile(r"^[a-z0-9._-]{1,64}$")


def normalize_handle(raw: str) -> str:
    """``platform:handle``, lower case, without ``@`` (or Cash App's ``$``).

    Accepts ``"instagram:@Some.User"``, ``"IG: some.user"``, profile URLs such as
    ``https://www.instagram.com/some.user/``, a known platform written as a word before or
    after the handle (``"IG @some.user"``, ``"@some.user (Instagram)"``, ``"some.user on
    TikTok"``) and a ``$cashtag`` on its own.
    """
    text = raw.strip()
    if "/" in text:
        return _handle_from_url(text)
    if ":" in text:
        platform_raw, handle_raw = text.split(":", 1)
        return f"{normalize_platform(platform_raw)}:{_handle(handle_raw)}"
    platform, handle_raw = _platform_and_handle(text)
    return f"{platform}:{_handle(handle_raw)}"


#: words between a handle and its platform: ``some.user on TikTok``
_HANDLE_LINKS = frozenset({"on", "via", "at", "-", "–", "—"})


def _platform_and_handle(text: str) -> tuple[str, str]:
    words = [w for w in re.split(r"[\s,;()\[\]]+", text) if w]
    if len(words) == 3 and words[1].lower() in _HANDLE_LINKS:
        words = [words[0], words[2]]
    if len(words) == 1 and words[0].startswith("$"):
        return PLATFORM_ALIASES["cashapp"], words[0]
    if len(words) == 2:
        named = [
            (platform, handle)
            for word, handle in ((words[0], words[1]), (words[1], words[0]))
            if (platform := PLATFORM_ALIASES.get(_platform_word(word))) is not None
        ]
        if len(named) == 1:
            return named[0]
        if len(named) == 2:
            raise InvalidIdentifier(
                IdentifierKind.HANDLE,
                "which word is the platform? (write it as instagram:@name)",
            )
    raise InvalidIdentifier(
        IdentifierKind.HANDLE, "the platform is missing (write it as instagram:@name)"
    )


def _platform_word(word: str) -> str:
    return re.sub(r"[\s.\-_]", "", word.strip().lower())


def normalize_platform(raw: str) -> str:
    """A platform's one name: ``"IG"``, ``"Insta"`` -> ``instagram``; unknown ones kept, tidied."""
    name = _platform_word(raw)
    if not name.isalnum() or not name.isascii():
        raise InvalidIdentifier(IdentifierKind.HANDLE, f"not a platform name: {raw.strip()!r}")
    return PLATFORM_ALIASES.get(name, name)


def _handle(raw: str) -> str:
    handle = raw.strip().lstrip("@$").strip().lower()
    if not _HANDLE.match(handle):
        raise InvalidIdentifier(
            IdentifierKind.HANDLE,
            f"not a handle: {raw.strip()!r} (letters, digits, '.', '_' and '-' only)",
        )
    return handle


def _handle_from_url(text: str) -> str:
    url = urlsplit(text if "//" in text else f"https://{text}")
    host = (url.hostname or "").removeprefix("www.").removeprefix("m.")
    platform = _PROFILE_HOSTS.get(host)
    if platform is None:
        raise InvalidIdentifier(IdentifierKind.HANDLE, f"not a known profile address: {host!r}")
    segments = [s for s in url.path.split("/") if s]
    if not segments:
        raise InvalidIdentifier(IdentifierKind.HANDLE, "the profile address names no handle")
    segment = (
        segments[1] if segments[0] in ("add", "u", "user") and len(segments) > 1 else segments[0]
    )
    return f"{platform}:{_handle(segment)}"


# -- address -----------------------------------------------------------------


def normalize_address(raw: str) -> str:
    """USPS style: ``"123 N MAIN ST APT 4B, WEST PALM BEACH, FL 33401"``."""
    try:
        return _address.normalize(raw)
    except _address.AddressError as exc:
        raise InvalidIdentifier(IdentifierKind.ADDRESS, str(exc)) from None


# -- business ----------------------------------------------------------------

LEGAL_SUFFIXES: frozenset[str] = frozenset(
    {
        "LLC",
        "LC",
        "PLLC",
        "LLP",
        "LP",
        "INC",
        "INCORPORATED",
        "CORP",
        "CORPORATION",
        "CO",
        "COMPANY",
        "LTD",
        "LIMITED",
        "PC",
        "PA",
        "GMBH",
        "SA",
        "SRL",
        "PLC",
    }
)
_DBA = re.compile(r"\b(?:D\s*/\s*B\s*/\s*A|D\.?\s*B\.?\s*A\.?|DOING BUSINESS AS)\b")


def normalize_business(raw: str) -> str:
    """Upper case, punctuation and legal suffixes (LLC, Inc, Corp, ...) removed.

    ``"Golden Spa, L.L.C. d/b/a Lucky Nails"`` -> ``"GOLDEN SPA DBA LUCKY NAILS"``;
    :func:`exact_keys` indexes each name on either side of ``DBA``.
    """
    text = anyascii(raw).upper().replace("&", " AND ")
    names = [_business_name(part) for part in _DBA.split(text)]
    names = [n for n in names if n]
    if not names:
        raise InvalidIdentifier(IdentifierKind.BUSINESS, "no name left once legal suffixes are cut")
    return " DBA ".join(names)


def _business_name(text: str) -> str:
    # Dotted abbreviations (L.L.C., A.B.C.) and spaced letters (L L C) become one word.
    text = re.sub(r"\b((?:[A-Z]\.){2,})", lambda m: m.group(1).replace(".", ""), text)
    words: list[str] = []
    spelled = False  # the last word is single letters run together so far
    for word in re.sub(r"[^A-Z0-9 ]+", " ", text.replace("'", "")).split():
        letter = len(word) == 1 and word.isalpha()
        if letter and spelled:
            words[-1] += word
        else:
            words.append(word)
        spelled = letter
    if len(words) > 1 and words[0] == "THE":
        words = words[1:]
    # "Smith & Co." -> SMITH AND CO -> SMITH
    while len(words) > 1 and (words[-1] in LEGAL_SUFFIXES or words[-1] == "AND"):
        words.pop()
    return " ".join(words)


def identifier_keys(identifiers: Iterable[Identifier]) -> frozenset[str]:
    """The union of :func:`exact_keys` over ``identifiers``."""
    return frozenset(k for i in identifiers for k in exact_keys(i.kind, i.value))
