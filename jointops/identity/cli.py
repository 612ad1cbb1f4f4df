"""``jointops sync-directory``: mirror the directory now, as the job does every few minutes."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

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
