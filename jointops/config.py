"""Configuration from ``JOINTOPS_*`` environment variables.

This is the only module that reads the environment. ``load_config`` returns the
Flask config mapping; ``create_app`` merges caller overrides on top of it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from auth.directory import GROUP_MEMBERSHIP_MODES, ROLES

PREFIX = "JOINTOPS_"
DEFAULT_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - refused in production
DEMO_DIRECTORY = "demo"


class ConfigError(RuntimeError):
    """The configuration would run the service unsafely or not at all."""


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _strict_bool(value: str) -> bool | str:
    """True or False, or the text itself for validate_config to refuse."""
    text = value.strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    return value


def _json(name: str, value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError as exc:
        raise ConfigError(f"{PREFIX}{name}: not valid JSON ({exc})") from exc


def _number(name: str, get: Callable[[str, str], str], default: str) -> float:
    value = get(name, default)
    try:
        return float(value)
    except ValueError as exc:
        raise ConfigError(f"{PREFIX}{name}: not a number ({value!r})") from exc


def _int(name: str, get: Callable[[str, str], str], default: str) -> int:
    value = get(name, default)
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{PREFIX}{name}: not a whole number ({value!r})") from exc


def _int_list(name: str, value: str) -> list[int]:
    try:
        return [int(part) for part in value.split(",") if part.strip()]
    except ValueError as exc:
        raise ConfigError(f"{PREFIX}{name}: comma-separated whole numbers ({value!r})") from exc


def load_config(
    environ: Mapping[str, str] | None = None, instance_path: str = ""
) -> dict[str, Any]:
    """Build the Flask config from ``environ`` (default: ``os.environ``)."""
    if environ is None:
        _load_dotenv()
    env = dict(os.environ if environ is None else environ)

    def get(name: str, default: str = "") -> str:
        return env.get(PREFIX + name, default)

    sqlite_file = Path(instance_path or ".") / "jointops.sqlite3"
    production = get("ENV", "development") == "production"
    return {
        "ENV_NAME": "production" if production else "development",
        "PRODUCTION": production,
        "SECRET_KEY": get("SECRET_KEY", DEFAULT_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": get("DATABASE_URL", f"sqlite:///{sqlite_file}"),
        "OFFICE_NAME": get("OFFICE_NAME", "Palm Beach Human Trafficking Task Force"),
        "TIMEZONE": get("TIMEZONE", "America/New_York"),
        "CLIENT_CODE_PATTERN": get("CLIENT_CODE_PATTERN", r"^[A-Z]{2,6}-[0-9]{3,8}$"),
        "REPEAT_INTERVIEW_DAYS": int(get("REPEAT_INTERVIEW_DAYS", "7")),
        # event deconfliction: windows widened by this much on each side (radii: jointops.catalog)
        "DECONFLICT_BUFFER_MINUTES": int(get("DECONFLICT_BUFFER_MINUTES", "60")),
        # iCal feeds (see jointops/feeds.py)
        # how many reverse proxies in front set X-Forwarded-For/-Proto/-Host (0: none trusted)
        "PROXY_HOPS": int(get("PROXY_HOPS", "0")),
        "BASE_URL": get("BASE_URL", "http://127.0.0.1:8000").strip().rstrip("/"),
        "FEED_REFRESH_MINUTES": int(get("FEED_REFRESH_MINUTES", "15")),
        "FEED_CANCELLED_DAYS": int(get("FEED_CANCELLED_DAYS", "30")),
        "FEED_PAST_DAYS": int(get("FEED_PAST_DAYS", "30")),
        "FEED_FUTURE_DAYS": int(get("FEED_FUTURE_DAYS", "365")),
        "FEED_RATE_PER_MINUTE": int(get("FEED_RATE_PER_MINUTE", "30")),
        # jobs and notifications (see jointops/jobs/ and jointops/notify.py); *_EVERY_MINUTES
        # is how often a job runs (the scheduler reads them through the job registry)
        "ESCALATION_EVERY_MINUTES": _int("ESCALATION_EVERY_MINUTES", get, "5"),
        "ESCALATE_AFTER_MINUTES": _int("ESCALATE_AFTER_MINUTES", get, "15"),
        "ESCALATE_BEFORE_START_HOURS": _int("ESCALATE_BEFORE_START_HOURS", get, "12"),
        "ESCALATION_REPEAT_MINUTES": _int("ESCALATION_REPEAT_MINUTES", get, "60"),
        "REMINDER_EVERY_MINUTES": _int("REMINDER_EVERY_MINUTES", get, "5"),
        "REMINDER_OFFSETS_MINUTES": _int_list(
            "REMINDER_OFFSETS_MINUTES", get("REMINDER_OFFSETS_MINUTES", "1440,60")
        ),
        "DIRECTORY_SYNC_EVERY_MINUTES": _int("DIRECTORY_SYNC_EVERY_MINUTES", get, "15"),
        "AUDIT_RETENTION_DAYS": _int("AUDIT_RETENTION_DAYS", get, "365"),
        "EXPIRY_WARNING_DAYS": _int("EXPIRY_WARNING_DAYS", get, "30"),
        "MAIL_EVERY_MINUTES": _int("MAIL_EVERY_MINUTES", get, "1"),
        "SMTP_HOST": get("SMTP_HOST").strip(),
        "SMTP_PORT": _int("SMTP_PORT", get, "587"),
        "SMTP_STARTTLS": _strict_bool(get("SMTP_STARTTLS", "true")),
        "SMTP_USERNAME": get("SMTP_USERNAME") or None,
        "SMTP_PASSWORD": get("SMTP_PASSWORD") or None,
        "SMTP_SENDER": get("SMTP_SENDER").strip(),
        "SMTP_TIMEOUT": float(get("SMTP_TIMEOUT", "10")),
        "MAIL_MAX_ATTEMPTS": _int("MAIL_MAX_ATTEMPTS", get, "8"),
        "MAIL_RETRY_SECONDS": _int("MAIL_RETRY_SECONDS", get, "60"),
        "EMAIL_POLICY": _json("EMAIL_POLICY", get("EMAIL_POLICY", "{}")),
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": 0,
        # The cookie's signature outlives no session; idle and absolute limits are server-side.
        "PERMANENT_SESSION_LIFETIME": int(get("SESSION_MAX_HOURS", "12")) * 3600,
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_IDLE_MINUTES": int(get("SESSION_IDLE_MINUTES", "30")),
        "SESSION_MAX_HOURS": int(get("SESSION_MAX_HOURS", "12")),
        "SESSIONS_PER_USER": int(get("SESSIONS_PER_USER", "1")),
        "LOCKOUT_FAILURES": int(get("LOCKOUT_FAILURES", "5")),
        "LOCKOUT_MINUTES": int(get("LOCKOUT_MINUTES", "10")),
        "LDAP_URL": get("LDAP_URL", DEMO_DIRECTORY),
        "LDAP_ALLOW_PLAIN": _bool(get("LDAP_ALLOW_PLAIN", "false")),
        "LDAP_BIND_USER_DN": get("LDAP_BIND_USER_DN") or None,
        "LDAP_BIND_USER_PASSWORD": get("LDAP_BIND_USER_PASSWORD") or None,
        "LDAP_USER_BASE_DN": get("LDAP_USER_BASE_DN"),
        "LDAP_USER_LOGIN_ATTR": get("LDAP_USER_LOGIN_ATTR", "uid"),
        "LDAP_USER_OBJECT_FILTER": get("LDAP_USER_OBJECT_FILTER", "(objectClass=inetOrgPerson)"),
        "LDAP_GROUP_BASE_DN": get("LDAP_GROUP_BASE_DN"),
        "LDAP_GROUP_OBJECT_FILTER": get("LDAP_GROUP_OBJECT_FILTER", "(objectClass=groupOfNames)"),
        "LDAP_GROUP_MEMBERS_ATTR": get("LDAP_GROUP_MEMBERS_ATTR", "member"),
        "LDAP_GROUP_MEMBERSHIP": get("LDAP_GROUP_MEMBERSHIP", "search").strip(),
        "LDAP_MEMBER_OF_ATTR": get("LDAP_MEMBER_OF_ATTR", "memberOf").strip(),
        "LDAP_NESTED_GROUPS": _strict_bool(get("LDAP_NESTED_GROUPS", "false")),
        "LDAP_ROLES_MAPPING": _json("LDAP_ROLES_MAPPING", get("LDAP_ROLES_MAPPING", "{}")),
        "LDAP_AGENCY_ATTR": get("LDAP_AGENCY_ATTR", "departmentNumber"),
        "LDAP_AGENCY_BASE_DN": get("LDAP_AGENCY_BASE_DN"),
        "LDAP_START_TLS": _bool(get("LDAP_START_TLS", "false")),
        "LDAP_CA_FILE": get("LDAP_CA_FILE") or None,
        "LDAP_TIMEOUT": float(get("LDAP_TIMEOUT", "5")),
        # background jobs (see jointops/scheduler.py): who competes for the lease, and timings
        "SCHEDULER": get("SCHEDULER", "auto").strip().lower(),
        "SCHEDULER_LEASE_SECONDS": _number("SCHEDULER_LEASE_SECONDS", get, "30"),
        "SCHEDULER_MISFIRE_GRACE_SECONDS": _number("SCHEDULER_MISFIRE_GRACE_SECONDS", get, "300"),
        # test-only: adds a 1-second "heartbeat" job that records its runs and does nothing else
        "SCHEDULER_TEST_JOB": _bool(get("SCHEDULER_TEST_JOB", "false")),
    }


def validate_config(config: Mapping[str, Any]) -> None:
    """Refuse settings that are unsafe in production or simply wrong."""
    try:
        ZoneInfo(config["TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"JOINTOPS_TIMEZONE: unknown time zone {config['TIMEZONE']!r}") from exc
    if config["LOCKOUT_MINUTES"] < 10 or not 1 <= config["LOCKOUT_FAILURES"] <= 5:
        raise ConfigError("JOINTOPS_LOCKOUT_*: lock after at most 5 failures for at least 10 min")
    if not 0 < config["SESSION_IDLE_MINUTES"] <= 30 or not 0 < config["SESSION_MAX_HOURS"] <= 12:
        raise ConfigError("JOINTOPS_SESSION_*: at most 30 minutes idle and 12 hours in all")
    if not 0 <= config["DECONFLICT_BUFFER_MINUTES"] <= 24 * 60:
        raise ConfigError("JOINTOPS_DECONFLICT_BUFFER_MINUTES: between 0 and 1440 minutes")
    _validate_ldap_groups(config)
    _validate_feeds(config)
    _validate_scheduler(config)
    _validate_jobs(config)
    _validate_mail(config)
    if not config.get("PRODUCTION"):
        return
    if config["SECRET_KEY"] in ("", DEFAULT_SECRET_KEY) or len(config["SECRET_KEY"]) < 32:
        raise ConfigError("JOINTOPS_SECRET_KEY: production needs a random key of 32+ characters")
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


LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def _validate_feeds(config: Mapping[str, Any]) -> None:
    """The feeds' window, refresh and rate limit, and the address that feed URLs start with."""
    base = config["BASE_URL"]
    host = urlsplit(base).hostname
    if not base.startswith(("https://", "http://")) or not host or "?" in base or "#" in base:
        raise ConfigError(f"JOINTOPS_BASE_URL: expected http(s)://host[:port][/path], got {base!r}")
    for name in ("FEED_REFRESH_MINUTES", "FEED_FUTURE_DAYS", "FEED_RATE_PER_MINUTE"):
        if config[name] < 1:
            raise ConfigError(f"JOINTOPS_{name}: must be at least 1")
    for name in ("FEED_CANCELLED_DAYS", "FEED_PAST_DAYS"):
        if config[name] < 0:
            raise ConfigError(f"JOINTOPS_{name}: must not be negative")
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


#: notification categories a user may also get by e-mail (labels: jointops.notify)
EMAIL_CATEGORIES = ("alert", "escalation", "reminder", "retention")


def _validate_jobs(config: Mapping[str, Any]) -> None:
    """Job intervals, escalation timings, reminder offsets and retention periods."""
    for name in (
        "ESCALATION_EVERY_MINUTES",
        "REMINDER_EVERY_MINUTES",
        "DIRECTORY_SYNC_EVERY_MINUTES",
        "MAIL_EVERY_MINUTES",
        "ESCALATION_REPEAT_MINUTES",
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


def _load_dotenv() -> None:
    """Read a development ``.env`` file when python-dotenv is installed."""
    try:
        from dotenv import load_dotenv
    except ImportError:  # pragma: no cover - it is a dependency
        return
    load_dotenv(override=False)
