"""History of overlay and manifest layouts, in the catalog's own terms: each commit that touches
what an environment reads is rendered (by the built-in renderer, from git objects, never a
checkout) and compared with the commit before, so a tag set in a patch file or a component is
attributed to the service that runs it, and replica changes are seen too.

One streaming `git log --raw` gives, per commit, the blob id of every file it changed; the tree
is kept as a map of paths to blob ids, files are read through one `git cat-file --batch`, and
the walk is cached with the state at its head: a later run renders only the commits since.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import secrets
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from ..analysis.versions import compare
from ..model import Change
from ..progress import Count
from .gitrepo import (
    GIT,
    GIT_ENV,
    GIT_TIMEOUT_SECONDS,
    RepoError,
    check_log,
    git,
    resolve_ref,
)
from .history import merge_request, shallow_commits
from .kustomize import KUSTOMIZATION_FILES

CACHE_VERSION = 1
MAX_BLOB_BYTES = 16 * 1024 * 1024
MAX_COMMITS = 1_000_000
_ZERO = "0" * 40
State = dict[str, tuple[str | None, int | None]]  # service -> (version, replicas)


class BlobReader:
    """Blobs by id through one long-lived `git cat-file --batch`."""

    def __init__(self, root: Path) -> None:
        env = {**os.environ, **GIT_ENV}
        self.process = subprocess.Popen(
            [*GIT, "cat-file", "--batch"], cwd=root, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
        )  # fmt: skip

    def read(self, blob: str, limit: int) -> bytes:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        stdin.write(blob.encode() + b"\n")
        stdin.flush()
        header = stdout.readline().split()
        if len(header) != 3 or header[1] != b"blob":
            raise RepoError(f"blob {blob} is missing")
        size = int(header[2])
        if size > limit:  # read past, in bounded pieces, and refused
            left = size + 1
            while left > 0 and (piece := stdout.read(min(left, 1 << 20))):
                left -= len(piece)
            raise RepoError(f"a file is larger than {limit} bytes")
        return stdout.read(size + 1)[:size]

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        if self.process.stdout is not None:
            self.process.stdout.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class BlobView:
    """An env repo's files at one commit, from a map of paths to blob ids (a `RepoView` alike)."""

    root: Path
    blobs: dict[str, str]
    reader: BlobReader
    consulted: set[str] = field(default_factory=set)
    ref: str | None = "history"
    commit: str = ""
    commit_date: str = ""
    _files: list[str] | None = None
    listing: tuple[set[str], set[str]] | None = None  # files, and files with folders: shared

    def files(self) -> list[str]:
        if self._files is None:
            self._files = sorted(self.blobs)
        return self._files

    def read(self, name: str, limit: int) -> bytes:
        self.consulted.add(name)
        if name not in self.blobs:
            raise RepoError(f"{name} does not exist")
        return self.reader.read(self.blobs[name], limit)

    def exists(self, name: str) -> bool:
        self.consulted.add(name)
        return name in self.blobs

    def blob(self, name: str) -> str | None:
        return self.blobs.get(name)


@dataclass
class _Commit:
    sha: str
    author: str
    date: str
    subject: str
    body: str
    changes: list[tuple[str, str, str]]  # (status, blob id, path)


def _log(root: Path, revisions: str, marker: bytes) -> Iterator[bytes]:
    """The raw chunks of one commit each of `git log --raw -z`, first-parent, oldest first;
    RepoError when git fails or takes too long."""
    start, end = b"\x1e" + marker + b"S", b"\x1e" + marker + b"E"
    fmt = f"%x1e{marker.decode()}S%H%x00%an%x00%aI%x00%s%x00%b%x1e{marker.decode()}E"
    args = [*GIT, "log", "--first-parent", "--reverse", "--raw", "--no-renames", "--no-abbrev",
            "--no-textconv", "--no-ext-diff", "-z", "--diff-merges=first-parent",
            f"--format={fmt}", revisions, "--"]  # fmt: skip
    env = {**os.environ, **GIT_ENV}
    with tempfile.TemporaryFile() as errors:
        with subprocess.Popen(args, cwd=root, stdout=subprocess.PIPE, stderr=errors,
                              stdin=subprocess.DEVNULL, env=env) as process:  # fmt: skip
            assert process.stdout is not None
            watchdog = threading.Timer(GIT_TIMEOUT_SECONDS, process.kill)
            watchdog.daemon = True
            watchdog.start()
            try:
                yield from _chunks(process.stdout, start, end)
            finally:
                watchdog.cancel()
                process.stdout.close()
                if process.poll() is None:
                    process.kill()
        check_log(process.returncode, errors)


def _chunks(stream: IO[bytes], start: bytes, end: bytes) -> Iterator[bytes]:
    buffer = b""
    while True:
        data = stream.read(1 << 16)
        buffer += data
        while True:
            first = buffer.find(start)
            second = buffer.find(start, first + len(start)) if first >= 0 else -1
            if second < 0:
                break
            yield buffer[first + len(start) : second]
            buffer = buffer[second:]
        if not data:
            break
    first = buffer.find(start)
    if first >= 0 and end in buffer:
        yield buffer[first + len(start) :]


def _commit(chunk: bytes, end: bytes) -> _Commit | None:
    header, found, rest = chunk.partition(end)
    if not found:
        return None
    fields = (header.decode("utf-8", "replace").split("\0") + [""] * 5)[:5]
    tokens = rest.lstrip(b"\0\n").split(b"\0")
    changes = []
    for index in range(0, len(tokens) - 1, 2):
        meta = tokens[index].decode("ascii", "replace").lstrip(":\n").split()
        if len(meta) < 5:  # not a raw entry
            continue
        path = tokens[index + 1].decode("utf-8", "surrogateescape")
        status = meta[4][:1]
        if meta[1] in ("120000", "160000"):  # a link or a submodule is no file: never read
            status, meta[3] = "D", _ZERO
        elif status == "T":  # a link or a submodule became a file: it came
            status = "A"
        changes.append((status, meta[3], path))
    sha, author, date, subject, body = fields
    return _Commit(sha, author, date, subject, body.strip(), changes)


@dataclass
class Walk:
    """Where one environment's history is read, and how its state at a commit is computed."""

    environment: str
    root: Path
    ref: str
    folder: str  # the environment's folder ("" for the whole repo)
    key: str  # what else the state depends on (settings), for the cache
    state_of: Callable[[BlobView], State]
    limit: int = MAX_COMMITS  # commits walked at most (`limits.history_commits`)


def _relevant(walk: Walk, changed: list[tuple[str, str, str]], consulted: set[str]) -> bool:
    prefix = f"{walk.folder}/" if walk.folder else ""
    for status, _, path in changed:
        if path in consulted or PurePosixPath(path).name in KUSTOMIZATION_FILES:
            return True
        if status in "AD" and path.startswith(prefix):
            return True
    return False


def _rows(walk: Walk, commit: _Commit, before: State, after: State) -> list[dict[str, Any]]:
    rows = []
    for service in sorted(set(before) | set(after)):
        old, new = before.get(service, (None, None)), after.get(service, (None, None))
        if old == new:
            continue
        rows.append({
            "service": service, "from": old[0], "to": new[0], "from_replicas": old[1],
            "to_replicas": new[1], "removed": service not in after, "added": service not in before,
            "commit": commit.sha, "author": commit.author, "date": commit.date,
            "message": commit.subject, "merge_request": merge_request(commit.subject, commit.body),
        })  # fmt: skip
    return rows


def _cache_file(cache: Path, walk: Walk) -> Path:
    key = json.dumps([CACHE_VERSION, str(walk.root), walk.ref, walk.folder, walk.key])
    return cache / "history" / f"state-{hashlib.sha256(key.encode()).hexdigest()[:20]}.json"


def _load(stored: Path | None) -> dict[str, Any]:
    if stored is None or not stored.is_file():
        return {}
    try:
        data = json.loads(stored.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _is_ancestor(root: Path, old: str, new: str) -> bool:
    try:
        git(["merge-base", "--is-ancestor", old, new], root)
    except RepoError:
        return False
    return True


def _render_key(consulted: set[str], blobs: dict[str, str]) -> str:
    """What a render read: the files it consulted, with the blob each one is at now."""
    return json.dumps(sorted((path, blobs.get(path)) for path in consulted))


def walk_history(walk: Walk, cache: Path | None) -> list[Change]:
    """Every change of what an environment runs, oldest first; cached with the state at the head."""
    try:
        head = resolve_ref(walk.root, walk.ref)
    except RepoError:
        return []
    stored = _cache_file(cache, walk) if cache is not None else None
    previous = _load(stored)
    if previous.get("head") == head:
        return _changes(walk.environment, previous.get("rows", []))
    if previous.get("head") and _is_ancestor(walk.root, str(previous["head"]), head):
        revisions = f"{previous['head']}..{head}"
        blobs = dict(previous.get("blobs", {}))
        state: State = {k: (v[0], v[1]) for k, v in previous.get("state", {}).items()}
        consulted = set(previous.get("consulted", []))
        rows: list[dict[str, Any]] = list(previous.get("rows", []))
        fresh = False
    else:
        revisions, blobs, state, consulted, rows, fresh = head, {}, {}, set(), [], True
    cut = shallow_commits(walk.root)  # a shallow clone's oldest commits add all: no deploy
    marker = secrets.token_hex(12).encode()
    reader = BlobReader(walk.root)
    renders: dict[str, tuple[State, set[str]]] = {}
    walked = Count(f"walking history of {walk.environment}", "commit")
    listing: tuple[list[str] | None, tuple[set[str], set[str]] | None] = None, None
    try:
        for count, chunk in enumerate(_log(walk.root, revisions, marker)):
            walked.add()
            commit = _commit(chunk, b"\x1e" + marker + b"E")
            if commit is None or count > walk.limit:
                continue
            for status, blob, path in commit.changes:
                if status == "D" or blob == _ZERO:
                    blobs.pop(path, None)
                else:
                    blobs[path] = blob
                if status in "AD":
                    listing = None, None  # files came or went: list them again
            if not (fresh or _relevant(walk, commit.changes, consulted)):
                continue
            fresh = False
            known = renders.get(_render_key(consulted, blobs)) if consulted else None
            if known is not None:  # these very files were rendered before (a rollback, a revert)
                after, consulted = known
            else:
                view = BlobView(walk.root, dict(blobs), reader, commit=commit.sha)
                view._files, view.listing = listing
                after = walk.state_of(view)
                consulted = view.consulted
                listing = view._files, view.listing
                renders[_render_key(consulted, blobs)] = (after, consulted)
            if commit.sha not in cut:
                rows += _rows(walk, commit, state, after)
            state = after
    finally:
        walked.done()
        reader.close()
    if stored is not None:
        stored.parent.mkdir(parents=True, exist_ok=True)
        stored.write_text(json.dumps({
            "head": head, "blobs": blobs, "state": state, "consulted": sorted(consulted), "rows": rows,
        }))  # fmt: skip
    return _changes(walk.environment, rows)


def _changes(environment: str, rows: list[dict[str, Any]]) -> list[Change]:
    changes = [
        Change(
            environment=environment,
            service=str(row["service"]),
            from_version=row.get("from"),
            to_version=row.get("to"),
            commit=str(row["commit"]),
            author=str(row["author"]),
            date=str(row["date"]),
            message=str(row["message"]),
            merge_request=str(row.get("merge_request") or ""),
            from_replicas=row.get("from_replicas"),
            to_replicas=row.get("to_replicas"),
        )
        for row in rows
    ]
    return mark_rollbacks(changes)


def mark_rollbacks(changes: list[Change]) -> list[Change]:
    """Changes (oldest first) with each return to a version the environment ran before marked,
    unless it is newer than the one it replaces (promoted again after a rollback)."""
    ran: dict[tuple[str, str], set[str]] = {}
    marked = []
    for change in changes:
        seen = ran.setdefault((change.environment, change.service), set())
        after, before = change.to_version, change.from_version
        if (
            after is not None
            and after != before
            and after in seen
            and (
                before is None or compare(after, before) != 1  # back, not forward again
            )
        ):
            change = dataclasses.replace(change, rollback=True)
        if after is not None:
            seen.add(after)
        marked.append(change)
    return marked
