"""The ``jointops`` command: Flask's command line with the app's own commands."""

from __future__ import annotations

from datetime import datetime

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext


def init_app(app: Flask) -> None:
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(sync_directory_command)
    from jointops.feeds.cli import feed_token_group

    app.cli.add_command(feed_token_group)
    from jointops.deconflict_cli import alerts_command, import_targets_command

    app.cli.add_command(import_targets_command)
    app.cli.add_command(alerts_command)
    app.cli.add_command(scheduler_command)


@click.command("seed-demo")
@click.option("--reset", is_flag=True, help="Delete all data first, then seed.")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The office date the demo weeks are built around (default: today).",
)
@with_appcontext
def seed_demo_command(reset: bool, today: datetime | None) -> None:
    """Load the demo directory's people, rooms, cases and two weeks of events."""
    from jointops.demo import seed_demo
    from jointops.officetime import today_local

    click.echo(seed_demo(today.date() if today else today_local(), reset=reset))


@click.command("sync-directory")
@with_appcontext
def sync_directory_command() -> None:
    """Mirror agencies and users from the directory; deactivate users who left."""
    from jointops.identity.directory import sync_directory

    report = sync_directory()
    click.echo(
        f"{report.agencies} agencies, {len(report.created)} new users, {report.updated} updated, "
        f"{len(report.deactivated)} deactivated"
        + (f": {', '.join(report.deactivated)}" if report.deactivated else "")
    )


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the background jobs in the foreground (competes for the same lease as the workers)."""
    import signal

    from flask import current_app

    from jointops.jobs.scheduler import SchedulerRunner

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config["SCHEDULER"] == "off":
        raise click.ClickException("JOINTOPS_SCHEDULER=off: this deployment runs no jobs")
    runner = SchedulerRunner(app)
    signal.signal(signal.SIGTERM, lambda *_: runner.stop())
    click.echo(f"scheduler {runner.holder}: competing for the lease (Ctrl-C stops)")
    runner.run_forever()
    click.echo(f"scheduler {runner.holder}: stopped")


def _create_app() -> Flask:
    from jointops.app import create_app

    return create_app()


main = FlaskGroup(create_app=_create_app, help="JointOps: scheduling and deconfliction.")
