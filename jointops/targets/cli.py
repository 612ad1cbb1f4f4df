"""``jointops import-targets``: an agency's targets in bulk from a CSV file."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from jointops.targets.importer import (
    ImportRefused,
    Progress,
    import_targets,
    resolve_importer,
)


@contextmanager
def progress_bar() -> Iterator[Progress | None]:
    """A bar on stderr of the targets deconflicted so far, on a terminal only (a script's
    output stays as it was)."""
    if not sys.stderr.isatty():
        yield None
        return
    bar: Any = None

    def advance(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label="Deconflicting", file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)

    try:
        yield advance
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


@click.command("import-targets")
@click.option("--agency", "agency_code", required=True, help="The agency's code, e.g. PBSO.")
@click.option(
    "--user", "username", required=True, help="The submitter: an investigator or supervisor."
)
@click.option("--skip-bad", is_flag=True, help="Store the good rows even if some are bad.")
@click.option(
    "--create-cases",
    is_flag=True,
    help="Create the agency's cases the file names and it lacks (titled with their number).",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_targets_command(
    agency_code: str, username: str, skip_bad: bool, create_cases: bool, file: Path
) -> None:
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
        with progress_bar() as progress:
            report = import_targets(
                text,
                agency,
                user,
                skip_bad=skip_bad,
                create_cases=create_cases,
                progress=progress,
            )
    except ImportRefused as refused:
        raise click.ClickException(str(refused)) from None
    for error in report.errors:
        click.echo(f"{file.name}: {error}", err=True)
    for warning in report.warnings:
        click.echo(f"{file.name}: {warning} (a warning: the row is not refused for it)")
    if report.errors and not skip_bad:
        raise click.ClickException(
            f"{len(report.errors)} bad row{'s' if len(report.errors) != 1 else ''} of "
            f"{report.rows}: nothing stored (fix them, or use --skip-bad to store the others)."
        )
    bad = len(report.errors)
    skipped = f", {bad} bad row{'s' if bad != 1 else ''} skipped" if bad else ""
    warned = len(report.warnings)
    warnings = f"; {warned} warning{'s' if warned != 1 else ''} (listed above)" if warned else ""
    new = len(report.new_cases)
    cases = (
        f"; created {new} case{'s' if new != 1 else ''}: {', '.join(report.new_cases)}"
        if new
        else ""
    )
    click.echo(
        f"Stored {len(report.stored)} target{'s' if len(report.stored) != 1 else ''} for "
        f"{agency.code}{skipped}{cases}; {report.alerts} new "
        f"alert{'s' if report.alerts != 1 else ''}{warnings}."
    )
