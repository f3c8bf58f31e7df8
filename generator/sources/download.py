"""Bundles fetched: from a mirror folder, the cache, or over HTTP from the prefixes the config
allows, within one deadline and a byte limit.

Nothing here trusts a bundle URL: one under no configured prefix is never requested, and each
redirect is checked again.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.client
import os
import socket
import stat
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any
from urllib.parse import unquote, urljoin, urlsplit

from ..limits import Limits
from ..model import Finding, Severity
from ..progress import Count
from .tarball import CHUNK, is_tarball

RETRIES = 2  # more attempts after a failure that may pass (5xx, a reset, no answer)
MAX_REDIRECTS = 5
DEFAULTS = Limits()
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HINTS = {
    "bundle/download-failed": "check the URL and the network, or mirror the bundle locally",
    "bundle/too-large": "check the bundle, or raise `limits.bundle_bytes` if it is trusted",
}
_NAME_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")


@dataclass(frozen=True)
class _Url:
    """An http(s) URL as it would be requested: scheme, host, port and raw path."""

    scheme: str
    host: str
    port: int
    path: str

    def under(self, prefix: _Url) -> bool:
        """Whether this URL is under `prefix`: same origin, path prefix on a segment boundary."""
        if (self.scheme, self.host, self.port) != (prefix.scheme, prefix.host, prefix.port):
            return False
        base = prefix.path if prefix.path.endswith("/") else prefix.path + "/"
        return self.path == prefix.path or self.path.startswith(base)


def _parse(url: str, strict: bool = True) -> _Url | None:
    """An http(s) URL with a plain host, or None. `strict` (a URL to request) also refuses
    credentials, backslashes, spaces, control and non-ASCII characters: nothing a client and a
    server, or a proxy, could read as two different addresses."""
    if strict and (not url.isascii() or any(c <= " " or c in "\\\x7f" for c in url)):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme not in _DEFAULT_PORTS or "@" in parts.netloc or not host:
        return None
    return _Url(parts.scheme, host, port or _DEFAULT_PORTS[parts.scheme], parts.path or "/")


def _leaves(path: str) -> bool:
    """Whether a URL path has `.` or `..` segments, or a slash hidden in a segment."""
    for segment in path.split("/"):
        plain = unquote(segment)
        if plain in (".", "..") or "/" in plain or "\\" in plain:
            return True
    return False


def _prefixes(prefixes: tuple[str, ...]) -> list[_Url]:
    return [p for p in map(_parse, prefixes) if p is not None and not _leaves(p.path)]


def refusal(url: str, allow: tuple[str, ...]) -> str:
    """Why `url` may not be requested ("" when it may): http(s), under a prefix of `allow`."""
    parsed = _parse(url)
    if parsed is None:
        return "it is not a plain http(s) URL"
    if _leaves(parsed.path):
        return "its path has `.` or `..` segments"
    if not any(parsed.under(prefix) for prefix in _prefixes(allow)):
        return "it is under no prefix of `bundles.allow`"
    return ""


@functools.lru_cache(maxsize=64)
def _mirror_prefixes(
    mirrors: tuple[tuple[str, Path], ...],
) -> tuple[tuple[str, Path, _Url | None], ...]:
    """The mirrors, longest prefix first, each with its prefix parsed (once per config)."""
    ordered = sorted(mirrors, key=lambda m: -len(m[0]))
    return tuple((prefix, folder, _parse(prefix, strict=False)) for prefix, folder in ordered)


def _mirror_of(url: str, mirrors: tuple[tuple[str, Path], ...]) -> tuple[Path, str] | None:
    """The mirror folder a URL is under (longest prefix first) and the rest of its path."""
    if not mirrors:
        return None
    parsed = _parse(url, strict=False)  # a mirror is a folder: nothing is requested
    for prefix, folder, key in _mirror_prefixes(mirrors):
        if key is not None and parsed is not None:
            if parsed.under(key):
                return folder, parsed.path[len(key.path) :].lstrip("/")
        elif key is None and url.startswith(prefix):  # a prefix no client requests: `s3://...`
            return folder, url[len(prefix) :].split("?", 1)[0].split("#", 1)[0]
    return None


def mirror_path(url: str, mirrors: tuple[tuple[str, Path], ...]) -> Path | None:
    """The local file that mirrors `url`, by the longest matching prefix; None if none does, or
    if the URL would leave the mirror's folder."""
    return _in_mirror(_mirror_of(url, mirrors))


def _in_mirror(found: tuple[Path, str] | None) -> Path | None:
    """`mirror_path` of what `_mirror_of` found."""
    if found is None:
        return None
    folder, rest = found
    plain = unquote(rest)
    parts = PurePosixPath(plain).parts
    if not parts or ".." in parts or plain.startswith("/") or "\\" in plain or "\0" in plain:
        return None
    return folder.joinpath(*parts)


def cache_path(url: str, cache: Path) -> Path:
    """Where a downloaded bundle is kept: keyed by the URL, named after its file."""
    digest = hashlib.sha256(url.encode()).hexdigest()[:24]
    tail = PurePosixPath(urlsplit(url).path).name[-80:]
    name = "".join(c if c in _NAME_SAFE else "_" for c in tail)
    return cache / f"{digest}-{name or 'bundle'}"


# --- fetching ---------------------------------------------------------------------------------


class _Failed(Exception):
    """A bundle that cannot be had: the finding to report."""

    def __init__(self, rule: str, message: str, hint: str = "", retry: bool = False) -> None:
        super().__init__(message)
        self.rule, self.message, self.hint, self.retry = rule, message, hint, retry


class _Deadline:
    """One download's deadline: when it passes, every socket the download opened is shut, so
    no read can wait longer (a server trickling its headers included)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def passed(self) -> bool:
        return self.expired or self.remaining() <= 0

    def register(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)
        return sock

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)

    def cancel(self) -> None:
        self._timer.cancel()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # closed already
        sock.shutdown(socket.SHUT_RDWR)


def _opener(url: str, allow: tuple[str, ...], deadline: _Deadline) -> urllib.request.OpenerDirector:
    """An opener for http(s) only (proxies from the environment, as any client), whose sockets
    the deadline shuts, and that follows a redirect only to where `allow` lets a bundle come
    from, `MAX_REDIRECTS` times at most."""

    def connect(*args: Any, **kwargs: Any) -> socket.socket:
        return deadline.register(socket.create_connection(*args, **kwargs))

    class Connection(http.client.HTTPConnection):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._create_connection = connect

    class SecureConnection(http.client.HTTPSConnection):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._create_connection = connect

    class Plain(urllib.request.HTTPHandler):
        def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(Connection, req)

    class Secure(urllib.request.HTTPSHandler):
        def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(SecureConnection, req)

    class Redirects(urllib.request.HTTPRedirectHandler):
        max_redirections = MAX_REDIRECTS
        max_repeats = 1

        def http_error_302(
            self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
            headers: http.client.HTTPMessage,
        ) -> Any:  # fmt: skip
            target = headers.get("Location") or headers.get("URI")
            if target is not None:
                target = urljoin(req.full_url, target)
                why = refusal(target, allow)
                if why:
                    fp.close()
                    raise _Failed(
                        "bundle/not-allowed",
                        f"bundle {url} redirects to {target}, which is not requested: {why}",
                        "download the bundle from where it is, or add that prefix to "
                        "`bundles.allow` if the server is trusted",
                    )
            return super().http_error_302(req, fp, code, msg, headers)

        http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302

    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        Plain(),
        Secure(),
        urllib.request.HTTPDefaultErrorHandler(),
        Redirects(),
        urllib.request.HTTPErrorProcessor(),
        urllib.request.UnknownHandler(),
    ):
        opener.add_handler(handler)
    return opener


def _attempt(
    url: str, allow: tuple[str, ...], limits: Limits, deadline: _Deadline,
    received: Count | None = None,
) -> bytes:  # fmt: skip
    """One request for the bundle, read in chunks against the deadline and the byte limit."""
    request = urllib.request.Request(url, headers={"User-Agent": "pipeline-docs"})
    timeout = max(min(limits.connect_seconds, deadline.remaining()), 0.001)
    with _opener(url, allow, deadline).open(request, timeout=timeout) as response:
        declared = str(response.headers.get("Content-Length") or "").strip()
        if declared.isdigit() and int(declared) > limits.bundle_bytes:
            raise _Failed("bundle/too-large", f"bundle {url} is {int(declared)} bytes, over the "
                          f"limit of {limits.bundle_bytes} (`limits.bundle_bytes`); not read")  # fmt: skip
        chunks: list[bytes] = []
        size = 0
        while not deadline.passed():
            chunk: bytes = response.read1(CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > limits.bundle_bytes:
                raise _Failed("bundle/too-large", f"bundle {url} is over the limit of "
                              f"{limits.bundle_bytes} bytes (`limits.bundle_bytes`); not read")  # fmt: skip
            chunks.append(chunk)
            if received is not None:
                received.set(size)
    if deadline.passed():
        raise _too_slow(url, deadline, f"{size} bytes had come")
    if declared.isdigit() and int(declared) != size:
        raise _Failed("bundle/download-failed", f"cannot download bundle {url}: truncated, "
                      f"{size} of {declared} bytes", retry=True)  # fmt: skip
    return b"".join(chunks)


def _too_slow(url: str, deadline: _Deadline, detail: str) -> _Failed:
    return _Failed(
        "bundle/too-slow",
        f"bundle {url} was not downloaded within {deadline.seconds:g} s "
        f"(`limits.download_seconds`): {detail}",
        "check the server, or mirror the bundle locally (`bundles.mirrors`)",
    )


def _download(
    url: str, allow: tuple[str, ...], limits: Limits, received: Count | None = None
) -> bytes:
    """The bundle's bytes, in `RETRIES + 1` attempts at most, all within one deadline."""
    deadline = _Deadline(limits.download_seconds)
    failed = _Failed("bundle/download-failed", f"cannot download bundle {url}")
    try:
        for attempt in range(RETRIES + 1):
            if attempt:
                time.sleep(max(min(0.2 * attempt, deadline.remaining()), 0))
            if deadline.passed():
                break
            try:
                return _attempt(url, allow, limits, deadline, received)
            except _Failed as error:
                failed = error
            except urllib.error.HTTPError as error:
                error.close()
                redirected = 300 <= error.code < 400
                failed = _Failed(
                    "bundle/download-failed",
                    f"cannot download bundle {url}: HTTP {error.code} "
                    + (f"(more than {MAX_REDIRECTS} redirects)" if redirected else error.reason),
                    retry=error.code >= 500,  # a 404 will not get better by asking again
                )
            except (TimeoutError, urllib.error.URLError) as error:
                reason = error.reason if isinstance(error, urllib.error.URLError) else error
                if isinstance(reason, TimeoutError) or deadline.passed():
                    failed = _too_slow(url, deadline, "the server did not answer within "
                                       f"{limits.connect_seconds:g} s (`limits.connect_seconds`)")  # fmt: skip
                    failed.retry = True
                else:
                    failed = _Failed("bundle/download-failed",
                                     f"cannot download bundle {url}: {reason}", retry=True)  # fmt: skip
            except (OSError, http.client.HTTPException, ValueError) as error:
                failed = _Failed("bundle/download-failed",
                                 f"cannot download bundle {url}: {error or type(error).__name__}",
                                 retry=True)  # fmt: skip
            if deadline.passed() and failed.rule == "bundle/download-failed":
                failed = _too_slow(url, deadline, "no complete answer came")
            if not failed.retry:
                break
    finally:
        deadline.cancel()
    raise failed


# the local files fetches read while `recording()` (path, size, mtime; size None: missing), and
# "network" for a fetch that went to the network and kept nothing, for the caller to tell later
# whether the same fetches would read the same bytes
_recorded: ContextVar[list[tuple[str, int | None, int | None]] | None] = ContextVar(
    "pipeline_docs_fetches", default=None
)
NETWORK = "network"


@contextlib.contextmanager
def recording() -> Iterator[list[tuple[str, int | None, int | None]]]:
    """The files the fetches read from here to the end of the block (`unchanged` checks them)."""
    reads: list[tuple[str, int | None, int | None]] = []
    token = _recorded.set(reads)
    try:
        yield reads
    finally:
        _recorded.reset(token)
        replay(reads)  # a recording around this one sees them too


def replay(reads: list[Any]) -> None:
    """Count these files as read now (a result kept from a run that read them)."""
    if (outer := _recorded.get()) is not None:
        outer.extend(reads)


def _record(path: Path | str) -> int:
    """Record a file read (when a `recording` runs); its mode (0: not there)."""
    reads = _recorded.get()
    if path == NETWORK:
        if reads is not None:
            reads.append((NETWORK, None, None))
        return 0
    try:
        info = os.stat(path)
    except OSError:
        if reads is not None:
            reads.append((str(path), None, None))
        return 0
    if reads is not None:
        reads.append((str(path), info.st_size, info.st_mtime_ns))
    return info.st_mode


def unchanged(reads: list[tuple[str, int | None, int | None]]) -> bool:
    """Whether the files `recording` saw are as they were (a missing one still missing); never
    for a fetch from the network."""
    for path, size, mtime in reads:
        if path == NETWORK:
            return False
        try:
            info = os.stat(path)
            now: tuple[int | None, int | None] = (info.st_size, info.st_mtime_ns)
        except OSError:
            now = (None, None)
        if now != (size, mtime):
            return False
    return True


def fetch(
    url: str,
    mirrors: tuple[tuple[str, Path], ...],
    cache: Path | None,
    file: str,
    line: int | None,
    *,
    allow: tuple[str, ...] = (),
    limits: Limits = DEFAULTS,
) -> tuple[bytes | None, list[Finding]]:
    """The bundle's bytes from its mirror, the cache, or the network (then cached). Only URLs
    under a prefix of `allow` are ever requested."""
    try:
        return _fetch(url, mirrors, cache, allow, limits), []
    except _Failed as failed:
        hint = failed.hint or _HINTS.get(failed.rule, "")
        return None, [Finding(failed.rule, Severity.ERROR, file, line, failed.message, hint)]
    except OSError as error:  # a name too long, a permission: the bundle cannot be had
        return None, [Finding("bundle/unreadable", Severity.ERROR, file, line, f"bundle {url}: {error}",
                              "check the mirror folder and the cache folder")]  # fmt: skip
    except MemoryError:  # a last resort: no limit should let it come to this
        return None, [Finding("bundle/too-large", Severity.ERROR, file, line,
                              f"bundle {url} does not fit in memory")]  # fmt: skip


def _read_file(path: Path, url: str, limits: Limits) -> bytes:
    chunks: list[bytes] = []
    size = 0
    with path.open("rb") as handle:  # in chunks: read(limit) would allocate the limit at once
        while size <= limits.bundle_bytes and (chunk := handle.read(CHUNK)):
            chunks.append(chunk)
            size += len(chunk)
    data = b"".join(chunks)
    if len(data) > limits.bundle_bytes:
        raise _Failed("bundle/too-large", f"bundle {url} is over the limit of "
                      f"{limits.bundle_bytes} bytes (`limits.bundle_bytes`)")  # fmt: skip
    return data


def _fetch(
    url: str,
    mirrors: tuple[tuple[str, Path], ...],
    cache: Path | None,
    allow: tuple[str, ...],
    limits: Limits,
) -> bytes:
    if (found := _mirror_of(url, mirrors)) is not None:
        local = _in_mirror(found)
        if local is None:
            raise _Failed("bundle/not-found", f"bundle URL {url} is under a mirror but leaves "
                          "its folder (`..` or an absolute path)", "fix the URL")  # fmt: skip
        if not stat.S_ISREG(_record(local)):
            raise _Failed(
                "bundle/not-found",
                f"bundle {url} is not in its mirror ({local.name} missing)",
                "check the URL, or add the tarball to the mirror folder",
            )
        return _read_file(local, url, limits)
    if urlsplit(url).scheme not in _DEFAULT_PORTS:
        raise _Failed(
            "bundle/unknown-url",
            f"bundle URL {url!r} is neither mirrored nor http(s)",
            "use an http(s) URL or add its prefix to `bundles.mirrors`",
        )
    why = refusal(url, allow)
    if why:
        raise _Failed(
            "bundle/not-allowed",
            f"bundle URL {url!r} is not requested: {why}",
            "add its prefix to `bundles.allow` if the server is trusted, or mirror it locally "
            "(`bundles.mirrors`)",
        )
    cached = cache_path(url, cache) if cache is not None else None
    if cached is not None and cached.is_file():
        _record(cached)
        return _read_file(cached, url, limits)
    received = Count(f"downloading {url}", "byte")
    _record(NETWORK)  # what the network answered: a failure, or bytes not kept, is its alone
    try:
        data = _download(url, allow, limits, received)
    finally:
        received.done()
    if cached is not None and is_tarball(data, limits):  # never keep a broken download for good
        cached.parent.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(dir=cached.parent, suffix=".part")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(partial, cached)
        if (reads := _recorded.get()) is not None:
            reads.pop()  # kept: the next run reads the file
        _record(cached)
    return data
