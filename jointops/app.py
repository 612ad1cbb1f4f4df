"""The application factory: the one place that wires config, extensions, blueprints and commands."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app
from werkzeug.middleware.proxy_fix import ProxyFix

from jointops import officetime, web
from jointops.alerts.cli import alerts_command
from jointops.config import load_config, validate_config
from jointops.demo import seed_demo_command
from jointops.extensions import csrf, db, login_manager, migrate
from jointops.feeds import tokens as feed_tokens
from jointops.feeds.cli import feed_token_group
from jointops.feeds.logredact import install as redact_feed_secrets_in_logs
from jointops.identity import api_tokens, bearer, directory, sessions
from jointops.identity.cli import agency_group, sync_directory_command
from jointops.identity.token_cli import api_token_group
from jointops.jobs.cli import scheduler_command
from jointops.maps.basemap import basemap_of, content_security_policy
from jointops.targets.cli import import_targets_command
from jointops.transactions import UNAVAILABLE, tune_sqlite

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(
        "jointops",
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(load_config(instance_path=app.instance_path))
    if config:
        app.config.update(config)
    validate_config(app.config)
    if app.config["PROXY_HOPS"]:
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            tune_sqlite(db.engine)

    redact_feed_secrets_in_logs(app)
    directory.init_app(app)
    directory.directory_synced.connect(feed_tokens.revoke_of_inactive_users)
    directory.directory_synced.connect(api_tokens.revoke_of_inactive_users)
    sessions.init_app(app)
    bearer.init_app(app)
    web.init_app(app, exempt_from_csrf=csrf.exempt)
    for unavailable in UNAVAILABLE:
        app.register_error_handler(unavailable, web.database_unavailable)
    _register_commands(app)
    _register_template_helpers(app)
    app.after_request(_security_headers(content_security_policy(basemap_of(app.config))))
    return app


def _register_commands(app: Flask) -> None:
    for command in (
        seed_demo_command,
        sync_directory_command,
        agency_group,
        feed_token_group,
        api_token_group,
        import_targets_command,
        alerts_command,
        scheduler_command,
    ):
        app.cli.add_command(command)


def _register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters.update(
        time=officetime.fmt_time,
        clock=officetime.fmt_clock,
        day=officetime.fmt_day,
        datetime=officetime.fmt_datetime,
        local=officetime.to_local,
    )
    app.jinja_env.globals.update(time_range=officetime.fmt_range)


def _security_headers(policy: str) -> Callable[[Response], Response]:
    """The headers of every response; the CSP's only variable part is the configured basemap."""

    def add(response: Response) -> Response:
        headers = response.headers
        if current_app.config["PRODUCTION"]:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        headers.setdefault("Content-Security-Policy", policy)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        return response

    return add
