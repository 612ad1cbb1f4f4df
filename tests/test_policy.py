"""auth.policy on its own: each need-to-know rule, who may create which kind, who may edit."""

from __future__ import annotations

import pytest

from auth.policy import (
    CREATE_RIGHTS,
    EventFacts,
    Viewer,
    Visibility,
    creatable_kinds,
    event_visibility,
    may_create,
    may_edit,
)

PBSO_INVESTIGATOR = Viewer(1, "PBSO", "local", frozenset({"investigator"}))
PBSO_SUPERVISOR = Viewer(2, "PBSO", "local", frozenset({"supervisor"}))
PBSO_DECONFLICTION = Viewer(3, "PBSO", "local", frozenset({"deconfliction_officer"}))
PBSO_ADMIN = Viewer(4, "PBSO", "local", frozenset({"admin"}))
FBI_INVESTIGATOR = Viewer(10, "FBI", "federal", frozenset({"investigator"}))
FBI_SUPERVISOR = Viewer(11, "FBI", "federal", frozenset({"supervisor"}))
SAO_PROSECUTOR = Viewer(20, "SAO15", "prosecution", frozenset({"prosecutor"}))
SAO_SUPERVISOR = Viewer(21, "SAO15", "prosecution", frozenset({"supervisor", "prosecutor"}))
VS_ADVOCATE = Viewer(30, "VS", "victim_services", frozenset({"advocate"}))
VS_SUPERVISOR = Viewer(31, "VS", "victim_services", frozenset({"supervisor"}))
NO_AGENCY = Viewer(40, None, None, frozenset({"investigator"}))
STATE_INVESTIGATOR = Viewer(50, "FDLE", "state", frozenset({"investigator"}))
PBSO_INTERPRETER = Viewer(60, "PBSO", "local", frozenset({"interpreter"}))
VS_INTERPRETER = Viewer(61, "VS", "victim_services", frozenset({"interpreter"}))
FBI_INTERVIEWER = Viewer(62, "FBI", "federal", frozenset({"forensic_interviewer"}))

SHARED_ROOM: tuple[str | None, ...] = (None,)


def op(sensitivity: str = "normal", **kw: object) -> EventFacts:
    kw.setdefault("owner_agency_code", "PBSO")
    kw.setdefault("lead_id", PBSO_INVESTIGATOR.user_id)
    return EventFacts(kind="operation", sensitivity=sensitivity, **kw)  # type: ignore[arg-type]


def meeting(**kw: object) -> EventFacts:
    kw.setdefault("owner_agency_code", "PBSO")
    kw.setdefault("lead_id", PBSO_SUPERVISOR.user_id)
    kw.setdefault("sensitivity", "normal")
    return EventFacts(kind="meeting", **kw)  # type: ignore[arg-type]


def appointment(**kw: object) -> EventFacts:
    kw.setdefault("owner_agency_code", "VS")
    kw.setdefault("lead_id", VS_ADVOCATE.user_id)
    return EventFacts(kind="appointment", sensitivity="normal", **kw)  # type: ignore[arg-type]


# --- event_visibility ------------------------------------------------------------------


@pytest.mark.parametrize("viewer", [PBSO_INVESTIGATOR, PBSO_DECONFLICTION, PBSO_ADMIN])
@pytest.mark.parametrize("sensitivity", ["normal", "restricted"])
def test_own_agency_sees_its_events_fully(viewer: Viewer, sensitivity: str) -> None:
    event = op(sensitivity, lead_id=999)
    assert event_visibility(viewer, event) is Visibility.FULL


def test_other_agency_sees_nothing_without_a_shared_resource() -> None:
    assert event_visibility(FBI_INVESTIGATOR, op()) is Visibility.NONE
    assert event_visibility(FBI_SUPERVISOR, op("restricted")) is Visibility.NONE


def test_other_agency_sees_a_busy_block_where_a_shared_room_is_booked() -> None:
    event = op(resource_agencies=SHARED_ROOM)
    assert event_visibility(FBI_INVESTIGATOR, event) is Visibility.BUSY
    assert event_visibility(VS_ADVOCATE, event) is Visibility.BUSY


def test_a_resource_of_the_viewers_agency_shows_busy_but_a_third_agencys_does_not() -> None:
    event = op(resource_agencies=("HSI",))
    assert event_visibility(Viewer(60, "HSI", "federal", frozenset({"admin"})), event) is (
        Visibility.BUSY
    )
    assert event_visibility(FBI_INVESTIGATOR, event) is Visibility.NONE


@pytest.mark.parametrize("part", ["participant", "lead"])
def test_participants_and_the_lead_see_another_agencys_event_fully(part: str) -> None:
    uid = FBI_INVESTIGATOR.user_id
    facts = {"participant_ids": frozenset({uid})} if part == "participant" else {"lead_id": uid}
    event = op("restricted", **facts)
    assert event_visibility(FBI_INVESTIGATOR, event) is Visibility.FULL
    assert event_visibility(FBI_SUPERVISOR, event) is Visibility.NONE


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        (PBSO_INVESTIGATOR, Visibility.FULL),
        (PBSO_SUPERVISOR, Visibility.FULL),
        (PBSO_DECONFLICTION, Visibility.NONE),
        (PBSO_ADMIN, Visibility.NONE),
        (FBI_INVESTIGATOR, Visibility.NONE),
        (FBI_SUPERVISOR, Visibility.NONE),
    ],
)
def test_covert_operation_only_to_owner_investigators_and_supervisors(
    viewer: Viewer, expected: Visibility
) -> None:
    event = op("covert", lead_id=999)
    assert event_visibility(viewer, event) is expected


def test_covert_operation_in_a_shared_room_is_a_busy_block_to_the_rest() -> None:
    event = op("covert", lead_id=999, resource_agencies=SHARED_ROOM)
    assert event_visibility(PBSO_ADMIN, event) is Visibility.BUSY
    assert event_visibility(FBI_INVESTIGATOR, event) is Visibility.BUSY
    assert event_visibility(PBSO_INVESTIGATOR, event) is Visibility.FULL


def test_covert_operation_participant_from_another_agency_sees_it() -> None:
    event = op("covert", participant_ids=frozenset({FBI_INVESTIGATOR.user_id}))
    assert event_visibility(FBI_INVESTIGATOR, event) is Visibility.FULL
    assert event_visibility(FBI_SUPERVISOR, event) is Visibility.NONE


def test_covert_role_rule_applies_to_operations_only() -> None:
    """Covert is refused on other kinds by the form; were one stored, the agency still sees it."""
    event = EventFacts("interview", "covert", "PBSO", lead_id=999)
    assert event_visibility(PBSO_ADMIN, event) is Visibility.FULL


def test_appointment_only_to_victim_services_and_assigned_staff() -> None:
    event = appointment(participant_ids=frozenset({SAO_PROSECUTOR.user_id}))
    assert event_visibility(VS_ADVOCATE, event) is Visibility.FULL
    assert event_visibility(VS_SUPERVISOR, event) is Visibility.FULL
    assert event_visibility(SAO_PROSECUTOR, event) is Visibility.FULL
    assert event_visibility(SAO_SUPERVISOR, event) is Visibility.NONE
    assert event_visibility(PBSO_SUPERVISOR, event) is Visibility.NONE


def test_appointment_in_a_shared_room_is_busy_to_others() -> None:
    event = appointment(resource_agencies=SHARED_ROOM)
    assert event_visibility(PBSO_INVESTIGATOR, event) is Visibility.BUSY


def test_cancelled_event_is_nothing_to_those_who_only_saw_it_busy() -> None:
    event = op(resource_agencies=SHARED_ROOM, cancelled=True, participant_ids=frozenset({10}))
    assert event_visibility(FBI_SUPERVISOR, event) is Visibility.NONE
    assert event_visibility(PBSO_ADMIN, event) is Visibility.FULL
    assert event_visibility(FBI_INVESTIGATOR, event) is Visibility.FULL  # participant


def test_viewer_without_agency_sees_only_shared_rooms_and_own_participation() -> None:
    assert event_visibility(NO_AGENCY, op()) is Visibility.NONE
    assert event_visibility(NO_AGENCY, op(resource_agencies=SHARED_ROOM)) is Visibility.BUSY
    event = EventFacts("operation", "normal", "PBSO", resource_agencies=("PBSO",))
    assert event_visibility(NO_AGENCY, event) is Visibility.NONE
    assert event_visibility(NO_AGENCY, op(participant_ids=frozenset({40}))) is Visibility.FULL


# --- a meeting: the default rule, nothing covert-specific --------------------------------

#: (viewer, the PBSO case meeting they look at, what they see)
MEETING_MATRIX = [
    # its agency's staff, whatever their role (the administrator too, as for any event)
    (PBSO_INVESTIGATOR, meeting(), Visibility.FULL),
    (PBSO_SUPERVISOR, meeting(), Visibility.FULL),
    (PBSO_DECONFLICTION, meeting(), Visibility.FULL),
    (PBSO_ADMIN, meeting(), Visibility.FULL),
    # another agency: nothing, or a busy block where it holds a room they share
    (FBI_INVESTIGATOR, meeting(), Visibility.NONE),
    (VS_ADVOCATE, meeting(), Visibility.NONE),
    (FBI_INVESTIGATOR, meeting(resource_agencies=SHARED_ROOM), Visibility.BUSY),
    (VS_ADVOCATE, meeting(resource_agencies=SHARED_ROOM), Visibility.BUSY),
    (FBI_INVESTIGATOR, meeting(resource_agencies=("PBSO",)), Visibility.NONE),
    # a participant of another agency in full; their colleagues not
    (SAO_PROSECUTOR, meeting(participant_ids=frozenset({SAO_PROSECUTOR.user_id})), Visibility.FULL),
    (VS_ADVOCATE, meeting(participant_ids=frozenset({VS_ADVOCATE.user_id})), Visibility.FULL),
    (SAO_SUPERVISOR, meeting(participant_ids=frozenset({SAO_PROSECUTOR.user_id})), Visibility.NONE),
    # a skill role alone: only the meetings they are on, or a busy block in a shared room
    (PBSO_INTERPRETER, meeting(), Visibility.NONE),
    (PBSO_INTERPRETER, meeting(resource_agencies=SHARED_ROOM), Visibility.BUSY),
    (
        FBI_INTERVIEWER,
        meeting(participant_ids=frozenset({FBI_INTERVIEWER.user_id})),
        Visibility.FULL,
    ),
    # cancelled: nothing to those who saw it busy, in full to its agency and people
    (FBI_INVESTIGATOR, meeting(resource_agencies=SHARED_ROOM, cancelled=True), Visibility.NONE),
    (PBSO_ADMIN, meeting(resource_agencies=SHARED_ROOM, cancelled=True), Visibility.FULL),
]


@pytest.mark.parametrize(("viewer", "event", "expected"), MEETING_MATRIX)
def test_a_meeting_is_seen_by_the_default_rule(
    viewer: Viewer, event: EventFacts, expected: Visibility
) -> None:
    assert event_visibility(viewer, event) is expected


def test_a_victim_services_meeting_is_its_agencys_and_its_peoples() -> None:
    """A training victim services holds: its staff see it, a police participant sees it, a
    skill role alone and the rest of the police do not."""
    vs_training = meeting(owner_agency_code="VS", lead_id=VS_SUPERVISOR.user_id)
    assert event_visibility(VS_ADVOCATE, vs_training) is Visibility.FULL
    assert event_visibility(VS_INTERPRETER, vs_training) is Visibility.NONE
    assert event_visibility(PBSO_SUPERVISOR, vs_training) is Visibility.NONE
    on_it = meeting(owner_agency_code="VS", participant_ids=frozenset({PBSO_INVESTIGATOR.user_id}))
    assert event_visibility(PBSO_INVESTIGATOR, on_it) is Visibility.FULL


def test_covert_is_for_operations_a_stored_covert_meeting_is_still_its_agencys() -> None:
    """The rules refuse a covert meeting; were one stored, its agency still sees it (no covert
    roles), and the rest of the office only its busy block."""
    event = meeting(sensitivity="covert", resource_agencies=SHARED_ROOM)
    assert event_visibility(PBSO_ADMIN, event) is Visibility.FULL
    assert event_visibility(PBSO_DECONFLICTION, event) is Visibility.FULL
    assert event_visibility(FBI_SUPERVISOR, event) is Visibility.BUSY


@pytest.mark.parametrize(
    ("viewer", "editable"),
    [
        (PBSO_SUPERVISOR, True),  # the lead
        (PBSO_INVESTIGATOR, True),
        (PBSO_DECONFLICTION, True),  # of the agency, and schedules meetings
        (PBSO_ADMIN, False),  # of the agency, but schedules none
        (SAO_PROSECUTOR, False),  # on it, of another agency
        (PBSO_INTERPRETER, False),
    ],
)
def test_who_may_edit_a_meeting(viewer: Viewer, editable: bool) -> None:
    event = meeting(participant_ids=frozenset({SAO_PROSECUTOR.user_id, PBSO_INTERPRETER.user_id}))
    assert may_edit(viewer, event) is editable


# --- may_create / creatable_kinds ------------------------------------------------------


@pytest.mark.parametrize(
    ("viewer", "kinds"),
    [
        (PBSO_INVESTIGATOR, ["operation", "interview", "meeting"]),
        (PBSO_SUPERVISOR, ["operation", "interview", "meeting"]),
        (STATE_INVESTIGATOR, ["operation", "interview", "meeting"]),
        (FBI_INVESTIGATOR, ["operation", "interview", "meeting"]),
        (SAO_PROSECUTOR, ["interview", "meeting"]),
        (SAO_SUPERVISOR, ["interview", "meeting"]),
        (VS_ADVOCATE, ["appointment", "meeting"]),
        (VS_SUPERVISOR, ["appointment", "meeting"]),
        (PBSO_DECONFLICTION, ["meeting"]),
        (PBSO_ADMIN, []),
        (NO_AGENCY, []),
        (PBSO_INTERPRETER, []),
        (VS_INTERPRETER, []),
        (FBI_INTERVIEWER, []),
    ],
)
def test_creatable_kinds_per_role_and_agency_kind(viewer: Viewer, kinds: list[str]) -> None:
    assert creatable_kinds(viewer) == kinds
    assert set(CREATE_RIGHTS) == {"operation", "interview", "appointment", "meeting"}
    for kind in CREATE_RIGHTS:
        assert may_create(viewer, kind) is (kind in kinds)


@pytest.mark.parametrize(
    "agency_kind", ["local", "state", "federal", "prosecution", "victim_services"]
)
@pytest.mark.parametrize(
    "role", ["investigator", "supervisor", "prosecutor", "advocate", "deconfliction_officer"]
)
def test_every_staff_role_of_every_kind_of_agency_may_schedule_a_meeting(
    agency_kind: str, role: str
) -> None:
    assert may_create(Viewer(80, "X", agency_kind, frozenset({role})), "meeting")


@pytest.mark.parametrize("roles", [{"admin"}, {"interpreter"}, {"forensic_interviewer"}, set()])
def test_no_administrator_or_skill_role_alone_schedules_a_meeting(roles: set[str]) -> None:
    for agency_kind in ("local", "federal", "prosecution", "victim_services"):
        assert not may_create(Viewer(81, "X", agency_kind, frozenset(roles)), "meeting")
    with_staff_role = Viewer(82, "X", "local", frozenset(roles | {"investigator"}))
    assert may_create(with_staff_role, "meeting")


def test_role_in_the_wrong_kind_of_agency_may_not_create() -> None:
    advocate_at_police = Viewer(70, "PBSO", "local", frozenset({"advocate"}))
    investigator_at_vs = Viewer(71, "VS", "victim_services", frozenset({"investigator"}))
    assert not may_create(advocate_at_police, "appointment")
    assert not may_create(investigator_at_vs, "operation")
    assert not may_create(investigator_at_vs, "interview")


def test_unknown_kind_may_not_be_created() -> None:
    assert not may_create(PBSO_SUPERVISOR, "party")


# --- may_edit --------------------------------------------------------------------------


def test_owner_agency_member_who_may_create_the_kind_may_edit() -> None:
    event = op(lead_id=999)
    assert may_edit(PBSO_SUPERVISOR, event)
    assert may_edit(PBSO_INVESTIGATOR, event)


def test_owner_agency_member_who_may_not_create_the_kind_may_not_edit() -> None:
    event = op(lead_id=999)
    assert not may_edit(PBSO_ADMIN, event)
    assert not may_edit(PBSO_DECONFLICTION, event)


def test_participant_of_another_agency_sees_but_may_not_edit() -> None:
    event = op(participant_ids=frozenset({FBI_INVESTIGATOR.user_id}))
    assert event_visibility(FBI_INVESTIGATOR, event) is Visibility.FULL
    assert not may_edit(FBI_INVESTIGATOR, event)


def test_lead_from_another_agency_may_edit() -> None:
    event = op(lead_id=FBI_INVESTIGATOR.user_id)
    assert may_edit(FBI_INVESTIGATOR, event)


def test_busy_or_hidden_viewer_may_not_edit() -> None:
    assert not may_edit(FBI_SUPERVISOR, op(resource_agencies=SHARED_ROOM))
    assert not may_edit(FBI_SUPERVISOR, op())


def test_covert_operation_editable_only_by_those_who_may_see_it() -> None:
    event = op("covert", lead_id=999)
    assert may_edit(PBSO_INVESTIGATOR, event)
    # the agency's admin and deconfliction officer neither see nor edit it
    assert not may_edit(PBSO_ADMIN, event)
    both = Viewer(5, "PBSO", "local", frozenset({"admin", "deconfliction_officer"}))
    assert not may_edit(both, event)


def test_appointment_edit_by_victim_services_not_by_an_assigned_prosecutor() -> None:
    event = appointment(participant_ids=frozenset({SAO_PROSECUTOR.user_id}), lead_id=999)
    assert may_edit(VS_SUPERVISOR, event)
    assert may_edit(VS_ADVOCATE, event)
    assert not may_edit(SAO_PROSECUTOR, event)
