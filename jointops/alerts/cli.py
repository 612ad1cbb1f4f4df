"""``jointops alerts``: the alerts for scripts, as text or JSON."""

from __future__ import annotations

import json
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from jointops import audit
from jointops.alerts.items import load_items
from jointops.alerts.pointer import item_ref
from jointops.extensions import db
from jointops.models import Alert, AlertStatus


def alert_record(alert: Alert, items: dict[Any, Any]) -> dict[str, Any]:
    """One alert for scripts: both parties by agency code and the item's reference."""
    parties = []
    for item_type, item_id, agency in (
        (alert.item_a_type, alert.item_a_id, alert.agency_a),
        (alert.item_b_type, alert.item_b_id, alert.agency_b),
    ):
        parties.append(
            {
                "agency": agency.code,
                "type": item_type,
                "ref": item_ref(item_type, item_id, items.get((item_type, item_id))),
            }
        )
    return {
        "id": alert.id,
        "kind": alert.kind,
        "strength": alert.strength,
        "score": alert.score,
        "explanation": alert.explanation,
        "status": alert.status,
        "outcome": alert.outcome,
        "raised_at": alert.raised_at.isoformat(),
        "parties": parties,
    }


@click.command("alerts")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (for scripts).")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice([s.value for s in AlertStatus]),
    help="Only alerts in this status (repeatable). Default: all.",
)
@with_appcontext
def alerts_command(as_json: bool, statuses: tuple[str, ...]) -> None:
    """List deconfliction alerts, both sides (run on the server: the export is audited)."""
    query = select(Alert).order_by(Alert.id)
    if statuses:
        query = query.where(Alert.status.in_(statuses))
    rows = db.session.scalars(query).all()
    items = load_items(rows)
    records = [alert_record(a, items) for a in rows]
    audit.record_now("alert.export", object_type="alert", alert_ids=[a.id for a in rows], via="cli")
    if as_json:
        click.echo(json.dumps(records, indent=2))
        return
    click.echo("id\tkind\tstatus\tstrength\tscore\tparties\texplanation")
    for r in records:
        parties = " / ".join(f"{p['agency']}:{p['ref']}" for p in r["parties"])
        click.echo(
            f"{r['id']}\t{r['kind']}\t{r['status']}\t{r['strength']}\t{r['score']:.2f}\t"
            f"{parties}\t{r['explanation']}"
        )
