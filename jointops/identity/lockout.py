"""Account lockout and the per-address throttle: failed sign-ins counted in the database.

Each counter is a ``LoginThrottle`` row, keyed by what it counts:

* ``name:`` the login name as typed, NFKC-casefolded with its blanks collapsed, whether or not
  it exists, so that the lock itself reveals nothing and an unknown name's spellings count
  together;
* ``dn:`` the directory account that the name resolved to (its DN, casefolded). OpenLDAP
  matches login names after its own normalisation, so spellings that differ here can open one
  account; its lock holds whatever the spelling;
* ``addr:`` the client's address (``request.remote_addr``, as ProxyFix gives it behind a
  proxy): ``LOGIN_ADDRESS_FAILURES`` failures, each within ``LOGIN_ADDRESS_MINUTES`` of the
  one before, block the address for ``LOGIN_ADDRESS_MINUTES``.

An attempt is counted as a failure *before* the directory sees it (``begin``, then
``account`` once the name has resolved), in a transaction that locks the rows (``SELECT ...
FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite); the attempt that reaches the limit
sets the lock. So parallel attempts cannot slip past the count: at most ``LOCKOUT_FAILURES``
of them reach the directory. An attempt that did not fail (the password was right, or the
directory was down or hung) is taken back (``take_back``), exactly, in whatever order parallel
attempts end: a counter keeps its failures while locked, and the lock holds only while they
reach the limit, so attempts that were merely waiting on a hung directory leave nothing behind.
A lock that has run out starts the count again; a completed sign-in clears the account's
counters (``clear``).
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from jointops.extensions import db
from jointops.models import LoginThrottle, User, utcnow
from jointops.transactions import unit_of_work

KEY_MAX = 128  # LoginThrottle.username
_CREATE_TRIES = 3
NAME, ACCOUNT, ADDRESS = "name:", "dn:", "addr:"


class Locked(Exception):
    """The name, the account or the address is locked until ``until``; nothing was counted."""

    def __init__(self, until: datetime, *, address: bool) -> None:
        super().__init__(f"locked until {until.isoformat()}")
        self.until, self.address = until, address


@dataclass
class Attempt:
    """The counters one sign-in attempt was counted on."""

    counted: set[str] = field(default_factory=set)


def folded(text: str) -> str:
    """``text`` NFKC-casefolded, blanks collapsed: one spelling for what a directory equates."""
    once = unicodedata.normalize("NFKC", text)
    return " ".join(unicodedata.normalize("NFKC", once.casefold()).split())


def _fit(prefix: str, value: str) -> str:
    """A counter's key; a long value, or one that a database cannot store (NUL, a lone
    surrogate), is kept as its SHA-256."""
    key = prefix + value
    if len(key) <= KEY_MAX and key.isprintable():
        return key
    return prefix + "#" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def key(username: str) -> str:
    """The counter of a login name as typed."""
    return _fit(NAME, folded(username))


def account_key(dn: str) -> str:
    """The counter of a directory account."""
    return _fit(ACCOUNT, folded(dn))


def address_key(address: str) -> str:
    return _fit(ADDRESS, address)


@dataclass(frozen=True)
class _Limit:
    failures: int
    lock: timedelta
    #: failures further apart than this start the count again (None: only a success does)
    forget: timedelta | None


def _limit(counter: str) -> _Limit:
    config = current_app.config
    if counter.startswith(ADDRESS):
        window = timedelta(minutes=config["LOGIN_ADDRESS_MINUTES"])
        return _Limit(config["LOGIN_ADDRESS_FAILURES"], window, window)
    return _Limit(config["LOCKOUT_FAILURES"], timedelta(minutes=config["LOCKOUT_MINUTES"]), None)


def _rows(keys: Iterable[str], *, create: bool = True) -> dict[str, LoginThrottle]:
    """The counters of ``keys``, locked for this transaction, in key order; with ``create``,
    those that are new are created.

    On PostgreSQL a completed sign-in may delete a counter (``clear``) between the insert,
    which found it, and the locking read, which no longer does: the insert is then repeated.
    """
    keys = sorted(set(keys))
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows: dict[str, LoginThrottle] = {}
    for _ in range(_CREATE_TRIES if create else 1):
        if create:
            db.session.execute(
                insert(LoginThrottle)
                .values([{"username": k, "failures": 0} for k in keys])
                .on_conflict_do_nothing(index_elements=["username"])
            )
        found = db.session.scalars(
            select(LoginThrottle)
            .where(LoginThrottle.username.in_(keys))
            .order_by(LoginThrottle.username)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        rows = {row.username: row for row in found}
        if len(rows) == len(keys):
            break
    return rows


def _count(keys: list[str], *, refuse_locked: bool) -> dict[str, bool]:
    """Count a failure on each counter, in the caller's transaction; which ones it locked.

    With ``refuse_locked``, a counter locked already raises ``Locked`` before anything counts.
    """
    now = utcnow()
    rows = _rows(keys)
    if refuse_locked:
        held = [r for r in rows.values() if r.locked_until is not None and r.locked_until > now]
        if held:
            latest = max(held, key=lambda r: r.locked_until or now)
            raise Locked(latest.locked_until or now, address=latest.username.startswith(ADDRESS))
    locked = {}
    for counter, row in rows.items():
        limit = _limit(counter)
        last = row.last_failure_at
        ran_out = row.locked_until is not None and row.locked_until <= now
        forgotten = limit.forget is not None and last is not None and now - last > limit.forget
        if ran_out or forgotten:
            row.locked_until, row.failures = None, 0
        row.failures += 1
        row.last_failure_at = now
        locked[counter] = row.failures >= limit.failures
        if locked[counter]:
            row.locked_until = max(row.locked_until or now, now + limit.lock)
    return locked


def begin(username: str, address: str | None) -> Attempt:
    """Count an attempt on the typed name (and the address) before the directory is asked.

    Raises ``Locked`` when either is locked; then nothing is counted.
    """
    keys = [key(username)]
    if address and current_app.config["LOGIN_ADDRESS_FAILURES"]:
        keys.append(address_key(address))
    with unit_of_work():
        return Attempt(set(_count(keys, refuse_locked=True)))


def account(attempt: Attempt, dn: str) -> None:
    """Count the attempt on the account ``dn`` too, before its password is tried.

    Raises ``Locked`` when the account is locked, whichever spelling led to it.
    """
    with unit_of_work():
        attempt.counted |= set(_count([account_key(dn)], refuse_locked=True))


def take_back(attempt: Attempt) -> None:
    """The attempt did not fail (right password, or no answer): uncount it everywhere, and
    lift a lock that no longer has its failures."""
    if not attempt.counted:
        return
    with unit_of_work():
        # a counter that a completed sign-in cleared meanwhile has nothing left to take back
        for counter, row in _rows(attempt.counted, create=False).items():
            row.failures = max(0, row.failures - 1)
            if row.locked_until is not None and row.failures < _limit(counter).failures:
                row.locked_until = None


def _account_keys(username: str) -> list[str]:
    """The counters of a name: as typed, and the account of the mirror's user of that name."""
    keys = [key(username)]
    dn = db.session.scalar(select(User.dn).where(User.username == username.strip()))
    if dn:
        keys.append(account_key(dn))
    return keys


def locked_until(username: str) -> datetime | None:
    """Until when the name or its account is locked, or None."""
    now = utcnow()
    until = db.session.scalars(
        select(LoginThrottle.locked_until).where(
            LoginThrottle.username.in_(_account_keys(username)),
            LoginThrottle.locked_until > now,
        )
    ).all()
    return max((u for u in until if u is not None), default=None)


def count_attempt(username: str) -> bool:
    """Count an attempt at a second factor on the name and its account *before* it is checked,
    in the caller's unit of work; True when this attempt reaches the limit.

    The counters stay locked until that unit of work ends, so parallel attempts take turns and
    at most ``LOCKOUT_FAILURES`` of them are checked. Raises ``Locked`` when the name or the
    account is locked already (then nothing is counted). A completed sign-in clears the count.
    """
    return any(_count(_account_keys(username), refuse_locked=True).values())


def clear(username: str, dn: str | None = None) -> None:
    """Forget the failures of the name and of its account (``dn``, or the mirror's user of
    that name): a completed sign-in, or an administrator's unlock."""
    keys = _account_keys(username) + ([account_key(dn)] if dn else [])
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.username.in_(keys)))


def locks_of(users: Iterable[User]) -> dict[int, datetime | None]:
    """Until when each user's name or account is locked (None: not locked), by user id."""
    now = utcnow()
    held = {
        row.username: row.locked_until
        for row in db.session.scalars(select(LoginThrottle).where(LoginThrottle.locked_until > now))
    }
    locks: dict[int, datetime | None] = {}
    for user in users:
        found = [held[k] for k in (key(user.username), account_key(user.dn)) if k in held]
        locks[user.id] = max((u for u in found if u is not None), default=None)
    return locks
