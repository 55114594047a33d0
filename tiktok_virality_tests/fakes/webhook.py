"""A local HTTP receiver for the outlier alerts' channel (Apprise's ``json://127.0.0.1:PORT/...``):
it keeps the path and JSON body of every POST, and answers 200. Use it as a context manager."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeWebhook(ThreadingHTTPServer):
    """The posts received, as (path, JSON body), in order."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append((self.path, json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                """Quiet: the tests read `posts`."""

        super().__init__(("127.0.0.1", 0), Handler)

    def url(self, path: str) -> str:
        """The Apprise URL posting JSON to `path` here."""
        return f"json://127.0.0.1:{self.server_port}/{path}"

    def __enter__(self) -> FakeWebhook:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
