"""``jointops import-targets`` and ``jointops alerts``: targets in bulk, alerts for scripts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from jointops import audit
from jointops.alerts.items import load_items
from jointops.alerts.pointer import item_ref
from jointops.extensions import db
from jointops.models import Alert, AlertStatus
from jointops.targets.importer import ImportRefused, import_targets, resolve_importer


@click.command("import-targets")
@click.option("--agency", "agency_code", required=True, help="The agency's code, e.g. PBSO.")
@click.option(
    "--user", "username", required=True, help="The submitter: an investigator or supervisor."
)
@click.option("--skip-bad", is_flag=True, help="Store the good rows even if some are bad.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_targets_command(agency_code: str, username: str, skip_bad: bool, file: Path) -> None:
    """Import targets from a CSV file; nothing is stored if any row is bad (unless --skip-bad).

    Columns: case_number, target_ref, first_name, last_name, aliases, dob
    (YYYY-MM-DD), phones, emails, plates (STATE:PLATE), vins, addresses,
    handles (platform:handle), businesses, justification. Several values in
    one cell are separated by ";".
    """
    try:
        text = file.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.ClickException(
            f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    try:
        agency, user = resolve_importer(agency_code, username)
        report = import_targets(text, agency, user, skip_bad=skip_bad)
    except ImportRefused as refused:
        raise click.ClickException(str(refused)) from None
    for error in report.errors:
        click.echo(f"{file.name}: {error}", err=True)
    if report.errors and not skip_bad:
        raise click.ClickException(
            f"{len(report.errors)} bad row{'s' if len(report.errors) != 1 else ''} of "
            f"{report.rows}: nothing stored (fix them, or use --skip-bad to store the others)."
        )
    bad = len(report.errors)
    skipped = f", {bad} bad row{'s' if bad != 1 else ''} skipped" if bad else ""
    click.echo(
        f"Stored {len(report.stored)} target{'s' if len(report.stored) != 1 else ''} for "
        f"{agency.code}{skipped}; {report.alerts} new alert{'s' if report.alerts != 1 else ''}."
    )


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
