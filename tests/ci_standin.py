"""A local stand-in for the servers the CI recipes talk to, on 127.0.0.1.

It records every API request (method, path, headers, body) and answers it as GitLab's trigger
API or GitHub's dispatch endpoint would, and it serves git repositories over smart HTTP through
`git http-backend`, behind HTTP basic authentication, as a private repo of a forge is served.
A request the recipes send through a proxy (gh, whose local host name resolves nowhere) arrives
with an absolute URL: its path is what is recorded."""

from __future__ import annotations

import base64
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Request:
    """One request the stand-in received."""

    method: str
    path: str  # as sent, percent-encoding kept
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass
class StandIn:
    """What the stand-in answers, and what it was sent."""

    url: str = ""
    status: int = 204  # the API's answer
    answer: bytes = b""
    git_root: Path | None = None  # bare repos served under /<path>.git/
    password: str = ""  # the git repos' password (any user name: tokens are checked, not users)
    requests: list[Request] = field(default_factory=list)

    def api(self) -> list[Request]:
        return [r for r in self.requests if ".git/" not in r.path]

    def git(self) -> list[Request]:
        return [r for r in self.requests if ".git/" in r.path]

    def users(self) -> set[str]:
        """The user names of the git requests that gave the password."""
        return {user for user, password in map(_basic, self.git()) if password == self.password}


def _basic(request: Request) -> tuple[str, str]:
    """User and password of a request's basic authentication ("" and "" for none)."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Basic":
        return "", ""
    user, _, password = base64.b64decode(encoded).decode().partition(":")
    return user, password


def _handler(state: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: the test reads `state.requests`

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            request = Request(self.command, parts.path, parts.query, dict(self.headers), body)
            state.requests.append(request)
            if ".git/" in parts.path and state.git_root is not None:
                self._git(request)
                return
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(state.answer)))
            self.end_headers()
            self.wfile.write(state.answer)

        def _git(self, request: Request) -> None:
            user, password = _basic(request)
            if not user or password != state.password:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="env repos"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            environ = {
                "GIT_PROJECT_ROOT": str(state.git_root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "PATH_INFO": request.path,
                "QUERY_STRING": request.query,
                "REQUEST_METHOD": request.method,
                "CONTENT_TYPE": request.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(request.body)),
                "HTTP_CONTENT_ENCODING": request.headers.get("Content-Encoding", ""),
                "HTTP_GIT_PROTOCOL": request.headers.get("Git-Protocol", ""),
                "REMOTE_USER": user,
                "PATH": "/usr/bin:/bin",
            }
            done = subprocess.run(
                ["git", "http-backend"], input=request.body, env=environ, capture_output=True,
                timeout=120, check=False,
            )  # fmt: skip
            head, _, payload = done.stdout.partition(b"\r\n\r\n")
            headers = [line.split(b":", 1) for line in head.split(b"\r\n") if b":" in line]
            status = next((int(v.split()[0]) for k, v in headers if k.lower() == b"status"), 200)
            self.send_response(status)
            for key, value in headers:
                if key.lower() != b"status":
                    self.send_header(key.decode(), value.strip().decode())
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _serve

    return Handler


@contextmanager
def standin(state: StandIn | None = None) -> Iterator[StandIn]:
    """The stand-in serving on a free port of 127.0.0.1 for the length of the block."""
    state = state or StandIn()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
