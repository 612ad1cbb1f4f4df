"""The workflow: each side acknowledges, then a supervisor or the deconfliction officer resolves."""

from __future__ import annotations

from jointops import audit
from jointops.alerts.items import AlertActionRefused, load_items
from jointops.alerts.notices import notify
from jointops.alerts.pointer import view_alert
from jointops.extensions import db
from jointops.models import (
    Alert,
    AlertOutcome,
    AlertStatus,
    User,
    utcnow,
)
from jointops.transactions import unit_of_work


def acknowledge(alert_id: int, user: User) -> list[str]:
    """Acknowledge the viewer's side(s); both acknowledged moves the alert on. Returns the
    agency codes acknowledged for."""
    with unit_of_work():
        alert = db.session.get(Alert, alert_id, populate_existing=True)
        view_items = load_items([alert]) if alert else {}
        view = view_alert(alert, user, view_items) if alert else None
        if alert is None or view is None:
            raise AlertActionRefused("There is nothing here, or nothing you may see.", 404)
        sides = [s for s in (view.a, view.b) if s.can_ack]
        if not sides:
            if not alert.is_active:
                raise AlertActionRefused(f"This alert is already {alert.status}.")
            if not any(s.own and s.agency.id == user.agency_id for s in (view.a, view.b)):
                raise AlertActionRefused(
                    f"Only {alert.agency_a.code} and {alert.agency_b.code} acknowledge this alert, "
                    "each for its own side."
                )
            raise AlertActionRefused("Your side has already acknowledged this alert.")
        now = utcnow()
        for s in sides:
            if s.key == "a":
                alert.acked_a_at, alert.acked_a_by_id = now, user.id
            else:
                alert.acked_b_at, alert.acked_b_by_id = now, user.id
        if alert.acked_a_at and alert.acked_b_at and alert.status == AlertStatus.OPEN:
            alert.status = AlertStatus.ACKNOWLEDGED.value
        alert.updated_at = now
        codes = [s.agency.code for s in sides]
        audit.record(
            "alert.acknowledge", object_type="alert", object_id=alert.id, actor=user, sides=codes
        )
        # the other side learns its counterpart has seen it; supervisors, that both are ready
        notify(alert, view_items, "acknowledged", besides=user.id)
    return codes


def resolve(alert_id: int, user: User, outcome: str, note: str) -> Alert:
    """Close the alert with what was agreed; only once both sides have acknowledged."""
    if outcome not in {o.value for o in AlertOutcome}:
        raise AlertActionRefused(f"Unknown outcome {outcome!r}.", 400)
    with unit_of_work():
        alert = db.session.get(Alert, alert_id, populate_existing=True)
        items = load_items([alert]) if alert else {}
        view = view_alert(alert, user, items) if alert else None
        if alert is None or view is None:
            raise AlertActionRefused("There is nothing here, or nothing you may see.", 404)
        if not alert.is_active:
            raise AlertActionRefused(f"This alert is already {alert.status}.")
        if not view.can_resolve:
            raise AlertActionRefused(
                "Only a supervisor of either side or a deconfliction officer resolves an alert.",
                403,
            )
        if view.waiting_for:
            names = " and ".join(s.agency.code for s in view.waiting_for)
            raise AlertActionRefused(
                f"Both sides acknowledge before an alert is resolved: waiting for {names}."
            )
        now = utcnow()
        alert.status = AlertStatus.RESOLVED.value
        alert.outcome = outcome
        alert.resolution_note = note
        alert.resolved_by_id = user.id
        alert.resolved_at = now
        alert.updated_at = now
        audit.record(
            "alert.resolve",
            object_type="alert",
            object_id=alert.id,
            actor=user,
            outcome_code=outcome,
            note=note,
        )
        notify(alert, items, "resolved")
    return alert
