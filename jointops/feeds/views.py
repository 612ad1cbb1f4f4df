"""Calendar feeds: the page where users manage their feed tokens, and the feeds themselves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask import request as flask_request
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.http import http_date, is_resource_modified
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from jointops import audit
from jointops.feeds import tokens as feed_tokens
from jointops.feeds.service import serve
from jointops.identity.mfa.totp import qr_svg
from jointops.identity.permissions import PUBLIC, SIGNED_IN, allow
from jointops.models import FeedToken, User

bp = Blueprint("feeds", __name__, url_prefix="/feeds")


class FeedTokenForm(FlaskForm):
    label = StringField(
        "Label",
        validators=[
            DataRequired("Give the feed a label, such as “Work phone”."),
            Length(max=feed_tokens.LABEL_MAX),
        ],
    )
    scope = SelectField("Calendar", validators=[InputRequired()])
    alarm = SelectField(
        "Reminder",
        choices={"": "No reminder"} | {str(m): text for m, text in feed_tokens.ALARMS.items()},
        default="",
    )

    def __init__(self, user: User, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scope.choices = feed_tokens.scope_choices(user)


@dataclass(frozen=True)
class Created:
    """A token just made: the only time its URL can be shown (and its QR code, of ``webcal``)."""

    token: FeedToken
    url: str
    webcal: str
    qr: Markup


def _page(form: FeedTokenForm, created: Created | None = None, status: int = 200) -> Response:
    response = make_response(
        render_template(
            "feeds.html",
            form=form,
            tokens=feed_tokens.tokens_of(current_user),
            created=created,
            describe=feed_tokens.describe,
            max_tokens=feed_tokens.MAX_LIVE_TOKENS,
            alarms=feed_tokens.ALARMS,
        ),
        status,
    )
    response.headers["Cache-Control"] = "no-store"  # the page may hold a new feed's secret
    return response


@bp.get("")
@allow(SIGNED_IN)
def index() -> Response:
    return _page(FeedTokenForm(current_user))


@bp.post("")
@allow(SIGNED_IN)
def create() -> Response:
    form = FeedTokenForm(current_user)
    if not form.validate_on_submit():
        return _page(form, status=400)
    try:
        token, secret = feed_tokens.create(
            current_user,
            form.label.data,
            form.scope.data,
            alarm_minutes=int(form.alarm.data) if form.alarm.data else None,
        )
    except feed_tokens.ScopeError as exc:
        form.scope.errors = [str(exc).capitalize() + "."]
        return _page(form, status=400)
    except ValueError as exc:  # the label, or too many tokens
        field = form.scope if isinstance(exc, feed_tokens.TokenLimit) else form.label
        field.errors = [str(exc).capitalize() + "."]
        return _page(form, status=400)
    root = flask_request.root_url
    webcal = feed_tokens.webcal_url(secret, root)
    created = Created(token, feed_tokens.feed_url(secret, root), webcal, qr_svg(webcal))
    return _page(FeedTokenForm(current_user, formdata=None), created=created, status=201)


@bp.post("/<int:token_id>/revoke")
@allow(SIGNED_IN)
def revoke(token_id: int) -> Response:
    token = feed_tokens.find_token(token_id)
    if token is None or token.user_id != current_user.id:
        audit.record_now(
            "feed_token.revoke", outcome="denied", object_type="feed_token", object_id=token_id
        )
        abort(404)
    if feed_tokens.revoke(token, "revoked by owner", actor=current_user):
        flash(f"Revoked “{token.label}”: its address no longer works.", "success")
    return redirect(url_for("feeds.index"))


@bp.get("/<token>.ics")
@allow(PUBLIC)  # the token in the URL is the capability
def feed(token: str) -> Response:
    reply = serve(
        token,
        lambda etag, modified: is_resource_modified(
            flask_request.environ, etag=etag, last_modified=modified
        ),
    )
    if reply.status in (200, 304):
        response = Response(reply.body or None, status=reply.status)
        if reply.status == 200:
            response.content_type = "text/calendar; charset=utf-8"
            response.headers["Content-Disposition"] = 'inline; filename="jointops.ics"'
        if reply.etag is not None:
            response.headers["ETag"] = reply.etag
        if reply.last_modified is not None:
            response.headers["Last-Modified"] = http_date(reply.last_modified)
        response.headers["Cache-Control"] = "private, no-cache"
    else:
        message = {
            404: "No such feed. It may have been revoked.\n",
            429: "Too many requests for this feed. Try again later.\n",
        }[reply.status]
        response = Response(message, status=reply.status, content_type="text/plain; charset=utf-8")
        response.headers["Cache-Control"] = "no-store"
        if reply.retry_after is not None:
            response.headers["Retry-After"] = str(reply.retry_after)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
