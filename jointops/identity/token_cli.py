"""``jointops api-token create|list|revoke``: personal API tokens for scripts."""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from jointops.extensions import db
from jointops.identity import api_tokens
from jointops.models import User, utcnow


def _user(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.BadParameter(f"no user {username!r}", param_hint="--user")
    return user


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else "-"


@click.group("api-token")
def api_token_group() -> None:
    """Create, list and revoke personal API tokens (sent as Authorization: Bearer)."""


@api_token_group.command("create")
@click.option("--user", "username", required=True, help="Whose token (a directory username).")
@click.option("--label", required=True, help="What the token is for, e.g. 'Nightly import'.")
@click.option(
    "--expires",
    "days",
    type=int,
    default=None,
    help="Days until it expires (default and most: JOINTOPS_API_TOKEN_MAX_DAYS).",
)
@with_appcontext
def create_command(username: str, label: str, days: int | None) -> None:
    """Make a token and print it (shown this once; only its hash is kept)."""
    user = _user(username)
    try:
        made = api_tokens.create(user, label, days, via="cli")
    except api_tokens.TokenRefused as exc:
        hint = f"--{exc.field.replace('_days', '')}" if exc.field else None
        raise click.BadParameter(str(exc), param_hint=hint) from exc
    click.echo(made.secret)
    click.echo(
        f"token {made.token.id} for {user.username}, expires {_when(made.token.expires_at)}",
        err=True,
    )


@api_token_group.command("list")
@click.option("--user", "username", required=True, help="A directory username.")
@with_appcontext
def list_command(username: str) -> None:
    """List a user's tokens (never the tokens themselves)."""
    now = utcnow()
    click.echo("id\tlabel\tcreated\texpires\tlast used\tstatus")
    for t in api_tokens.tokens_of(_user(username)):
        status = api_tokens.status(t, now)
        if t.revoked_at is not None:
            status += f" {_when(t.revoked_at)} ({t.revoke_reason})"
        click.echo(
            f"{t.id}\t{t.label}\t{_when(t.created_at)}\t{_when(t.expires_at)}\t"
            f"{_when(t.last_used_at)}\t{status}"
        )


@api_token_group.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
def revoke_command(token_id: int) -> None:
    """Revoke a token at once: requests with it answer 401 from now on."""
    token = api_tokens.find_token(token_id)
    if token is None:
        raise click.ClickException(f"no API token {token_id}")
    if not api_tokens.revoke(token, "cli", via="cli"):
        click.echo(f"token {token_id} was already revoked")
        return
    click.echo(f"revoked token {token_id} of {token.user.username}")
