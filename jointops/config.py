"""Configuration from ``JOINTOPS_*`` environment variables.

This is the only module that reads the environment. ``load_config`` returns the
Flask config mapping; ``create_app`` merges caller overrides on top of it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
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
        "BASE_URL": get("BASE_URL", "http://127.0.0.1:8000").strip().rstrip("/"),
        "FEED_REFRESH_MINUTES": int(get("FEED_REFRESH_MINUTES", "15")),
        "FEED_CANCELLED_DAYS": int(get("FEED_CANCELLED_DAYS", "30")),
        "FEED_PAST_DAYS": int(get("FEED_PAST_DAYS", "30")),
        "FEED_FUTURE_DAYS": int(get("FEED_FUTURE_DAYS", "365")),
        "FEED_RATE_PER_MINUTE": int(get("FEED_RATE_PER_MINUTE", "30")),
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


def _load_dotenv() -> None:
    """Read a development ``.env`` file when python-dotenv is installed."""
    try:
        from dotenv import load_dotenv
    except ImportError:  # pragma: no cover - it is a dependency
        return
    load_dotenv(override=False)
