"""The review list is paged in the database: each page holds exactly the alerts the policy
shows its viewer, in the order the page promises, and costs the same queries at any size.

The alerts are written straight to the database (the deconfliction that raises them is
tested elsewhere): operations, interviews and appointments of every agency, normal,
restricted and covert, with leads, participants of other agencies and none, targets,
purged items, every status and strength, ties in every sort key. The expected answer for a
viewer is ``auth.policy`` asked of every alert, one by one (``view_alert``).
"""

from __future__ import annotations

import difflib
import itertools
import random
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event as sa_event
from sqlalchemy import select

from jointops.alerts import listing
from jointops.alerts.items import load_items
from jointops.alerts.listing import AlertFilters, list_alerts
from jointops.alerts.pointer import AlertView, view_alert
from jointops.catalog import STRENGTH_RANK
from jointops.extensions import db
from jointops.models import (
    Agency,
    Alert,
    AlertStatus,
    Case,
    Event,
    EventKind,
    Participant,
    Sensitivity,
    Target,
    User,
    utcnow,
)

Login = Callable[[str], FlaskClient]
SUBTYPE = {
    "operation": "search_warrant",
    "interview": "witness_interview",
    "appointment": "medical",
}
STRENGTHS = tuple(STRENGTH_RANK)
SORT_KEYS: dict[str, Callable[[AlertView], Any]] = {
    "urgency": lambda v: (v.urgency, v.alert.id),
    "waiting": lambda v: (v.alert.raised_at, v.alert.id),
    "strength": lambda v: (STRENGTH_RANK[v.alert.strength], -v.alert.score, v.alert.id),
}


def users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.id)))


def make_events(rng: random.Random, count: int) -> list[Event]:
    """Events of every agency, kind and sensitivity; some led by one of the agency, some with a
    participant of another agency, some with neither."""
    people = users()
    agencies = list(db.session.scalars(select(Agency).order_by(Agency.id)))
    start = utcnow().replace(microsecond=0) + timedelta(days=90)
    made = []
    for n in range(count):
        agency = agencies[n % len(agencies)]
        kind = list(EventKind)[n % 3]
        staff = [u for u in people if u.agency_id == agency.id]
        lead = rng.choice(staff) if staff and n % 4 else None
        begins = start + timedelta(hours=rng.randrange(0, 400))
        event = Event(
            kind=kind.value,
            subtype=SUBTYPE[kind.value],
            title=f"Paging test {kind.value} {n}",
            owner_agency_id=agency.id,
            lead_id=lead.id if lead else None,
            created_by_id=(lead or rng.choice(people)).id,
            starts_at=begins,
            ends_at=begins + timedelta(hours=2),
            status=rng.choice(("planned", "confirmed", "cancelled")),
            sensitivity=list(Sensitivity)[(n // 3) % 3].value,
        )
        db.session.add(event)
        db.session.flush()
        taking_part = {lead.id: "lead"} if lead else {}
        if n % 5 == 0:
            taking_part.setdefault(rng.choice(people).id, "investigator")
        for user_id, part in taking_part.items():
            db.session.add(Participant(event_id=event.id, user_id=user_id, part=part))
        made.append(event)
    # led by one who sees it only as its lead (a prosecutor, a covert operation), who is not
    # among its participants (as in rows older than that rule)
    prosecutor = next(u for u in people if u.username == "prosecutor.sao15")
    covert = Event(
        kind="operation",
        subtype=SUBTYPE["operation"],
        title="Paging test covert operation",
        owner_agency_id=prosecutor.agency_id,
        lead_id=prosecutor.id,
        created_by_id=prosecutor.id,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        status="planned",
        sensitivity="covert",
    )
    db.session.add(covert)
    made.append(covert)
    db.session.commit()
    return made


def make_alerts(
    rng: random.Random, count: int, events: list[Event], used: set[tuple[Any, ...]]
) -> None:
    """``count`` alerts between these events or the demo's targets, a few with a purged side;
    sort keys repeat so that only the id breaks some ties."""
    targets = list(db.session.scalars(select(Target).order_by(Target.id)))
    now = utcnow().replace(microsecond=0)
    starts = [None, *(now + timedelta(days=d) for d in (3, 3, 10, 40))]
    used |= {
        tuple(r) for r in db.session.execute(select(Alert.kind, Alert.item_a_id, Alert.item_b_id))
    }
    # (kind, item a's id, its agency's, item b's id, its agency's)
    parties: dict[str, list[tuple[int, int]]] = {
        "target": [(t.id, t.agency_id) for t in targets],
        "event": [(e.id, e.owner_agency_id) for e in events],
    }
    pairs = [
        (kind, a, b)
        for kind, pool in parties.items()
        for a, b in itertools.combinations(sorted(pool), 2)
        if (kind, a[0], b[0]) not in used
    ]
    rng.shuffle(pairs)
    assert len(pairs) >= count
    for kind, (a, agency_a), (b, agency_b) in pairs[:count]:
        used.add((kind, a, b))
        a_id: int | None = None if rng.random() < 0.08 else a  # purged: retention rule
        status = rng.choice(list(AlertStatus)).value
        db.session.add(
            Alert(
                kind=kind,
                score=rng.choice((0.5, 0.75, 1.0)),
                strength=rng.choice(STRENGTHS),
                explanation="Test match.",
                reasons=[],
                status=status,
                item_a_type=kind,
                item_a_id=a_id,
                item_b_type=kind,
                item_b_id=b,
                agency_a_id=agency_a,
                agency_b_id=agency_b,
                acked_a_at=now if status != "open" else None,
                acked_a_by_id=rng.choice(users()).id if status != "open" else None,
                starts_at=rng.choice(starts) if kind == "event" else None,
                raised_at=now - timedelta(hours=rng.choice((1, 1, 5, 30))),
            )
        )
    db.session.commit()


@pytest.fixture
def many_alerts(app: Flask) -> int:
    rng = random.Random(20)
    events = make_events(rng, 36)
    make_alerts(rng, 160, events, set())
    return 160


def policy_views(user: User) -> list[AlertView]:
    """What the policy shows ``user``: every stored alert asked of it, one by one."""
    db.session.expire_all()
    rows = list(db.session.scalars(select(Alert)))
    items = load_items(rows)
    return [v for a in rows if (v := view_alert(a, user, items)) is not None]


def only(views: list[AlertView], statuses: set[str], **filters: Any) -> list[AlertView]:
    return [
        v
        for v in views
        if v.alert.status in statuses and all(getattr(v.alert, k) == x for k, x in filters.items())
    ]


def every_page(user: User, filters: AlertFilters) -> tuple[list[int], listing.AlertList]:
    """The ids on every page in turn; every page but the last one full."""
    first = list_alerts(user, filters)
    ids: list[int] = []
    for number in range(1, first.pages + 1):
        found = list_alerts(user, AlertFilters(**(vars(filters) | {"page": number})))
        assert (found.total, found.pages, found.page) == (first.total, first.pages, number)
        assert len(found.views) == (
            listing.PER_PAGE if number < found.pages else found.total - len(ids)
        )
        ids += [v.alert.id for v in found.views]
    return ids, first


ALL = {s.value for s in AlertStatus}


def test_every_viewer_pages_through_exactly_the_alerts_the_policy_shows_them(
    app: Flask, many_alerts: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listing, "PER_PAGE", 7)
    hidden = 0
    stored = len(db.session.scalars(select(Alert.id)).all())
    for user in users():
        visible = policy_views(user)
        for sort, key in SORT_KEYS.items():
            want = sorted(visible, key=key)
            ids, first = every_page(user, AlertFilters(status="all", sort=sort))
            assert ids == [v.alert.id for v in want], (user.username, sort)
            assert first.total == len(want) and first.pages == max(1, -(-len(want) // 7))
            assert first.counts == {s: sum(v.alert.status == s for v in want) for s in ALL}
        active = sorted(only(visible, {"open", "acknowledged"}), key=SORT_KEYS["urgency"])
        assert every_page(user, AlertFilters())[0] == [v.alert.id for v in active], user.username
        targets = sorted(only(visible, {"resolved"}, kind="target"), key=SORT_KEYS["strength"])
        ids, _ = every_page(user, AlertFilters(status="resolved", kind="target", sort="strength"))
        assert ids == [v.alert.id for v in targets], user.username
        hidden += stored - len(visible)
    # the data is such that need-to-know hides alerts from most viewers
    assert hidden > many_alerts


def test_a_page_through_the_api_is_the_page_of_the_service(
    app: Flask, many_alerts: int, login: Login, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listing, "PER_PAGE", 9)
    for username in ("advocate.vs", "investigator.fbi", "supervisor.sao15", "supervisor.pbso"):
        user = db.session.scalar(select(User).where(User.username == username))
        assert user is not None
        client = login(username)
        want = [v.alert.id for v in sorted(policy_views(user), key=SORT_KEYS["waiting"])]
        got: list[int] = []
        first = client.get("/api/alerts?status=all&sort=waiting").get_json()
        for number in range(1, first["pages"] + 1):
            page = client.get(f"/api/alerts?status=all&sort=waiting&page={number}").get_json()
            assert page["total"] == len(want) and len(page["alerts"]) <= 9
            got += [a["id"] for a in page["alerts"]]
        assert got == want, username


@contextmanager
def counting_queries() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    sa_event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", count)


def by_name(username: str) -> User:
    found = db.session.scalar(select(User).where(User.username == username))
    assert found is not None, username
    return found


def make_blocks(count: int) -> None:
    """``count`` blocks of five alerts between PBSO and FBI, alike in everything a page loads:
    operations led and unled, a covert one, an interview, targets, purged sides, acknowledged,
    resolved and closed ones (so that a page of many blocks loads what a page of two does)."""
    pbso, fbi = by_name("investigator.pbso"), by_name("investigator.fbi")
    chen, sup = by_name("agent.chen.fbi"), by_name("supervisor.pbso")
    assert pbso.agency_id is not None and fbi.agency_id is not None
    cases = {
        agency_id: db.session.scalar(select(Case.id).where(Case.agency_id == agency_id))
        for agency_id in (pbso.agency_id, fbi.agency_id)
    }
    now = utcnow().replace(microsecond=0)
    begins = now + timedelta(days=60)

    def event(lead: User | None, by: User, kind: str = "operation", covert: bool = False) -> int:
        assert by.agency_id is not None
        made = Event(
            kind=kind,
            subtype=SUBTYPE[kind],
            title=f"Block {kind}",
            owner_agency_id=by.agency_id,
            lead_id=lead.id if lead else None,
            created_by_id=by.id,
            starts_at=begins,
            ends_at=begins + timedelta(hours=1),
            status="planned",
            sensitivity="covert" if covert else "normal",
        )
        db.session.add(made)
        db.session.flush()
        if lead is not None:
            db.session.add(Participant(event_id=made.id, user_id=lead.id, part="lead"))
        return made.id

    def target(by: User) -> int:
        assert by.agency_id is not None
        made = Target(
            agency_id=by.agency_id,
            case_id=cases[by.agency_id],
            ref=f"BLOCK-{uuid.uuid4().hex[:12]}",
            submitter_id=by.id,
            justification="Paging test.",
            validated_at=now,
            expires_at=now + timedelta(days=365),
        )
        db.session.add(made)
        db.session.flush()
        return made.id

    def alert(kind: str, a: int | None, b: int, status: str, acked: User | None = None) -> None:
        db.session.add(
            Alert(
                kind=kind,
                score=1.0,
                strength="exact",
                explanation="Test match.",
                reasons=[],
                status=status,
                item_a_type=kind,
                item_a_id=a,
                item_b_type=kind,
                item_b_id=b,
                agency_a_id=pbso.agency_id,
                agency_b_id=fbi.agency_id,
                acked_a_at=now if acked else None,
                acked_a_by_id=acked.id if acked else None,
                starts_at=begins if kind == "event" else None,
                raised_at=now,
            )
        )

    for _ in range(count):
        alert("event", event(pbso, pbso), event(fbi, fbi), "open")
        alert(
            "event",
            event(None, sup, "interview"),
            event(chen, fbi, covert=True),
            "acknowledged",
            pbso,
        )
        alert("event", None, event(fbi, fbi), "resolved", sup)
        alert("target", target(pbso), target(fbi), "open")
        alert("target", None, target(fbi), "closed")
    db.session.commit()


@pytest.mark.parametrize(
    "username", ["deconfliction_officer.pbso", "supervisor.pbso", "investigator.fbi"]
)
def test_the_list_page_costs_the_same_queries_with_ten_or_two_hundred_alerts(
    app: Flask, login: Login, username: str
) -> None:
    client = login(username)
    make_blocks(2)
    client.get("/alerts?status=all")  # a first request warms what every request shares
    with counting_queries() as few:
        small = client.get("/alerts?status=all&sort=waiting")
    make_blocks(40)
    with counting_queries() as many:
        large = client.get("/alerts?status=all&sort=waiting")
    assert small.status_code == large.status_code == 200
    rows = [r.get_data(as_text=True).count('class="alert-row') for r in (small, large)]
    assert rows[1] >= 3 * rows[0] > 0, rows
    assert len(many) == len(few), "\n".join(
        difflib.unified_diff([q[:120] for q in few], [q[:120] for q in many], lineterm="")
    )
