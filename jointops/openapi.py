"""The JSON API's contract: request and response models, and the OpenAPI 3.1 document.

Each view of ``/api/v1/`` says what it takes and answers with ``@operation(...)`` (under its
route, over its ``@allow``): a summary, the model of its JSON body and of its query, and a
model for each status it answers. The document is built from those declarations and the app's
URL map, so it cannot drift from the routes: ``build_document`` walks every ``/api/v1/`` rule
and fails on one without a declaration.

Why pydantic (v2, already a dependency) rather than a Flask-OpenAPI framework: its JSON Schema
is the 2020-12 dialect that OpenAPI 3.1 takes as it is, its validation errors carry each
field's location (the 422 names the field), and it leaves the views plain Flask views, behind
the same ``@allow``, CSRF and input rules as every page.

Bodies are parsed by ``parse_body``: a body that is not a JSON object or fails its model
raises ``ApiInvalid``, which the web layer answers 422 ``{"errors": {"field": ["reason"]}}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, TypeVar

from flask import Flask, request
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.json_schema import models_json_schema

from jointops import idempotency
from jointops.forms import MAX_ID, InputRefused, check_text, json_body
from jointops.officetime import TimeRefused, parse_instant

API_V1 = "/api/v1/"
#: the id columns are 32-bit INTEGER on PostgreSQL: a larger id names nothing
MAX_KEY = MAX_ID
#: the most items one page of a list holds
MAX_LIMIT = 200

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def _text(value: str) -> str:
    try:
        return check_text(value, "")
    except InputRefused as refused:
        raise ValueError(refused.reason) from None


def _instant(value: datetime) -> datetime:
    try:
        return parse_instant(value.isoformat())
    except TimeRefused as refused:
        raise ValueError(str(refused)) from None


#: a date-time with its UTC offset, within the office's calendar (1900 to 2999), in UTC
Instant = Annotated[AwareDatetime, AfterValidator(_instant)]
#: an id of a stored row
Id = Annotated[int, Field(strict=True, ge=1, le=MAX_KEY)]
#: a string without NUL or other control characters (tab and line breaks are text)
Text = Annotated[StrictStr, AfterValidator(_text)]
Flag = StrictBool


def choice(default: Any, allowed: Iterable[str | None], description: str = "") -> Any:
    """A field that takes one of ``allowed`` (``None`` among them when it may be left out),
    checked by ``Body`` and ``Query`` and listed as an ``enum`` in the document."""
    return Field(
        default,
        description=description or None,
        json_schema_extra={"enum": list(allowed)},
    )


class _Choices(BaseModel):
    @field_validator("*")
    @classmethod
    def _one_of(cls, value: Any, info: ValidationInfo) -> Any:
        extra = cls.model_fields[info.field_name or ""].json_schema_extra
        allowed = extra.get("enum") if isinstance(extra, dict) else None
        if isinstance(allowed, list) and value not in allowed:
            shown = ", ".join(str(a) for a in allowed if a is not None)
            raise ValueError(f"expected one of {shown}.")
        return value


class Body(_Choices):
    """A request body: no name it does not know, no value of another type than declared."""

    model_config = ConfigDict(extra="forbid")


class Query(_Choices):
    """A query string; its values arrive as text and are converted to the declared types."""

    model_config = ConfigDict(extra="ignore")


class Paging(Query):
    page: int = Field(1, ge=1, le=100_000, description="Which page, from 1.")
    limit: int = Field(50, ge=1, le=MAX_LIMIT, description="How many items a page holds.")


class PageInfo(BaseModel):
    page: int
    limit: int
    total: int
    next_page: int | None = Field(description="The next page's number, or null on the last.")


def page_of(items: Sequence[T], paging: Paging) -> tuple[Sequence[T], dict[str, Any]]:
    """One page of ``items`` and its ``PageInfo``."""
    first = (paging.page - 1) * paging.limit
    last = first + paging.limit
    info = {
        "page": paging.page,
        "limit": paging.limit,
        "total": len(items),
        "next_page": paging.page + 1 if last < len(items) else None,
    }
    return items[first:last], info


class Problem(BaseModel):
    """Every error that is not about one field: 401, 403, 404, 405, 409, 413, 429, 503."""

    error: str
    status: int
    field: str | None = None


class Invalid(BaseModel):
    """A request that names what was wrong, field by field: 422 when the request does not fit
    its model (types, required, unknown names), 400 when a rule of the service refused it."""

    errors: dict[str, list[str]]
    error: str | None = None
    status: int | None = None
    confirm: list[str] | None = Field(
        None, description="Flags that, sent as true, would confirm some of the errors away."
    )


class ApiInvalid(Exception):
    """Input that does not fit its model: answered 422 with ``errors`` by field."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def errors_of(error: ValidationError) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for item in error.errors(include_url=False, include_input=False):
        name = ".".join(str(part) for part in item["loc"]) or "body"
        message = item["msg"].removeprefix("Value error, ")
        found.setdefault(name, []).append(message)
    return found


def parse_body(model: type[M]) -> M:
    """The request's JSON object as ``model``; ``ApiInvalid`` (422) for anything else."""
    try:
        data = json_body()
    except InputRefused as refused:
        raise ApiInvalid({refused.field: [refused.reason]}) from None
    try:
        return model.model_validate(data)
    except ValidationError as invalid:
        raise ApiInvalid(errors_of(invalid)) from None


def parse_query(model: type[M]) -> M:
    """The query string as ``model`` (each name once); ``ApiInvalid`` (422) otherwise."""
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as invalid:
        raise ApiInvalid(errors_of(invalid)) from None


Responses = Mapping[int, type[BaseModel] | tuple[type[BaseModel], ...]]


@dataclass(frozen=True)
class Operation:
    summary: str
    responses: Responses
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    description: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)
    #: takes an ``Idempotency-Key`` header (``jointops.idempotency``)
    idempotent: bool = False


#: every view declared, whether or not it is routed (the test compares it with the URL map)
REGISTRY: list[Callable[..., Any]] = []


def operation(
    summary: str,
    *,
    responses: Responses,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    description: str = "",
    tag: str = "",
    idempotent: bool = False,
) -> Callable[[F], F]:
    """Declare a ``/api/v1/`` view for the document. Put it under the route, over ``@allow``.

    Every signed-in operation also answers 401 and 503 (and 400 ``Problem`` to a session's
    request that changes something without its CSRF token; 403 where ``@allow`` names roles);
    one with a body or a query answers 422; one with a path id, 404. Those need not be listed.
    """

    def declare(view: F) -> F:
        view.openapi = Operation(  # type: ignore[attr-defined]
            summary=summary,
            responses=responses,
            body=body,
            query=query,
            description=description or (view.__doc__ or "").strip(),
            tags=(tag,) if tag else (),
            idempotent=idempotent,
        )
        REGISTRY.append(view)
        return view

    return declare


def declared(view: Callable[..., Any] | None) -> Operation | None:
    found = getattr(view, "openapi", None)
    return found if isinstance(found, Operation) else None


_ARGUMENT = re.compile(r"<(?:(\w+):)?(\w+)>")
_REF = "#/components/schemas/{model}"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def _path_of(rule: str) -> tuple[str, list[dict[str, Any]]]:
    parameters: list[dict[str, Any]] = []
    for converter, name in _ARGUMENT.findall(rule):
        schema: dict[str, Any] = (
            {"type": "integer", "minimum": 1, "maximum": MAX_KEY}
            if converter == "int"
            else {"type": "string"}
        )
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return _ARGUMENT.sub(r"{\2}", rule), parameters


def _content(models: type[BaseModel] | tuple[type[BaseModel], ...]) -> dict[str, Any]:
    choices = models if isinstance(models, tuple) else (models,)
    refs = [{"$ref": _REF.format(model=m.__name__)} for m in choices]
    schema = refs[0] if len(refs) == 1 else {"anyOf": refs}
    return {"application/json": {"schema": schema}}


def _with_problem(
    models: type[BaseModel] | tuple[type[BaseModel], ...] | None,
) -> tuple[type[BaseModel], ...]:
    found = models if isinstance(models, tuple) else (models,) if models is not None else ()
    return tuple(dict.fromkeys([*found, Problem]))


def _security(access: tuple[str, ...], method: str) -> list[dict[str, list[str]]]:
    if access == ("public",):
        return []
    session: dict[str, list[str]] = {"sessionCookie": []}
    if method not in _SAFE:
        session["csrfToken"] = []
    return [session, {"bearerAuth": []}]


def _not_null(prop: Mapping[str, Any]) -> dict[str, Any]:
    """A query value's schema: text in a URL is never null, so an optional one is left out."""
    schema = {k: v for k, v in prop.items() if k not in ("title", "description")}
    branches = [b for b in schema.pop("anyOf", []) if b.get("type") != "null"]
    if len(branches) == 1:
        schema |= branches[0]
    elif branches:
        schema["anyOf"] = branches
    if schema.get("default", 0) is None:
        del schema["default"]
    if "enum" in schema:
        schema["enum"] = [v for v in schema["enum"] if v is not None]
    return schema


def _query_parameters(model: type[BaseModel], schemas: Mapping[str, Any]) -> list[dict[str, Any]]:
    schema = schemas[model.__name__]
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": _not_null(prop),
            **({"description": prop["description"]} if "description" in prop else {}),
        }
        for name, prop in schema.get("properties", {}).items()
    ]


def _models(operations: list[Operation]) -> list[type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {m.__name__: m for m in (Problem, Invalid)}
    for op in operations:
        for model in (op.body, op.query):
            if model is not None:
                found[model.__name__] = model
        for models in op.responses.values():
            for model in models if isinstance(models, tuple) else (models,):
                if found.setdefault(model.__name__, model) is not model:
                    raise ValueError(f"two response models are named {model.__name__}")
    return list(found.values())


IDEMPOTENCY_KEY = {
    "name": idempotency.HEADER,
    "in": "header",
    "required": False,
    "schema": {"type": "string", "pattern": f"^{idempotency.KEY.pattern}$"},
    "description": (
        "One per intended create (e.g. a UUID): sent again with the same request after a lost "
        "answer, it answers as the first did (header Idempotent-Replayed: true) and saves "
        "nothing; with another request, 422. Kept 24 hours."
    ),
}


def build_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every ``/api/v1/`` route of ``app``."""
    routed: list[tuple[str, str, Callable[..., Any], Operation]] = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(API_V1):
            continue
        view = app.view_functions[rule.endpoint]
        op = declared(view)
        if op is None:
            raise LookupError(f"{rule.rule} ({rule.endpoint}) has no @operation")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routed.append((rule.rule, method, view, op))
    _, top = models_json_schema(
        [(m, "validation") for m in _models([op for *_, op in routed])], ref_template=_REF
    )
    schemas: dict[str, Any] = top.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    for pattern, method, view, op in routed:
        path, parameters = _path_of(pattern)
        if op.query is not None:
            parameters += _query_parameters(op.query, schemas)
        if op.idempotent:
            parameters.append(IDEMPOTENCY_KEY)
        access: tuple[str, ...] = getattr(view, "access", ())
        responses: dict[int, Any] = dict(op.responses)
        if access != ("public",):
            responses.setdefault(401, Problem)
            responses.setdefault(503, Problem)
            if method not in _SAFE:  # a session's request without its CSRF token
                responses[400] = _with_problem(responses.get(400))
            if set(access) - {"signed-in"}:  # roles
                responses.setdefault(403, Problem)
        if op.body is not None or op.query is not None:
            responses.setdefault(422, Invalid)
        if parameters and any(p["in"] == "path" for p in parameters):
            responses.setdefault(404, Problem)
        entry: dict[str, Any] = {
            "operationId": f"{view.__module__.removeprefix('jointops.')}.{view.__name__}".replace(
                ".", "_"
            )
            + f"_{method.lower()}",
            "summary": op.summary,
            "security": _security(access, method),
            "x-allowed": list(access),
            "responses": {
                str(code): {"description": _STATUS_TEXT.get(code, str(code))}
                | {"content": _content(models)}
                for code, models in sorted(responses.items())
            },
        }
        if op.description:
            entry["description"] = op.description
        if op.tags:
            entry["tags"] = list(op.tags)
        if parameters:
            entry["parameters"] = parameters
        if op.body is not None:
            entry["requestBody"] = {"required": True, "content": _content(op.body)}
        paths.setdefault(path, {})[method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "JointOps API",
            "version": "1",
            "description": (
                "Scheduling and deconfliction of the task force office. Sign in with a session "
                "(cookie, and the X-CSRFToken header on every request that changes something) "
                "or send a personal API token as `Authorization: Bearer`. Errors are JSON: "
                "422 names each field that does not fit the request's model, 400 each field a "
                "rule refused; another agency's object answers 404 as a missing one does."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "sessionCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": app.config.get("SESSION_COOKIE_NAME", "session"),
                    "description": "The browser's session, from the sign-in page or "
                    "POST /api/login.",
                },
                "csrfToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-CSRFToken",
                    "description": "The session's CSRF token (POST /api/login answers it), "
                    "on every request of a session that changes something.",
                },
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal API token (Settings → API tokens, or "
                    "`jointops api-token create`); no cookie, no CSRF token.",
                },
            },
        },
    }


_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    400: "A rule refused the request (errors by field)",
    401: "Not signed in, or the API token is not live",
    403: "Not allowed for this user",
    404: "Nothing here, or nothing this user may see",
    409: "Conflicts with something stored",
    422: "The request does not fit its model (errors by field)",
    429: "Too many requests: wait and try again",
    503: "The database or the directory is unavailable: try again",
}
