"""Configuration from ``JOINTOPS_*`` environment variables.

This is the only module that reads the environment. ``Settings`` declares every variable once,
with its type, its default and how its text is read; a value that cannot be read stops start-up
with a ``ConfigError`` that names the variable. ``load_config`` turns the settings into the Flask
config mapping; ``create_app`` merges caller overrides on top of it and ``validate_config``
checks the merged mapping (ranges, choices, cross-field and production rules).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple, get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from auth.directory import AGENCY_CODE_PATTERN, GROUP_MEMBERSHIP_MODES, ROLES

PREFIX = "JOINTOPS_"
DEFAULT_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - refused in production
DEMO_DIRECTORY = "demo"


class ConfigError(RuntimeError):
    """The configuration would run the service unsafely or not at all."""


# --- how a variable's text is read (a ValueError here becomes a ConfigError naming it) ----------

TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")
EnvNames = Literal["development", "production"]
ENV_NAMES: tuple[str, ...] = get_args(EnvNames)


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"not a whole number ({text!r})") from None


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"not a number ({text!r})") from None
    if not math.isfinite(value):
        raise ValueError(f"not a finite number ({text!r})")
    return value


def _flag(text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(
        f"not true or false ({text!r}): use {'/'.join(TRUE_WORDS)} or {'/'.join(FALSE_WORDS)}"
    )


def _whole_numbers(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"not comma-separated whole numbers ({text!r})") from None


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ValueError(f"not valid JSON ({exc})") from None


def _env_name(text: str) -> str:
    if text not in ENV_NAMES:
        raise ValueError(f"{text!r} is not one of {', '.join(ENV_NAMES)}")
    return text


MfaPolicies = Literal["auto", "required", "optional", "off"]
MFA_POLICIES: tuple[str, ...] = get_args(MfaPolicies)
#: what an agency's override may say (``auto`` is only the office-wide default)
MFA_AGENCY_POLICIES = ("required", "optional", "off")


def _mfa_policy(text: str) -> str:
    if text not in MFA_POLICIES:
        raise ValueError(f"{text!r} is not one of {', '.join(MFA_POLICIES)}")
    return text


def _text_or_none(text: str) -> str | None:
    return text or None


def _base_url(text: str) -> str:
    return text.strip().rstrip("/")


def _word(text: str) -> str:
    return text.strip().lower()


Int = Annotated[int, BeforeValidator(_whole_number)]
Float = Annotated[float, BeforeValidator(_number)]
Bool = Annotated[bool, BeforeValidator(_flag)]
IntList = Annotated[list[int], BeforeValidator(_whole_numbers)]
#: any JSON; its shape is checked by validate_config, which also sees test overrides
JSON = Annotated[Any, BeforeValidator(_json)]
EnvName = Annotated[EnvNames, BeforeValidator(_env_name)]
MfaPolicy = Annotated[MfaPolicies, BeforeValidator(_mfa_policy)]
#: text with surrounding blanks removed
Stripped = Annotated[str, AfterValidator(str.strip)]
#: text, or None when the variable is set but empty
TextOrNone = Annotated[str | None, BeforeValidator(_text_or_none)]


class Area(NamedTuple):
    """A bounding box in degrees (``JOINTOPS_SERVICE_AREA``), written south,west,north,east."""

    south: float
    west: float
    north: float
    east: float

    def contains(self, latitude: float, longitude: float) -> bool:
        return self.south <= latitude <= self.north and self.west <= longitude <= self.east

    def __str__(self) -> str:
        return ",".join(f"{edge:g}" for edge in self)


#: Palm Beach County, Florida, with its shore and the county's part of Lake Okeechobee
PALM_BEACH_COUNTY = Area(26.32, -80.89, 26.98, -80.03)


def _area(text: str) -> Area:
    parts = text.split(",")
    if len(parts) != 4:
        raise ValueError(f"expected four numbers south,west,north,east, got {text!r}")
    try:
        south, west, north, east = (float(part) for part in parts)
    except ValueError:
        raise ValueError(f"not four numbers south,west,north,east ({text!r})") from None
    if not all(math.isfinite(edge) for edge in (south, west, north, east)):
        raise ValueError(f"not four finite numbers ({text!r})")
    if not -90 <= south < north <= 90:
        raise ValueError(f"south must be below north, both between -90 and 90 ({text!r})")
    if not -180 <= west < east <= 180:
        raise ValueError(f"west must be left of east, both between -180 and 180 ({text!r})")
    return Area(south, west, north, east)


#: a bounding box read from "south,west,north,east"
AreaBox = Annotated[Area, BeforeValidator(_area)]


class Settings(BaseModel):
    """Every ``JOINTOPS_*`` variable: a field's name is the variable's name without the prefix.

    Most fields are Flask config keys of the same name; ``load_config`` says which are not.
    Defaults are the values themselves (they are not read as text).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    #: production: secure cookies, and validate_config's production checks
    ENV: EnvName = "development"
    SECRET_KEY: str = DEFAULT_SECRET_KEY
    #: None: a SQLite file in the instance folder
    DATABASE_URL: str | None = None
    OFFICE_NAME: str = "Palm Beach Human Trafficking Task Force"
    TIMEZONE: str = "America/New_York"
    CLIENT_CODE_PATTERN: str = r"^[A-Z]{2,6}-[0-9]{3,8}$"
    REPEAT_INTERVIEW_DAYS: Int = 7
    # event deconfliction: windows widened by this much on each side (radii: jointops.catalog)
    DECONFLICT_BUFFER_MINUTES: Int = 60
    # how many reverse proxies in front set X-Forwarded-For/-Proto/-Host (0: none trusted)
    PROXY_HOPS: Int = 0
    # iCal feeds (see jointops/feeds/service.py); "" (unset): see base_url
    BASE_URL: Annotated[str, AfterValidator(_base_url)] = ""
    #: the office's street address: a room's place in feeds, for maps apps (never an operation's)
    OFFICE_ADDRESS: Stripped = ""
    FEED_REFRESH_MINUTES: Int = 15
    FEED_CANCELLED_DAYS: Int = 30
    FEED_PAST_DAYS: Int = 30
    FEED_FUTURE_DAYS: Int = 365
    FEED_RATE_PER_MINUTE: Int = 30
    # jobs and notifications (see jointops/jobs/ and jointops/notifications/service.py);
    # *_EVERY_MINUTES is how often a job runs (the scheduler reads them through the job registry)
    ESCALATION_EVERY_MINUTES: Int = 5
    ESCALATE_AFTER_MINUTES: Int = 15
    ESCALATE_BEFORE_START_HOURS: Int = 12
    ESCALATION_REPEAT_MINUTES: Int = 60
    REMINDER_EVERY_MINUTES: Int = 5
    REMINDER_OFFSETS_MINUTES: IntList = Field(default_factory=lambda: [1440, 60])
    DIRECTORY_SYNC_EVERY_MINUTES: Int = 15
    AUDIT_RETENTION_DAYS: Int = 365
    EXPIRY_WARNING_DAYS: Int = 30
    MAIL_EVERY_MINUTES: Int = 1
    # deconfliction that cannot be skipped, nor used as an oracle
    DECONFLICT_SWEEP_EVERY_MINUTES: Int = 1
    DECONFLICT_REPORT_AFTER_ATTEMPTS: Int = 3
    OPERATION_MAX_RADIUS_M: Int = 5000
    OPERATION_MAX_HOURS: Int = 24
    PRECHECK_WINDOW_MINUTES: Int = 60
    PRECHECK_LIMIT_PER_USER: Int = 20
    PRECHECK_LIMIT_PER_AGENCY: Int = 60
    PRECHECK_PROBING_HITS: Int = 3
    # e-mail: no SMTP host, no e-mail
    SMTP_HOST: Stripped = ""
    SMTP_PORT: Int = 587
    SMTP_STARTTLS: Bool = True
    SMTP_USERNAME: TextOrNone = None
    SMTP_PASSWORD: TextOrNone = None
    SMTP_SENDER: Stripped = ""
    SMTP_TIMEOUT: Float = 10.0
    MAIL_MAX_ATTEMPTS: Int = 8
    MAIL_RETRY_SECONDS: Int = 60
    EMAIL_POLICY: JSON = Field(default_factory=dict)
    # sessions and sign-in
    SESSION_IDLE_MINUTES: Int = 30
    SESSION_MAX_HOURS: Int = 12
    SESSIONS_PER_USER: Int = 3
    LOCKOUT_FAILURES: Int = 5
    LOCKOUT_MINUTES: Int = 10
    # failures from one client address, each within the window of the last, that block the
    # address for the window (0: no per-address throttle)
    LOGIN_ADDRESS_FAILURES: Int = 30
    LOGIN_ADDRESS_MINUTES: Int = 15
    # personal API tokens: the longest life a token may have, and its default
    API_TOKEN_MAX_DAYS: Int = 90
    # the largest request body accepted (Flask's MAX_CONTENT_LENGTH); larger ones answer 413
    MAX_REQUEST_BYTES: Int = 1024 * 1024
    # second factors (see jointops/identity/mfa/): auto is required in production, optional
    # otherwise (the demo directory); per agency {"<agency code>": "required|optional|off"}
    MFA: MfaPolicy = "auto"
    MFA_AGENCIES: JSON = Field(default_factory=dict)
    #: how long a sign-in may wait between the password and the second factor
    MFA_PENDING_MINUTES: Int = 5
    #: WebAuthn relying party: "" takes the host of JOINTOPS_BASE_URL, and its origin
    WEBAUTHN_RP_ID: Stripped = ""
    WEBAUTHN_ORIGIN: Annotated[str, AfterValidator(_base_url)] = ""
    # the directory (see docs/directory.md)
    LDAP_URL: str = DEMO_DIRECTORY
    LDAP_ALLOW_PLAIN: Bool = False
    LDAP_BIND_USER_DN: TextOrNone = None
    LDAP_BIND_USER_PASSWORD: TextOrNone = None
    LDAP_USER_BASE_DN: str = ""
    LDAP_USER_LOGIN_ATTR: str = "uid"
    LDAP_USER_OBJECT_FILTER: str = "(objectClass=inetOrgPerson)"
    LDAP_GROUP_BASE_DN: str = ""
    LDAP_GROUP_OBJECT_FILTER: str = "(objectClass=groupOfNames)"
    LDAP_GROUP_MEMBERS_ATTR: str = "member"
    LDAP_GROUP_MEMBERSHIP: Stripped = "search"
    LDAP_MEMBER_OF_ATTR: Stripped = "memberOf"
    LDAP_NESTED_GROUPS: Bool = False
    LDAP_ROLES_MAPPING: JSON = Field(default_factory=dict)
    LDAP_AGENCY_ATTR: str = "departmentNumber"
    #: group DN -> agency code; when set, the groups give each user's agency (not the attribute)
    LDAP_AGENCY_MAPPING: JSON = Field(default_factory=dict)
    LDAP_AGENCY_BASE_DN: str = ""
    LDAP_START_TLS: Bool = False
    LDAP_CA_FILE: TextOrNone = None
    LDAP_TIMEOUT: Float = 5.0
    #: sign-ins of one process that may wait on the directory at once; beyond it 503 at once
    #: (0: half of gunicorn's threads per worker, at least 1; no bound outside gunicorn)
    DIRECTORY_MAX_CONCURRENT: Int = 0
    # background jobs (see jointops/jobs/scheduler.py): who competes for the lease, and timings
    SCHEDULER: Annotated[str, AfterValidator(_word)] = "auto"
    SCHEDULER_LEASE_SECONDS: Float = 30.0
    SCHEDULER_MISFIRE_GRACE_SECONDS: Float = 300.0
    # test-only: adds a 1-second "heartbeat" job that records its runs and does nothing else
    SCHEDULER_TEST_JOB: Bool = False
    # places (see jointops/places/): the address search that runs on the server, its cache,
    # and the office's service area (an operation placed outside it must be confirmed)
    GEOCODER: Annotated[str, AfterValidator(_word)] = "auto"
    GEOCODER_URL: Annotated[str, AfterValidator(_base_url)] = ""
    GEOCODER_TIMEOUT_S: Float = 3.0
    GEOCODER_CACHE_DAYS: Int = 30
    GEOCODE_LIMIT_PER_MINUTE: Int = 30
    SERVICE_AREA: AreaBox = PALM_BEACH_COUNTY
    # the map's basemap (see jointops/maps/basemap.py): raster tiles, a PMTiles file, or none
    MAP_TILES_URL: Stripped = ""
    MAP_ATTRIBUTION: Stripped = ""
    MAP_PMTILES: TextOrNone = None


def read_settings(environ: Mapping[str, str]) -> Settings:
    """The ``JOINTOPS_*`` variables of ``environ``; ConfigError names each one that is wrong."""
    given = {
        name: environ[PREFIX + name] for name in Settings.model_fields if PREFIX + name in environ
    }
    try:
        return Settings.model_validate(given)
    except ValidationError as exc:
        raise ConfigError("\n".join(_complaint(error) for error in exc.errors())) from exc


def _complaint(error: ErrorDetails) -> str:
    name = PREFIX + str(error["loc"][0])
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, ValueError):
        return f"{name}: {cause}"
    return f"{name}: {error['msg']} ({error['input']!r})"


def load_config(
    environ: Mapping[str, str] | None = None, instance_path: str = ""
) -> dict[str, Any]:
    """Build the Flask config from ``environ`` (default: ``os.environ`` and a ``.env`` file)."""
    if environ is None:
        _load_dotenv()
        environ = os.environ
    settings = read_settings(environ)
    values = dict(settings)
    production = values.pop("ENV") == "production"
    database_url = values.pop("DATABASE_URL")
    values["MAX_CONTENT_LENGTH"] = values.pop("MAX_REQUEST_BYTES")
    if database_url is None:
        database_url = f"sqlite:///{Path(instance_path or '.') / 'jointops.sqlite3'}"
    return {
        "ENV_NAME": settings.ENV,
        "PRODUCTION": production,
        "SQLALCHEMY_DATABASE_URI": database_url,
        **values,
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": 0,
        # The cookie's signature outlives no session; idle and absolute limits are server-side.
        "PERMANENT_SESSION_LIFETIME": settings.SESSION_MAX_HOURS * 3600,
        "WTF_CSRF_TIME_LIMIT": None,
    }


def validate_config(config: Mapping[str, Any]) -> None:
    """Refuse settings that are unsafe in production or simply wrong."""
    try:
        ZoneInfo(config["TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"JOINTOPS_TIMEZONE: unknown time zone {config['TIMEZONE']!r}") from exc
    if config["LOCKOUT_MINUTES"] < 10 or not 1 <= config["LOCKOUT_FAILURES"] <= 5:
        raise ConfigError("JOINTOPS_LOCKOUT_*: lock after at most 5 failures for at least 10 min")
    if config["LOGIN_ADDRESS_FAILURES"] < 0 or config["LOGIN_ADDRESS_MINUTES"] < 1:
        raise ConfigError(
            "JOINTOPS_LOGIN_ADDRESS_*: a number of failures (0: off) within at least 1 minute"
        )
    if not 1 <= config["API_TOKEN_MAX_DAYS"] <= 366:
        raise ConfigError("JOINTOPS_API_TOKEN_MAX_DAYS: between 1 and 366 days")
    if not 16 * 1024 <= config["MAX_CONTENT_LENGTH"] <= 100 * 1024 * 1024:
        raise ConfigError("JOINTOPS_MAX_REQUEST_BYTES: between 16384 and 104857600 bytes")
    if not 0 < config["SESSION_IDLE_MINUTES"] <= 30 or not 0 < config["SESSION_MAX_HOURS"] <= 12:
        raise ConfigError("JOINTOPS_SESSION_*: at most 30 minutes idle and 12 hours in all")
    if not 0 <= config["DECONFLICT_BUFFER_MINUTES"] <= 24 * 60:
        raise ConfigError("JOINTOPS_DECONFLICT_BUFFER_MINUTES: between 0 and 1440 minutes")
    if config["DIRECTORY_MAX_CONCURRENT"] < 0:
        raise ConfigError("JOINTOPS_DIRECTORY_MAX_CONCURRENT: a number of sign-ins (0: derived)")
    _validate_ldap_groups(config)
    _validate_feeds(config)
    _validate_scheduler(config)
    _validate_jobs(config)
    _validate_mail(config)
    _validate_places(config)
    _validate_map(config)
    _validate_mfa(config)
    if not config.get("PRODUCTION"):
        return
    weakness = secret_key_weakness(config["SECRET_KEY"])
    if weakness:
        raise ConfigError(
            f"JOINTOPS_SECRET_KEY: {weakness}; production needs a random key, such as the output "
            'of python -c "import secrets; print(secrets.token_urlsafe(32))"'
        )
    url = config["LDAP_URL"]
    if url == DEMO_DIRECTORY:
        raise ConfigError("JOINTOPS_LDAP_URL: production cannot use the demo directory")
    plain = (
        any(u.strip().startswith("ldap://") for u in url.split(","))
        and not config["LDAP_START_TLS"]
    )
    if plain and not config["LDAP_ALLOW_PLAIN"]:
        raise ConfigError(
            "JOINTOPS_LDAP_URL: production refuses unencrypted ldap:// "
            "(use ldaps://, JOINTOPS_LDAP_START_TLS=true, or JOINTOPS_LDAP_ALLOW_PLAIN=true)"
        )


def _validate_ldap_groups(config: Mapping[str, Any]) -> None:
    """How roles are read from the directory: the mode, its attribute and the mapping."""
    mode = config["LDAP_GROUP_MEMBERSHIP"]
    if mode not in GROUP_MEMBERSHIP_MODES:
        raise ConfigError(
            f"JOINTOPS_LDAP_GROUP_MEMBERSHIP: {mode!r} is not one of "
            + ", ".join(GROUP_MEMBERSHIP_MODES)
        )
    if mode == "member_of" and not config["LDAP_MEMBER_OF_ATTR"]:
        raise ConfigError("JOINTOPS_LDAP_MEMBER_OF_ATTR: member_of mode needs an attribute name")
    nested = config["LDAP_NESTED_GROUPS"]
    if not isinstance(nested, bool):
        raise ConfigError(f"JOINTOPS_LDAP_NESTED_GROUPS: {nested!r} is not true or false")
    if nested and mode != "search":
        raise ConfigError(
            "JOINTOPS_LDAP_NESTED_GROUPS: nested groups need JOINTOPS_LDAP_GROUP_MEMBERSHIP=search "
            "(memberOf holds direct groups only)"
        )
    mapping = config["LDAP_ROLES_MAPPING"]
    if not isinstance(mapping, dict) or not all(isinstance(dn, str) for dn in mapping):
        raise ConfigError('JOINTOPS_LDAP_ROLES_MAPPING: a JSON object {"<group DN>": "<role>"}')
    unknown = sorted({str(role) for role in mapping.values()} - set(ROLES))
    if unknown:
        raise ConfigError(
            f"JOINTOPS_LDAP_ROLES_MAPPING: unknown roles {unknown}; roles are {', '.join(ROLES)}"
        )
    _validate_agency_mapping(config)


def _validate_agency_mapping(config: Mapping[str, Any]) -> None:
    """Group DNs (``name=value`` parts) to agency codes of the agency code format."""
    name = "JOINTOPS_LDAP_AGENCY_MAPPING"
    mapping = config["LDAP_AGENCY_MAPPING"]
    if not isinstance(mapping, dict) or not all(
        isinstance(dn, str) and isinstance(code, str) for dn, code in mapping.items()
    ):
        raise ConfigError(f'{name}: a JSON object {{"<group DN>": "<agency code>"}}')
    not_dns = sorted(dn for dn in mapping if not DN_PATTERN.fullmatch(dn.strip()))
    if not_dns:
        raise ConfigError(f"{name}: not group DNs (cn=...,ou=...): {not_dns}")
    bad_codes = sorted(
        {code for code in mapping.values() if not re.fullmatch(AGENCY_CODE_PATTERN, code)}
    )
    if bad_codes:
        raise ConfigError(
            f"{name}: malformed agency codes {bad_codes}; a code is 2 to 16 capitals, digits, "
            "- or _ (PBSO, SAO15)"
        )
    if mapping and config["LDAP_GROUP_MEMBERSHIP"] == "search" and not config["LDAP_GROUP_BASE_DN"]:
        raise ConfigError(f"{name}: the group search needs JOINTOPS_LDAP_GROUP_BASE_DN")


#: a DN's shape: RDNs ``attribute=value`` separated by commas
_RDN = r"[A-Za-z][\w.-]*=(?:\\.|[^,=\\])+"
DN_PATTERN = re.compile(rf"{_RDN}(?:\s*,\s*{_RDN})*")


#: the least a production secret key must carry by the estimate of ``secret_key_bits``
SECRET_KEY_MIN_BITS = 100
#: words of the keys that examples and templates ship (compared without case or punctuation)
SECRET_KEY_PLACEHOLDERS = (
    "changeme",
    "changethis",
    "replaceme",
    "secretkey",
    "yoursecret",
    "mysecret",
    "notsecret",
    "devonly",
    "insecure",
    "placeholder",
    "example",
    "password",
    "default",
)
#: runs a key may follow by hand: keyboard rows and the alphabet
_KEY_RUNS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "abcdefghijklmnopqrstuvwxyz")


def secret_key_weakness(key: str) -> str | None:
    """Why ``key`` cannot sign production sessions, or None when it can."""
    if len(key) < 32:
        return "shorter than 32 characters"
    folded = re.sub(r"[^a-z0-9]", "", key.lower())
    placeholder = next((word for word in SECRET_KEY_PLACEHOLDERS if word in folded), None)
    if placeholder is not None or key == DEFAULT_SECRET_KEY:
        return f"a placeholder ({placeholder or 'the development default'}), not a secret"
    bits = secret_key_bits(key)
    if bits < SECRET_KEY_MIN_BITS:
        return (
            f"too predictable (about {bits:.0f} bits: repeated characters or patterns, a small "
            f"alphabet or keyboard runs; at least {SECRET_KEY_MIN_BITS} are needed)"
        )
    return None


def secret_key_bits(key: str) -> float:
    """An estimate of the bits of ``key``: the entropy of its characters (Shannon's, corrected
    for the bias of a short sample) times the number of its characters that a guesser could not
    predict from those before them (``_unpredictable``); the first 256 characters are read."""
    key = key[:256]
    counts = [key.count(c) for c in set(key)]
    shannon = -sum(n / len(key) * math.log2(n / len(key)) for n in counts)
    per_char = shannon + (len(counts) - 1) / (2 * len(key) * math.log(2))  # Miller-Madow
    return max(0.0, per_char * _unpredictable(key))


def _unpredictable(key: str) -> int:
    """The characters of ``key`` less those a guesser predicts: a repeat of three or more earlier
    characters counts as one, and so does a run along a keyboard row or the alphabet (or of one
    character) from its third character on."""
    lowered = key.lower()
    steps = {a + b for run in _KEY_RUNS for a, b in zip(run, run[1:], strict=False)}
    steps |= {pair[::-1] for pair in steps} | {c + c for c in set(lowered)}
    count, i = 0, 0
    while i < len(key):
        length = 3
        while i + length <= len(key) and key.find(key[i : i + length], 0, i + length - 1) >= 0:
            length += 1
        if length > 3:
            count, i = count + 1, i + length - 1
        elif i >= 2 and lowered[i - 2 : i] in steps and lowered[i - 1 : i + 1] in steps:
            i += 1
        else:
            count, i = count + 1, i + 1
    return count


LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


#: the app's address when ``JOINTOPS_BASE_URL`` is unset and no request says (``make run``)
LOCAL_BASE_URL = "http://127.0.0.1:8000"


def base_url(config: Mapping[str, Any], request_root: str | None = None) -> str:
    """The address every link to the app starts with (no trailing slash): the rule, in one place.

    ``JOINTOPS_BASE_URL`` when set. Unset, a page shows the address its request came in on
    (``request_root``: Flask's ``request.root_url``, whose host and scheme come from
    ``X-Forwarded-*`` only behind ``JOINTOPS_PROXY_HOPS`` trusted proxies), so that a server
    on another host or port gives working URLs. Whatever must not depend on the request (the
    WebAuthn origin, links in e-mails that jobs write, feed UIDs and the links inside a feed,
    which are the same for every fetch) passes no request and gets ``LOCAL_BASE_URL``.
    """
    if config["BASE_URL"]:
        return str(config["BASE_URL"])
    if request_root:
        return request_root.rstrip("/")
    return LOCAL_BASE_URL


def _validate_feeds(config: Mapping[str, Any]) -> None:
    """The feeds' window, refresh and rate limit, and the address that feed URLs start with."""
    base = config["BASE_URL"]
    host = urlsplit(base).hostname
    shape = (
        base.startswith(("https://", "http://")) and host and "?" not in base and "#" not in base
    )
    if base and not shape:
        raise ConfigError(f"JOINTOPS_BASE_URL: expected http(s)://host[:port][/path], got {base!r}")
    address = config["OFFICE_ADDRESS"]
    if len(address) > 200 or any(not c.isprintable() for c in address):
        raise ConfigError("JOINTOPS_OFFICE_ADDRESS: one line of at most 200 printable characters")
    for name in ("FEED_REFRESH_MINUTES", "FEED_FUTURE_DAYS", "FEED_RATE_PER_MINUTE"):
        if config[name] < 1:
            raise ConfigError(f"JOINTOPS_{name}: must be at least 1")
    for name in ("FEED_CANCELLED_DAYS", "FEED_PAST_DAYS"):
        if config[name] < 0:
            raise ConfigError(f"JOINTOPS_{name}: must not be negative")
    if config.get("PRODUCTION") and not base:
        raise ConfigError(
            "JOINTOPS_BASE_URL: production needs the address its users reach JointOps at "
            "(https://host[/path]): links in feeds and e-mails and passkeys are made without a "
            "request to take it from"
        )
    if config.get("PRODUCTION") and base.startswith("http://") and host not in LOOPBACK:
        raise ConfigError(
            "JOINTOPS_BASE_URL: production feed URLs carry their token, so they need https://"
        )


SCHEDULER_MODES = ("auto", "off", "only")


def _validate_scheduler(config: Mapping[str, Any]) -> None:
    """Who competes for the scheduler lease, how long it lasts, how late a job may start."""
    mode = config.get("SCHEDULER", "auto")
    if mode not in SCHEDULER_MODES:
        raise ConfigError(
            f"JOINTOPS_SCHEDULER: {mode!r} is not one of {', '.join(SCHEDULER_MODES)} "
            "(auto: gunicorn workers compete for the lease; only: dedicated `jointops scheduler` "
            "processes only; off: no jobs)"
        )
    if not 1 <= config.get("SCHEDULER_LEASE_SECONDS", 30) <= 3600:
        raise ConfigError("JOINTOPS_SCHEDULER_LEASE_SECONDS: between 1 and 3600 seconds")
    if not 1 <= config.get("SCHEDULER_MISFIRE_GRACE_SECONDS", 300) <= 86400:
        raise ConfigError("JOINTOPS_SCHEDULER_MISFIRE_GRACE_SECONDS: between 1 and 86400 seconds")


#: notification categories a user may also get by e-mail (labels: jointops.notifications.service)
EMAIL_CATEGORIES = ("alert", "escalation", "reminder", "retention")


def _validate_jobs(config: Mapping[str, Any]) -> None:
    """Job intervals, escalation timings, reminder offsets and retention periods."""
    for name in (
        "ESCALATION_EVERY_MINUTES",
        "REMINDER_EVERY_MINUTES",
        "DIRECTORY_SYNC_EVERY_MINUTES",
        "MAIL_EVERY_MINUTES",
        "ESCALATION_REPEAT_MINUTES",
        "DECONFLICT_SWEEP_EVERY_MINUTES",
        "PRECHECK_WINDOW_MINUTES",
    ):
        if not 1 <= config[name] <= 24 * 60:
            raise ConfigError(f"JOINTOPS_{name}: between 1 and 1440 minutes")
    if config["ESCALATE_AFTER_MINUTES"] < 1 or config["ESCALATE_BEFORE_START_HOURS"] < 0:
        raise ConfigError(
            "JOINTOPS_ESCALATE_*: at least 1 minute after raising, 0 or more hours before start"
        )
    offsets = config["REMINDER_OFFSETS_MINUTES"]
    if not offsets or not all(0 < o <= 30 * 24 * 60 for o in offsets):
        raise ConfigError(
            "JOINTOPS_REMINDER_OFFSETS_MINUTES: one or more offsets between 1 minute and 30 days"
        )
    if config["AUDIT_RETENTION_DAYS"] < 365:
        raise ConfigError("JOINTOPS_AUDIT_RETENTION_DAYS: audit entries are kept at least 365 days")
    if not 1 <= config["EXPIRY_WARNING_DAYS"] <= 365:
        raise ConfigError("JOINTOPS_EXPIRY_WARNING_DAYS: between 1 and 365 days")
    for name in (
        "DECONFLICT_REPORT_AFTER_ATTEMPTS",
        "PRECHECK_LIMIT_PER_USER",
        "PRECHECK_LIMIT_PER_AGENCY",
        "PRECHECK_PROBING_HITS",
    ):
        if config[name] < 1:
            raise ConfigError(f"JOINTOPS_{name}: at least 1")
    if not 10 <= config["OPERATION_MAX_RADIUS_M"] <= 50_000:
        raise ConfigError("JOINTOPS_OPERATION_MAX_RADIUS_M: between 10 and 50,000 m")
    if not 1 <= config["OPERATION_MAX_HOURS"] <= 14 * 24:
        raise ConfigError("JOINTOPS_OPERATION_MAX_HOURS: between 1 and 336 hours")


def _validate_mail(config: Mapping[str, Any]) -> None:
    """SMTP settings (no host: e-mail is off) and the agencies' e-mail policy."""
    policy = config["EMAIL_POLICY"]
    if not isinstance(policy, dict) or not all(
        isinstance(code, str) and isinstance(allowed, list) for code, allowed in policy.items()
    ):
        raise ConfigError(
            'JOINTOPS_EMAIL_POLICY: a JSON object {"<agency code>": ["<category>", ...]}'
        )
    unknown = sorted(
        {str(c) for allowed in policy.values() for c in allowed} - set(EMAIL_CATEGORIES)
    )
    if unknown:
        raise ConfigError(
            f"JOINTOPS_EMAIL_POLICY: unknown categories {unknown}; "
            f"categories are {', '.join(EMAIL_CATEGORIES)}"
        )
    if not isinstance(config["SMTP_STARTTLS"], bool):
        raise ConfigError(
            f"JOINTOPS_SMTP_STARTTLS: {config['SMTP_STARTTLS']!r} is not true or false"
        )
    if config["MAIL_MAX_ATTEMPTS"] < 1 or config["MAIL_RETRY_SECONDS"] < 1:
        raise ConfigError("JOINTOPS_MAIL_MAX_ATTEMPTS and _RETRY_SECONDS: at least 1")
    host = config["SMTP_HOST"]
    if not host:
        return
    if not 0 < config["SMTP_PORT"] < 65536:
        raise ConfigError(f"JOINTOPS_SMTP_PORT: {config['SMTP_PORT']} is not a port")
    if "@" not in config["SMTP_SENDER"]:
        raise ConfigError("JOINTOPS_SMTP_SENDER: e-mail needs a sender address")
    if bool(config["SMTP_USERNAME"]) != bool(config["SMTP_PASSWORD"]):
        raise ConfigError("JOINTOPS_SMTP_USERNAME and _PASSWORD: give both or neither")
    if config.get("PRODUCTION") and not config["SMTP_STARTTLS"] and host not in LOOPBACK:
        raise ConfigError(
            "JOINTOPS_SMTP_STARTTLS: production refuses to send e-mail unencrypted to "
            f"{host} (set JOINTOPS_SMTP_STARTTLS=true)"
        )


#: what a PMTiles archive (spec version 3) starts with
PMTILES_MAGIC = b"PMTiles\x03"
TILE_PLACEHOLDERS = ("{z}", "{x}", "{y}")
#: characters that would end a Content-Security-Policy source or an HTML attribute
UNSAFE_URL_CHARACTERS = frozenset(" \t\r\n;,'\"<>\\`")


def _validate_map(config: Mapping[str, Any]) -> None:
    """The basemap: an http(s) tile template of one host, or a PMTiles file; never both."""
    url = config.get("MAP_TILES_URL", "")
    pmtiles = config.get("MAP_PMTILES")
    if url and pmtiles:
        raise ConfigError(
            "JOINTOPS_MAP_TILES_URL and JOINTOPS_MAP_PMTILES: set one basemap, not both"
        )
    if len(config.get("MAP_ATTRIBUTION", "")) > 300:
        raise ConfigError("JOINTOPS_MAP_ATTRIBUTION: at most 300 characters")
    if url:
        _validate_tiles_url(url, production=bool(config.get("PRODUCTION")))
    if pmtiles:
        _validate_pmtiles(Path(pmtiles))


def _validate_tiles_url(url: str, *, production: bool) -> None:
    name = "JOINTOPS_MAP_TILES_URL"
    shape = (
        "https://host/{z}/{x}/{y}.png, or an ArcGIS MapServer's https://host/.../MapServer/tile/"
        "{z}/{y}/{x}"
    )
    if UNSAFE_URL_CHARACTERS & set(url):
        raise ConfigError(f"{name}: no spaces, quotes, commas or semicolons in {url!r}")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        raise ConfigError(f"{name}: not a URL ({exc}); expected {shape}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name}: expected {shape}, got {url!r}")
    if "{s}" in url or "{" in parts.netloc:
        raise ConfigError(f"{name}: use one host, not {{s}} subdomains ({url!r})")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(f"{name}: no user or password in the URL: every browser would see it")
    missing = [p for p in TILE_PLACEHOLDERS if p not in url]
    if missing:
        raise ConfigError(f"{name}: missing {', '.join(missing)}; expected {shape}")
    if production and parts.scheme == "http" and parts.hostname not in LOOPBACK:
        raise ConfigError(f"{name}: production pages are https, so tiles must be https:// too")


def _validate_pmtiles(path: Path) -> None:
    name = "JOINTOPS_MAP_PMTILES"
    try:
        with path.open("rb") as archive:
            magic = archive.read(len(PMTILES_MAGIC))
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read {str(path)!r} ({exc.strerror})") from exc
    if magic != PMTILES_MAGIC:
        raise ConfigError(f"{name}: {str(path)!r} is not a PMTiles (version 3) archive")


#: ``JOINTOPS_GEOCODER``: auto is demo with the demo directory, off otherwise
GEOCODERS = ("auto", "demo", "nominatim", "photon", "arcgis", "census", "off")
#: the geocoders that need ``JOINTOPS_GEOCODER_URL`` (census has a public default)
GEOCODERS_WITH_URL = ("nominatim", "photon", "arcgis")


def _validate_places(config: Mapping[str, Any]) -> None:
    """The geocoder, its address and timings, and the service area."""
    name = config["GEOCODER"]
    if name not in GEOCODERS:
        raise ConfigError(f"JOINTOPS_GEOCODER: {name!r} is not one of {', '.join(GEOCODERS)}")
    url = config["GEOCODER_URL"]
    if name in GEOCODERS_WITH_URL and not url:
        raise ConfigError(f"JOINTOPS_GEOCODER_URL: the {name} geocoder needs its address")
    host = urlsplit(url).hostname
    if url and (not url.startswith(("https://", "http://")) or not host):
        raise ConfigError(
            f"JOINTOPS_GEOCODER_URL: expected http(s)://host[:port][/path], got {url!r}"
        )
    if config.get("PRODUCTION") and url.startswith("http://") and host not in LOOPBACK:
        raise ConfigError(
            "JOINTOPS_GEOCODER_URL: production sends planned operations' addresses only over "
            "https://"
        )
    if not 0.2 <= config["GEOCODER_TIMEOUT_S"] <= 30:
        raise ConfigError("JOINTOPS_GEOCODER_TIMEOUT_S: between 0.2 and 30 seconds")
    if not 0 <= config["GEOCODER_CACHE_DAYS"] <= 365:
        raise ConfigError("JOINTOPS_GEOCODER_CACHE_DAYS: between 0 (no cache) and 365 days")
    if not 1 <= config["GEOCODE_LIMIT_PER_MINUTE"] <= 1000:
        raise ConfigError("JOINTOPS_GEOCODE_LIMIT_PER_MINUTE: between 1 and 1,000 searches")
    if not isinstance(config["SERVICE_AREA"], Area):
        raise ConfigError("JOINTOPS_SERVICE_AREA: a bounding box south,west,north,east")


def _validate_mfa(config: Mapping[str, Any]) -> None:
    """The second-factor policy, its per-agency overrides, and the WebAuthn relying party."""
    if config["MFA"] not in MFA_POLICIES:
        raise ConfigError(
            f"JOINTOPS_MFA: {config['MFA']!r} is not one of {', '.join(MFA_POLICIES)}"
        )
    agencies = config["MFA_AGENCIES"]
    if not isinstance(agencies, dict) or not all(
        isinstance(code, str) and code.strip() for code in agencies
    ):
        raise ConfigError(
            'JOINTOPS_MFA_AGENCIES: a JSON object {"<agency code>": "required|optional|off"}'
        )
    wrong = sorted(code for code, policy in agencies.items() if policy not in MFA_AGENCY_POLICIES)
    if wrong:
        raise ConfigError(
            f"JOINTOPS_MFA_AGENCIES: {', '.join(wrong)}: the policy must be one of "
            + ", ".join(MFA_AGENCY_POLICIES)
        )
    if not 1 <= config["MFA_PENDING_MINUTES"] <= 15:
        raise ConfigError("JOINTOPS_MFA_PENDING_MINUTES: between 1 and 15 minutes")
    rp_id = config["WEBAUTHN_RP_ID"]
    if rp_id and (not rp_id.replace("-", "").replace(".", "").isalnum() or rp_id[0] == "."):
        raise ConfigError(
            f"JOINTOPS_WEBAUTHN_RP_ID: a host name such as ops.example, not {rp_id!r}"
        )
    origin = config["WEBAUTHN_ORIGIN"]
    parts = urlsplit(origin)
    if origin and (
        parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query
    ):
        raise ConfigError(
            f"JOINTOPS_WEBAUTHN_ORIGIN: expected http(s)://host[:port], got {origin!r}"
        )


def _load_dotenv() -> None:
    """Read a development ``.env`` file when python-dotenv is installed."""
    try:
        from dotenv import load_dotenv
    except ImportError:  # pragma: no cover - it is a dependency
        return
    load_dotenv(override=False)
