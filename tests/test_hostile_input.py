"""Every route of the app, fed hostile input by a signed-in user of each role, answers
4xx (never 500), and a refused write changes nothing in the database.

A page's query arguments are fuzzed where the page reads them: the walk records which names a
view looks up (``ReadArgs``), first of a plain request, then of each hostile one, so that a name
read only on another branch is fuzzed too; a view that iterates over its arguments gets every
name of ``QUERY_NAMES``. A name no view reads cannot change an answer, and skipping it keeps the
walk to minutes."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, Request
from flask.testing import FlaskClient
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import Rule
from werkzeug.test import TestResponse
from werkzeug.utils import cached_property

from jointops.extensions import db
from jointops.feeds import tokens as feed_tokens
from tests.conftest import user

#: who walks every route: between them they may use every route (events and targets, the
#: review of alerts, administration); a route refused to a role answers 403 before its view
ROLES = [
    "investigator.pbso",
    "deconfliction_officer.pbso",
    "admin.pbso",
]

HUGE_IDS = [str(2**63), str(2**64), "9" * 40, "0"]

#: what a query argument, a form field or a path segment may carry
HOSTILE_TEXT = [
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:59",
    "0001-01-01T00:00",
    "9999-12-31T23:59:59+00:00",
    "0001-01-01T00:00:00+14:00",
    str(2**64),
    "-1",
    "1e999",
    "NaN",
    "1.5",
    "a\x00b",
    "\x1b[2J",
]

QUERY_NAMES = [
    "date",
    "start",
    "end",
    "view",
    "room",
    "person",
    "agency",
    "kind",
    "case",
    "page",
    "status",
    "strength",
    "sort",
    "validity",
    "inactive",
    "q",
    "next",
]

#: raw JSON bodies that are not an object of flat values
RAW_JSON = [
    "[]",
    '["a", 1]',
    '"text"',
    "42",
    "null",
    "true",
    "[" * 50_000 + "]" * 50_000,
    '{"a":' * 50_000 + "1" + "}" * 50_000,
    '{"room_id": 1e999}',
    '{"room_id": NaN}',
    '{"room_id": -Infinity}',
    '{"title": "\\u0000"}',
    '{"title": "\\ud800"}',
    "{not json",
]

#: typed JSON values put in every field of an object body
JSON_VALUES: list[Any] = [
    2**64,
    -(2**64),
    1.5,
    True,
    None,
    [[1]],
    {"a": 1},
    "a\x00b",
    "9999-12-31T23:59",
    "0001-01-01T00:00",
]

FALLBACK_FIELDS = [
    "title",
    "kind",
    "subtype",
    "starts_at",
    "ends_at",
    "room_id",
    "resource_ids",
    "case_id",
    "lead_id",
    "notes",
    "label",
    "scope",
    "reason",
    "outcome",
    "note",
    "number",
    "dob",
    "username",
    "password",
]

#: the tables a refused write must leave as they were
DOMAIN_TABLES = [
    "agencies",
    "users",
    "cases",
    "resources",
    "events",
    "participants",
    "bookings",
    "feed_tokens",
    "targets",
    "target_identifiers",
    "alerts",
    "known_places",
    "appointment_places",
    "notification_preferences",
]

#: static files; signing out (it takes no input, and the walk goes on signed in)
SKIPPED = {"static", "auth.logout", "identity_api.logout"}

FIELD_NAME = re.compile(r'name="([a-z_]+)"')


WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)


@contextmanager
def committed_writes() -> Iterator[list[str]]:
    """The domain tables written by transactions that committed, in order, while inside:
    a refused request must leave none (a write it rolled back is no change)."""
    pending: list[str] = []
    committed: list[str] = []

    def executed(*args: Any) -> None:
        found = WRITE.match(args[2])
        if found and found.group(1).lower() in DOMAIN_TABLES:
            pending.append(found.group(1).lower())

    def commit(_conn: Any) -> None:
        committed.extend(pending)
        pending.clear()

    def rollback(_conn: Any) -> None:
        pending.clear()

    hooks = (("after_cursor_execute", executed), ("commit", commit), ("rollback", rollback))
    for name, hook in hooks:
        sa.event.listen(db.engine, name, hook)
    try:
        yield committed
    finally:
        for name, hook in hooks:
            sa.event.remove(db.engine, name, hook)


def fingerprint() -> str:
    """Every row of the domain tables, hashed: for the findings tested one by one."""
    digest = hashlib.sha256()
    with db.engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
        for table in DOMAIN_TABLES:
            if table not in names:
                continue
            rows = conn.exec_driver_sql(f"SELECT * FROM {table}").all()  # noqa: S608
            digest.update(repr(sorted(repr(tuple(r)) for r in rows)).encode())
    return digest.hexdigest()


def real_ids(app: Flask, username: str) -> dict[str, str]:
    """An id per path argument that names something the user may well reach."""
    me = user(username)
    token, _ = feed_tokens.create(me, "walk", "personal")
    db.session.commit()

    def first(sql: str, **params: Any) -> str:
        with db.engine.connect() as conn:
            found = conn.execute(sa.text(sql), params).scalar()
        return str(found or 1)

    return {
        "event_id": first(
            "SELECT id FROM events WHERE owner_agency_id = :a ORDER BY id", a=me.agency_id
        ),
        "target_id": first(
            "SELECT id FROM targets WHERE agency_id = :a ORDER BY id", a=me.agency_id
        ),
        "alert_id": first("SELECT id FROM alerts ORDER BY id"),
        "user_id": first("SELECT id FROM users WHERE id != :me ORDER BY id DESC", me=me.id),
        "token_id": str(token.id),
        "place_id": first("SELECT id FROM known_places ORDER BY id"),
    }


def paths(rule: Rule, ids: dict[str, str]) -> Iterator[tuple[str, bool]]:
    """The rule's paths: the real one first (True), then with each argument made hostile."""
    args = list(rule.arguments)

    def build(values: dict[str, str]) -> str:
        path = rule.rule
        for name, value in values.items():
            path = re.sub(rf"<(?:[a-z_]+:)?{name}>", value, path)
        return path

    real = {a: ids.get(a, "1") for a in args}
    yield build(real), True
    for name in args:
        numeric = rule._converters[name].regex.startswith("\\d")  # noqa: SLF001
        for value in HUGE_IDS if numeric else ["a%00b", "%ED%A0%80", "x" * 3000, "%2E"]:
            yield build(real | {name: value}), False


#: the query names views looked up since it was last cleared ("*": all of them)
READ: set[str] = set()
EVERY = "*"
#: whether the request has passed the app's own before-request hooks (whose check of every
#: argument's text is not a view reading it)
IN_VIEW: list[bool] = [False]


def _note(name: str) -> None:
    if IN_VIEW[0]:
        READ.add(name)


class ReadArgs(ImmutableMultiDict[str, str]):
    """Query arguments that note each name a view looks up."""

    def __getitem__(self, key: str) -> str:
        _note(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        _note(str(key))
        return super().__contains__(key)

    def getlist(self, key: str, type: Any = None) -> list[Any]:  # noqa: A002 - werkzeug's name
        _note(key)
        return super().getlist(key, type)

    def _everything(self) -> None:
        _note(EVERY)

    def keys(self) -> Any:
        self._everything()
        return super().keys()

    def items(self, multi: bool = False) -> Any:
        self._everything()
        return super().items(multi)

    def lists(self) -> Any:
        self._everything()
        return super().lists()

    def to_dict(self, flat: bool = True) -> Any:
        self._everything()
        return super().to_dict(flat) if flat else super().to_dict(False)

    def __iter__(self) -> Any:
        self._everything()
        return super().__iter__()


class ReadArgsRequest(Request):
    @cached_property
    def args(self) -> ReadArgs:
        return ReadArgs(super().args)


@contextmanager
def reads_recorded(app: Flask) -> Iterator[None]:
    def entering_view() -> None:
        IN_VIEW[0] = True

    kept = app.request_class
    hooks = app.before_request_funcs.setdefault(None, [])
    app.request_class = ReadArgsRequest
    hooks.append(entering_view)
    try:
        yield
    finally:
        app.request_class = kept
        hooks.remove(entering_view)


def fuzzed_query(probe: Callable[[dict[str, str]], set[str]]) -> None:
    """Each name the view reads, alone with each hostile value, until no new name is read."""
    todo = probe({})
    done: set[str] = set()
    while todo:
        name = todo.pop()
        if name == EVERY:
            todo |= set(QUERY_NAMES) - done
            continue
        done.add(name)
        for value in HOSTILE_TEXT:
            todo |= probe({name: value}) - done


def field_names(client: FlaskClient, path: str, rule: Rule) -> list[str]:
    names: set[str] = set()
    if "GET" in (rule.methods or set()):
        page = client.get(path)
        if page.status_code == 200 and page.mimetype == "text/html":
            names = set(FIELD_NAME.findall(page.get_data(as_text=True)))
    names.discard("csrf_token")
    return sorted(names) or FALLBACK_FIELDS


@pytest.mark.clockless
@pytest.mark.parametrize("username", ROLES)
def test_no_route_answers_500_to_hostile_input(
    app: Flask, login: Callable[[str], FlaskClient], username: str
) -> None:
    client = login(username)
    ids = real_ids(app, username)
    failures: list[str] = []
    rules = sorted(
        (r for r in app.url_map.iter_rules() if r.endpoint not in SKIPPED), key=lambda r: r.rule
    )

    def check(method: str, path: str, **kwargs: Any) -> TestResponse | None:
        label = f"{method} {path[:80]} {repr(kwargs)[:120]}"
        with committed_writes() as written:
            try:
                response = client.open(path, method=method, **kwargs)
            except Exception as exc:  # noqa: BLE001 - every crash is a finding
                failures.append(f"{label}: {type(exc).__name__}: {str(exc)[:120]}")
                db.session.rollback()
                return None
        if response.status_code >= 500:
            failures.append(f"{label}: {response.status_code}")
        elif response.status_code >= 400 and written:
            failures.append(f"{label}: refused with {response.status_code} but wrote {written}")
        return response

    def probe(path: str) -> Callable[[dict[str, str]], set[str]]:
        def read_by(query: dict[str, str]) -> set[str]:
            READ.clear()
            IN_VIEW[0] = False
            check("GET", path, query_string=query)
            return set(READ)

        return read_by

    for rule in rules:
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        for path, real in paths(rule, ids):
            for method in methods:
                check(method, path)
            if not real:
                continue
            if "GET" in methods:
                with reads_recorded(app):
                    fuzzed_query(probe(path))
            if "POST" not in methods:
                continue
            fields = field_names(client, path, rule)
            for value in HOSTILE_TEXT:
                check("POST", path, data=dict.fromkeys(fields, value))
            for raw in RAW_JSON:
                check("POST", path, data=raw, content_type="application/json")
            for typed in JSON_VALUES:
                check("POST", path, json=dict.fromkeys(fields, typed))
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures)


# --- the findings one by one: each answers 400 or 404, naming the field ----------------------


def _interview_json(**over: Any) -> str:
    """An interview as JSON text (so that the test can write ``1e999`` and ``NaN`` in it)."""
    fields = {
        "kind": '"interview"',
        "subtype": '"witness_interview"',
        "title": '"Hostile input test"',
        "starts_at": '"2031-01-07T09:00"',
        "ends_at": '"2031-01-07T10:00"',
        "status": '"planned"',
        "sensitivity": '"normal"',
    } | over
    return "{" + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + "}"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_interview_json(room_id="1e999"), "room_id"),
        (_interview_json(room_id="-Infinity"), "room_id"),
        (_interview_json(latitude="NaN"), "latitude"),
        (_interview_json(room_id=str(2**64)), "room_id"),
        (_interview_json(title='"a\\u0000b"'), "title"),
        (_interview_json(notes='"\\ud800"'), "notes"),
        (_interview_json(resource_ids="[[1]]"), "resource_ids"),
        (_interview_json(title='{"nested": true}'), "title"),
        ("[]", "body"),
        ('"an event"', "body"),
        ("42", "body"),
        ("null", "body"),
        ("[" * 100_000 + "]" * 100_000, "body"),
        ('{"a": ' * 40 + "1" + "}" * 40, "a" + ".a" * 16),
        ("{", "body"),
    ],
)
def test_hostile_json_bodies_answer_400_naming_the_field(
    login: Callable[[str], FlaskClient], body: str, field: str
) -> None:
    client = login("investigator.pbso")
    before = fingerprint()
    response = client.post("/api/events", data=body, content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)[:500]
    answer = response.get_json()
    named = answer.get("field") or next(iter(answer.get("errors", {})), None)
    assert named == field, answer
    assert fingerprint() == before


@pytest.mark.parametrize("value", ["1.5", "1.0", "true", "false", '"1e3"', '" 1"', '"\u0661"'])
def test_ids_in_json_must_be_whole_numbers(login: Callable[[str], FlaskClient], value: str) -> None:
    """A float, a boolean or a numeral in words where an id is due is refused, not rounded."""
    client = login("investigator.pbso")
    before = fingerprint()
    response = client.post(
        "/api/events", data=_interview_json(room_id=value), content_type="application/json"
    )
    assert response.status_code == 400, response.get_json()
    assert list(response.get_json()["errors"]) == ["room_id"]
    assert fingerprint() == before


def test_a_valid_json_event_is_still_created(login: Callable[[str], FlaskClient]) -> None:
    response = login("investigator.pbso").post(
        "/api/events", data=_interview_json(notes='"line\\nline"'), content_type="application/json"
    )
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/events/{id}"),
        ("GET", "/events/{id}/edit"),
        ("POST", "/events/{id}/cancel"),
        ("GET", "/api/events/{id}"),
        ("GET", "/alerts/{id}"),
        ("POST", "/alerts/{id}/acknowledge"),
        ("POST", "/alerts/{id}/resolve"),
        ("GET", "/api/alerts/{id}"),
        ("GET", "/targets/{id}"),
        ("POST", "/targets/{id}/revalidate"),
        ("POST", "/feeds/{id}/revoke"),
        ("POST", "/admin/users/{id}/unlock"),
        ("POST", "/admin/users/{id}/end-sessions"),
        ("POST", "/admin/places/{id}/activate"),
    ],
)
@pytest.mark.parametrize("value", [str(2**63), str(2**64), "9" * 5000, "0", "-1", "\u0661"])
def test_path_ids_outside_64_bits_answer_404(
    login: Callable[[str], FlaskClient], method: str, path: str, value: str
) -> None:
    client = login("admin.pbso")
    before = fingerprint()
    response = client.open(path.format(id=value), method=method)
    assert response.status_code == 404
    assert fingerprint() == before


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("/calendar?date=9999-12-31", "date"),
        ("/calendar?date=0001-01-01&view=month", "date"),
        ("/calendar?room=18446744073709551616", "room"),
        ("/calendar?person=1e999", "person"),
        ("/api/events?start=9999-12-31T00:00:00%2B00:00", "start"),
        ("/api/events?start=0001-01-01T00:00:00%2B14:00", "start"),
        ("/api/events?end=9999-12-31T23:59:59-12:00", "end"),
        ("/alerts?agency=PB%00SO", "agency"),
        ("/calendar?kind=%1B", "kind"),
    ],
)
def test_hostile_query_arguments_answer_400_naming_the_argument(
    login: Callable[[str], FlaskClient], query: str, field: str
) -> None:
    response = login("investigator.pbso").get(query)
    assert response.status_code == 400
    assert f"{field}:" in response.get_data(as_text=True)


def test_control_characters_are_refused_in_forms_but_line_breaks_kept(
    login: Callable[[str], FlaskClient],
) -> None:
    client = login("investigator.pbso")
    before = fingerprint()
    base = {
        "kind": "interview",
        "subtype": "witness_interview",
        "title": "Control character test",
        "starts_at": "2031-01-08T09:00",
        "ends_at": "2031-01-08T10:00",
        "status": "planned",
        "sensitivity": "normal",
    }
    for field, value in (("title", "a\x00b"), ("notes", "bell\x07"), ("title", "esc\x1b[2J")):
        response = client.post("/events/new", data=base | {field: value})
        assert response.status_code == 400
        assert f"{field}: contains the control character" in response.get_data(as_text=True)
    assert fingerprint() == before
    saved = client.post("/events/new", data=base | {"notes": "first line\r\n\tsecond line"})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]


def test_pages_take_form_fields_not_json(login: Callable[[str], FlaskClient]) -> None:
    client = login("investigator.pbso")
    before = fingerprint()
    response = client.post("/cases/new", json={"number": 5, "title": ["x"]})
    assert response.status_code == 400
    assert "body: this page takes form fields" in response.get_data(as_text=True)
    assert fingerprint() == before
