"""Manifest bundles: what a bundle URL names, and what a bundle's tarball holds (bundle.yml and
workloads). Fetching is `download.py`; the tar reader is `tarball.py`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

from ..kept import Kept, dump_finding, load_finding
from ..limits import Limits
from ..model import Container, Finding, Severity
from ..yamlload import Document, load_documents
from .containers import Autoscaler, autoscaled, autoscaler_from
from .tarball import read_members
from .workloads import Workload, workload_from

DEFAULTS = Limits()
_HEX = frozenset("0123456789abcdef")


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
    members, findings = read_members(data, url, file, line, limits)
    if not members and findings:
        return bundle, findings
    bundle.readable = True
    autoscalers: list[Autoscaler] = []
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
            elif (autoscaler := autoscaler_from(document)) is not None:
                autoscalers.append(autoscaler)
    floors = autoscaled(autoscalers)  # an HPA scales a workload of its own bundle only
    bundle.workloads = [
        replace(w, min_replicas=floors.get((w.kind, w.namespace, w.name))) for w in bundle.workloads
    ]
    return bundle, findings


def _facts(document: Document | None) -> dict[str, str]:
    if document is None or not isinstance(document.data, dict):
        return {}
    facts = {}
    for key, value in document.data.items():
        if value is not None and not isinstance(value, dict | list):
            facts[str(key)] = document.text((key,)) or str(value)
    return facts


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class BundleRead:
    """What reading one bundle yielded: the bundle, its findings and those of its bundle.yml
    against the bundle schema."""

    bundle: Bundle
    findings: tuple[Finding, ...]
    file: str  # the entry it was read for, which its findings about the whole tarball name
    line: int | None

    def at(self, file: str, line: int | None) -> list[Finding]:
        """Its findings as read for the entry at `file`, `line` instead: a finding about the
        whole tarball names that entry; one inside it (`URL#member`) stays as it was."""
        if (file, line) == (self.file, self.line):
            return list(self.findings)
        return [
            replace(f, file=file, line=line if f.line == self.line else f.line)
            if f.file == self.file else f
            for f in self.findings
        ]  # fmt: skip


class BundleReads:
    """Bundles read, by the tarball's sha256 and its URL (which its findings name): the same
    tarball listed in several environments (a promotion) is un-tarred and parsed once a run,
    its bundle and workloads shared, never changed by a reader.

    With a `folder`, what a read yielded is also kept there (`kept`, bundle-reads.json), by the
    tarball's sha256 and URL, for `salt` (what else the read depends on: the limits, the schemas
    bundle.yml is checked against) and the generator's code: a later run reads it instead of the
    tarball. Never by URL alone: a tarball re-uploaded under the same URL has another sha256. An
    entry that cannot be read back is read from the tarball again. `save` writes them."""

    def __init__(self, folder: Path | None = None, salt: str = "") -> None:
        self._read: dict[tuple[str, str], BundleRead] = {}
        self.kept = Kept(folder, "bundle-reads", salt)
        self.asked: list[tuple[str, str]] = []  # every (sha256, URL) asked for, in order

    def keep(self, digest: str, url: str) -> None:
        """Keep the read of this tarball for the next run, though this one did not ask for it."""
        self.kept.keep("bundle read", digest, url)

    def get(self, digest: str, url: str) -> BundleRead | None:
        self.asked.append((digest, url))
        known = self._read.get((digest, url))
        if known is None:
            known = _load(self.kept.get("bundle read", digest, url))
            if known is not None:
                self._read[(digest, url)] = known
        return known

    def put(self, digest: str, url: str, read: BundleRead) -> None:
        self._read[(digest, url)] = read
        self.kept.put(_dumped(read), "bundle read", digest, url)

    def save(self) -> None:
        self.kept.save()


def _dumped_workload(workload: Workload) -> dict[str, Any]:
    """A workload as JSON takes it (`asdict` deep-copies, and is most of the time it takes)."""
    fields = dict(vars(workload))
    fields["containers"] = [dict(vars(c)) for c in workload.containers]
    return fields


def _dumped(read: BundleRead) -> dict[str, Any]:
    bundle = read.bundle
    return {
        "url": bundle.url, "facts": bundle.facts, "readable": bundle.readable,
        "workloads": [_dumped_workload(w) for w in bundle.workloads],
        "findings": [dump_finding(f) for f in read.findings],
        "file": read.file, "line": read.line,
    }  # fmt: skip


def _load(data: Any) -> BundleRead | None:
    """A kept read, or None when there is none or it is not one this code wrote."""
    if data is None:
        return None
    try:
        workloads = [
            Workload(**{
                **w, "images": tuple(w["images"]),
                "containers": tuple(Container(**c) for c in w["containers"]),
                "set_at": tuple(w["set_at"]) if w["set_at"] is not None else None,
            })
            for w in data["workloads"]
        ]  # fmt: skip
        findings = tuple(load_finding(f) for f in data["findings"])
        bundle = Bundle(data["url"], dict(data["facts"]), workloads, bool(data["readable"]))
        return BundleRead(bundle, findings, str(data["file"]), data["line"])
    except (ValueError, KeyError, TypeError):
        return None
