"""A pre-check is not an oracle: bounded, rate-limited, pointer-only, and seen by the probed.

Played as a hostile insider of another agency would: trilaterating a covert
operation from pre-checks around it, and testing a hundred phone numbers
against other agencies' targets.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from jointops.extensions import db
from jointops.models import Notification, User
from tests.alert_helpers import (
    audits,
    case_of,
    far_day,
    local,
    operation,
    save_operation,
    target_data,
    text,
    user,
)
from tests.conftest import without_csrf

Login = Callable[[str], FlaskClient]
#: metres per degree of latitude
M_PER_DEG = 111_195.0
COVERT = {"lat": 26.55, "lon": -80.15}
NUMBERS = re.compile(r"\d[\d,.]* ?(m|km|metres|meters|min|minutes|hours?|h)\b")


def precheck_answer(response_text: str) -> str:
    """The pre-check box alone (the form around it repeats what the prober typed)."""
    found = re.search(r'id="precheck">(.*?)</div>', response_text, re.S)
    assert found, response_text[:2000]
    return found[1]


def probe(client: FlaskClient, day: date, north_m: float, east_m: float, **over: str) -> str:
    lat = COVERT["lat"] + north_m / M_PER_DEG
    lon = COVERT["lon"] + east_m / (M_PER_DEG * math.cos(math.radians(COVERT["lat"])))
    data = operation(
        day,
        title="Probe",
        location_address="1 Probe St",
        latitude=f"{lat:.6f}",
        longitude=f"{lon:.6f}",
        **over,
    ) | {"precheck": "1"}
    return text(client.post("/events/new", data=data))


def notices_of(username: str) -> list[str]:
    db.session.rollback()
    return [
        n.text
        for n in db.session.scalars(
            select(Notification).where(Notification.user_id == user(username).id)
        )
    ]


def test_three_probes_around_a_covert_operation_cannot_place_it(app: Flask, login: Login) -> None:
    day = far_day(41)
    save_operation(
        login("investigator.fbi"),
        operation(
            day,
            title="FBI covert stakeout",
            subtype="surveillance",
            sensitivity="covert",
            location_address="9 Covert Ct",
            latitude=f"{COVERT['lat']:.6f}",
            longitude=f"{COVERT['lon']:.6f}",
        ),
    )
    prober = login("investigator.pbso")

    # The old attack: a 50 km radius and exact distances back. Now the area is bounded.
    wide = prober.post(
        "/events/new",
        data=operation(day, latitude="26.55", longitude="-80.15", radius_m="50000")
        | {"precheck": "1"},
    )
    assert wide.status_code == 400 and "At most 5,000 m" in text(wide)
    long = prober.post(
        "/events/new",
        data=operation(day, ends_at=local(day + timedelta(days=2), "09:00")) | {"precheck": "1"},
    )
    assert long.status_code == 400 and "at most 24 hours" in text(long)

    # Three probes around it at 5 km, 800 m and 200 m, each with the widest area allowed.
    answers = [
        precheck_answer(probe(prober, day, 5000, 0, radius_m="5000")),
        precheck_answer(probe(prober, day, 0, 800, radius_m="5000")),
        precheck_answer(probe(prober, day, -200, -100, radius_m="5000")),
    ]
    for answer in answers:
        assert "Deconfliction: 1 match" in answer
        assert "Near your location, at an overlapping time" in answer
        assert not NUMBERS.search(answer.replace("561 555 01", "")), answer
        assert "FBI covert stakeout" not in answer and "9 Covert Ct" not in answer
    # Whatever the distance, the words are the same: nothing to triangulate with.
    wording = {re.sub(r"strength-\w+|>(Exact|Probable|Possible)<", "", a) for a in answers}
    assert len(wording) == 1

    # The probed side saw every probe, with who to call and nothing of the plan.
    told = [t for t in notices_of("investigator.fbi") if t.startswith("A pre-check")]
    assert len(told) == 3
    assert all("Marisol Delgado (PBSO" in t and "FBI covert stakeout" in t for t in told)
    assert not any("Probe" in t for t in told)
    # Three probes that hit, from one person: the deconfliction officers are told once.
    flagged = [t for t in notices_of("deconfliction_officer.pbso") if "Repeated pre-checks" in t]
    assert len(flagged) == 1 and "Marisol Delgado (PBSO)" in flagged[0]
    review = text(login("deconfliction_officer.pbso").get("/alerts"))
    assert "Pre-check hits" in review and "Marisol Delgado" in review
    assert "Pre-check hits" not in text(login("supervisor.pbso").get("/alerts"))


def test_a_hundred_phone_numbers_are_stopped_by_the_limit_and_the_owner_is_told(
    app: Flask, login: Login
) -> None:
    fbi = login("investigator.fbi")
    secret_number = "561-555-0142"
    response = fbi.post(
        "/targets/new",
        data=target_data(case_of("FBI").id, "FBI-ORACLE-1", phones=secret_number),
    )
    assert response.status_code == 302, text(response)[:2000]

    prober = login("investigator.pbso")
    case_id = case_of("PBSO").id
    answers: list[tuple[int, str]] = []
    for n in range(100):
        number = f"561-555-{n + 100:04d}" if n != 7 else secret_number
        data = target_data(case_id, f"PROBE-{n}", phones=number) | {"precheck": "1"}
        response = prober.post("/targets/new", data=data)
        answers.append((response.status_code, text(response)))
    codes = [status for status, _ in answers]
    limit = app.config["PRECHECK_LIMIT_PER_USER"]
    assert codes[:limit] == [200] * limit
    assert set(codes[limit:]) == {429}
    assert "limit of 20 pre-checks in 60 minutes" in answers[limit][1]
    assert "Deconfliction: 1 match" in answers[7][1]
    assert sum("Deconfliction: 1 match" in page for _, page in answers) == 1
    assert len(audits("deconflict.precheck", actor_username="investigator.pbso")) == 100

    told = [t for t in notices_of("investigator.fbi") if t.startswith("A pre-check")]
    assert len(told) == 1 and "FBI-ORACLE-1" in told[0] and "PBSO" in told[0]
    assert secret_number not in told[0] and "PROBE-7" not in told[0]
    sup = [t for t in notices_of("supervisor.fbi") if t.startswith("A pre-check")]
    assert len(sup) == 1

    # The agency's limit holds for its other people too.
    app.config["PRECHECK_LIMIT_PER_AGENCY"] = limit + 3
    colleague = login("det.rivera.pbso")
    statuses = [
        colleague.post(
            "/targets/new",
            data=target_data(case_id, f"COLL-{n}", phones=f"561-555-9{n:03d}") | {"precheck": "1"},
        ).status_code
        for n in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]


def test_a_hit_on_ones_own_agency_says_so_and_never_asks_to_call_oneself(
    app: Flask, login: Login
) -> None:
    day = far_day(45)
    pbso = login("investigator.pbso")
    save_operation(pbso, operation(day, title="PBSO own warrant"))
    other_case = case_of("PBSO")
    answer = precheck_answer(
        text(
            pbso.post(
                "/events/new",
                data=operation(day, title="PBSO second plan", case_id=str(other_case.id))
                | {"precheck": "1"},
            )
        )
    )
    assert "Your agency" in answer
    assert "your own item: no one to call" in answer
    assert "Call Marisol Delgado" not in answer

    # A colleague's hit names the case and the lead, not "call".
    rivera = user("det.rivera.pbso")
    assert isinstance(rivera, User)
    colleague = login("det.rivera.pbso")
    answer = precheck_answer(
        text(
            colleague.post(
                "/events/new",
                data=operation(day, title="Rivera plan", case_id=str(other_case.id))
                | {"precheck": "1"},
            )
        )
    )
    assert "Your agency" in answer and "Lead Marisol Delgado" in answer


def test_a_joint_operation_links_both_events_with_who_to_call(app: Flask, login: Login) -> None:
    from tests.test_alerts import FBI_CONTACT, PBSO_CONTACT, pair

    pbso_id, fbi_id = pair(login, far_day(47))
    db.session.rollback()
    from tests.alert_helpers import alerts_between

    [alert] = alerts_between("event", pbso_id, fbi_id)
    assert "Joint operation" not in text(login("investigator.pbso").get(f"/events/{pbso_id}"))
    assert login("investigator.pbso").post(f"/alerts/{alert.id}/acknowledge").status_code == 302
    assert login("investigator.fbi").post(f"/alerts/{alert.id}/acknowledge").status_code == 302
    resolved = login("supervisor.fbi").post(
        f"/alerts/{alert.id}/resolve",
        data={"outcome": "joint_operation", "note": "One entry team, FBI leads."},
    )
    assert resolved.status_code == 302
    pbso_page = text(login("investigator.pbso").get(f"/events/{pbso_id}"))
    fbi_page = text(login("investigator.fbi").get(f"/events/{fbi_id}"))
    assert "Joint operation with Federal Bureau of Investigation (FBI)" in pbso_page
    assert all(c in pbso_page for c in FBI_CONTACT)
    assert "Joint operation with Palm Beach County Sheriff" in fbi_page
    assert all(c in fbi_page for c in PBSO_CONTACT)


def test_the_repeat_interview_warning_cannot_enumerate_other_agencies_client_codes(
    app: Flask, login: Login
) -> None:
    """WPBPD may not see PBSO's victim interview, so its code is as unknown as any other."""
    from tests.test_event_forms import Ids, new_event_id, victim_interview

    ids = Ids(
        users={u.username: u.id for u in db.session.scalars(select(User))},
        rooms={},
    )
    from jointops.models import Resource

    ids.rooms.update({r.name: r.id for r in db.session.scalars(select(Resource))})
    day = far_day(49)
    code = "VS-4400777"
    pbso = login("investigator.pbso")
    new_event_id(pbso.post("/events/new", data=victim_interview(day, ids, client_code=code)))

    wpbpd = login("investigator.wpbpd")
    later = victim_interview(
        day,
        ids,
        client_code=code,
        room_id=str(ids.rooms["Interview Room A"]),
        starts_at=local(day, "14:00"),
        ends_at=local(day, "15:00"),
    )
    known = text(wpbpd.post("/events/new", data=later | {"advocates": []}))
    unknown = text(
        wpbpd.post("/events/new", data=later | {"advocates": [], "client_code": "VS-4400778"})
    )
    assert "already has a victim interview" not in known
    assert without_csrf(known.replace("VS-4400777", "X")) == without_csrf(
        unknown.replace("VS-4400778", "X")
    )
