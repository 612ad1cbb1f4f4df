"""``jointops feed-token create|list|revoke``: feed tokens for scripts and administrators."""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from jointops.extensions import db
from jointops.feeds import fetch_counts
from jointops.feeds import tokens as feed_tokens
from jointops.models import FeedToken, User


def _user(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.BadParameter(f"no user {username!r}", param_hint="--user")
    return user


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else "-"


@click.group("feed-token")
def feed_token_group() -> None:
    """Create, list and revoke iCal feed tokens."""


@feed_token_group.command("create")
@click.option("--user", "username", required=True, help="Whose feed (a directory username).")
@click.option("--label", required=True, help="What the token is for, e.g. 'Phone calendar'.")
@click.option(
    "--scope",
    default="personal",
    show_default=True,
    help="personal, team (supervisors) or room:NAME (a room's busy blocks).",
)
@with_appcontext
def create_command(username: str, label: str, scope: str) -> None:
    """Make a feed token and print its URL (shown this once; only its hash is kept)."""
    user = _user(username)
    try:
        token, secret = feed_tokens.create(
            user, label, feed_tokens.resolve_room_name(scope), via="cli"
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(feed_tokens.feed_url(secret))
    click.echo(
        f"token {token.id} for {user.username}, {feed_tokens.describe(token.scope)}; "
        f"webcal: {feed_tokens.webcal_url(secret)}",
        err=True,
    )


@feed_token_group.command("list")
@click.option("--user", "username", required=True, help="A directory username.")
@with_appcontext
def list_command(username: str) -> None:
    """List a user's tokens (never their secrets)."""
    rows = feed_tokens.tokens_of(_user(username))
    click.echo("id\tlabel\tscope\tcreated\tlast used\trevoked")
    for t in rows:
        revoked = f"{_when(t.revoked_at)} ({t.revoke_reason})" if t.revoked_at else "-"
        click.echo(
            f"{t.id}\t{t.label}\t{feed_tokens.describe(t.scope)}\t{_when(t.created_at)}\t"
            f"{_when(t.last_used_at)}\t{revoked}"
        )


@feed_token_group.command("fetches")
@click.argument("token_id", type=int)
@with_appcontext
def fetches_command(token_id: int) -> None:
    """A token's fetches per office day (the audit of served feeds), newest day first."""
    if db.session.get(FeedToken, token_id) is None and not fetch_counts.counts_of(token_id):
        raise click.ClickException(f"no feed token {token_id}")
    click.echo("day	user	served	not modified (304)	first	last")
    for c in fetch_counts.counts_of(token_id):
        click.echo(
            f"{c.day.isoformat()}\t{c.username}\t{c.served}\t{c.not_modified}\t"
            f"{_when(c.first_at)}\t{_when(c.last_at)}"
        )


@feed_token_group.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
def revoke_command(token_id: int) -> None:
    """Revoke a token at once: its feed answers 404 from now on."""
    token = db.session.get(FeedToken, token_id)
    if token is None:
        raise click.ClickException(f"no feed token {token_id}")
    if not feed_tokens.revoke(token, "cli", via="cli"):
        click.echo(f"token {token_id} was already revoked")
        return
    click.echo(f"revoked token {token_id} of {token.user.username}")
