"""Hostile bundles (issue 14): nothing leaks, nothing hangs, no request the config did not ask for.

Every case runs the whole catalog against real servers on 127.0.0.1 that misbehave on purpose,
or real tarballs built in memory, and asserts a finding with the env file and line, no traceback,
and the rest of the catalog built. Limits come from the config's `limits:` so the slow servers
cost seconds; nothing here measures time.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import socket
import socketserver
import struct
import subprocess
import sys
import tarfile
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import NEXUS, REPO, make_config, write
from test_kustomize import needs_kubectl

from generator.collect import collect
from generator.config import load_config
from generator.model import Deployment, Finding, Model, Severity
from generator.sources import download, tarball
from generator.sources.download import MAX_REDIRECTS, refusal
from generator.sources.kustomize import real

FAST = {"download_seconds": 2, "connect_seconds": 0.5}
GOOD = f"{NEXUS}cart/2.0.0/cart-2.0.0.tar.gz"  # mirrored from examples/nexus: the rest
FACTS = b"service: %s\nversion: 1.0.0\nowner: team-x\n"
MiB = 1 << 20
GiB = 1 << 30


# --- servers that misbehave -------------------------------------------------------------------


@dataclass
class Server:
    """A local HTTP server whose first path segment says how it misbehaves; it records every
    request line it gets."""

    url: str
    requests: list[str] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)  # /files/<service>/...
    redirects: dict[str, str] = field(default_factory=dict)  # /<behaviour>/... -> Location
    stop: threading.Event = field(default_factory=threading.Event)

    def bundle(self, behaviour: str, service: str) -> str:
        return f"{self.url}{behaviour}/{service}/1.0.0/{service}-1.0.0.tar.gz"

    def paths(self) -> list[str]:
        return [r.split(" ")[1] for r in self.requests]


def _head(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        part = conn.recv(4096)
        if not part:
            break
        data += part
    return data


def _reply(conn: socket.socket, status: str, body: bytes = b"", **headers: str) -> None:
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {headers.pop('length', len(body))}"]
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    conn.sendall(("\r\n".join(lines) + "\r\nConnection: close\r\n\r\n").encode() + body)


def _trickle(conn: socket.socket, stop: threading.Event, start: bytes) -> None:
    conn.sendall(start)
    while not stop.wait(0.3):
        conn.sendall(b"x")


def _behave(server: Server, conn: socket.socket, target: str) -> None:
    path = target.split("?", 1)[0]
    parts = path.strip("/").split("/")
    behaviour, service = parts[0], parts[1] if len(parts) > 1 else ""
    if behaviour == "files" and service in server.files:
        _reply(conn, "200 OK", server.files[service])
    elif behaviour in ("404", "500"):
        _reply(conn, f"{behaviour} Oops", b"<html>no bundle</html>")
    elif behaviour == "hang":
        server.stop.wait()
    elif behaviour == "reset":
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    elif behaviour == "trickle":
        _trickle(conn, server.stop, b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
    elif behaviour == "trickle-head":
        _trickle(conn, server.stop, b"HTTP/1.1 200 OK\r\nX-Slow: ")
    elif behaviour == "unsized" and service in server.files:  # no Content-Length: read to the end
        conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + server.files[service])
    elif behaviour == "huge":
        _reply(conn, "200 OK", b"\x1f\x8b" * 100, length=str(10**13))
    elif behaviour == "loop":
        hop = int(target.split("?", 1)[1]) if "?" in target else 0
        _reply(conn, "302 Found", Location=f"{path}?{hop + 1}")
    elif behaviour in server.redirects:
        _reply(conn, "302 Found", Location=server.redirects[behaviour])
    else:
        _reply(conn, "404 Not Found")


@contextlib.contextmanager
def serving(
    behave: Callable[[Server, socket.socket, str], None] = _behave, host: str = "127.0.0.1"
) -> Iterator[Server]:
    """A threaded server on 127.0.0.1 running `behave` for each request."""
    state: list[Server] = []

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            conn: socket.socket = self.request
            conn.settimeout(10)
            with contextlib.suppress(OSError):
                head = _head(conn)
                line = head.split(b"\r\n", 1)[0].decode("latin-1")
                if not line:
                    return
                state[0].requests.append(line)
                behave(state[0], conn, line.split(" ")[1] if " " in line else "/")

    class Threaded(socketserver.ThreadingTCPServer):
        daemon_threads = True
        block_on_close = False
        allow_reuse_address = True

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # the server misbehaves on purpose; the client is under test

    httpd = Threaded(("127.0.0.1", 0), Handler)
    state.append(Server(f"http://{host}:{httpd.server_address[1]}/"))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state[0]
    finally:
        state[0].stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def server() -> Iterator[Server]:
    with serving() as running:
        yield running


# --- the catalog of one environment ----------------------------------------------------------


@dataclass
class Outcome:
    model: Model
    text: str  # environment.yml

    @property
    def deployments(self) -> dict[str, Deployment]:
        return {d.service: d for d in self.model.environments[0].deployments}

    def findings(self, rule: str) -> list[Finding]:
        return [f for f in self.model.findings if f.rule == rule]

    def line_of(self, needle: str) -> int:
        return next(n for n, line in enumerate(self.text.splitlines(), 1) if needle in line)

    def one(self, rule: str, url: str) -> Finding:
        """The one finding of `rule`, on the line of `url` in prod's environment.yml."""
        found = self.findings(rule)
        assert len(found) == 1, [(f.rule, f.message) for f in self.model.findings]
        assert found[0].severity is Severity.ERROR
        assert (found[0].file, found[0].line) == ("prod:environment.yml", self.line_of(url))
        return found[0]

    def rest_is_built(self, *lost: str) -> None:
        """The mirrored bundle is read as ever, and each bundle that was refused is still in
        the catalog, guessed from its URL and marked."""
        cart = self.deployments["cart"]
        assert (cart.version, cart.problem, cart.owner) == ("2.0.0", "", "team-orders")
        for service in lost:
            assert self.deployments[service].version == "1.0.0"
            assert self.deployments[service].problem in ("unreadable", "sha256 mismatch")


def catalog(
    tmp_path: Path,
    urls: list[str],
    allow: list[str],
    limits: dict[str, Any] | None = None,
    pins: dict[str, str] | None = None,
    capsys: pytest.CaptureFixture[str] | None = None,
) -> Outcome:
    """The catalog of `prod`, whose environment.yml lists the good mirrored bundle, then `urls`."""
    lines = ["name: prod", "bundles:", f"  - {GOOD}"]
    for url in urls:
        if pins and url in pins:
            lines += [f"  - url: {url}", f"    sha256: {pins[url]}"]
        else:
            lines.append(f"  - {url}")
    text = "\n".join(lines) + "\n"
    write(tmp_path / "envs" / "prod" / "environment.yml", text)
    config = make_config(
        tmp_path,
        environments=[{"name": "prod", "repo": "envs/prod"}],
        bundles={
            "mirrors": {NEXUS: str(REPO / "examples" / "nexus")},
            "allow": allow,
            "cache": "bundle-cache",
        },
        limits={**FAST, **(limits or {})},
    )
    model = collect(load_config(config))
    if capsys is not None:
        assert "Traceback" not in capsys.readouterr().err
    return Outcome(model, text)


# --- tarballs built in memory -----------------------------------------------------------------


def header(name: str, size: int, kind: bytes = tarfile.REGTYPE, link: str = "") -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.type, info.linkname = size, kind, link
    return info.tobuf(format=tarfile.GNU_FORMAT)


def crowd(count: int = 100_000) -> bytes:
    """`count` headers of empty files `m/000000`..., each with its checksum (made by hand:
    tarfile takes seconds for as many)."""
    template = bytearray(header("m/000000", 0))
    template[148:156] = b" " * 8
    base = sum(template) - sum(b"m/000000")
    blocks = []
    for n in range(count):
        name = b"m/%06d" % n
        template[0:8] = name
        template[148:155] = b"%06o\0" % (base + sum(name))
        blocks.append(bytes(template))
    return b"".join(blocks)


def member(name: str, data: bytes) -> bytes:
    return header(name, len(data)) + data + bytes(-len(data) % 512)


def zeros_gz(size: int) -> bytes:
    """`size` zero bytes gzipped as repeated gzip members: cheap to make, a bomb to unpack."""
    piece = gzip.compress(bytes(16 * MiB), compresslevel=9, mtime=0)
    return piece * (size // (16 * MiB))


def bomb(service: str, head: bytes, size: int = GiB) -> bytes:
    """bundle.yml, then `head` (a header declaring `size` bytes), then `size` zero bytes."""
    start = member("bundle.yml", FACTS % service.encode()) + head
    return gzip.compress(start, mtime=0) + zeros_gz(size)


@contextlib.contextmanager
def peak_memory() -> Iterator[list[int]]:
    """The peak of Python's allocations inside the block, in bytes."""
    peak: list[int] = []
    tracemalloc.start()
    try:
        yield peak
    finally:
        peak.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()


# --- 1. only configured hosts -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://nexus.example.com/repository/k8s-bundles/a/1/a-1.tar.gz", True),
        ("HTTPS://NEXUS.example.com:443/repository/k8s-bundles/a-1.tgz", True),
        ("https://nexus.example.com/repository/k8s-bundles", False),  # the folder, no file
        ("https://nexus.example.com.evil.org/repository/k8s-bundles/a-1.tgz", False),
        ("https://nexus.example.com@evil.org/repository/k8s-bundles/a-1.tgz", False),
        ("https://nexus.example.com:8443/repository/k8s-bundles/a-1.tgz", False),
        ("http://nexus.example.com/repository/k8s-bundles/a-1.tgz", False),
        ("https://nexus.example.com/repository/k8s-bundles-evil/a-1.tgz", False),
        ("https://nexus.example.com/repository/k8s-bundles/../admin/a-1.tgz", False),
        ("https://nexus.example.com/repository/k8s-bundles/%2e%2e/admin/a-1.tgz", False),
        ("https://nexus.example.com/repository/k8s-bundles/a%2f..%2fb/a-1.tgz", False),
        ("https://nexus.example.com\\@evil.org/repository/k8s-bundles/a-1.tgz", False),
        ("https://nexus.example.com/repository/k8s-bundles/a 1.tgz", False),
        ("ftp://nexus.example.com/repository/k8s-bundles/a-1.tgz", False),
        ("http://169.254.169.254/latest/meta-data/", False),
    ],
)
def test_a_url_is_allowed_only_under_a_configured_prefix_on_the_parsed_url(
    url: str, allowed: bool
) -> None:
    allow = ("https://nexus.example.com/repository/k8s-bundles/", "https://other.test/")
    assert (refusal(url, allow) == "") is allowed


def test_a_url_under_no_allowed_prefix_is_never_requested(
    tmp_path: Path, server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    server.files["fine"] = member("bundle.yml", FACTS % b"fine") + bytes(1024)
    port = server.url.rsplit(":", 1)[1].strip("/")
    allowed = f"{server.url}files/"
    lookalikes = [
        f"http://127.0.0.1:{port}/files-evil/evil/1.0.0/evil-1.0.0.tar.gz",  # not on a segment
        f"http://127.0.0.1:{port}/files/../404/up/1.0.0/up-1.0.0.tar.gz",  # leaves the prefix
        f"http://127.0.0.1:{port}@127.0.0.1:{port}/files/at/1.0.0/at-1.0.0.tar.gz",
        f"http://localhost:{port}/files/host/1.0.0/host-1.0.0.tar.gz",  # another host name
    ]
    outcome = catalog(tmp_path, [server.bundle("files", "fine"), *lookalikes], [allowed],
                      capsys=capsys)  # fmt: skip
    assert server.paths() == ["/files/fine/1.0.0/fine-1.0.0.tar.gz"]  # the allowed one only
    refused = outcome.findings("bundle/not-allowed")
    assert sorted(f.line for f in refused) == [outcome.line_of(u) for u in lookalikes]
    assert all(f.file == "prod:environment.yml" for f in refused)
    assert outcome.deployments["fine"].problem == ""
    outcome.rest_is_built("evil", "up", "at", "host")


def _proxy(served: dict[str, bytes]) -> Callable[[Server, socket.socket, str], None]:
    def behave(server: Server, conn: socket.socket, target: str) -> None:
        if target in served:
            _reply(conn, "200 OK", served[target])
        else:
            _reply(conn, "502 Bad Gateway")

    return behave


def test_the_cloud_metadata_address_is_never_requested_not_even_through_a_proxy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    allowed = "http://bundles.test/k8s/orders/3f9c2ab/orders-3f9c2ab.tar.gz"
    data = REPO / "examples" / "nexus" / "orders" / "3f9c2ab" / "orders-3f9c2ab.tar.gz"
    metadata = [
        "http://169.254.169.254/latest/meta-data/iam/metadata/1.0.0/metadata-1.0.0.tar.gz",
        "https://169.254.169.254/computeMetadata/v1/secure/1.0.0/secure-1.0.0.tar.gz",
        "http://[fd00:ec2::254]/latest/ipv6/1.0.0/ipv6-1.0.0.tar.gz",
    ]
    with serving(_proxy({allowed: data.read_bytes()})) as proxy:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
            monkeypatch.setenv(name, proxy.url)
        for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.delenv(name, raising=False)
        outcome = catalog(tmp_path, [allowed, *metadata], ["http://bundles.test/k8s/"],
                          capsys=capsys)  # fmt: skip
    # the proxy is used (the allowed bundle came through it), and it saw nothing else
    assert proxy.requests == [f"GET {allowed} HTTP/1.1"]
    assert outcome.deployments["orders"].version == "3f9c2ab"
    refused = outcome.findings("bundle/not-allowed")
    assert sorted(f.line for f in refused) == [outcome.line_of(u) for u in metadata]
    assert all("169.254.169.254" in f.message or "fd00" in f.message for f in refused)
    outcome.rest_is_built("metadata", "secure", "ipv6")


@pytest.mark.parametrize("target", ["other-host", "ftp"])
def test_a_redirect_is_checked_against_the_allowed_prefixes_too(
    tmp_path: Path, server: Server, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with serving(host="localhost") as other:
        other.files["away"] = member("bundle.yml", FACTS % b"away")
        server.redirects["other-host"] = other.bundle("files", "away")
        server.redirects["ftp"] = "ftp://127.0.0.1/files/away/1.0.0/away-1.0.0.tar.gz"
        server.files["fine"] = member("bundle.yml", FACTS % b"fine")
        server.redirects["to-fine"] = server.bundle("files", "fine")  # allowed: followed
        url = server.bundle(target, "away")
        outcome = catalog(tmp_path, [server.bundle("to-fine", "fine"), url], [server.url],
                          capsys=capsys)  # fmt: skip
        assert other.requests == []
    finding = outcome.one("bundle/not-allowed", url)
    assert server.redirects[target] in finding.message
    assert outcome.deployments["fine"].problem == ""  # a redirect within the prefix is followed
    assert server.paths().count("/to-fine/fine/1.0.0/fine-1.0.0.tar.gz") == 1
    outcome.rest_is_built("away")


def test_redirects_are_followed_a_bounded_number_of_times(
    tmp_path: Path, server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    url = server.bundle("loop", "circle")
    outcome = catalog(tmp_path, [url], [server.url], capsys=capsys)
    finding = outcome.one("bundle/download-failed", url)
    assert "redirects" in finding.message
    assert 2 <= len(server.requests) <= MAX_REDIRECTS + 1
    outcome.rest_is_built("circle")


# --- 2. deadlines and byte limits ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("behaviour", "rule", "requests"),
    [
        ("404", "bundle/download-failed", 1),  # will not get better: asked once
        ("500", "bundle/download-failed", download.RETRIES + 1),  # asked again, a bounded number
        ("reset", "bundle/download-failed", download.RETRIES + 1),
        ("hang", "bundle/too-slow", None),  # never answers
        ("trickle", "bundle/too-slow", None),  # a byte now and then, for ever
        ("trickle-head", "bundle/too-slow", None),  # the same, inside the headers
        ("huge", "bundle/too-large", 1),  # a Content-Length over the limit: not read
    ],
)
def test_a_misbehaving_server_is_a_finding_within_the_deadline(
    tmp_path: Path,
    server: Server,
    behaviour: str,
    rule: str,
    requests: int | None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    service = behaviour.replace("-", "")
    url = server.bundle(behaviour, service)
    outcome = catalog(tmp_path, [url], [server.url], capsys=capsys)
    finding = outcome.one(rule, url)
    assert url in finding.message
    if requests is not None:
        assert len(server.requests) == requests
    else:
        assert 1 <= len(server.requests) <= download.RETRIES + 1
    if rule == "bundle/too-slow":
        assert "2 s" in finding.message  # the deadline the config set, not the default
    outcome.rest_is_built(service)
    assert list((tmp_path / "bundle-cache").glob("*")) == []  # nothing broken is kept


def test_a_bundle_over_the_byte_limit_is_cut_off_while_it_is_read(
    tmp_path: Path, server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    # no Content-Length lies here: the bundle is simply larger than the config allows
    server.files["big"] = member("bundle.yml", FACTS % b"big") + bytes(256 * 1024)
    url = server.bundle("unsized", "big")
    outcome = catalog(tmp_path, [url], [server.url], {"bundle_bytes": 64 * 1024}, capsys=capsys)
    assert "65536" in outcome.one("bundle/too-large", url).message
    outcome.rest_is_built("big")


# --- 3. tar bombs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "words"),
    [(tarfile.GNUTYPE_LONGNAME, "long name"), (tarfile.XHDTYPE, "pax"),
     (tarfile.XGLTYPE, "pax"), (tarfile.GNUTYPE_LONGLINK, "long link name")],
    ids=["gnu-long-name", "pax", "pax-global", "gnu-long-link"],
)  # fmt: skip
def test_a_header_declaring_a_gibibyte_is_refused_before_it_is_read(
    tmp_path: Path, server: Server, kind: bytes, words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    server.files["header"] = bomb("header", header("././@LongLink", GiB, kind))
    url = server.bundle("files", "header")
    with peak_memory() as peak:
        outcome = catalog(tmp_path, [url], [server.url], capsys=capsys)
    finding = outcome.one("bundle/unsafe", url)
    assert words in finding.message and str(GiB) in finding.message
    assert peak[0] < 64 * MiB  # tarfile itself reads such a header whole: a GiB
    deployment = outcome.deployments["header"]
    assert (deployment.version, deployment.owner) == ("1.0.0", "team-x")  # bundle.yml was read
    outcome.rest_is_built()


def test_a_gzip_bomb_is_unpacked_no_further_than_the_limits(
    tmp_path: Path, server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    server.files["zeros"] = bomb("zeros", header("manifests/zeros.yaml", GiB))
    url = server.bundle("files", "zeros")
    limits = {"member_bytes": MiB, "unpacked_bytes": 2 * MiB, "bundle_members": 20}
    with peak_memory() as peak:
        outcome = catalog(tmp_path, [url], [server.url], limits, capsys=capsys)
    assert "manifests/zeros.yaml" in outcome.findings("bundle/unsafe")[0].message
    assert "unpacks to more than" in outcome.one("bundle/too-large", url).message
    assert peak[0] < 64 * MiB
    assert outcome.deployments["zeros"].owner == "team-x"
    outcome.rest_is_built()


def test_files_unpacking_past_the_limit_stop_the_reading(
    tmp_path: Path, server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    files = b"".join(member(f"manifests/{n}.txt", bytes(400 * 1024)) for n in range(20))
    server.files["many"] = gzip.compress(member("bundle.yml", FACTS % b"many") + files)
    url = server.bundle("files", "many")
    outcome = catalog(tmp_path, [url], [server.url], {"unpacked_bytes": MiB}, capsys=capsys)
    finding = outcome.one("bundle/too-large", url)
    assert "manifests/2.txt" in finding.message and "1048576" in finding.message
    outcome.rest_is_built()


def test_a_hundred_thousand_members_are_read_up_to_the_limit_only(
    tmp_path: Path, server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    server.files["crowd"] = gzip.compress(member("bundle.yml", FACTS % b"crowd") + crowd(), 1)
    url = server.bundle("files", "crowd")
    outcome = catalog(tmp_path, [url], [server.url], capsys=capsys)
    limit = tarball.DEFAULTS.bundle_members
    assert f"more than {limit} members" in outcome.one("bundle/too-large", url).message
    assert outcome.deployments["crowd"].owner == "team-x"
    outcome.rest_is_built()


def _special(name: str, kind: bytes, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


def test_links_devices_and_paths_out_of_the_bundle_are_refused_one_by_one(
    tmp_path: Path, server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for name, data in [("bundle.yml", FACTS % b"odd"), ("../../etc/cron.d/x", b"x"),
                           ("/etc/passwd", b"root::0:0::/:/bin/sh\n")]:  # fmt: skip
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in [
            _special("manifests/passwd.yaml", tarfile.SYMTYPE, "/etc/passwd"),
            _special("manifests/other.yaml", tarfile.LNKTYPE, "bundle.yml"),
            _special("dev/sda", tarfile.BLKTYPE),
            _special("dev/null", tarfile.CHRTYPE),
            _special("pipe", tarfile.FIFOTYPE),
        ]:
            tar.addfile(info)
    server.files["odd"] = raw.getvalue()
    url = server.bundle("files", "odd")
    outcome = catalog(tmp_path, [url], [server.url], capsys=capsys)
    refused = outcome.findings("bundle/unsafe")
    named = ["../../etc/cron.d/x", "/etc/passwd", "manifests/passwd.yaml",
             "manifests/other.yaml", "dev/sda", "dev/null", "pipe"]  # fmt: skip
    assert sorted(next(n for n in named if repr(n) in f.message) for f in refused) == sorted(named)
    assert {(f.file, f.line) for f in refused} == {("prod:environment.yml", outcome.line_of(url))}
    assert outcome.deployments["odd"].owner == "team-x"
    outcome.rest_is_built()


def test_a_truncated_or_corrupt_tarball_is_unreadable_and_keeps_what_came_before(
    tmp_path: Path, server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    whole = member("bundle.yml", FACTS % b"cut") + member("manifests/a.yaml", b"a: 1\n" * 400)
    server.files["cut"] = gzip.compress(whole[:2000])  # ends inside the second member
    server.files["garbled"] = gzip.compress(whole[:1024] + b"\xff" * 512 + whole[1536:])
    urls = [server.bundle("files", "cut"), server.bundle("files", "garbled")]
    outcome = catalog(tmp_path, urls, [server.url], capsys=capsys)
    unreadable = outcome.findings("bundle/unreadable")
    assert sorted(f.line for f in unreadable) == [outcome.line_of(u) for u in urls]
    assert "ends inside member 'manifests/a.yaml'" in unreadable[0].message
    assert outcome.deployments["cut"].owner == "team-x"
    outcome.rest_is_built()


def test_a_downloaded_bundle_with_a_wrong_sha256_is_marked_and_not_trusted(
    tmp_path: Path, server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    server.files["pinned"] = member("bundle.yml", FACTS % b"pinned")
    url = server.bundle("files", "pinned")
    pins = {url: hashlib.sha256(b"what was uploaded first").hexdigest()}
    outcome = catalog(tmp_path, [url], [server.url], pins=pins, capsys=capsys)
    outcome.one("bundle/sha256-mismatch", url)
    assert outcome.deployments["pinned"].verified is False
    outcome.rest_is_built("pinned")


# --- 4. regular expressions over URLs -----------------------------------------------------------


def _hang_guarded(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False,
                              timeout=120, env={**os.environ, "NO_COLOR": "1"})  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"{args[:4]} did not finish: a regular expression backtracks")


LONG_NAME = "x" + "-1" * 50_000 + "@"  # 100,002 characters, no version at its end


def test_a_long_bundle_url_of_repeated_dashes_does_not_hang_the_guess() -> None:
    code = ("import sys; from generator.sources.bundles import url_facts; "
            "print(url_facts(sys.argv[1]), url_facts(sys.argv[2]))")  # fmt: skip
    url = f"https://files.test/b/{LONG_NAME}.tar.gz"
    versioned = f"https://files.test/b/svc{'-1' * 50_000}.tar.gz"
    done = _hang_guarded([sys.executable, "-c", code, url, versioned], cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{{'service': '{LONG_NAME}'}} {{'service': 'svc', 'version':")


def test_a_long_bundle_url_does_not_hang_a_command(tmp_path: Path) -> None:
    url = f"https://files.test/b/{LONG_NAME}.tar.gz"
    write(tmp_path / "envs" / "prod" / "environment.yml", f"name: prod\nbundles:\n  - {url}\n")
    config = make_config(tmp_path, environments=[{"name": "prod", "repo": "envs/prod"}])
    args = [sys.executable, "-m", "generator", "check", "--config", str(config), "--format", "json"]
    done = _hang_guarded(args, cwd=tmp_path)
    assert "Traceback" not in done.stderr
    findings = json.loads(done.stdout)["findings"]
    refused = [(f["file"], f["line"]) for f in findings if f["rule"] == "bundle/not-allowed"]
    assert refused == [("prod:environment.yml", 3)]


# --- 5. the real kustomize has no way out -------------------------------------------------------


@needs_kubectl
def test_the_real_kustomize_fetches_nothing_and_writes_nothing_under_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kustomize, why = real.find_kustomize(("kubectl", "kustomize"))
    assert kustomize is not None, why
    remote = "http://pipeline-docs.invalid/deploy.yaml"
    write(tmp_path / "repo" / "o" / "kustomization.yaml", f"resources:\n  - {remote}\n")
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    with serving(_proxy({})) as recorder:
        # pointed at a recording proxy, kustomize's fetch arrives there: it obeys the variables
        monkeypatch.setattr(real, "NOWHERE", recorder.url.rstrip("/"))
        with pytest.raises(real.KustomizeError):
            real.build(kustomize, tmp_path / "repo", "o", tmp_path / "work")
        assert recorder.requests == [f"GET {remote} HTTP/1.1"]
        monkeypatch.undo()
        monkeypatch.setenv("HOME", str(home))
        with pytest.raises(real.KustomizeError, match=r"127\.0\.0\.1:9\b"):
            real.build(kustomize, tmp_path / "repo", "o", tmp_path / "work")
        assert len(recorder.requests) == 1
    environment = real._environment()
    assert environment["HOME"] != str(home) and Path(environment["HOME"]).is_dir()
    assert os.stat(environment["HOME"]).st_mode & 0o077 == 0  # private
    assert environment["NO_PROXY"] == "" and environment["GIT_ALLOW_PROTOCOL"] == "file"
    assert list(home.iterdir()) == []
