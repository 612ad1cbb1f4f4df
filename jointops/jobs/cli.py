"""``jointops scheduler``: a dedicated process that competes for the jobs' lease."""

from __future__ import annotations

import signal

import click
from flask import current_app
from flask.cli import with_appcontext

from jointops.jobs.scheduler import SchedulerRunner


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the background jobs in the foreground (competes for the same lease as the workers)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config["SCHEDULER"] == "off":
        raise click.ClickException("JOINTOPS_SCHEDULER=off: this deployment runs no jobs")
    runner = SchedulerRunner(app)
    signal.signal(signal.SIGTERM, lambda *_: runner.stop())
    click.echo(f"scheduler {runner.holder}: competing for the lease (Ctrl-C stops)")
    runner.run_forever()
    click.echo(f"scheduler {runner.holder}: stopped")
