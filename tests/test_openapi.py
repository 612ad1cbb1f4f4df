"""The OpenAPI document: generated from the code, complete, and kept by the API.

Schemathesis reads the served document from the app (WSGI, no server) and sends a few
hundred generated requests with a fixed seed, signed in with a demo investigator's API token:
no answer may be a 5xx, and each must have a documented status and conform to its schema.
"""

from __future__ import annotations

import contextvars
import tempfile
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig

from jointops import create_app
from jointops.catalog import KIND_LABELS
from jointops.extensions import db
from jointops.identity import api_tokens
from jointops.openapi import API_V1, REGISTRY, declared
from tests.conftest import base_config, user

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_every_v1_route_is_documented_and_every_documented_view_is_routed(app: Flask) -> None:
    document = app.test_client().get("/api/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    documented = {
        (path, method.upper()) for path, ops in document["paths"].items() for method in ops
    }
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API_V1):
            view = app.view_functions[rule.endpoint]
            assert declared(view) is not None, rule.rule
            path = rule.rule.replace("<int:", "<").replace("<", "{").replace(">", "}")
            routed |= {(path, m) for m in rule.methods or () if m not in ("HEAD", "OPTIONS")}
    assert routed == documented
    v1_views = {app.view_functions[r.endpoint] for r in app.url_map.iter_rules()}
    assert all(view in v1_views for view in REGISTRY), "a declared view is not routed"


def test_the_document_names_its_schemas_and_auth_and_holds_no_secret(app: Flask) -> None:
    answer = app.test_client().get("/api/openapi.json")
    assert answer.status_code == 200  # public: no session, no token
    document = answer.get_json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == schemes["bearerAuth"] | {"type": "http", "scheme": "bearer"}
    assert schemes["csrfToken"]["name"] == "X-CSRFToken"
    create = document["paths"]["/api/v1/events"]["post"]
    assert {"sessionCookie": [], "csrfToken": []} in create["security"]
    assert {"bearerAuth": []} in create["security"]
    listing = document["paths"]["/api/v1/events"]["get"]
    assert {"sessionCookie": []} in listing["security"]
    body = create["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/EventIn"}
    event_in = document["components"]["schemas"]["EventIn"]
    assert event_in["additionalProperties"] is False
    assert {"401", "422", "503"} <= set(create["responses"])
    # a session's POST without its CSRF token answers 400 with a Problem
    ack = document["paths"]["/api/v1/alerts/{alert_id}/acknowledge"]["post"]["responses"]
    assert ack["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }
    resolve = document["paths"]["/api/v1/alerts/{alert_id}/resolve"]["post"]
    assert resolve["x-allowed"] == ["supervisor", "deconfliction_officer"]
    assert {"403", "404"} <= set(resolve["responses"])
    text = answer.get_data(as_text=True)
    assert app.config["SECRET_KEY"] not in text
    assert "jot_" not in text


def test_the_kinds_of_event_are_listed_from_the_catalog(app: Flask) -> None:
    """An event's kind is one of the office's kinds, the fourth (meeting) included, in what is
    sent and in what is answered."""
    schemas = app.test_client().get("/api/openapi.json").get_json()["components"]["schemas"]
    assert schemas["EventIn"]["properties"]["kind"]["enum"] == list(KIND_LABELS)
    assert "meeting" in schemas["EventIn"]["properties"]["kind"]["enum"]
    assert schemas["EventOut"]["properties"]["kind"]["enum"] == [*KIND_LABELS, None]


def _served_document() -> dict[str, Any]:
    """The document as the app serves it, read once at collection (it depends on the code
    alone: an app on a database that is never opened serves it)."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(base_config(f"sqlite:///{folder}/unused.sqlite3"))
        document: dict[str, Any] = app.test_client().get("/api/openapi.json").get_json()
    return document


#: the fuzzing phase alone, positive and negative data (wrong types, missing and unknown
#: names, out-of-range ids and dates): the coverage phase's every-boundary enumeration runs to
#: about 300 cases per event body and is left to manual runs (``st run``)
CONFIG = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
schema = schemathesis.openapi.from_dict(_served_document(), config=CONFIG)


@pytest.fixture
def token(app: Flask, backend: str) -> str:
    """A demo investigator's API token (one per operation tested)."""
    if backend != "sqlite":
        pytest.skip("SQLite only: the generated cases are the same on PostgreSQL")
    secret = api_tokens.create(user("investigator.pbso"), "schemathesis", None).secret
    db.session.commit()
    return secret


@pytest.mark.clockless
@schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,  # a fixed seed: the same cases on every run
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_keeps_its_document(case: Any, app: Flask, token: str) -> None:
    secret = token

    def call() -> Any:
        return case.call_and_validate(
            app=app, headers={"Authorization": f"Bearer {secret}"}, checks=CHECKS
        )

    # each request in a context of its own, as a server runs it (see conftest.IsolatedClient)
    contextvars.Context().run(call)
    db.session.expire_all()
