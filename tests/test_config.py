"""The settings schema: every ``JOINTOPS_*`` variable is read once, typed, and named when wrong."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import pytest
from pydantic.fields import FieldInfo

from jointops.config import (
    DEFAULT_SECRET_KEY,
    PALM_BEACH_COUNTY,
    PREFIX,
    Area,
    ConfigError,
    Settings,
    load_config,
    validate_config,
)

ROOT = Path(__file__).resolve().parent.parent
FIELDS = Settings.model_fields

#: annotations whose every value is fine: the text as given (None: set but empty, or unset)
FREE_TEXT = (str, str | None)


def bad_values(field: FieldInfo) -> list[str] | None:
    """Text the field's type refuses; [] for free text; None for a type this test does not know."""
    kind = field.annotation
    if kind is int:
        return ["abc", "7.0", "", "1e3"]
    if kind is float:
        return ["abc", "", "nan", "inf", "1,5"]
    if kind is bool:
        return ["maybe", "2", "", "t", "y"]
    if kind == list[int]:
        return ["5,x", "1;2", "1.5"]
    if kind is Any:  # JSON
        return ["{nope", "{'single': 'quotes'}", ""]
    if get_origin(kind) is Literal:
        return ["nope", "", " " + str(get_args(kind)[-1]), str(get_args(kind)[-1]).upper()]
    if kind is Area:
        return ["1,2,3", "a,b,c,d", "", "27,-80,26,-81", "26,-79,27,-81", "26,-81,91,-80"]
    if kind in FREE_TEXT:
        return []
    return None


def as_text(value: Any) -> str:
    """A default written as an operator would write it in the environment."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(part) for part in value)
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


BAD = [
    pytest.param(name, text, id=f"{name}={text!r}")
    for name, field in FIELDS.items()
    for text in bad_values(field) or []
]


def test_every_variable_has_a_type_this_test_knows() -> None:
    unknown = {
        name: field.annotation for name, field in FIELDS.items() if bad_values(field) is None
    }
    assert unknown == {}, "add bad values for these types to bad_values()"


@pytest.mark.parametrize(("name", "text"), BAD)
def test_a_value_of_the_wrong_type_names_the_variable(name: str, text: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_config({PREFIX + name: text})
    assert str(refused.value).startswith(f"{PREFIX}{name}: "), str(refused.value)


@pytest.mark.parametrize("name", [n for n, f in FIELDS.items() if bad_values(f) == []])
def test_free_text_is_taken_as_given(name: str) -> None:
    text = "  Any text, {not JSON}; 7.0  "
    value = getattr(Settings.model_validate({name: text}), name)
    assert value.strip().lower() == text.strip().lower()  # some are stripped or lower-cased


@pytest.mark.parametrize("name", list(FIELDS))
def test_every_default_reads_back_from_its_text(name: str) -> None:
    default = Settings().model_dump()[name]
    if default is None:  # unset: set but empty reads as None too, except the database URL
        return
    assert Settings.model_validate({name: as_text(default)}).model_dump()[name] == default


def test_every_bad_variable_is_named_one_per_line() -> None:
    with pytest.raises(ConfigError) as refused:
        load_config(
            {
                "JOINTOPS_LDAP_TIMEOUT": "abc",
                "JOINTOPS_PROXY_HOPS": "two",
                "JOINTOPS_LDAP_START_TLS": "maybe",
            }
        )
    assert str(refused.value).splitlines() == [
        "JOINTOPS_PROXY_HOPS: not a whole number ('two')",
        "JOINTOPS_LDAP_START_TLS: not true or false ('maybe'): use 1/true/yes/on or 0/false/no/off",
        "JOINTOPS_LDAP_TIMEOUT: not a number ('abc')",
    ]


DEFAULTS: dict[str, Any] = {
    "ENV_NAME": "development",
    "PRODUCTION": False,
    "SECRET_KEY": DEFAULT_SECRET_KEY,
    "OFFICE_NAME": "Palm Beach Human Trafficking Task Force",
    "TIMEZONE": "America/New_York",
    "CLIENT_CODE_PATTERN": r"^[A-Z]{2,6}-[0-9]{3,8}$",
    "REPEAT_INTERVIEW_DAYS": 7,
    "DECONFLICT_BUFFER_MINUTES": 60,
    "PROXY_HOPS": 0,
    "BASE_URL": "",
    "OFFICE_ADDRESS": "",
    "FEED_REFRESH_MINUTES": 15,
    "FEED_CANCELLED_DAYS": 30,
    "FEED_PAST_DAYS": 30,
    "FEED_FUTURE_DAYS": 365,
    "FEED_RATE_PER_MINUTE": 30,
    "ESCALATION_EVERY_MINUTES": 5,
    "ESCALATE_AFTER_MINUTES": 15,
    "ESCALATE_BEFORE_START_HOURS": 12,
    "ESCALATION_REPEAT_MINUTES": 60,
    "REMINDER_EVERY_MINUTES": 5,
    "REMINDER_OFFSETS_MINUTES": [1440, 60],
    "DIRECTORY_SYNC_EVERY_MINUTES": 15,
    "AUDIT_RETENTION_DAYS": 365,
    "EXPIRY_WARNING_DAYS": 30,
    "MAIL_EVERY_MINUTES": 1,
    "SMTP_HOST": "",
    "SMTP_PORT": 587,
    "SMTP_STARTTLS": True,
    "SMTP_USERNAME": None,
    "SMTP_PASSWORD": None,
    "SMTP_SENDER": "",
    "SMTP_TIMEOUT": 10.0,
    "MAIL_MAX_ATTEMPTS": 8,
    "MAIL_RETRY_SECONDS": 60,
    "EMAIL_POLICY": {},
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_DURATION": 0,
    "PERMANENT_SESSION_LIFETIME": 12 * 3600,
    "WTF_CSRF_TIME_LIMIT": None,
    "DECONFLICT_SWEEP_EVERY_MINUTES": 1,
    "DECONFLICT_REPORT_AFTER_ATTEMPTS": 3,
    "OPERATION_MAX_RADIUS_M": 5000,
    "OPERATION_MAX_HOURS": 24,
    "PRECHECK_WINDOW_MINUTES": 60,
    "PRECHECK_LIMIT_PER_USER": 20,
    "PRECHECK_LIMIT_PER_AGENCY": 60,
    "PRECHECK_PROBING_HITS": 3,
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_MAX_HOURS": 12,
    "SESSIONS_PER_USER": 3,
    "LOCKOUT_FAILURES": 5,
    "LOCKOUT_MINUTES": 10,
    "LOGIN_ADDRESS_FAILURES": 30,
    "LOGIN_ADDRESS_MINUTES": 15,
    "API_TOKEN_MAX_DAYS": 90,
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "MFA": "auto",
    "MFA_AGENCIES": {},
    "MFA_PENDING_MINUTES": 5,
    "WEBAUTHN_RP_ID": "",
    "WEBAUTHN_ORIGIN": "",
    "LDAP_URL": "demo",
    "LDAP_ALLOW_PLAIN": False,
    "LDAP_BIND_USER_DN": None,
    "LDAP_BIND_USER_PASSWORD": None,
    "LDAP_USER_BASE_DN": "",
    "LDAP_USER_LOGIN_ATTR": "uid",
    "LDAP_USER_OBJECT_FILTER": "(objectClass=inetOrgPerson)",
    "LDAP_GROUP_BASE_DN": "",
    "LDAP_GROUP_OBJECT_FILTER": "(objectClass=groupOfNames)",
    "LDAP_GROUP_MEMBERS_ATTR": "member",
    "LDAP_GROUP_MEMBERSHIP": "search",
    "LDAP_MEMBER_OF_ATTR": "memberOf",
    "LDAP_NESTED_GROUPS": False,
    "LDAP_ROLES_MAPPING": {},
    "LDAP_AGENCY_ATTR": "departmentNumber",
    "LDAP_AGENCY_MAPPING": {},
    "LDAP_AGENCY_BASE_DN": "",
    "LDAP_START_TLS": False,
    "LDAP_CA_FILE": None,
    "LDAP_TIMEOUT": 5.0,
    "DIRECTORY_MAX_CONCURRENT": 0,
    "SCHEDULER": "auto",
    "SCHEDULER_LEASE_SECONDS": 30.0,
    "SCHEDULER_MISFIRE_GRACE_SECONDS": 300.0,
    "SCHEDULER_TEST_JOB": False,
    "GEOCODER": "auto",
    "GEOCODER_URL": "",
    "GEOCODER_TIMEOUT_S": 3.0,
    "GEOCODER_CACHE_DAYS": 30,
    "GEOCODE_LIMIT_PER_MINUTE": 30,
    "SERVICE_AREA": PALM_BEACH_COUNTY,
    "MAP_TILES_URL": "",
    "MAP_ATTRIBUTION": "",
    "MAP_PMTILES": None,
}


def test_defaults_load_from_an_empty_environment(tmp_path: Path) -> None:
    config = load_config({}, instance_path=str(tmp_path))
    database = config.pop("SQLALCHEMY_DATABASE_URI")
    assert database == f"sqlite:///{tmp_path / 'jointops.sqlite3'}"
    assert config == DEFAULTS
    assert {k: type(v) for k, v in config.items()} == {k: type(v) for k, v in DEFAULTS.items()}
    validate_config(config | {"SQLALCHEMY_DATABASE_URI": database})


def test_variables_outside_the_schema_are_ignored() -> None:
    loaded = load_config(
        {"JOINTOPS_NO_SUCH_SETTING": "x", "jointops_proxy_hops": "x", "PROXY_HOPS": "x"}
    )
    assert loaded == load_config({})


@pytest.mark.parametrize(
    ("text", "value"),
    [(w, True) for w in ("1", "true", "yes", "on", " TRUE ", "On")]
    + [(w, False) for w in ("0", "false", "no", "off", " FALSE ", "Off")],
)
def test_booleans(text: str, value: bool) -> None:
    bools = [name for name, field in FIELDS.items() if field.annotation is bool]
    config = load_config({PREFIX + name: text for name in bools})
    assert {name: config[name] for name in bools} == dict.fromkeys(bools, value)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"PROXY_HOPS": " 2 "}, {"PROXY_HOPS": 2}),
        ({"LDAP_TIMEOUT": "2.5"}, {"LDAP_TIMEOUT": 2.5}),
        ({"SMTP_TIMEOUT": "3"}, {"SMTP_TIMEOUT": 3.0}),
        ({"REMINDER_OFFSETS_MINUTES": "10, 20,,"}, {"REMINDER_OFFSETS_MINUTES": [10, 20]}),
        ({"REMINDER_OFFSETS_MINUTES": ""}, {"REMINDER_OFFSETS_MINUTES": []}),
        (
            {"LDAP_ROLES_MAPPING": '{"cn=admins,ou=groups": "admin"}'},
            {"LDAP_ROLES_MAPPING": {"cn=admins,ou=groups": "admin"}},
        ),
        ({"EMAIL_POLICY": "[1]"}, {"EMAIL_POLICY": [1]}),  # the shape is validate_config's job
        (
            {"BASE_URL": " https://ops.example/jointops/ "},
            {"BASE_URL": "https://ops.example/jointops"},
        ),
        ({"SCHEDULER": " Only "}, {"SCHEDULER": "only"}),
        (
            {"SMTP_HOST": " mail.example ", "SMTP_SENDER": " ops@example "},
            {"SMTP_HOST": "mail.example", "SMTP_SENDER": "ops@example"},
        ),
        ({"SMTP_USERNAME": "", "LDAP_CA_FILE": ""}, {"SMTP_USERNAME": None, "LDAP_CA_FILE": None}),
        ({"LDAP_BIND_USER_PASSWORD": " secret "}, {"LDAP_BIND_USER_PASSWORD": " secret "}),
        ({"SECRET_KEY": ""}, {"SECRET_KEY": ""}),
        (
            {"DATABASE_URL": "postgresql://db/jointops"},
            {"SQLALCHEMY_DATABASE_URI": "postgresql://db/jointops"},
        ),
        ({"DATABASE_URL": ""}, {"SQLALCHEMY_DATABASE_URI": ""}),
        (
            {"SESSION_MAX_HOURS": "3"},
            {"SESSION_MAX_HOURS": 3, "PERMANENT_SESSION_LIFETIME": 3 * 3600},
        ),
        (
            {"ENV": "production"},
            {"ENV_NAME": "production", "PRODUCTION": True, "SESSION_COOKIE_SECURE": True},
        ),
    ],
)
def test_valid_values_round_trip(env: dict[str, str], expected: dict[str, Any]) -> None:
    config = load_config({PREFIX + name: text for name, text in env.items()})
    assert {key: config[key] for key in expected} == expected
    for key, value in expected.items():
        assert type(config[key]) is type(value), key


def test_the_process_environment_is_read_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOINTOPS_FEED_PAST_DAYS", "9")
    assert load_config()["FEED_PAST_DAYS"] == 9
    monkeypatch.setenv("JOINTOPS_FEED_PAST_DAYS", "nine")
    with pytest.raises(ConfigError, match="^JOINTOPS_FEED_PAST_DAYS: not a whole number"):
        load_config()


@pytest.mark.parametrize("key", ["SMTP_STARTTLS", "LDAP_NESTED_GROUPS"])
def test_validate_config_still_refuses_an_override_that_is_not_a_bool(key: str) -> None:
    with pytest.raises(ConfigError, match=f"^JOINTOPS_{key}: 'maybe' is not true or false"):
        validate_config(load_config({}) | {key: "maybe"})


def test_only_the_config_module_reads_the_environment() -> None:
    reads = re.compile(r"os\.environ|os\.getenv|getenv\(|dotenv")
    readers = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "jointops").rglob("*.py")
        if reads.search(path.read_text(encoding="utf-8"))
    )
    assert readers == ["jointops/config.py"]


GROUP = "cn=pbso-staff,ou=groups,dc=county,dc=test"


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ('["PBSO"]', r"a JSON object \{\"<group DN>\": \"<agency code>\"\}"),
        ('{"cn=x,dc=test": 7}', r"a JSON object"),
        ('{"pbso-staff": "PBSO"}', r"not group DNs \(cn=...,ou=...\): \['pbso-staff'\]"),
        (json.dumps({GROUP: "pbso"}), r"malformed agency codes \['pbso'\]"),
        (json.dumps({GROUP: "P"}), r"malformed agency codes \['P'\]"),
    ],
)
def test_the_agency_mapping_is_checked(mapping: str, message: str) -> None:
    config = load_config(
        {"JOINTOPS_LDAP_AGENCY_MAPPING": mapping, "JOINTOPS_LDAP_GROUP_BASE_DN": "dc=test"}
    )
    with pytest.raises(ConfigError, match=f"^JOINTOPS_LDAP_AGENCY_MAPPING: {message}"):
        validate_config(config)


def test_the_agency_mapping_is_read_and_needs_a_group_base_to_search() -> None:
    env = {"JOINTOPS_LDAP_AGENCY_MAPPING": json.dumps({GROUP: "PBSO"})}
    with pytest.raises(ConfigError, match="needs JOINTOPS_LDAP_GROUP_BASE_DN"):
        validate_config(load_config(env))
    config = load_config(env | {"JOINTOPS_LDAP_GROUP_BASE_DN": "ou=groups,dc=county,dc=test"})
    validate_config(config)
    assert config["LDAP_AGENCY_MAPPING"] == {GROUP: "PBSO"}
