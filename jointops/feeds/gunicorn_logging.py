"""gunicorn's logger with feed secrets scrubbed (``logger_class`` in gunicorn.conf.py).

Every string that the access log format may print (the request line, the
path, the environ and the headers) goes through ``scrub``, and the error log
gets the same filter as the app's log.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from jointops.feeds.logredact import attach, scrub_value


class RedactingLogger(Logger):  # type: ignore[misc]
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        attach(self.error_log)
        attach(self.access_log)

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: scrub_value(value) for key, value in atoms.items()}
