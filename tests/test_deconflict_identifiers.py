"""Normalising identifiers (deconflict.identifiers) and their exact keys."""

from __future__ import annotations

import pytest

from deconflict.identifiers import (
    EmailRules,
    Identifier,
    IdentifierKind,
    InvalidIdentifier,
    exact_keys,
    identifier_warning,
    normalize,
    vin_check_digit,
)


def keys_meet(kind: str, a: str, b: str) -> bool:
    return bool(exact_keys(kind, normalize(kind, a)) & exact_keys(kind, normalize(kind, b)))


# -- phone -------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "(561) 555-0134",
        "(561)555-0134",
        "561-555-0134",
        "561.555.0134",
        "561 555 0134",
        "5615550134",
        "15615550134",
        "1-561-555-0134",
        "+1 (561) 555-0134",
        "+1 561.555.0134",
        "+15615550134",
        "tel:+1-561-555-0134",
        " +1 561 555 0134 ",
    ],
)
def test_phone_formats_normalise_to_e164(raw: str) -> None:
    assert normalize("phone", raw) == "+15615550134"


def test_phone_keeps_an_extension_and_keys_the_line_without_it() -> None:
    with_ext = normalize("phone", "561-555-0134 ext 2")
    assert with_ext == "+15615550134;ext=2"
    assert normalize("phone", "(561) 555-0134 x2") == with_ext
    assert exact_keys("phone", with_ext) == {"phone:+15615550134;ext=2", "phone~:+15615550134"}
    assert "phone~:+15615550134" in exact_keys("phone", "+15615550134")


def test_phone_of_another_country() -> None:
    assert normalize("phone", "+44 20 7946 0958") == "+442079460958"
    assert normalize("phone", "020 7946 0958", default_region="GB") == "+442079460958"
    assert normalize("phone", "+52 55 1234 5678") == "+525512345678"


@pytest.mark.parametrize(
    "raw",
    [
        "561-555-0134 ext 12",
        "(561) 555-0134 ext. 12",
        "561.555.0134 x12",
        "5615550134x12",
        "561-555-0134 #12",
        "561-555-0134 ext#12",
        "561-555-0134, ext 12",
        "561-555-0134, 12",
        "561-555-0134;12",
        "561-555-0134 Ext: 0012",  # leading zeros of an extension are no part of it
        "+1 561 555 0134 extension 12",
        "tel:+1-561-555-0134;ext=12",
        "561-555-0134 ramal 12",  # Spanish and Portuguese
        "561-555-0134 poste 12",  # French
        "561-555-0134 ext 12 (desk)",
        "011 1 561 555 0134 x12",
    ],
)
def test_phone_extensions_in_every_form_give_the_line_and_the_extension_apart(raw: str) -> None:
    assert normalize("phone", raw) == "+15615550134;ext=12"


@pytest.mark.parametrize(
    ("forms", "expected"),
    [
        # the international access code for "+": 011 from North America, 00 from Europe,
        # 0011 from Australia, 010 from Japan
        (["+44 20 7946 0958", "011 44 20 7946 0958", "0044 20 7946 0958"], "+442079460958"),
        (["+33 6 12 34 56 78", "0033 6 12 34 56 78", "+33 (0)6 12 34 56 78"], "+33612345678"),
        (["+49 30 1234567", "00 49 30 1234567", "+49 (0) 30 1234567"], "+49301234567"),
        (["+61 2 9876 5432", "0011 61 2 9876 5432"], "+61298765432"),
        (["+81 3 1234 5678", "010 81 3 1234 5678"], "+81312345678"),
        (["+1 561 555 0134", "00 1 561 555 0134", "001 561 555 0134"], "+15615550134"),
        # Mexico's old mobile "1" after +52
        (
            ["+52 55 1234 5678", "+52 1 55 1234 5678", "011 52 1 55 1234 5678", "0052155 12345678"],
            "+525512345678",
        ),
        # Argentina's mobile "9" after +54 (and the "15" of the national form)
        (
            [
                "+54 9 11 1234-5678",
                "+54 11 1234 5678",
                "0054 9 11 1234 5678",
                "+54 11 15 1234 5678",
            ],
            "+541112345678",
        ),
    ],
)
def test_international_numbers_in_every_dialling_form_normalise_alike(
    forms: list[str], expected: str
) -> None:
    assert {normalize("phone", raw) for raw in forms} == {expected}
    assert normalize("phone", forms[-1] + " ext. 7") == expected + ";ext=7"


def test_a_different_extension_is_another_line_of_one_switchboard() -> None:
    """Decided: the same number with two extensions shares only the weak line key (two desks
    behind one switchboard: ``possible`` at most, see test_deconflict_targets)."""
    a, b = normalize("phone", "561-555-0134 x12"), normalize("phone", "561-555-0134 x13")
    assert a != b
    assert exact_keys("phone", a) & exact_keys("phone", b) == {"phone~:+15615550134"}
    assert not keys_meet("phone", "+52 1 55 1234 5678", "+52 1 55 1234 5679")
    assert not keys_meet("phone", "+54 9 11 1234 5678", "+54 9 11 1234 5679")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("555-0134", "phone: not a valid number"),
        ("561-555-013", "phone: not a valid number"),
        ("call me", "phone: not a phone number"),
        ("", "phone: empty value"),
        ("   ", "phone: empty value"),
    ],
)
def test_invalid_phones_say_why(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier, match=reason) as caught:
        normalize("phone", raw)
    assert caught.value.kind == "phone"
    assert isinstance(caught.value, ValueError)


def test_similar_phones_do_not_meet() -> None:
    assert not keys_meet("phone", "561-555-0134", "561-555-0135")
    assert not keys_meet("phone", "561-555-0134", "954-555-0134")


# -- e-mail ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("John.Doe@Example.COM", "john.doe@example.com"),
        ("j.o.h.n.doe@gmail.com", "johndoe@gmail.com"),
        ("JohnDoe+backpage@Gmail.com", "johndoe@gmail.com"),
        ("john.doe+x@googlemail.com", "johndoe@gmail.com"),
        ("mailto:<john.doe@gmail.com>", "johndoe@gmail.com"),
        # Outlook delivers +tags but dots are part of the name
        ("john.doe+list@outlook.com", "john.doe@outlook.com"),
        # Yahoo does neither
        ("john.doe+x@yahoo.com", "john.doe+x@yahoo.com"),
    ],
)
def test_email(raw: str, expected: str) -> None:
    assert normalize("email", raw) == expected


def test_email_dots_matter_outside_the_providers_that_ignore_them() -> None:
    assert not keys_meet("email", "j.doe@yahoo.com", "jdoe@yahoo.com")
    assert keys_meet("email", "j.doe@gmail.com", "JDoe@gmail.com")


def test_email_rules_are_configurable() -> None:
    rules = EmailRules(dotless=frozenset({"example.org"}), plus_tags=frozenset({"example.org"}))
    assert normalize("email", "J.Doe+tag@example.org", email_rules=rules) == "jdoe@example.org"
    assert normalize("email", "j.doe+tag@gmail.com", email_rules=rules) == "j.doe+tag@gmail.com"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("john.doe", "needs exactly one @"),
        ("a@@b.com", "needs exactly one @"),
        ("@example.com", "the part before @ is not valid"),
        ("john..doe@example.com", "the part before @ is not valid"),
        ("john doe@example.com", "the part before @ is not valid"),
        ("john@localhost", "not a mail domain"),
        ("+tag@gmail.com", "nothing left before @"),
    ],
)
def test_invalid_emails_say_why(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier, match=f"email: {reason}"):
        normalize("email", raw)


# -- plate -------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", ["FL:ABC 123", "fl:abc-123", "FL : abc.123", "Florida:ABC123", "Fla.:ABC 123"]
)
def test_plate_is_state_and_plate_without_spaces_dashes_or_case(raw: str) -> None:
    assert normalize("plate", raw) == "FL:ABC123"


STATE_SPELLINGS = ["FL", "fl", "Fla.", "Florida", "FLORIDA"]
PLATE_SPELLINGS = ["ABC123", "abc 123", "ABC-123", "Abc.123"]


@pytest.mark.parametrize("state", STATE_SPELLINGS)
@pytest.mark.parametrize("plate", PLATE_SPELLINGS)
@pytest.mark.parametrize(
    "shape",
    [
        "{s} {p}",
        "{s}-{p}",
        "{s}, {p}",
        "{s} / {p}",
        "{p} ({s})",
        "{p} {s}",
        "{p}, {s}",
        "{p} - {s}",
    ],
)
def test_a_plate_with_its_state_written_as_a_word_before_or_after_is_understood(
    state: str, plate: str, shape: str
) -> None:
    assert normalize("plate", shape.format(s=state, p=plate)) == "FL:ABC123"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("New York ABC 123", "NY:ABC123"),
        ("ABC123 (New Hampshire)", "NH:ABC123"),
        ("ME 4567", "ME:4567"),
    ],
)
def test_states_of_several_words_and_plates_of_digits(raw: str, expected: str) -> None:
    assert normalize("plate", raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("FLABC123", "the issuing state is missing"),  # never read out of the plate itself
        ("AB1 234", "the issuing state is missing"),  # a word with digits is not a state
        ("ABC 123", "the issuing state is missing"),
        ("CA 123 NY", "two issuing states"),
        ("FL OK", "two issuing states"),
    ],
)
def test_a_plate_whose_state_cannot_be_told_is_refused_not_guessed(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier, match=f"plate: {reason}"):
        normalize("plate", raw)


def test_plate_keys_fold_o_0_and_i_1() -> None:
    a, b = normalize("plate", "FL:ABC 1O3"), normalize("plate", "FL:ABC I03")
    assert a != b
    assert exact_keys("plate", a) == {"plate:FL:ABC1O3", "plate~:FL:ABC103"}
    assert exact_keys("plate", a) & exact_keys("plate", b) == {"plate~:FL:ABC103"}


def test_plates_of_other_states_or_characters_do_not_meet() -> None:
    assert not keys_meet("plate", "FL:ABC123", "GA:ABC123")
    assert not keys_meet("plate", "FL:ABC123", "FL:ABC128")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("ABC123", "the issuing state is missing"),
        ("ZZ:ABC123", "unknown issuing state 'ZZ'"),
        ("FL:", "no plate number"),
        ("FL:ABC*123", "only letters and digits"),
        ("FL:ABCDEFGHJ", "at most 8 characters"),
    ],
)
def test_invalid_plates_say_why(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier, match=f"plate: {reason}"):
        normalize("plate", raw)


# -- VIN ---------------------------------------------------------------------

VALID_VIN = "1HGCM82633A004352"  # the check-digit example of many references


@pytest.mark.parametrize(
    "raw", [VALID_VIN, VALID_VIN.lower(), "1HG CM826 33A004352", "1HG-CM826-3-3A004352"]
)
def test_vin_is_upper_case_without_separators(raw: str) -> None:
    assert normalize("vin", raw) == VALID_VIN


def test_vin_check_digit() -> None:
    assert vin_check_digit(VALID_VIN) == "3"
    assert vin_check_digit("11111111111111111") == "1"
    # remainder 10 is written X
    assert normalize("vin", "1M8GDM9AXKP042788") == "1M8GDM9AXKP042788"


@pytest.mark.parametrize("raw", ["1HGCM82643A004352", "1HGCM82633A004353", "1hg cm826 33a004353"])
def test_a_vin_whose_check_digit_does_not_match_is_kept_with_a_warning(raw: str) -> None:
    vin = normalize("vin", raw)
    assert vin == raw.replace(" ", "").upper()
    warning = identifier_warning("vin", vin)
    assert warning is not None and "check digit" in warning and "does not match" in warning
    assert identifier_warning("vin", VALID_VIN) is None
    assert identifier_warning("phone", "+15615550134") is None
    # matched exactly on its normal form, like any VIN, and never to the VIN it may mistype
    assert keys_meet("vin", raw, raw.lower())
    assert not keys_meet("vin", raw, VALID_VIN) or vin == VALID_VIN


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1HGCM82633AOO4352", r"contains O \(VINs never use I, O or Q\)"),
        ("IHGCM82633A0Q4352", r"contains I, Q"),
        ("1HGCM82633A00435", "must have 17 characters, not 16"),
        ("1HGCM82633A0043521", "must have 17 characters, not 18"),
        ("1HGCM82633A00435*", "contains '\\*': letters and digits only"),
    ],
)
def test_invalid_vins_say_why(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier, match=f"vin: {reason}"):
        normalize("vin", raw)


def test_vins_of_one_model_do_not_meet() -> None:
    body = VALID_VIN[:11] + "004361"
    other = body[:8] + vin_check_digit(body) + body[9:]
    assert normalize("vin", other) == other
    assert not keys_meet("vin", VALID_VIN, other)


# -- handle ------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "instagram:@Some.User",
        "Instagram: some.user",
        "IG:@some.user",
        "insta:SOME.USER",
        "https://www.instagram.com/some.user/",
        "instagram.com/some.user?hl=en",
    ],
)
def test_handle_is_platform_and_handle(raw: str) -> None:
    assert normalize("handle", raw) == "instagram:some.user"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("twitter:@Boss_Man", "x:boss_man"),
        ("X:boss_man", "x:boss_man"),
        ("Cash App:$BossMan", "cashapp:bossman"),
        ("https://t.me/BossMan", "telegram:bossman"),
        ("https://www.tiktok.com/@boss.man", "tiktok:boss.man"),
        ("Snap:boss-man", "snapchat:boss-man"),
        ("Signal:boss.01", "signal:boss.01"),  # unknown platforms are kept, tidied
    ],
)
def test_handle_platform_aliases(raw: str, expected: str) -> None:
    assert normalize("handle", raw) == expected


@pytest.mark.parametrize("platform", ["instagram", "Instagram", "IG", "insta"])
@pytest.mark.parametrize("handle", ["@Some.User", "some.user", "@some.user"])
@pytest.mark.parametrize(
    "shape", ["{p} {h}", "{h} ({p})", "{h} on {p}", "{h} - {p}", "{h}, {p}", "{p}: {h}"]
)
def test_a_handle_with_its_platform_written_as_a_word_is_understood(
    platform: str, handle: str, shape: str
) -> None:
    assert normalize("handle", shape.format(p=platform, h=handle)) == "instagram:some.user"


def test_a_cashtag_alone_is_cash_app() -> None:
    assert normalize("handle", "$BossMoney") == "cashapp:bossmoney"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("ig tiktok", "which word is the platform"),
        ("some.user on myspace", "the platform is missing"),  # unknown platforms need a colon
        ("some user name", "the platform is missing"),
    ],
)
def test_a_handle_whose_platform_cannot_be_told_is_refused(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier, match=f"handle: {reason}"):
        normalize("handle", raw)


def test_one_handle_on_two_platforms_does_not_meet() -> None:
    assert not keys_meet("handle", "instagram:some.user", "tiktok:some.user")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("@some.user", "the platform is missing"),
        ("instagram:some user", "not a handle"),
        ("instagram:@", "not a handle"),
        ("my space!:someone", "not a platform name"),
        ("https://example.com/someone", "not a known profile address"),
        ("https://www.instagram.com/", "the profile address names no handle"),
    ],
)
def test_invalid_handles_say_why(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier, match=f"handle: {reason}"):
        normalize("handle", raw)


# -- address -----------------------------------------------------------------

STANDARD = "123 N MAIN ST APT 4B, WEST PALM BEACH, FL 33401"


@pytest.mark.parametrize(
    "raw",
    [
        "123 N Main Street Apt 4B, West Palm Beach, FL 33401",
        "123 North Main St. #4B West Palm Beach Florida 33401-1234",
        "123 n. main st., apartment 4b, west palm beach, fl 33401",
        "123 N MAIN ST UNIT 04B, WEST PALM BEACH FL 33401",
        "123 North Main Street, Apt. No. 4B, West Palm Beach, Fla. 33401",
    ],
)
def test_address_standard_form(raw: str) -> None:
    assert normalize("address", raw) == STANDARD


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("4500 Okeechobee Boulevard Suite 201", "4500 OKEECHOBEE BLVD STE 201"),
        ("1652 East Forest Hill Boulevard", "1652 E FOREST HILL BLVD"),
        ("1652 E. Forest Hill Blvd.", "1652 E FOREST HILL BLVD"),
        ("4200 US Highway 1, Jupiter, FL", "4200 US HWY 1, JUPITER, FL"),
        ("12 N W Third Avenue", "12 NW 3RD AVE"),
        ("7 Ocean Blvd South", "7 OCEAN BLVD S"),
        ("100 North Street", "100 NORTH ST"),
        ("P.O. Box 0077, Lake Worth, FL 33460", "PO BOX 77, LAKE WORTH, FL 33460"),
    ],
)
def test_address_abbreviations(raw: str, expected: str) -> None:
    assert normalize("address", raw) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # unit designators
        ("123 N Main St Apt 4B, West Palm Beach, FL 33401", "123 N Main St Ste 4B, 33401"),
        ("123 N Main St Unit 4B, West Palm Beach, FL 33401", "123 N Main St Rm 4B, 33401"),
        ("123 N Main St Apt4B, West Palm Beach, FL 33401", "123 N Main St # 4B, 33401"),
        ("500 NE 2nd Ave Suite 210, Delray Beach, FL 33444", "500 NE 2nd Ave #210, 33444"),
        ("500 NE 2nd Ave STE210, Delray Beach, FL 33444", "500 NE 2nd Ave Apartment 210, 33444"),
        ("310 N Dixie Hwy Lot 7, Lake Worth, FL 33460", "310 N Dixie Hwy Trailer 7, 33460"),
        ("18 E Ocean Ave 2nd Floor, Boynton Beach, FL 33435", "18 E Ocean Ave Fl 2, 33435"),
        ("1200 Okeechobee Blvd Bldg 2 Apt 15, 33401", "1200 Okeechobee Blvd Building 2 #15, 33401"),
        # directionals, spelled out or abbreviated, before or after the street
        ("77 W Palm Ave Rm 12, Jupiter, FL 33458", "77 Palm Ave W Room 12, Jupiter, FL 33458"),
        ("900 Lake Dr S, Boca Raton, FL 33432", "900 South Lake Drive, Boca Raton, FL 33432"),
        ("45 SW 8th St Apt 3, 33430", "45 S.W. Eighth Street Unit 3, Belle Glade, FL 33430"),
        ("45 SW 8th St, 33430", "45 8th Street Southwest, 33430"),
        ("500 N.E. 2nd Ave, 33444", "500 Northeast 2 Ave, 33444"),
        ("123 N. E. Main St Apt 4B, 33401", "123 North East Main Street, Apt 4B, 33401"),
    ],
)
def test_addresses_meet_however_units_and_directionals_are_written(a: str, b: str) -> None:
    assert keys_meet("address", a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("123 N Main St Apt 4B, 33401", "123 N Main St Apt 5B, 33401"),  # another flat
        ("123 N Main St Apt 4B, 33401", "123 S Main St Apt 4B, 33401"),  # another street
        ("123 N Main St, 33401", "123 Main St, 33401"),  # a directional missing
        ("123 Main St N, 33401", "123 Main St S, 33401"),
        ("123 NE Main St, 33401", "123 NW Main St, 33401"),
        ("123 N Main St Apt 4B, 33401", "123 N Main St, 33401"),  # the building, not the flat
        ("123 N Main St Bldg 2 Apt 15, 33401", "123 N Main St Apt 15, 33401"),
        ("123 N Main St Apt 4B, 33401", "123 N Main St Apt B4, 33401"),
    ],
)
def test_other_doors_and_other_streets_still_do_not_meet(a: str, b: str) -> None:
    assert not keys_meet("address", a, b)


def test_address_keys_meet_with_only_the_zip_or_only_the_city() -> None:
    assert keys_meet("address", STANDARD, "123 N Main St Apt 4B, 33401")
    assert keys_meet("address", STANDARD, "123 N Main St Apt 4B, West Palm Beach, FL")
    assert not keys_meet("address", STANDARD, "123 N Main St Apt 5B, West Palm Beach, FL 33401")
    assert not keys_meet("address", STANDARD, "123 N Main St Apt 4B, Jupiter, FL 33458")
    # a bare street line meets only its equals: it may be in any town
    assert not keys_meet("address", STANDARD, "123 N Main St Apt 4B")
    assert keys_meet("address", "123 N Main St", "123 North Main Street")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("Main Street", "needs a house number and a street"),
        ("West Palm Beach, FL 33401", "needs a house number and a street"),
        ("123 Main St, West Palm Beach, FL 3340", "ZIP code '3340' is neither 5 nor 9 digits"),
        ("", "empty value"),
    ],
)
def test_invalid_addresses_say_why(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier, match=f"address: {reason}"):
        normalize("address", raw)


# -- business ----------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "Golden Lotus Spa, L.L.C.",
        "GOLDEN LOTUS SPA LLC",
        "The Golden Lotus Spa, Inc.",
        "golden lotus spa",
    ],
)
def test_business_drops_legal_suffixes_and_punctuation(raw: str) -> None:
    assert normalize("business", raw) == "GOLDEN LOTUS SPA"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Smith & Sons Co.", "SMITH AND SONS"),
        ("Smith & Co.", "SMITH"),
        ("A B C Nails L L C", "ABC NAILS"),
        ("A.B.C. Nails, Inc.", "ABC NAILS"),
        ("Spa X Inc", "SPA X"),
        ("Café Olé, S.A.", "CAFE OLE"),
    ],
)
def test_business_names(raw: str, expected: str) -> None:
    assert normalize("business", raw) == expected


def test_business_trade_names_are_keyed_on_their_own() -> None:
    value = normalize("business", "Sunrise Holdings LLC d/b/a Lucky Star Nails")
    assert value == "SUNRISE HOLDINGS DBA LUCKY STAR NAILS"
    assert "business:LUCKY STAR NAILS" in exact_keys("business", value)
    assert keys_meet("business", "Sunrise Holdings LLC d/b/a Lucky Star Nails", "Lucky Star Nails")


def test_business_without_a_name_is_refused() -> None:
    with pytest.raises(InvalidIdentifier, match="business: empty value"):
        normalize("business", "  ")
    with pytest.raises(InvalidIdentifier, match="business: no name left"):
        normalize("business", "!!!")


# -- the common surface --------------------------------------------------------


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(InvalidIdentifier, match="ssn: unknown identifier kind"):
        normalize("ssn", "123-45-6789")


def test_exact_keys_are_prefixed_and_depend_only_on_the_normal_form() -> None:
    for kind, raw in [
        ("phone", "(561) 555-0134"),
        ("email", "j.doe@gmail.com"),
        ("vin", VALID_VIN),
        ("handle", "ig:@x.y"),
        ("plate", "FL:ABC 123"),
        ("address", STANDARD),
        ("business", "Golden Lotus Spa LLC"),
    ]:
        value = normalize(kind, raw)
        keys = exact_keys(kind, value)
        assert keys == exact_keys(IdentifierKind(kind), value)
        assert all(k.split(":", 1)[0].rstrip("~") == kind for k in keys)
        assert normalize(kind, value) == value  # the normal form is a fixed point


def test_identifier_parse_normalises() -> None:
    ident = Identifier.parse("phone", "(561) 555-0134")
    assert ident == Identifier(IdentifierKind.PHONE, "+15615550134")
    assert Identifier("phone", "+15615550134").kind is IdentifierKind.PHONE  # type: ignore[arg-type]
