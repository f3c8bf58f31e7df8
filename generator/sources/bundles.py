"""Manifest bundles: fetched through mirrors or HTTP, verified, and read in memory."""

from __future__ import annotations

import hashlib
import http.client
import io
import re
import tarfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from ..model import Finding, Severity
from ..progress import say
from ..yamlload import Document, load_documents
from .workloads import Workload, workload_from

MAX_BUNDLE_BYTES = 64 * 1024 * 1024
MAX_MEMBERS = 2_000
MAX_MEMBER_BYTES = 8 * 1024 * 1024
MAX_UNPACKED_BYTES = 128 * 1024 * 1024
TIMEOUT_SECONDS = 20
RETRIES = 2
_VERSION_IN_NAME = re.compile(r"^(?P<service>.+?)-(?P<version>v?\d[\w.+-]*|[0-9a-f]{7,40})$")


@dataclass
class Bundle:
    """What a bundle says about itself."""

    url: str
    facts: dict[str, str] = field(default_factory=dict)  # bundle.yml, values as written
    workloads: list[Workload] = field(default_factory=list)
    readable: bool = False
    meta: Document | None = None  # bundle.yml, to check against the bundle schema


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
    match = _VERSION_IN_NAME.match(name)
    if match:
        return {"service": match["service"], "version": match["version"]}
    return {"service": name} if name else {}


def mirror_path(url: str, mirrors: tuple[tuple[str, Path], ...]) -> Path | None:
    """The local file that mirrors `url`, by the longest matching prefix; None if none does."""
    for prefix, folder in sorted(mirrors, key=lambda m: -len(m[0])):
        if url.startswith(prefix):
            rest = unquote(url[len(prefix) :].split("?", 1)[0])
            parts = PurePosixPath(rest).parts
            if not parts or ".." in parts or rest.startswith("/"):
                return None
            return folder.joinpath(*parts)
    return None


def cache_path(url: str, cache: Path) -> Path:
    """Where a downloaded bundle is kept: keyed by the URL, named after its file."""
    digest = hashlib.sha256(url.encode()).hexdigest()[:24]
    name = re.sub(r"[^A-Za-z0-9._-]", "_", PurePosixPath(urlsplit(url).path).name)[-80:]
    return cache / f"{digest}-{name or 'bundle'}"


def _download(url: str) -> bytes:
    last: Exception | None = None
    for attempt in range(RETRIES + 1):
        try:
            request = urllib.request.Request(url, headers={"User-Agent": "pipeline-docs"})
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                data: bytes = response.read(MAX_BUNDLE_BYTES + 1)
                expected = response.headers.get("Content-Length")
            if len(data) > MAX_BUNDLE_BYTES:
                raise ValueError(f"larger than {MAX_BUNDLE_BYTES} bytes")
            if expected and expected.isdigit() and int(expected) != len(data):
                raise ValueError(f"truncated: {len(data)} of {expected} bytes")
            return data
        except urllib.error.HTTPError as error:
            if error.code < 500:
                raise  # 404 and friends will not get better by asking again
            last = error
        except (
            urllib.error.URLError,
            TimeoutError,
            ConnectionError,
            http.client.HTTPException,
        ) as error:
            last = error
        time.sleep(0.2 * (attempt + 1))
    assert last is not None
    raise last


def fetch(
    url: str, mirrors: tuple[tuple[str, Path], ...], cache: Path | None, file: str, line: int | None
) -> tuple[bytes | None, list[Finding]]:
    """The bundle's bytes from its mirror, the cache, or the network (then cached)."""
    try:
        return _fetch(url, mirrors, cache, file, line)
    except OSError as error:  # a name too long, a permission: the bundle cannot be had
        return None, [Finding("bundle/unreadable", Severity.ERROR, file, line, f"bundle {url}: {error}",
                              "check the mirror folder and the cache folder")]  # fmt: skip


def _fetch(
    url: str, mirrors: tuple[tuple[str, Path], ...], cache: Path | None, file: str, line: int | None
) -> tuple[bytes | None, list[Finding]]:
    local = mirror_path(url, mirrors)
    if local is None and any(url.startswith(prefix) for prefix, _ in mirrors):
        return None, [Finding(
            "bundle/not-found", Severity.ERROR, file, line,
            f"bundle URL {url} is under a mirror but leaves its folder (`..` or an absolute path)",
            "fix the URL",
        )]  # fmt: skip
    if local is not None:
        if not local.is_file():
            return None, [
                Finding(
                    "bundle/not-found",
                    Severity.ERROR,
                    file,
                    line,
                    f"bundle {url} is not in its mirror ({local.name} missing)",
                    "check the URL, or add the tarball to the mirror folder",
                )
            ]
        if local.stat().st_size > MAX_BUNDLE_BYTES:
            return None, [
                Finding(
                    "bundle/too-large", Severity.ERROR, file, line, f"bundle {url} is too large"
                )
            ]
        return local.read_bytes(), []
    scheme = urlsplit(url).scheme
    if scheme not in ("http", "https"):
        return None, [
            Finding(
                "bundle/unknown-url",
                Severity.ERROR,
                file,
                line,
                f"bundle URL {url!r} is neither mirrored nor http(s)",
                "use an http(s) URL or add its prefix to `bundles.mirrors`",
            )
        ]
    cached = cache_path(url, cache) if cache is not None else None
    if cached is not None and cached.is_file():
        return cached.read_bytes(), []
    try:
        say(f"downloading {url}")
        data = _download(url)
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as error:
        return None, [
            Finding(
                "bundle/download-failed",
                Severity.ERROR,
                file,
                line,
                f"cannot download bundle {url}: {error}",
                "check the URL and the network, or mirror the bundle locally",
            )
        ]
    if cached is not None and _is_tarball(data):  # never keep a broken download for good
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(cached)
    return data, []


def _members(
    data: bytes, url: str, file: str, line: int | None
) -> tuple[dict[str, bytes], list[Finding]]:
    """Regular files of a tarball, by normalised name; refuses anything unsafe or too big."""
    findings: list[Finding] = []
    members: dict[str, bytes] = {}
    unpacked = 0

    def refuse(message: str) -> None:
        findings.append(
            Finding(
                "bundle/unsafe",
                Severity.ERROR,
                file,
                line,
                f"bundle {url}: {message}",
                "rebuild the bundle from plain files",
            )
        )

    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            for count, member in enumerate(tar):
                if count >= MAX_MEMBERS:
                    refuse(f"more than {MAX_MEMBERS} members; the rest is not read")
                    break
                name = member.name
                parts = PurePosixPath(name).parts
                if name.startswith("/") or ".." in parts:
                    refuse(f"member {name!r} has an absolute or parent path; skipped")
                    continue
                if member.isdir():
                    continue
                if not member.isfile():
                    refuse(f"member {name!r} is a link or device; skipped")
                    continue
                if member.size > MAX_MEMBER_BYTES or unpacked + member.size > MAX_UNPACKED_BYTES:
                    refuse(f"member {name!r} is too large; skipped")
                    continue
                extracted = tar.extractfile(member)
                if extracted is None:
                    continue
                unpacked += member.size
                members[PurePosixPath(*[p for p in parts if p != "."]).as_posix()] = (
                    extracted.read()
                )
    except (tarfile.TarError, OSError, EOFError, ValueError) as error:
        findings.append(
            Finding(
                "bundle/unreadable",
                Severity.ERROR,
                file,
                line,
                f"bundle {url} is not a readable tarball: {error}",
                "rebuild and upload the bundle again",
            )
        )
    return members, findings


def _bundle_yml(members: dict[str, bytes]) -> str | None:
    candidates = [n for n in members if PurePosixPath(n).name in ("bundle.yml", "bundle.yaml")]
    return min(candidates, key=lambda n: (n.count("/"), n)) if candidates else None


def read_bundle(data: bytes, url: str, file: str, line: int | None) -> tuple[Bundle, list[Finding]]:
    """Facts and workloads of a bundle, read in memory from its bytes."""
    bundle = Bundle(url)
    members, findings = _members(data, url, file, line)
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


def _is_tarball(data: bytes) -> bool:
    """Whether the bytes open as a tarball and hold at least one member."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            return tar.next() is not None
    except (tarfile.TarError, OSError, EOFError, ValueError):
        return False


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
