"""Administration: users as the directory gave them, their locks and live sessions; jobs."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from jointops import audit
from jointops.extensions import db
from jointops.identity import lockout, sessions
from jointops.identity.permissions import allow
from jointops.models import LoginThrottle, User, utcnow

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@allow("admin")
def users() -> str:
    rows = db.session.scalars(select(User).order_by(User.username)).all()
    now = utcnow()
    locks = {
        t.username: t.locked_until
        for t in db.session.scalars(select(LoginThrottle).where(LoginThrottle.locked_until > now))
    }
    show_inactive = request.args.get("inactive") == "1"
    listed = [u for u in rows if u.active or show_inactive]
    return render_template(
        "admin_users.html",
        users=listed,
        locks={u.id: locks.get(lockout.key(u.username)) for u in listed},
        live={u.id: sessions.live_sessions(u) for u in listed},
        show_inactive=show_inactive,
        counts={
            "active": sum(u.active for u in rows),
            "inactive": sum(not u.active for u in rows),
            "locked": len(locks),
        },
    )


def _target(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.post("/users/<int:user_id>/unlock")
@allow("admin")
def unlock(user_id: int) -> Response:
    user = _target(user_id)
    lockout.clear(user.username)
    audit.record(
        "admin.unlock", object_type="user", object_id=user.id, username_target=user.username
    )
    db.session.commit()
    flash(f"Unlocked {user.username}.", "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/end-sessions")
@allow("admin")
def end_sessions(user_id: int) -> Response:
    user = _target(user_id)
    ended = sessions.end_all(user, "ended_by_admin")
    audit.record("admin.end_sessions", object_type="user", object_id=user.id, ended=ended)
    db.session.commit()
    flash(f"Ended {ended} session{'s' if ended != 1 else ''} of {user.username}.", "success")
    return redirect(url_for("admin.users"))


@bp.get("/jobs")
@allow("admin")
def jobs() -> str:
    """Who runs the background jobs, when each runs next, and how the last runs went."""
    from jointops.jobs import lease, scheduler

    now = utcnow()
    row = lease.current()
    return render_template(
        "admin_jobs.html",
        lease=row,
        leading=lease.is_held(row, now),
        mode=current_app.config["SCHEDULER"],
        upcoming=scheduler.next_run_times(current_app.config, now),
        runs=scheduler.last_runs(50),
    )
