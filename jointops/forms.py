"""What every form shares: parsing helpers and the form that carries only its CSRF token.

Every request's input passes the rules here, whoever reads it: ids are keys of the 32-bit
id columns (``row_id``, and ``RowIdConverter`` for ``<int:...>`` in every route), text carries no
control characters (``check_text``), and a JSON body is an object of bounded depth
holding finite numbers (``json_body``). Each refusal is an ``InputRefused`` naming the
field, which the web layer answers with 400.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import g, request
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from werkzeug.routing import IntegerConverter, Map
from wtforms import DateField
from wtforms.widgets import TextInput

#: the largest key of the id columns, INTEGER (32 bits, signed) on PostgreSQL: a larger one
#: names no row, and PostgreSQL refuses to compare it with the column ("integer out of range")
MAX_ID = 2**31 - 1
#: the largest whole number a JSON body may hold anywhere (64 bits, signed)
MAX_JSON_INT = 2**63 - 1
MAX_JSON_DEPTH = 16
_DIGITS = re.compile(r"[0-9]{1,19}")
#: C0 controls but tab, line feed and carriage return; DEL and C1; lone surrogates
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

View = TypeVar("View", bound=Callable[..., Any])


class InputRefused(ValueError):
    """Input that no route takes: ``field`` names where it was, ``reason`` says why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def row_id(value: Any, field: str) -> int:
    """A database id: a whole number from 1 to ``MAX_ID``, as a JSON number or decimal digits."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    else:
        raise InputRefused(field, "expected an id (a whole number).")
    if not 1 <= number <= MAX_ID:
        raise InputRefused(field, f"expected an id from 1 to {MAX_ID}.")
    return number


def optional_int(value: Any) -> int | None:
    """A select field's id, or None for its empty choice; ``ValueError`` for anything else."""
    if value in (None, "", "None"):
        return None
    return row_id(value, "id")


def _digits_up_to(limit: int) -> str:
    """A pattern of the decimal numbers 1 to ``limit``, without leading zeros."""
    top = str(limit)
    shorter = [f"[1-9][0-9]{{0,{len(top) - 2}}}"] if len(top) > 1 else []
    same = []
    for i, digit in enumerate(top):
        low = 1 if i == 0 else 0
        if int(digit) > low:
            rest = len(top) - i - 1
            same.append(f"{top[:i]}[{low}-{int(digit) - 1}]" + (f"[0-9]{{{rest}}}" if rest else ""))
    return "|".join([*shorter, *same, top])


class RowIdConverter(IntegerConverter):
    """``<int:...>`` in every route: 1 to ``MAX_ID`` in ASCII digits; anything else is a 404.

    The pattern itself holds the range: a path that matches a rule's pattern but not its
    method answers 405, so ``PUT /api/v1/events/0`` (or past ``MAX_ID``) would not answer 404
    if a check after the pattern refused it."""

    regex = f"(?:{_digits_up_to(MAX_ID)})"

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - werkzeug's name
        super().__init__(map, *args, **({"min": 1, "max": MAX_ID} | kwargs))


def check_text(value: str, field: str) -> str:
    """``value`` unless it holds a control character (tab and line breaks are text)."""
    found = _CONTROL.search(value)
    if found is not None:
        raise InputRefused(field, f"contains the control character U+{ord(found.group()):04X}.")
    return value


def parse_json_object(data: bytes | str, *, secret: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A JSON body as a mapping whose every string passes ``check_text`` (but the values of the
    top-level names in ``secret``), every number is finite and fits 64 bits, and which nests at
    most ``MAX_JSON_DEPTH`` levels."""
    try:
        body = json.loads(data)
    except RecursionError:
        raise InputRefused("body", f"nested more than {MAX_JSON_DEPTH} levels deep.") from None
    except ValueError as exc:
        raise InputRefused("body", f"not valid JSON ({str(exc)[:80]}).") from None
    if not isinstance(body, dict):
        raise InputRefused("body", f"expected a JSON object, got {_json_kind(body)}.")
    for name, value in body.items():
        check_text(name, "body")
        if name not in secret:
            _check_json_value(value, name, 1)
    return body


def _json_kind(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "true or false", type(None): "null"}
    return names.get(type(value), "a number")


def _check_json_value(value: Any, field: str, depth: int) -> None:
    if depth > MAX_JSON_DEPTH:
        raise InputRefused(field, f"nested more than {MAX_JSON_DEPTH} levels deep.")
    if isinstance(value, str):
        check_text(value, field)
    elif isinstance(value, float) and not math.isfinite(value):
        raise InputRefused(field, "expected a finite number.")
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_JSON_INT:
        raise InputRefused(field, "a number beyond 64 bits.")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_json_value(item, f"{field}[{index}]", depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, field)
            _check_json_value(item, f"{field}.{key}", depth + 1)


#: fields whose text goes to its own rule unread here: sign-in answers a name or password
#: with a control character as it answers a wrong one, and counts it
SECRET_FIELDS = frozenset({"username", "password"})


def json_body() -> dict[str, Any]:
    """The request's JSON object, parsed once; ``InputRefused`` for anything else."""
    if not request.is_json:
        raise InputRefused("body", "send a JSON object (Content-Type: application/json).")
    if "json_body" not in g:
        g.json_body = parse_json_object(request.get_data(cache=True), secret=SECRET_FIELDS)
    body: dict[str, Any] = g.json_body
    return body


def form_data(body: Mapping[str, Any]) -> MultiDict[str, str]:
    """A JSON object as a form's fields: each value, or list of values, as the text a form
    would have sent (``true``/``false``, numbers in Python's notation); null leaves it out."""
    data: MultiDict[str, str] = MultiDict()
    for name, value in body.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict | list):
                raise InputRefused(name, "expected a value or a list of values.")
            if item is not None:
                data.add(name, _as_text(item))
    return data


def _as_text(value: str | bool | int | float) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else repr(value)


def takes_json(view: View) -> View:
    """Mark a page's view (outside ``/api/``) as one that reads a JSON body itself; other pages
    take form fields only, as a form read from JSON would see values of any type."""
    view.takes_json = True  # type: ignore[attr-defined]
    return view


def reads_json(view: Callable[..., Any] | None) -> bool:
    return request.path.startswith("/api/") or bool(getattr(view, "takes_json", False))


class CsrfOnlyForm(FlaskForm):
    """Only the CSRF token: for buttons that need no input."""


class DayField(DateField):
    """A day typed as ``YYYY-MM-DD`` in a text box, as every date of the app is written.

    Not the browser's date input, which shows the browser's locale (``mm/dd/yyyy`` in the
    United States) and so reads a date of birth differently from every other date.
    """

    widget = TextInput()

    def __init__(self, label: str, validators: Any = None, *, example: str, **kwargs: Any) -> None:
        render_kw = {
            "placeholder": "YYYY-MM-DD",
            "pattern": r"\s*\d{4}-\d{2}-\d{2}\s*",
            "autocomplete": "off",
        } | (kwargs.pop("render_kw", None) or {})
        super().__init__(label, validators, format="%Y-%m-%d", render_kw=render_kw, **kwargs)
        self.example = example

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata([str(v).strip() for v in valuelist])
        except ValueError:
            raise ValueError(f"Type the date as YYYY-MM-DD, for example {self.example}.") from None
