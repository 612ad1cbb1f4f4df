"""Web pages and the JSON API: parse the request, call a service, render."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from auth.policy import may_see_targets
from jointops import catalog
from jointops.admin import views as admin
from jointops.alerts import api as alerts_api
from jointops.alerts import views as alerts
from jointops.deconfliction import pending, precheck
from jointops.events import api as events_api
from jointops.events import calendar_views
from jointops.events import views as events
from jointops.feeds import api as feeds_api
from jointops.feeds import views as feeds
from jointops.forms import (
    SECRET_FIELDS,
    InputRefused,
    RowIdConverter,
    check_text,
    json_body,
    reads_json,
)
from jointops.identity import api as identity_api
from jointops.identity import session_views as user_sessions
from jointops.identity import token_views as api_tokens
from jointops.identity import views as login
from jointops.identity.directory import uses_demo_directory
from jointops.identity.mfa import api as mfa_api
from jointops.identity.mfa import views as mfa
from jointops.identity.pending import waiting as waits_for_second_factor
from jointops.identity.permissions import PUBLIC, allow
from jointops.maps import views as maps
from jointops.notifications import views as notifications
from jointops.officetime import office_zone, today_local
from jointops.openapi import API_V1, ApiInvalid, build_document
from jointops.places import api as places_api
from jointops.places import views as places
from jointops.targets import api as targets_api
from jointops.targets import views as targets
from jointops.visibility import shared_resources, viewer_of


def init_app(app: Flask, exempt_from_csrf: Callable[[Any], Any]) -> None:
    """Register the blueprints, page context and error pages; scripts sign in without CSRF.

    Every ``<int:...>`` of a route is a database id (``RowIdConverter``): one past 64 bits
    matches nothing, so it answers 404 before any view or query sees it.
    """
    app.url_map.converters["int"] = RowIdConverter
    for module in (
        login,
        identity_api,
        mfa,
        mfa_api,
        api_tokens,
        user_sessions,
        calendar_views,
        events,
        events_api,
        admin,
        feeds,
        feeds_api,
        alerts,
        alerts_api,
        targets,
        targets_api,
        notifications,
        maps,
        places,
        places_api,
    ):
        app.register_blueprint(module.bp)
    exempt_from_csrf(identity_api.login)
    app.add_url_rule("/api/openapi.json", "openapi", allow(PUBLIC)(_openapi_document))
    app.context_processor(notifications.inbox_context)
    app.context_processor(maps.map_context)
    allow(PUBLIC)(app.view_functions["static"])
    app.context_processor(_page_context)
    for code in (400, 401, 403, 404, 405, 409, 503):
        app.register_error_handler(code, _error_page)
    app.register_error_handler(413, _too_large)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(InputRefused, _input_refused)
    app.register_error_handler(ApiInvalid, _api_invalid)
    app.before_request(_refuse_hostile_input)
    app.after_request(_no_store_when_signed_in)


def _refuse_hostile_input() -> None:
    """The input rules of ``jointops.forms`` for every request, before any view reads it: text
    of query, form and path; a JSON body, which only views that read JSON take."""
    for source in (request.args, request.form):
        for name, value in source.items(multi=True):
            if name not in SECRET_FIELDS:
                check_text(value, name)
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str):
            check_text(value, name)
    if request.is_json and request.get_data(cache=True):
        json_body()
        if not reads_json(current_app.view_functions.get(request.endpoint or "")):
            raise InputRefused("body", "this page takes form fields, not JSON.")


def _no_store_when_signed_in(response: Response) -> Response:
    """What a signed-in user is shown stays out of every cache (browser, proxy, back button),
    and so does what a sign-in waiting for its second factor is shown (a new authenticator
    app's key, passkey challenges); static files and responses that set their own caching (the
    feeds, a database outage's 503) keep it. ``is_anonymous`` and ``waiting`` read nothing of
    the database: after a save's commit, or in an outage, this must not go to it."""
    if (
        request.endpoint != "static"
        and "Cache-Control" not in response.headers
        and (not current_user.is_anonymous or waits_for_second_factor())
    ):
        response.headers["Cache-Control"] = "no-store"
    return response


def _page_context() -> dict[str, Any]:
    now = datetime.now(UTC).astimezone(office_zone())
    return {
        "catalog": catalog,
        "demo_directory": uses_demo_directory(),
        "tz_abbrev": now.tzname(),
        "tz_name": office_zone().key,
        "today": today_local(),
        "me": current_user if current_user.is_authenticated else None,
        "sees_targets": lambda: (
            current_user.is_authenticated
            and may_see_targets(viewer_of(current_user), getattr(current_user.agency, "code", None))
        ),
        "shared_resources": lambda event: shared_resources(current_user, event),
        "not_yet_deconflicted": _not_yet_deconflicted,
        "pending_checks": lambda: (
            pending.visible_pending(current_user) if current_user.is_authenticated else []
        ),
        "precheck_hits": lambda: (
            precheck.recent_hits(current_user) if current_user.is_authenticated else []
        ),
    }


def _not_yet_deconflicted(item_type: str, item_id: int) -> bool:
    """Whether the item awaits its check (one read of the small pending table per request)."""
    if "pending_keys" not in g:
        g.pending_keys = {(r.item_type, r.item_id) for r in pending.all_pending()}
    return (item_type, item_id) in g.pending_keys


MESSAGES = {
    400: "The request could not be understood.",
    401: "Sign in first, or send a valid API token (Authorization: Bearer).",
    403: "You do not have access to this page.",
    404: "There is nothing here, or nothing you may see.",
    405: "That action is not allowed here.",
    409: "That conflicts with something already booked.",
    503: "The directory is unavailable. Try again in a moment.",
}


def _error_page(error: Any) -> tuple[Any, int]:
    code = getattr(error, "code", 500) or 500
    described = getattr(error, "description", None)
    if described == getattr(type(error), "description", None):
        described = None  # werkzeug's generic text; ours says more
    message = described or MESSAGES.get(code, "Something went wrong.")
    if request.path.startswith("/api/"):
        return {"error": message, "status": code}, code
    return render_template("error.html", code=code, message=message), code


#: seconds a client is asked to wait before retrying while the database is unavailable
DATABASE_RETRY_AFTER_S = 5
DATABASE_UNAVAILABLE = "The database is unavailable. Try again in a moment."


def database_unavailable(error: Exception) -> Response:
    """503 with ``Retry-After`` when the database cannot serve (stopped, restarting, out of
    connections): the request may be sent again as it is. JSON on the API, a page elsewhere.

    The page is rendered without the page context, which reads the database (the user, the
    inbox); the answer names no server, query or error of the database.
    """
    current_app.logger.warning(
        "database unavailable: %s %s: %s", request.method, request.path, type(error).__name__
    )
    if request.path.startswith("/api/"):
        response = jsonify(error=DATABASE_UNAVAILABLE, status=503)
    else:
        page = current_app.jinja_env.get_template("unavailable.html").render(
            message=DATABASE_UNAVAILABLE,
            office_name=current_app.config["OFFICE_NAME"],
        )
        response = Response(page, mimetype="text/html")
    response.status_code = 503
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_S)
    response.headers["Cache-Control"] = "no-store"
    return response


def _openapi_document() -> tuple[dict[str, Any], int, dict[str, str]]:
    """The OpenAPI 3.1 document of ``/api/v1/``, public: it is the code's contract, the same
    for every deployment, and holds no data, setting or secret; clients and their generators
    read it before they hold a token."""
    if "openapi" not in current_app.extensions:
        current_app.extensions["openapi"] = build_document(current_app)
    return current_app.extensions["openapi"], 200, {"Cache-Control": "public, max-age=300"}


def _api_invalid(error: ApiInvalid) -> tuple[Any, int]:
    """422 naming each field that does not fit the request's model."""
    return {
        "errors": error.errors,
        "error": "The request does not fit its model.",
        "status": 422,
    }, 422


def _input_refused(error: InputRefused) -> tuple[Any, int]:
    """400 naming the field: in JSON to the API and to the pages' views that read JSON; on
    ``/api/v1/`` 422 with the field's reason under ``errors``, as a request's model answers."""
    if request.path.startswith(API_V1):
        return _api_invalid(ApiInvalid({error.field: [error.reason]}))
    if reads_json(current_app.view_functions.get(request.endpoint or "")):
        return {"error": str(error), "field": error.field, "status": 400}, 400
    return render_template("error.html", code=400, message=str(error)), 400


def _too_large(error: Any) -> tuple[Any, int]:
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    error.description = f"The request is too large: at most {limit // 1024} KB are accepted."
    return _error_page(error)


def _csrf_error(error: CSRFError) -> tuple[Any, int]:
    message = "The form expired or did not come from this site. Reload the page and try again."
    if request.path.startswith("/api/"):
        return {"error": message, "status": 400}, 400
    return render_template("error.html", code=400, message=message), 400
