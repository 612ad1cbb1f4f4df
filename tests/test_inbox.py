"""The inbox: one line per alert with its latest state, in order of urgency, read and unread,
paged in SQL; the badge counts lines; advocates are told nothing of deconfliction."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select

from jointops.extensions import db
from jointops.jobs.tasks.escalation import escalate
from jointops.models import Agency, Alert, Notification, OutboxEmail, User, utcnow
from jointops.notifications import inbox
from jointops.notifications.service import notify, notify_security
from tests.alert_helpers import (
    LAT_300M,
    alerts_between,
    far_day,
    local,
    notifications,
    operation,
    save_operation,
    text,
    user,
)
from tests.test_calendar_queries import counted_queries

Login = Callable[[str], FlaskClient]

LINE = re.compile(r'<li class="(unread|read)" id="line-(alert|note)-(\d+)">(.*?)</li>', re.S)
BADGE = re.compile(r'id="inbox-count">(\d+)<')


def lines(page: str) -> list[tuple[str, str, int, str]]:
    """(read state, kind, id, text) of each line of an inbox page, in the page's order."""
    return [(state, kind, int(i), body) for state, kind, i, body in LINE.findall(page)]


def badge(client: FlaskClient) -> int:
    found = BADGE.search(client.get("/settings/notifications").get_data(as_text=True))
    return int(found[1]) if found else 0


def emptied(username: str) -> User:
    """The demo user with an empty inbox."""
    found = user(username)
    db.session.execute(delete(Notification).where(Notification.user_id == found.id))
    db.session.commit()
    return found


def pair(login: Login, *, advocate: str | None = None) -> tuple[int, int, dict[str, str]]:
    """PBSO's warrant and FBI's meet 300 m apart in overlapping windows; the PBSO form back."""
    day = far_day(3)
    pbso_form = operation(day, title="PBSO warrant", location_address="11 Oleander Ln")
    if advocate:
        pbso_form["advocates"] = [str(user(advocate).id)]
    pbso = save_operation(login("investigator.pbso"), pbso_form)
    fbi_form = operation(
        day,
        title="FBI meet",
        subtype="undercover_meet",
        location_address="22 Hibiscus Rd",
        starts_at=local(day, "10:00"),
        ends_at=local(day, "12:00"),
        latitude=f"{26.6 + LAT_300M:.4f}",
    )
    fbi = save_operation(login("investigator.fbi"), fbi_form)
    return pbso, fbi, fbi_form


def test_an_alerts_life_is_one_line_with_its_latest_state(app: Flask, login: Login) -> None:
    emptied("investigator.pbso")
    pbso_id, fbi_id, _ = pair(login)
    [alert] = alerts_between("event", pbso_id, fbi_id)
    pbso = login("investigator.pbso")
    assert login("investigator.fbi").post(f"/alerts/{alert.id}/acknowledge").status_code == 302
    assert pbso.post(f"/alerts/{alert.id}/acknowledge").status_code == 302
    resolved = login("supervisor.fbi").post(
        f"/alerts/{alert.id}/resolve", data={"outcome": "proceed", "note": "Called PBSO."}
    )
    assert resolved.status_code == 302
    told = notifications(alert.id, "investigator.pbso")
    assert len(told) == 3  # raised, acknowledged by FBI, resolved

    page = text(pbso.get("/inbox"))
    [line] = lines(page)
    state, kind, line_id, body = line
    assert (state, kind, line_id) == ("unread", "alert", alert.id)
    assert "resolved: Proceed" in body and "Resolved" in body and "3 notices" in body
    assert "please acknowledge" not in body, "the earlier states are not lines of their own"
    assert "1 unread · 1 in all" in page and "Order: Open alerts first" in page
    assert badge(pbso) == 1

    # read when every notification of it is read; a new one makes it unread again
    assert pbso.post("/inbox/read", data={"line": f"alert:{alert.id}"}).status_code == 302
    assert lines(text(pbso.get("/inbox")))[0][0] == "read" and badge(pbso) == 0
    again = f"Alert #{alert.id} · matches again"
    notify(user("investigator.pbso"), "alert", again, f"/alerts/{alert.id}", alert_id=alert.id)
    notify(user("investigator.pbso"), "reminder", "Your warrant starts soon.", f"/events/{pbso_id}")
    db.session.commit()
    found = {(k, i): (s, b) for s, k, i, b in lines(text(pbso.get("/inbox")))}
    assert len(found) == 2 and found[("alert", alert.id)][0] == "unread"
    assert (
        "matches again" in found[("alert", alert.id)][1]
        and "4 notices" in found[("alert", alert.id)][1]
    )
    assert badge(pbso) == 2


def _alert(agencies: list[Agency], n: int, status: str, starts_in: timedelta | None) -> Alert:
    now = utcnow()
    alert = Alert(
        kind="event" if starts_in is not None else "target",
        score=0.9,
        strength="exact",
        explanation="test",
        reasons=[],
        status=status,
        item_a_type="event",
        item_a_id=900_000 + 2 * n,
        item_b_type="event",
        item_b_id=900_001 + 2 * n,
        agency_a_id=agencies[0].id,
        agency_b_id=agencies[1].id,
        starts_at=now + starts_in if starts_in is not None else None,
        raised_at=now - timedelta(days=n),
        updated_at=now,
        resolved_at=now if status == "resolved" else None,
    )
    db.session.add(alert)
    db.session.flush()
    return alert


def test_lines_come_in_order_of_urgency_and_the_badge_is_one_query(app: Flask) -> None:
    officer = emptied("deconfliction_officer.pbso")
    agencies = list(db.session.scalars(select(Agency).order_by(Agency.id).limit(2)))
    resolved = _alert(agencies, 1, "resolved", timedelta(days=1))
    later = _alert(agencies, 2, "open", timedelta(days=10))
    sooner = _alert(agencies, 3, "open", timedelta(days=2))
    target = _alert(agencies, 4, "open", None)
    acked = _alert(agencies, 5, "acknowledged", timedelta(hours=5))
    t0 = utcnow() - timedelta(hours=3)

    def told(alert: Alert | None, minutes: int, times: int = 1) -> None:
        for i in range(times):
            moment = t0 + timedelta(minutes=minutes + i)
            if alert is None:
                notify_security(officer, f"security {minutes}", "/settings/security", now=moment)
            else:
                link = f"/alerts/{alert.id}"
                notify(officer, "alert", f"alert {alert.id}", link, alert_id=alert.id, now=moment)

    told(None, 1)
    told(later, 2, times=3)
    told(target, 3)
    told(sooner, 4, times=2)
    told(acked, 5)
    told(resolved, 6, times=2)
    told(None, 9)
    db.session.commit()

    shown = inbox.inbox(officer)
    keys = [line.key for line in shown.lines]
    assert keys[:4] == [f"alert:{a.id}" for a in (sooner, later, target, acked)]
    assert keys[4].startswith("note:") and keys[6].startswith("note:")
    assert keys[5] == f"alert:{resolved.id}", "resolved alerts are news: by their latest notice"
    assert [line.notices for line in shown.lines][:2] == [2, 3]
    assert shown.total == 7 and shown.unread == 7

    with counted_queries() as sent:
        assert inbox.unread_count(officer) == 7
    assert len(sent) == 1, sent
    inbox.mark_line_read(officer, f"alert:{later.id}")
    assert inbox.unread_count(officer) == 6


def test_paging_marking_all_and_refusals(app: Flask, login: Login) -> None:
    owner = emptied("investigator.hsi")
    other = emptied("investigator.fbi")
    for i in range(120):
        notify(
            owner, "reminder", f"reminder {i:03d}", "/calendar", now=utcnow() - timedelta(hours=i)
        )
    notify(other, "reminder", "fbi's own", "/calendar")
    db.session.commit()
    client = login("investigator.hsi")
    first = lines(text(client.get("/inbox")))
    third = lines(text(client.get("/inbox?page=3")))
    assert len(first) == 50 and len(third) == 20
    assert "reminder 000" in first[0][3] and "reminder 119" in third[-1][3]
    assert badge(client) == 120

    foreign = db.session.scalar(select(Notification.id).where(Notification.user_id == other.id))
    bad_page = client.get("/inbox?page=0")
    assert bad_page.status_code == 400 and "page:" in bad_page.get_data(as_text=True)
    bad_line = client.post("/inbox/read", data={"line": "alert:x"})
    assert bad_line.status_code == 400 and "line:" in bad_line.get_data(as_text=True)
    assert client.post("/inbox/read", data={"line": f"note:{foreign}"}).status_code == 404
    bad_upto = client.post("/inbox/read", data={"upto": "-1"})
    assert bad_upto.status_code == 400 and "upto:" in bad_upto.get_data(as_text=True)
    assert badge(client) == 120 and inbox.unread_count(other) == 1

    upto = inbox.inbox(owner).upto
    notify(owner, "reminder", "came after the page", "/calendar")
    db.session.commit()
    assert client.post("/inbox/read", data={"upto": str(upto)}).status_code == 302
    assert badge(client) == 1, "what came after the page was shown stays unread"
    assert inbox.unread_count(other) == 1


def test_advocates_are_told_nothing_of_an_alerts_life(app: Flask, login: Login) -> None:
    """An advocate on a PBSO operation: raised, escalated, closed, reopened, changed,
    acknowledged by both and resolved; each step tells PBSO's investigator or supervisor, never the
    advocate (inbox or e-mail)."""
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_SENDER="jointops@taskforce.test")
    advocate = emptied("advocate.vs")
    pbso_id, fbi_id, fbi_form = pair(login, advocate="advocate.vs")
    [alert] = alerts_between("event", pbso_id, fbi_id)
    escalate(utcnow() + timedelta(hours=1))
    db.session.commit()
    fbi = login("investigator.fbi")
    save_operation(fbi, fbi_form | {"latitude": "26.9000"}, fbi_id)  # closed
    save_operation(fbi, fbi_form, fbi_id)  # reopened
    day = far_day(3)
    later = {"starts_at": local(day, "10:30"), "ends_at": local(day, "12:30")}
    save_operation(fbi, fbi_form | later, fbi_id)  # changed
    for username in ("investigator.fbi", "investigator.pbso"):
        assert login(username).post(f"/alerts/{alert.id}/acknowledge").status_code == 302
    resolved = login("supervisor.pbso").post(
        f"/alerts/{alert.id}/resolve", data={"outcome": "proceed", "note": "Agreed."}
    )
    assert resolved.status_code == 302

    told = [
        n.text
        for username in ("investigator.pbso", "supervisor.pbso")
        for n in notifications(alert.id, username)
    ]
    for step in ("please acknowledge", "Escalated", "closed", "matches again", "changed"):
        assert any(step in t for t in told), (step, told)
    assert any("resolved" in t for t in told)

    db.session.expire_all()
    mine = list(db.session.scalars(select(Notification).where(Notification.user_id == advocate.id)))
    assert [n for n in mine if n.alert_id is not None or n.category != "reminder"] == []
    mail = select(OutboxEmail).where(
        OutboxEmail.user_id == advocate.id, OutboxEmail.category.in_(["alert", "escalation"])
    )
    assert db.session.scalars(mail).all() == []
    client = login("advocate.vs")
    page = text(client.get("/inbox"))
    for detail in (f"Alert #{alert.id}", "FBI", "Operation conflict", "acknowledge", "Escalated"):
        assert detail not in page, detail
    assert badge(client) == 0
    # the advocate still sees their own event
    assert "PBSO warrant" in text(client.get(f"/events/{pbso_id}"))


def test_advocates_are_not_told_of_a_pre_check_that_hit_their_operation(
    app: Flask, login: Login
) -> None:
    advocate = emptied("advocate.vs")
    emptied("investigator.pbso")
    day = far_day(3)
    pbso_form = operation(day, title="PBSO warrant", advocates=[str(advocate.id)])
    save_operation(login("investigator.pbso"), pbso_form)
    plan = operation(day, title="FBI plan", latitude=f"{26.6 + LAT_300M:.4f}")
    answer = login("investigator.fbi").post("/events/new", data=plan | {"precheck": "1"})
    assert answer.status_code == 200

    def told(username: str) -> list[str]:
        db.session.expire_all()
        found = user(username)
        return list(
            db.session.scalars(select(Notification.text).where(Notification.user_id == found.id))
        )

    assert any("A pre-check by" in t for t in told("investigator.pbso"))
    assert told("advocate.vs") == []


def test_signed_out_inbox_goes_to_login(client: FlaskClient) -> None:
    for response in (client.get("/inbox"), client.post("/inbox/read")):
        assert response.status_code == 302 and "/login" in response.headers["Location"]
