"""The calendar's search: words matched, ignoring case and accents, in what a viewer reads.

An event matches only when the viewer sees it in full, and then only on what the event's own
page shows them (title, case, subtype, rooms and resources, client code, notes). A busy
block matches on nothing: its hidden title is never compared, so that a query equal to another
agency's covert operation answers exactly as a nonsense one. The policy decides who sees what
before any word is compared.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from jointops.catalog import KIND_LABELS, subtype_label
from jointops.events.calendar_data import SEARCH_WINDOW, Choices, Shown, window
from jointops.officetime import local_day_bounds

#: the longest query taken (a case number or a title's words need far fewer)
MAX_QUERY = 100
#: how far the search looks around the day it starts from
DAYS_BACK = 90
DAYS_AHEAD = 365
#: matches shown at most; more are counted and the page says so
MAX_MATCHES = 200

#: the page's filters, as ``calendar_views.Filters.keep``
Filter = Callable[[Shown], bool]


class QueryRefused(ValueError):
    """The query cannot be searched; the message names the field."""


@dataclass(frozen=True)
class Found:
    """The matches shown (the first :data:`MAX_MATCHES`), how many there were, and the window."""

    shown: list[Shown]
    total: int
    first: date
    days: int

    @property
    def capped(self) -> bool:
        return self.total > len(self.shown)


def folded(text: str) -> str:
    """``text`` without case or accents: "Éléna" and "elena" fold alike."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def query_words(raw: str) -> tuple[str, ...]:
    """The words of a query, folded; none for a blank one. Raises :class:`QueryRefused`."""
    text = raw.strip()
    if len(text) > MAX_QUERY:
        raise QueryRefused(f"q: at most {MAX_QUERY} characters.")
    return tuple(dict.fromkeys(folded(text).split()))


def searched_text(shown: Shown) -> str:
    """What a match is looked for in, folded: only of an event the viewer sees in full."""
    if not shown.full:
        return ""
    event = shown.event
    fields = [
        event.title,
        KIND_LABELS[event.kind],
        subtype_label(event.kind, event.subtype),
        event.client_code or "",
        event.notes or "",
        *(b.resource.name for b in event.bookings if b.active),
    ]
    if event.case_number is not None:
        fields += [event.case_number, event.case_title or ""]
    return folded("\n".join(fields))


def matches(words: tuple[str, ...], shown: Shown) -> bool:
    """Every word is found in what the viewer sees of the event (busy blocks: never)."""
    text = searched_text(shown)
    return bool(text) and all(word in text for word in words)


def search(choices: Choices, words: tuple[str, ...], around: date, keep: Filter) -> Found:
    """The events the viewer sees in full whose text holds every word, from
    :data:`DAYS_BACK` days before ``around`` to :data:`DAYS_AHEAD` after, that ``keep``
    (the page's filters) keeps; in time order."""
    first = around - timedelta(days=DAYS_BACK)
    days = DAYS_BACK + DAYS_AHEAD + 1
    start, end = local_day_bounds(first, days)
    found = [
        s for s in window(choices, start, end, query=SEARCH_WINDOW) if matches(words, s) and keep(s)
    ]
    return Found(shown=found[:MAX_MATCHES], total=len(found), first=first, days=days)
