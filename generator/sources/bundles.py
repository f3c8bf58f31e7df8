"""Manifest bundles: fetched through mirrors, or over HTTP from the prefixes the config allows
within a deadline and a byte limit; verified; read in memory by a bounded tar reader.

Nothing here trusts a bundle URL or a tarball: a URL under no configured prefix is never
requested, each redirect is checked again, and no header or member of a tarball is read before
its declared size has been checked against `limits:`.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import hashlib
import http.client
import io
import lzma
import os
import socket
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any
from urllib.parse import unquote, urljoin, urlsplit

from ..limits import Limits
from ..model import Finding, Severity
from ..progress import say
from ..yamlload import Document, load_documents
from .workloads import Workload, workload_from

RETRIES = 2  # more attempts after a failure that may pass (5xx, a reset, no answer)
MAX_REDIRECTS = 5
CHUNK = 64 * 1024
DEFAULTS = Limits()
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HEX = frozenset("0123456789abcdef")
_HINTS = {
    "bundle/download-failed": "check the URL and the network, or mirror the bundle locally",
    "bundle/too-large": "check the bundle, or raise `limits.bundle_bytes` if it is trusted",
}
_NAME_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")


@dataclass
class Bundle:
    """What a bundle says about itself."""

    url: str
    facts: dict[str, str] = field(default_factory=dict)  # bundle.yml, values as written
    workloads: list[Workload] = field(default_factory=list)
    readable: bool = False
    meta: Document | None = None  # bundle.yml, to check against the bundle schema


# --- what a URL names -------------------------------------------------------------------------


def url_facts(url: str) -> dict[str, str]:
    """Service and version guessed from a bundle URL: `.../payments-api/1.4.2/x.tar.gz`."""
    path = PurePosixPath(unquote(url.split("?", 1)[0].split("#", 1)[0].split("://", 1)[-1]))
    name = path.name
    for suffix in (".tar.gz", ".tgz", ".tar"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    parts = path.parts
    if len(parts) >= 3 and name == f"{parts[-3]}-{parts[-2]}":
        return {"service": parts[-3], "version": parts[-2]}
    split = _version_in_name(name)
    if split is not None:
        return {"service": split[0], "version": split[1]}
    return {"service": name} if name else {}


def _is_word(char: str) -> bool:
    """What `[\\w.+-]` matches."""
    return char.isalnum() or char in "_.+-"


def _version_in_name(name: str) -> tuple[str, str] | None:
    """`service-version` split at the first `-` after which a version follows: `v1.2.3`, `1.2.3-rc.1`
    or a commit hash. One pass over the name, then one look at each `-`: linear in its length."""
    tail = len(name)  # name[tail:] holds only word characters, `.`, `+` and `-`
    while tail > 0 and _is_word(name[tail - 1]):
        tail -= 1
    dash = name.find("-", 1)
    while dash != -1:
        start = dash + 1
        rest = name[start:]
        digit = start + 1 if rest.startswith("v") else start
        if start >= tail and digit < len(name) and name[digit].isdecimal():
            return name[:dash], rest
        if 7 <= len(rest) <= 40 and all(c in _HEX for c in rest):
            return name[:dash], rest
        dash = name.find("-", start)
    return None


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


def _mirror_of(url: str, mirrors: tuple[tuple[str, Path], ...]) -> tuple[Path, str] | None:
    """The mirror folder a URL is under (longest prefix first) and the rest of its path."""
    parsed = _parse(url, strict=False)  # a mirror is a folder: nothing is requested
    for prefix, folder in sorted(mirrors, key=lambda m: -len(m[0])):
        key = _parse(prefix, strict=False)
        if key is not None and parsed is not None:
            if parsed.under(key):
                return folder, parsed.path[len(key.path) :].lstrip("/")
        elif key is None and url.startswith(prefix):  # a prefix no client requests: `s3://...`
            return folder, url[len(prefix) :].split("?", 1)[0].split("#", 1)[0]
    return None


def mirror_path(url: str, mirrors: tuple[tuple[str, Path], ...]) -> Path | None:
    """The local file that mirrors `url`, by the longest matching prefix; None if none does, or
    if the URL would leave the mirror's folder."""
    found = _mirror_of(url, mirrors)
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


def _attempt(url: str, allow: tuple[str, ...], limits: Limits, deadline: _Deadline) -> bytes:
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


def _download(url: str, allow: tuple[str, ...], limits: Limits) -> bytes:
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
                return _attempt(url, allow, limits, deadline)
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
    if _mirror_of(url, mirrors) is not None:
        local = mirror_path(url, mirrors)
        if local is None:
            raise _Failed("bundle/not-found", f"bundle URL {url} is under a mirror but leaves "
                          "its folder (`..` or an absolute path)", "fix the URL")  # fmt: skip
        if not local.is_file():
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
        return _read_file(cached, url, limits)
    say(f"downloading {url}")
    data = _download(url, allow, limits)
    if cached is not None and _is_tarball(data, limits):  # never keep a broken download for good
        cached.parent.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(dir=cached.parent, suffix=".part")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(partial, cached)
    return data


# --- reading tarballs -------------------------------------------------------------------------

BLOCK = 512
_REGULAR = (b"0", b"\0", b"7")
_ZERO_BLOCK = bytes(BLOCK)
_NO_DATA = (b"1", b"2", b"3", b"4", b"5", b"6")  # tar reads no data after these headers
_OTHER_KINDS = {b"1": "a hard link", b"2": "a symbolic link", b"3": "a character device",
                b"4": "a block device", b"6": "a FIFO"}  # fmt: skip
_BROKEN = (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError)  # what bad data raises


class _Stop(Exception):
    """The tarball cannot be read further: the finding to report, and what was read is kept."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule, self.message = rule, message


def _budget(limits: Limits) -> int:
    """What a tarball within every other limit can unpack to: its files, and for each member a
    header, a long name and a long link name (or a pax header) and padding; and the end."""
    return (
        limits.unpacked_bytes
        + limits.bundle_members * (2 * limits.tar_header_bytes + 6 * BLOCK)
        + 40 * BLOCK
    )


def _open_stream(data: bytes) -> io.BufferedIOBase:
    """The tarball's bytes, uncompressed as they are read (gzip, bzip2, xz, or plain)."""
    raw = io.BytesIO(data)
    if data[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if data[:3] == b"BZh":
        return bz2.BZ2File(raw, mode="rb")
    if data[:6] == b"\xfd7zXZ\x00":
        return lzma.LZMAFile(raw, mode="rb")
    return raw


class _Stream:
    """Reads forward through the uncompressed tarball, never more than `budget` bytes in all:
    a gzip bomb stops here, having cost no more than the budget."""

    def __init__(self, data: bytes, budget: int) -> None:
        self._file = _open_stream(data)
        self._budget = budget
        self.offset = 0

    def read(self, size: int) -> bytes:
        if self.offset + size > self._budget:
            raise _Stop("bundle/too-large", f"unpacks to more than {self._budget} bytes "
                        "(`limits.unpacked_bytes` and the header limits); the rest is not read")  # fmt: skip
        parts: list[bytes] = []
        want = size
        while want > 0:
            part = self._file.read(min(want, CHUNK))
            if not part:
                break
            parts.append(part)
            want -= len(part)
        data = b"".join(parts)
        self.offset += len(data)
        return data

    def exactly(self, size: int, what: str) -> bytes:
        data = self.read(size)
        if len(data) < size:
            raise _Stop("bundle/unreadable", f"the tarball ends inside {what}")
        return data

    def skip(self, size: int, what: str) -> None:
        while size > 0:
            step = min(size, CHUNK)
            self.exactly(step, what)
            size -= step

    def close(self) -> None:
        with contextlib.suppress(*_BROKEN):
            self._file.close()


def _padding(size: int) -> int:
    return -size % BLOCK


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "replace")


def _number(field: bytes) -> int:
    """A numeric header field: octal digits, or GNU's base-256 (first byte 0x80)."""
    if field[:1] == b"\x80":
        return int.from_bytes(field[1:], "big")
    digits = field.split(b"\0", 1)[0].strip(b" ")
    if not digits:
        return 0
    if not all(48 <= b <= 55 for b in digits):  # 0-7
        raise _Stop("bundle/unreadable", "a member header has a malformed number; the rest is "
                    "not read")  # fmt: skip
    return int(digits, 8)


@dataclass
class _Header:
    name: str
    kind: bytes
    size: int
    link: str


def _header(block: bytes, first: bool = False) -> _Header | None:
    """One 512-byte tar header, checksum verified. The first of a tarball may be all zeros (an
    empty tarball); when it is no header at all, None: the data is no tarball."""
    if first and block == _ZERO_BLOCK:
        return _Header("", b"", 0, "")
    try:
        stored = _number(block[148:156])
    except _Stop:
        if first:
            return None
        raise
    unsigned = sum(block[:148]) + 8 * 32 + sum(block[156:])
    signed = unsigned - sum(b for b in block[:148] + block[156:] if b > 127) * 2
    if stored not in (unsigned, signed):
        if first:
            return None
        raise _Stop("bundle/unreadable", "a member header has a wrong checksum; the rest is "
                    "not read")  # fmt: skip
    kind = block[156:157]
    name = _text(block[0:100])
    if block[257:263] == b"ustar\x00" and block[345:346] != b"\0":  # POSIX: a name prefix
        name = _text(block[345:500]) + "/" + name
    return _Header(name, kind, _number(block[124:136]), _text(block[157:257]))


def _pax(data: bytes) -> dict[str, str]:
    """The records of a pax header: `<length> <key>=<value>\\n` each."""
    records: dict[str, str] = {}
    position = 0
    while position < len(data) and data[position : position + 1] != b"\0":
        space = data.find(b" ", position, position + 24)
        length = data[position:space]
        if space == -1 or not length.isdigit() or int(length) <= space - position:
            raise _Stop("bundle/unreadable", "a pax header is malformed; the rest is not read")
        end = position + int(length)
        record = data[space + 1 : end]
        if end > len(data) or not record.endswith(b"\n") or b"=" not in record:
            raise _Stop("bundle/unreadable", "a pax header is malformed; the rest is not read")
        key, value = record[:-1].split(b"=", 1)
        records[key.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
        position = end
    return records


def _meta(stream: _Stream, header: _Header, limits: Limits) -> bytes:
    """The data of a long-name or pax header, refused before it is read when it is too large."""
    if header.size > limits.tar_header_bytes:
        kind = {b"L": "long name", b"K": "long link name"}.get(header.kind, "pax")
        raise _Stop("bundle/unsafe", f"a {kind} header declares {header.size} bytes, over the "
                    f"limit of {limits.tar_header_bytes} (`limits.tar_header_bytes`); the rest "
                    "is not read")  # fmt: skip
    data = stream.exactly(header.size, "a header")
    stream.skip(_padding(header.size), "a header")
    return data


def _members(
    data: bytes, url: str, file: str, line: int | None, limits: Limits = DEFAULTS
) -> tuple[dict[str, bytes], list[Finding]]:
    """Regular files of a tarball, by normalised name; refuses anything unsafe or too big."""
    findings: list[Finding] = []
    members: dict[str, bytes] = {}

    def refuse(message: str, rule: str = "bundle/unsafe") -> None:
        hint = ("rebuild and upload the bundle again" if rule == "bundle/unreadable"
                else "rebuild the bundle from plain files")  # fmt: skip
        findings.append(Finding(rule, Severity.ERROR, file, line, f"bundle {url}: {message}", hint))

    stream = _Stream(data, _budget(limits))
    try:
        _walk(stream, limits, members, refuse)
    except _Stop as stop:
        refuse(stop.message, stop.rule)
    except _BROKEN as error:
        refuse(f"not a readable tarball: {error or type(error).__name__}", "bundle/unreadable")
    finally:
        stream.close()
    return members, findings


def _walk(
    stream: _Stream, limits: Limits, members: dict[str, bytes], refuse: Callable[[str], None]
) -> None:
    """Every member in turn: each header's declared sizes are checked before anything they
    announce is read; what is refused is skipped, counted against the budget."""
    pax_global: dict[str, str] = {}
    pending: dict[str, str] = {}  # from the long-name and pax headers before a member
    count = unpacked = 0
    first = True
    while True:
        block = stream.read(BLOCK)
        if first and (len(block) < BLOCK or _header(block, first=True) is None):
            raise _Stop("bundle/unreadable", "not a readable tarball"
                        + (": it is empty" if not block else ""))  # fmt: skip
        if not block or block == _ZERO_BLOCK:
            return  # the end (a tarball cut at a member's end is read as tar itself reads it)
        if len(block) < BLOCK:
            raise _Stop("bundle/unreadable", "the tarball ends inside a header")
        first = False
        header = _header(block)
        assert header is not None
        if header.kind in (b"L", b"K"):
            text = _meta(stream, header, limits).split(b"\0", 1)[0].decode("utf-8", "replace")
            pending["path" if header.kind == b"L" else "linkpath"] = text
            continue
        if header.kind in (b"x", b"g"):
            records = _pax(_meta(stream, header, limits))
            (pending if header.kind == b"x" else pax_global).update(records)
            continue
        values, pending = pax_global | pending, {}
        name, size = values.get("path", header.name), header.size
        if "size" in values:
            if not values["size"].isdigit():
                raise _Stop("bundle/unreadable", f"member {name!r} has a malformed pax size; "
                            "the rest is not read")  # fmt: skip
            size = int(values["size"])
        count += 1
        if count > limits.bundle_members:
            raise _Stop("bundle/too-large", f"more than {limits.bundle_members} members "
                        "(`limits.bundle_members`); the rest is not read")  # fmt: skip
        stored = 0 if header.kind in _NO_DATA else size
        problem = _problem(header.kind, name, size, values, limits, unpacked)
        if problem is not None:
            if problem:
                refuse(problem)
            stream.skip(stored + _padding(stored), f"member {name!r}")
            continue
        content = stream.exactly(size, f"member {name!r}")
        stream.skip(_padding(size), f"member {name!r}")
        unpacked += size
        normal = PurePosixPath(*[p for p in PurePosixPath(name).parts if p != "."]).as_posix()
        if normal != ".":
            members[normal] = content


def _problem(
    kind: bytes, name: str, size: int, values: dict[str, str], limits: Limits, unpacked: int
) -> str | None:
    """Why a member is not read (None: it is read; "": a folder, skipped without a word)."""
    if name.startswith("/") or ".." in PurePosixPath(name).parts:
        return f"member {name!r} has an absolute or parent path; skipped"
    if kind == b"5" or (kind in _REGULAR and name.endswith("/")):
        return ""
    if kind in _OTHER_KINDS:
        return f"member {name!r} is {_OTHER_KINDS[kind]}, a link or device; skipped"
    if kind not in _REGULAR or any(key.startswith("GNU.sparse") for key in values):
        return f"member {name!r} is not a regular file (type {kind!r}); skipped"
    if size > limits.member_bytes:
        return (f"member {name!r} is {size} bytes, over the limit of {limits.member_bytes} "
                "(`limits.member_bytes`); skipped")  # fmt: skip
    if unpacked + size > limits.unpacked_bytes:
        raise _Stop("bundle/too-large", f"its files unpack to more than {limits.unpacked_bytes} "
                    f"bytes (`limits.unpacked_bytes`) at member {name!r}; the rest is not read")  # fmt: skip
    return None


def _bundle_yml(members: dict[str, bytes]) -> str | None:
    candidates = [n for n in members if PurePosixPath(n).name in ("bundle.yml", "bundle.yaml")]
    return min(candidates, key=lambda n: (n.count("/"), n)) if candidates else None


def read_bundle(
    data: bytes, url: str, file: str, line: int | None, limits: Limits = DEFAULTS
) -> tuple[Bundle, list[Finding]]:
    """Facts and workloads of a bundle, read in memory from its bytes."""
    try:
        return _read_bundle(data, url, file, line, limits)
    except MemoryError:  # a last resort: every limit should have stopped it before
        return Bundle(url), [Finding("bundle/unreadable", Severity.ERROR, file, line,
                                     f"bundle {url} does not fit in memory",
                                     "rebuild the bundle from plain files")]  # fmt: skip


def _read_bundle(
    data: bytes, url: str, file: str, line: int | None, limits: Limits
) -> tuple[Bundle, list[Finding]]:
    bundle = Bundle(url)
    members, findings = _members(data, url, file, line, limits)
    if not members and findings:
        return bundle, findings
    bundle.readable = True
    meta_name = _bundle_yml(members)
    if meta_name is None:
        findings.append(
            Finding(
                "bundle/missing-bundle-yml",
                Severity.ERROR,
                file,
                line,
                f"bundle {url} has no bundle.yml; service and version are guessed",
                "add bundle.yml (service, version, owner) when packing the bundle",
            )
        )
    for name in sorted(members):
        if not name.endswith((".yml", ".yaml")):
            continue
        shown = f"{url}#{name}"
        try:
            text = members[name].decode("utf-8")
        except UnicodeDecodeError:
            findings.append(
                Finding("bundle/unreadable", Severity.ERROR, shown, None, "not UTF-8 text")
            )
            continue
        documents, found = load_documents(text, shown)
        findings.extend(found)
        if name == meta_name:
            bundle.meta = documents[0] if documents else None
            bundle.facts = _facts(bundle.meta)
            continue
        for document in documents:
            workload = workload_from(document)
            if workload is not None:
                bundle.workloads.append(workload)
    return bundle, findings


def _facts(document: Document | None) -> dict[str, str]:
    if document is None or not isinstance(document.data, dict):
        return {}
    facts = {}
    for key, value in document.data.items():
        if value is not None and not isinstance(value, dict | list):
            facts[str(key)] = document.text((key,)) or str(value)
    return facts


def _is_tarball(data: bytes, limits: Limits = DEFAULTS) -> bool:
    """Whether the bytes open as a tarball whose first header is sound."""
    stream = _Stream(data, _budget(limits))
    try:
        block = stream.read(BLOCK)
        return len(block) == BLOCK and block != _ZERO_BLOCK and _header(block, True) is not None
    except (_Stop, *_BROKEN):
        return False
    finally:
        stream.close()


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
