"""The harness of the hostile-input suite: the generator run as a user runs it, in a subprocess
with a deadline (a hang fails the test) and an address-space limit (a bomb fails the test), with
a private HOME and TMPDIR, every proxy variable pointing to a local recording proxy, and a
snapshot of the folders it must not write into.

Not a test file: `test_hostile_suite.py` builds the inputs and states what each case expects.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import select
import signal
import socket
import socketserver
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import GIT_IDENTITY

GIB = 1024**3
DEFAULT_TIMEOUT = 60  # seconds for one run of the generator; past it the test fails as a hang
DEFAULT_ADDRESS_SPACE = 2 * GIB
_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "FTP_PROXY")
_CLEARED = ("NO_PROXY", "no_proxy", "KUBECONFIG", "XDG_CONFIG_HOME", "XDG_CACHE_HOME",
            "XDG_DATA_HOME", "GIT_DIR", "GIT_WORK_TREE", "GIT_CONFIG_GLOBAL")  # fmt: skip


# -- the recording proxy ---------------------------------------------------------------------


def _relay(one: socket.socket, other: socket.socket, stop: threading.Event, limit: float) -> None:
    """Copy bytes both ways until either side closes, the proxy stops, or `limit` seconds."""
    deadline = time.monotonic() + limit
    sockets = [one, other]
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            readable, _, broken = select.select(sockets, [], sockets, 0.2)
        except (OSError, ValueError):
            return
        if broken:
            return
        for source in readable:
            try:
                data = source.recv(65536)
            except OSError:
                return
            if not data:
                return
            try:
                (other if source is one else one).sendall(data)
            except OSError:
                return


class _ProxyHandler(socketserver.BaseRequestHandler):
    server: _ProxyServer

    def handle(self) -> None:
        client: socket.socket = self.request
        client.settimeout(30)
        head = b""
        try:
            while b"\r\n\r\n" not in head and len(head) < 256 * 1024:
                chunk = client.recv(65536)
                if not chunk:
                    return
                head += chunk
        except OSError:
            return
        header, _, rest = head.partition(b"\r\n\r\n")
        lines = header.decode("latin-1").split("\r\n")
        try:
            method, target, _version = lines[0].split(" ", 2)
        except ValueError:
            self._refuse(client, "400 Bad Request")
            return
        if method.upper() == "CONNECT":
            host, _, port_text = target.rpartition(":")
            port = int(port_text) if port_text.isdigit() else 443
            self.server.proxy.record(host, port)
            if not self.server.proxy.allows(host, port):
                self._refuse(client, "403 Forbidden")
                return
            with self._upstream(port) as upstream:
                if upstream is None:
                    self._refuse(client, "502 Bad Gateway")
                    return
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                if rest:
                    upstream.sendall(rest)
                _relay(client, upstream, self.server.proxy.stopping, 300)
            return
        parts = urlsplit(target)
        if not parts.scheme or not parts.hostname:
            self._refuse(client, "400 Bad Request")
            return
        default = {"http": 80, "https": 443, "ftp": 21}.get(parts.scheme.lower(), 0)
        try:
            port = parts.port or default
        except ValueError:
            port = default
        self.server.proxy.record(parts.hostname, port)
        if parts.scheme.lower() != "http" or not self.server.proxy.allows(parts.hostname, port):
            self._refuse(client, "403 Forbidden")
            return
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        headers = [
            line for line in lines[1:]
            if not line.lower().startswith(("proxy-", "connection:", "keep-alive:"))
        ]  # fmt: skip
        request = "\r\n".join([f"{method} {path} HTTP/1.1", *headers, "Connection: close"])
        with self._upstream(port) as upstream:
            if upstream is None:
                self._refuse(client, "502 Bad Gateway")
                return
            upstream.sendall(request.encode("latin-1") + b"\r\n\r\n" + rest)
            _relay(client, upstream, self.server.proxy.stopping, 300)

    @contextlib.contextmanager
    def _upstream(self, port: int) -> Iterator[socket.socket | None]:
        try:
            upstream = socket.create_connection(("127.0.0.1", port), timeout=10)
        except OSError:
            yield None
            return
        try:
            yield upstream
        finally:
            upstream.close()

    @staticmethod
    def _refuse(client: socket.socket, status: str) -> None:
        with contextlib.suppress(OSError):
            client.sendall(
                f"HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
            )


class _ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    proxy: RecordingProxy

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that went away is no news


class RecordingProxy:
    """An HTTP proxy on 127.0.0.1 that records every host:port asked for and forwards only to
    the allowed ports of 127.0.0.1 (the test's own bundle servers); anything else gets a 403."""

    def __init__(self) -> None:
        self.requested: list[str] = []
        self.allowed_ports: set[int] = set()
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._server = _ProxyServer(("127.0.0.1", 0), _ProxyHandler)
        self._server.proxy = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def record(self, host: str, port: int) -> None:
        host = host.strip("[]").lower()
        with self._lock:
            self.requested.append(f"{host}:{port}")

    def allows(self, host: str, port: int) -> bool:
        return host.strip("[]") == "127.0.0.1" and port in self.allowed_ports

    def allow(self, port: int) -> str:
        """Let requests reach 127.0.0.1:port; returns the host:port as the proxy records it."""
        self.allowed_ports.add(port)
        return f"127.0.0.1:{port}"

    def env(self) -> dict[str, str]:
        """The variables that send urllib, git (libcurl) and kubectl through this proxy."""
        values = {}
        for name in _PROXY_VARIABLES:
            values[name] = values[name.lower()] = self.url
        return values

    def start(self) -> RecordingProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


@contextlib.contextmanager
def recording_proxy() -> Iterator[RecordingProxy]:
    proxy = RecordingProxy().start()
    try:
        yield proxy
    finally:
        proxy.stop()


def assert_requests_within(proxy: RecordingProxy, configured: set[str]) -> None:
    """Every host:port the proxy was asked for is one the case configured."""
    outside = sorted(set(proxy.requested) - configured)
    assert not outside, f"requests outside the configured hosts {sorted(configured)}: {outside}"


# -- bundle servers on 127.0.0.1 -------------------------------------------------------------


class _BundleHandler(http.server.BaseHTTPRequestHandler):
    server: _BundleHTTPServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        bundle = self.server.bundle
        with bundle.lock:
            bundle.paths.append(self.path)
        mode = bundle.mode
        if mode == "files":
            data = bundle.files.get(self.path.split("?", 1)[0])
            if data is None:
                self._status(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/gzip")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        elif mode in ("404", "500"):
            self._status(int(mode))
        elif mode == "hang":  # reads the request, never answers
            bundle.stopping.wait(300)
            self.close_connection = True
        elif mode == "reset":  # a TCP reset instead of an answer
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
        elif mode == "trickle":  # a byte a second of a long body
            self.send_response(200)
            self.send_header("Content-Type", "application/gzip")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.flush()
            for _ in range(100000):
                if bundle.stopping.wait(1.0):
                    break
                try:
                    self.wfile.write(b"\x1f")
                    self.wfile.flush()
                except OSError:
                    break
            self.close_connection = True
        elif mode == "redirect":
            self.send_response(302)
            self.send_header("Location", bundle.location)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:  # pragma: no cover - a mode the suite does not know
            self._status(400)

    def _status(self, code: int) -> None:
        body = f"status {code}\n".encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _BundleHTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    bundle: BundleServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


@dataclass
class BundleServer:
    """A server of bundles on 127.0.0.1 that misbehaves as `mode` says: files, 404, 500, hang,
    reset, trickle, redirect (to `location`)."""

    mode: str = "files"
    files: dict[str, bytes] = field(default_factory=dict)
    location: str = ""
    paths: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    _server: _BundleHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> BundleServer:
        self._server = _BundleHTTPServer(("127.0.0.1", 0), _BundleHandler)
        self._server.bundle = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)


# -- the file system snapshot ----------------------------------------------------------------


def snapshot(roots: list[Path], exclude: list[Path]) -> set[str]:
    """Every file, folder and link under `roots` (links not followed), but under `exclude`."""
    skipped = {os.path.realpath(p) for p in exclude}
    seen: set[str] = set()
    for root in roots:
        for folder, dirs, files in os.walk(root, followlinks=False):
            real = os.path.realpath(folder)
            dirs[:] = [d for d in dirs if os.path.realpath(os.path.join(real, d)) not in skipped]
            for name in dirs + files:
                if os.path.join(real, name) not in skipped:
                    seen.add(os.path.join(real, name))
    return seen


def assert_nothing_new(before: set[str], after: set[str], where: str) -> None:
    new = sorted(after - before)
    assert not new, (
        f"new files under {where} (only the output and cache folders may grow): {new[:20]}"
    )


# -- running the generator -------------------------------------------------------------------


@dataclass
class Run:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def json(self) -> Any:
        try:
            return json.loads(self.stdout)
        except ValueError:
            pytest.fail(
                f"{' '.join(self.args)} printed no JSON:\n{self.stdout[:2000]}\n{self.stderr[-2000:]}"
            )


# The limit is set in the child before it becomes the generator: a `-c` prologue that sets
# RLIMIT_AS and execs. (A `preexec_fn` would run Python between fork and exec, which is not safe
# while other threads run: the proxy's, the bundle servers', and the other cases'.)
_LIMITED = (
    "import os, resource, sys; n = int(sys.argv[1]); "
    "resource.setrlimit(resource.RLIMIT_AS, (n, n)); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[2:]])"
)


def run_generator(
    args: list[str],
    cwd: Path,
    env_extra: dict[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    address_space: int = DEFAULT_ADDRESS_SPACE,
) -> Run:
    """`python -m generator ARGS` in `cwd`, in its own session and process group, under an
    address-space limit (RLIMIT_AS) and a deadline. A run past the deadline fails the test as a hang (its whole process
    group killed); one that runs out of memory or dies of a signal fails it as a bomb; a
    Python traceback in its output fails it too. `env_extra` should give HOME, TMPDIR and the
    proxy variables (see `Sandbox.env`)."""
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    env.update(
        {**GIT_IDENTITY, "NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1", "LC_ALL": "C.UTF-8"}
    )
    env.update(env_extra or {})
    command = [sys.executable, "-c", _LIMITED, str(address_space), "-m", "generator", *args]
    started = time.monotonic()
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        pytest.fail(
            f"hang: `{' '.join(args)}` did not finish in {timeout} s\n"
            f"stderr (end): {err.decode('utf-8', 'replace')[-3000:]}"
        )
    finally:  # anything the run left behind in its group (a git, a kustomize) goes with it
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    seconds = time.monotonic() - started
    stdout = out.decode("utf-8", "replace")
    stderr = err.decode("utf-8", "replace")
    if "MemoryError" in stderr or "MemoryError" in stdout:
        pytest.fail(
            f"bomb: `{' '.join(args)}` ran out of its {address_space // GIB} GiB address space\n"
            f"{stderr[-3000:]}"
        )
    if process.returncode < 0:
        pytest.fail(
            f"bomb or crash: `{' '.join(args)}` was killed by signal {-process.returncode} "
            f"(address-space limit {address_space // GIB} GiB)\n{stderr[-3000:]}"
        )
    for name, text in (("stderr", stderr), ("stdout", stdout)):
        assert "Traceback" not in text, (
            f"traceback on {name} of `{' '.join(args)}`:\n{text[-4000:]}"
        )
    return Run(args, process.returncode, stdout, stderr, seconds)


@dataclass
class Sandbox:
    """One case's world: the config's folder, a private HOME and TMPDIR, the output folder, the
    recording proxy and the bundle servers; and what it looked like before the run."""

    base: Path
    proxy: RecordingProxy
    servers: list[BundleServer] = field(default_factory=list)
    configured: set[str] = field(default_factory=set)  # host:port the case allows
    before: set[str] = field(default_factory=set)

    @property
    def root(self) -> Path:
        return self.base / "config"

    @property
    def home(self) -> Path:
        return self.base / "home"

    @property
    def tmp(self) -> Path:
        return self.base / "tmp"

    @property
    def out(self) -> Path:
        return self.base / "out"

    @property
    def cache(self) -> Path:
        return self.root / ".cache"

    def make(self) -> Sandbox:
        for folder in (self.root, self.home, self.tmp):
            folder.mkdir(parents=True, exist_ok=True)
        return self

    def server(self, mode: str = "files", **keys: Any) -> BundleServer:
        """A bundle server the config allows: the proxy forwards to it and the case expects it."""
        server = BundleServer(mode, **keys).start()
        self.servers.append(server)
        self.configured.add(self.proxy.allow(server.port))
        return server

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        home, tmp = str(self.home), str(self.tmp)
        return {"HOME": home, "TMPDIR": tmp, "TMP": tmp, "TEMP": tmp, **self.proxy.env(),
                **(extra or {})}  # fmt: skip

    def watched(self) -> set[str]:
        """Everything under the case's folder (the config's folder, HOME, TMPDIR and whatever
        sits next to them) but the output and the cache folders, and the mkdocs.yml `generate`
        writes beside its output (for Zensical)."""
        return snapshot([self.base], [self.out, self.cache, self.out.parent / "mkdocs.yml"])

    def freeze(self) -> None:
        self.before = self.watched()

    def run(self, *args: str, env: dict[str, str] | None = None,
            timeout: float = DEFAULT_TIMEOUT) -> Run:  # fmt: skip
        return run_generator(list(args), self.root, self.env(env), timeout=timeout)

    def assert_untouched(self) -> None:
        assert_nothing_new(self.before, self.watched(), f"{self.base} (config, HOME, TMPDIR)")
        assert_requests_within(self.proxy, self.configured)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


@contextlib.contextmanager
def sandbox(base: Path) -> Iterator[Sandbox]:
    with recording_proxy() as proxy:
        box = Sandbox(base, proxy).make()
        try:
            yield box
        finally:
            box.stop()


def generated_files(out: Path) -> dict[str, Path]:
    """The files `generate --out` wrote, by POSIX path relative to `out`."""
    return {p.relative_to(out).as_posix(): p for p in out.rglob("*") if p.is_file()}


def everything_written(run_outputs: list[Run], out: Path) -> str:
    """All the text a case's runs showed or wrote: stdout, stderr and every generated file."""
    texts = [r.stdout + r.stderr for r in run_outputs]
    texts += [p.read_text("utf-8", "replace") for p in generated_files(out).values()]
    return "\n".join(texts)
