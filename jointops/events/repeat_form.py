"""The repeat choice of a new event: parsed into a ``recurrence.Rule``, errors by field; and
on an occurrence's edit page, which occurrences the edit changes.

Forms of their own (the event form's CSRF token covers the request), shown by
``templates/_repeat.html`` and ``templates/_scope.html`` inside the event form.
"""

from __future__ import annotations

from datetime import datetime

from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectField
from wtforms.validators import Optional

from calendars.recurrence import (
    MAX_OCCURRENCES,
    REPEAT,
    REPEAT_COUNT,
    REPEAT_UNTIL,
    WEEKDAYS,
    Rule,
    RuleRefused,
    occurrences,
)
from jointops.events.series import FOLLOWING, ONLY_THIS
from jointops.forms import DayField

#: choice -> (FREQ, INTERVAL)
CHOICES = {
    "daily": ("DAILY", 1),
    "weekly": ("WEEKLY", 1),
    "fortnightly": ("WEEKLY", 2),
    "monthly": ("MONTHLY", 1),
}


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

    def rule(self, first: datetime | None) -> Rule | None:
        """The rule chosen for an event starting at ``first`` (office wall clock), or None
        when it does not repeat or an error was put on a field."""
        valid = self.validate()  # a refused field (a choice not offered) keeps its error
        if not valid or not self.wanted or first is None:
            return None
        freq, interval = CHOICES[self.repeat.data]
        by_day = (WEEKDAYS[first.weekday()],) if freq == "WEEKLY" else ()
        if self.repeat_ends.data == "until":
            if self.repeat_until.data is None:
                self.show({REPEAT_UNTIL: ["Give the last day, for example 2027-06-01."]})
                return None
            rule = Rule(freq, interval, by_day, until=self.repeat_until.data)
        elif self.repeat_count.data is None:
            self.show({REPEAT_COUNT: [f"Give a number of times, 2 to {MAX_OCCURRENCES}."]})
            return None
        else:
            rule = Rule(freq, interval, by_day, count=self.repeat_count.data)
        try:
            occurrences(rule, first)  # the bounds, shown with the form's other errors
        except RuleRefused as refused:
            self.show(refused.errors)
            return None
        return rule

    def show(self, errors: dict[str, list[str]]) -> None:
        """Put the rule's errors next to their fields."""
        for key, messages in errors.items():
            field = self[key] if key in (REPEAT, REPEAT_COUNT, REPEAT_UNTIL) else self.repeat
            field.errors = [*field.errors, *(m for m in messages if m not in field.errors)]

    @property
    def has_errors(self) -> bool:
        return any(f.errors for f in self)


class ScopeForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF is untyped
    """Only this occurrence, or this and the following ones (``series.FOLLOWING``)."""

    class Meta:
        csrf = False

    scope = RadioField(
        "Change",
        choices={ONLY_THIS: "Only this occurrence", FOLLOWING: "This and following occurrences"},
        default=ONLY_THIS,
        validators=[Optional()],
    )

    @property
    def following(self) -> bool:
        return bool(self.scope.data == FOLLOWING)

    def show(self, messages: list[str]) -> None:
        self.scope.errors = [*self.scope.errors, *messages]
