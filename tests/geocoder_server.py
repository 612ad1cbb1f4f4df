"""A local HTTP server that plays a geocoder: records each request, answers as told."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Request:
    path: str
    params: dict[str, str]


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"[]"
    #: seconds to wait before answering (a geocoder that hangs)
    delay: float = 0.0

    @classmethod
    def json(cls, value: Any, status: int = 200) -> Answer:
        return cls(status, json.dumps(value).encode())


@dataclass
class FakeGeocoder:
    url: str
    requests: list[Request] = field(default_factory=list)
    answer: Callable[[Request], Answer] = lambda _: Answer()


@contextmanager
def serve(answer: Callable[[Request], Answer] | None = None) -> Iterator[FakeGeocoder]:
    """A server on a free loopback port; ``fake.answer`` may be replaced while it runs."""
    released = threading.Event()
    fake = FakeGeocoder(url="")
    if answer is not None:
        fake.answer = answer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            parts = urlsplit(self.path)
            request = Request(
                parts.path,
                {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
            )
            fake.requests.append(request)
            reply = fake.answer(request)
            if reply.delay:
                released.wait(reply.delay)
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass

    server = Server(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        released.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
