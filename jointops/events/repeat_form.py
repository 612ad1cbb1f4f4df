"""The repeat choice of a new event: parsed into a ``recurrence.Rule``, errors by field; and
on an occurrence's edit page, which occurrences the edit changes and, for "this and
following", how often they repeat.

Forms of their own (the event form's CSRF token covers the request), shown by
``templates/_repeat.html`` and ``templates/_scope.html`` inside the event form.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectField
from wtforms.validators import Optional

from calendars.recurrence import (
    MAX_OCCURRENCES,
    REPEAT,
    REPEAT_COUNT,
    REPEAT_UNTIL,
    Rule,
    RuleRefused,
    occurrences,
)
from jointops.events.series import FOLLOWING, ONLY_THIS
from jointops.events.series_rule import RestOfSeries
from jointops.forms import DayField

#: choice -> (frequency, interval), as ``Rule.starting`` takes them
CHOICES = {
    "daily": ("daily", 1),
    "weekly": ("weekly", 1),
    "fortnightly": ("weekly", 2),
    "monthly": ("monthly", 1),
}
#: on an occurrence's edit page, how often its series repeats when no choice above says it
#: (a series made through the API: several weekdays, every third week)
AS_NOW = "as_now"
ANOTHER_RULE_ONLY_FOR_FOLLOWING = (
    "A different repeat changes this and the following occurrences: choose “This and "
    "following occurrences”, or keep the repeat as it is."
)


class RepeatForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF is untyped
    class Meta:
        csrf = False

    repeat = SelectField(
        "How often",
        choices={
            "": "Does not repeat",
            "daily": "Daily",
            "weekly": "Weekly",
            "fortnightly": "Every 2 weeks",
            "monthly": "Monthly",
        },
        default="",
        validators=[Optional()],
    )
    repeat_ends = RadioField(
        "Ends",
        choices={"count": "After a set number of times", "until": "On a date"},
        default="count",
        validators=[Optional()],
    )
    repeat_count = IntegerField(
        "Times",
        default=10,
        validators=[Optional()],
        render_kw={"min": 2, "max": MAX_OCCURRENCES, "inputmode": "numeric"},
    )
    repeat_until = DayField("Until (inclusive)", validators=[Optional()], example="2027-03-13")

    @property
    def wanted(self) -> bool:
        return bool(self.repeat.data)

    @property
    def for_following(self) -> bool:
        """Whether it is an occurrence's "this and following" repeat (``FollowingRepeatForm``)."""
        return False

    def rule(self, first: datetime | None) -> Rule | None:
        """The rule chosen for an event starting at ``first`` (office wall clock), or None
        when it does not repeat or an error was put on a field."""
        valid = self.validate()  # a refused field (a choice not offered) keeps its error
        if not valid or not self.wanted or first is None:
            return None
        rule = self.chosen(first)
        return rule if rule is not None and self.within_bounds(rule, first) else None

    def chosen(self, first: datetime) -> Rule | None:
        """The rule the fields say, bounds unchecked; None with the error on its field."""
        end = self._end()
        if end is None:
            return None
        frequency, interval = CHOICES[self.repeat.data]
        return Rule.starting(first, frequency, interval=interval, count=end[0], until=end[1])

    def _end(self) -> tuple[int | None, date | None] | None:
        """(count, until) as chosen, or None with the error on its field."""
        if self.repeat_ends.data == "until":
            if self.repeat_until.data is None:
                self.show({REPEAT_UNTIL: ["Give the last day, for example 2027-06-01."]})
                return None
            return None, self.repeat_until.data
        if self.repeat_count.data is None:
            self.show({REPEAT_COUNT: [f"Give a number of times, 2 to {MAX_OCCURRENCES}."]})
            return None
        return self.repeat_count.data, None

    def within_bounds(self, rule: Rule, first: datetime) -> bool:
        """The rule's bounds, shown with the form's other errors."""
        try:
            occurrences(rule, first)
        except RuleRefused as refused:
            self.show(refused.errors)
            return False
        return True

    def show(self, errors: dict[str, list[str]]) -> None:
        """Put the rule's errors next to their fields."""
        for key, messages in errors.items():
            field = self[key] if key in (REPEAT, REPEAT_COUNT, REPEAT_UNTIL) else self.repeat
            field.errors = [*field.errors, *(m for m in messages if m not in field.errors)]

    @property
    def has_errors(self) -> bool:
        return any(f.errors for f in self)


def choice_of(rule: Rule, first: datetime) -> str:
    """The choice of ``CHOICES`` that gives ``rule`` from ``first``, else ``AS_NOW``."""
    for key, (frequency, interval) in CHOICES.items():
        if (
            Rule.starting(first, frequency, interval=interval, count=rule.count, until=rule.until)
            == rule
        ):
            return key
    return AS_NOW


class FollowingRepeatForm(RepeatForm):
    """On an occurrence's edit page: how often it and the later occurrences repeat, filled
    with the series' rule from it on (``RestOfSeries``, a count counting from it).

    The page's script sends it only with "This and following occurrences" chosen; a rule
    sent with "Only this occurrence" is ignored when it is the series' own and refused on
    ``repeat`` otherwise. Whether the rule is the series' own is ``RestOfSeries.keeps``'s.
    """

    def __init__(self, rest: RestOfSeries, **kwargs: Any) -> None:
        current = choice_of(rest.rule, rest.slot)
        self.series_values = {
            "repeat": current,
            "ends": "until" if rest.rule.until is not None else "count",
            "count": "" if rest.rule.count is None else str(rest.rule.count),
            "until": "" if rest.rule.until is None else f"{rest.rule.until:%Y-%m-%d}",
        }
        data = {
            "repeat": current,
            "repeat_ends": self.series_values["ends"],
            "repeat_count": rest.rule.count if rest.rule.count is not None else 10,
            "repeat_until": rest.rule.until,
        }
        super().__init__(data=data, **kwargs)
        self.rest = rest
        choices = {k: v for k, v in self.repeat.choices.items() if k}
        if current == AS_NOW:
            every = replace(rest.rule, count=None, until=None).describe(rest.slot)
            choices[AS_NOW] = f"As now: {every}"
        self.repeat.choices = choices
        #: whether a repeat came with the request (a disabled fieldset sends none; a blank
        #: one, as the new event form sends for "Does not repeat", says nothing either)
        self.sent = bool(self.repeat.raw_data) and self.wanted
        if not self.sent:  # shown as the series repeats, never as a choice it did not make
            self.process(formdata=None, data=data)

    @property
    def for_following(self) -> bool:
        return True

    def rule_for(self, first: datetime | None, *, following: bool) -> Rule | None:
        """The rule sent for the occurrences from one starting at ``first`` (office wall
        clock); None when none was sent or an error was put on a field."""
        if not self.sent or first is None or not self.validate():
            return None
        rule = self.chosen(first)
        if rule is None or self.rest.keeps(rule, first):
            return rule
        if not following:
            self.show({REPEAT: [ANOTHER_RULE_ONLY_FOR_FOLLOWING]})
            return None
        return rule if self.within_bounds(rule, first) else None

    def chosen(self, first: datetime) -> Rule | None:
        if self.repeat.data != AS_NOW:
            return super().chosen(first)
        end = self._end()
        if end is None:
            return None
        return replace(self.rest.continued(first), count=end[0], until=end[1])


class ScopeForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF is untyped
    """Only this occurrence, or this and the following ones (``series.FOLLOWING``), and how
    often those repeat (``repeat``)."""

    class Meta:
        csrf = False

    scope = RadioField(
        "Change",
        choices={ONLY_THIS: "Only this occurrence", FOLLOWING: "This and following occurrences"},
        default=ONLY_THIS,
        validators=[Optional()],
    )

    def __init__(self, rest: RestOfSeries, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.repeat = FollowingRepeatForm(rest, **kwargs)

    @property
    def following(self) -> bool:
        return bool(self.scope.data == FOLLOWING)

    def show(self, messages: list[str]) -> None:
        self.scope.errors = [*self.scope.errors, *messages]

    def rule(self, first: datetime | None) -> Rule | None:
        """The repeat sent with the scope (None: the series' rule is kept), for occurrences
        from one starting at ``first``."""
        return self.repeat.rule_for(first, following=self.following)

    @property
    def has_errors(self) -> bool:
        return bool(self.scope.errors) or self.repeat.has_errors
