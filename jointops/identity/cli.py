"""``jointops sync-directory``: mirror the directory now, as the job does every few minutes;
``jointops agency add|list``: agencies kept in JointOps."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from auth.directory import AGENCY_KINDS
from jointops.identity.agencies import AgencyErrors, add_agency, all_agencies
from jointops.identity.directory import sync_directory


@click.command("sync-directory")
@with_appcontext
def sync_directory_command() -> None:
    """Mirror agencies and users from the directory; deactivate users who left."""
    report = sync_directory()
    click.echo(
        f"{report.agencies} agencies, {len(report.created)} new users, {report.updated} updated, "
        f"{len(report.deactivated)} deactivated"
        + (f": {', '.join(report.deactivated)}" if report.deactivated else "")
    )


@click.group("agency")
def agency_group() -> None:
    """Agencies kept in JointOps, for a directory without agency entries."""


#: how each field of the agency rules is called on the command line
AGENCY_PARAMS = {"code": "CODE", "name": "--name", "kind": "--kind"}


@agency_group.command("add")
@click.argument("code")
@click.option("--name", required=True, help="The full name, e.g. 'Palm Beach County Sheriff'.")
@click.option("--kind", required=True, help=f"One of {', '.join(AGENCY_KINDS)}.")
@with_appcontext
def agency_add_command(code: str, name: str, kind: str) -> None:
    """Add an agency: CODE is what users carry in the directory (PBSO, SAO15)."""
    try:
        agency = add_agency(code, name, kind)
    except AgencyErrors as refused:
        raise click.ClickException(
            "; ".join(
                f"{AGENCY_PARAMS.get(field, field)}: {' '.join(messages)}"
                for field, messages in refused.errors.items()
            )
        ) from None
    click.echo(f"Added agency {agency.code} ({agency.name}, {agency.kind}).")


@agency_group.command("list")
@with_appcontext
def agency_list_command() -> None:
    """Every agency, whether from the directory or added here."""
    for agency in all_agencies():
        click.echo(f"{agency.code}\t{agency.kind}\t{agency.source}\t{agency.name}")
