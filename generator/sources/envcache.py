"""An environment's read, kept by what it was read from, so a rebuild after a merge to one env
repo reads that repo alone.

What `read_environment` made of an environment (its deployments, history and findings) is a
function of: the generator's code and the salt (limits, schemas), the config and owners.yml,
the kustomize on PATH, the repo at its commit (for a local repo read from its work tree: every
file's path, size and modification time as well), and the bundle files the fetches read
(mirror files, downloaded ones in the bundle cache; an unpinned bundle already downloaded is
not fetched again anyway). The key holds all but the last, which the entry records and checks
by their size and modification time: a tarball re-uploaded to a mirror makes the environment
read again. A fetch that went to the network and kept nothing, or a repo without a commit (a
plain folder, a repo whose history cannot be read), is never kept.

Entries are JSON (`codec`), one file each under `<cache>/environments/`, by key; a run keeps
those it used and removes the others."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import codec
from ..cachekey import key_of
from ..config import Config, EnvironmentConfig
from ..jsontext import compact_json, parse_json
from ..kept import Blobs, dump_finding, load_finding
from ..model import Environment, Finding
from . import download
from .gitrepo import RepoView, is_url
from .owners import Owners

LAST_READS = "environments-last"  # each environment's last good read, by its config entry
MOST_WORK_TREE_FILES = 200_000  # files of a work tree stated for its key; more: not kept
_TOOLS = ("kustomize", "kubectl")


@dataclass(frozen=True)
class KeptRead:
    """An environment as an earlier run read it, and the bundle reads it used then."""

    environment: Environment
    findings: list[Finding]
    bundles: list[tuple[str, str]]  # (sha256, URL) of each bundle read it used


def tools() -> list[Any]:
    """The kustomize and kubectl on PATH, by path, size and modification time."""
    found: list[Any] = []
    for name in _TOOLS:
        path = shutil.which(name)
        try:
            info = os.stat(path) if path else None
        except OSError:
            info = None
        found.append([path, info.st_size, info.st_mtime_ns] if info else None)
    return found


def _work_tree(view: RepoView) -> list[Any] | None:
    """What a work tree read depends on: each file by path, size and modification time."""
    files = view.files()
    if len(files) > MOST_WORK_TREE_FILES or view.unusual:
        return None
    rows: list[Any] = []
    for name in files:
        try:
            info = os.stat(view.root / name)
        except OSError:
            return None
        rows.append([name, info.st_size, info.st_mtime_ns])
    return [rows, sorted(view.outside)]


def work_tree_state(env: EnvironmentConfig, view: RepoView) -> Any:
    """What a read of this repo depends on besides its commit: for a local repo read from its
    work tree, its files (`_work_tree`), False when they cannot be told; else None."""
    if view.ref is not None or is_url(env.repo):
        return None
    state = _work_tree(view)
    return False if state is None else state


class EnvironmentReads:
    """The kept environment reads of one run (none without a cache folder)."""

    def __init__(self, config: Config, owners: Owners, salt: str) -> None:
        self.blobs = Blobs(config.cache / "environments")
        self.config = config
        self.base = key_of(salt, repr(config), repr(owners), tools())
        self._as_json: tuple[Environment, list[Finding], str] | None = None

    def _read_json(self, read: KeptRead) -> str:
        """The read's environment and findings as JSON members, made once for both files that
        keep the read of a changed repo (its entry and its last good read)."""
        known = self._as_json
        if known is None or known[0] is not read.environment or known[1] is not read.findings:
            environment = compact_json(codec.dump(read.environment)).decode("utf-8")
            findings = compact_json([dump_finding(f) for f in read.findings]).decode("utf-8")
            members = f'"environment":{environment},"findings":{findings}'
            self._as_json = known = (read.environment, read.findings, members)
        return known[2]

    def key(self, env: EnvironmentConfig, view: RepoView | Any) -> str | None:
        """The key of this environment as its repo is now, or None when it cannot be kept."""
        if not isinstance(view, RepoView) or not view.commit or view.history_problem:
            return None
        if (state := work_tree_state(env, view)) is False:
            return None
        return key_of(self.base, repr(env), view.commit, view.ref, state)

    def get(self, key: str | None) -> KeptRead | None:
        """What the read with this key gave, if its bundle files are as they were then."""
        data = self.blobs.get(key) if key is not None else None
        if data is None:
            return None
        try:
            entry = parse_json(data)
            fetched = [tuple(r) for r in entry["fetched"]]
            if not download.unchanged(fetched):
                return None
            download.replay(fetched)  # what this run read, though it read them earlier
            return KeptRead(
                codec.load(Environment, entry["environment"]),
                [load_finding(f) for f in entry["findings"]],
                [(str(d), str(u)) for d, u in entry["bundles"]],
            )
        except (ValueError, KeyError, TypeError):
            return None

    def put(self, key: str | None, read: KeptRead, fetched: list[Any]) -> None:
        """Keep a read, unless a fetch of it went to the network and kept nothing."""
        if key is None or any(path == download.NETWORK for path, _, _ in fetched):
            return
        rest = json.dumps({"bundles": read.bundles, "fetched": fetched}, separators=(",", ":"))
        entry = "{" + self._read_json(read) + "," + rest[1:]
        self.blobs.put(key, entry.encode("utf-8"))

    def save(self) -> None:
        """Remove the entries this run did not use, and the last good reads of environments
        the config no longer names or that another version of the generator kept (their file
        names hold the code's digest)."""
        self.blobs.save()
        named = {f.name for env in self.config.environments for f in self._last_files(env)}
        try:
            kept = list((self.config.cache / LAST_READS).iterdir())
        except OSError:
            return
        for file in kept:
            if file.name not in named and not file.name.endswith(".partial") and file.is_file():
                file.unlink(missing_ok=True)

    def _last_files(self, env: EnvironmentConfig) -> tuple[Path, Path]:
        """Where the last good read of `env` is kept: a small file saying when and by which
        key it was read, and the read itself (written only when the key changes)."""
        name = key_of(env.name, env.repo, env.ref, env.path)[:32]
        folder = self.config.cache / LAST_READS
        return folder / f"{name}.json", folder / f"{name}.read.json"

    def remember(
        self, env: EnvironmentConfig, read: KeptRead, key: str | None, when: datetime
    ) -> None:
        """Keep this read as the last good one of `env` (read at `when`), for a run that cannot
        read its repo (`last`). The read is written only when it differs from the one kept: a
        run of the same commit writes the date alone."""
        if key is None:
            return
        head, body = self._last_files(env)
        stamp = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            same = json.loads(head.read_bytes()).get("key") == key and body.is_file()
        except (OSError, ValueError, AttributeError):
            same = False
        try:
            head.parent.mkdir(parents=True, exist_ok=True)
            if not same:
                text = "{" + f'"key":{json.dumps(key)},' + self._read_json(read) + "}"
                _replace(body, text.encode("utf-8"))
            _replace(head, json.dumps({"key": key, "read": stamp}).encode())
        except (OSError, ValueError):
            pass  # a cache that cannot be written keeps nothing

    def last(self, env: EnvironmentConfig) -> tuple[Environment, list[Finding], str] | None:
        """The last good read of `env` an earlier run kept, its findings, and when it was read;
        None when there is none, or it cannot be read back (another version's)."""
        head, body = self._last_files(env)
        try:
            when = json.loads(head.read_bytes())
            data = parse_json(body.read_bytes())
            if data["key"] != when["key"]:
                return None  # a run stopped between the two writes
            return (
                codec.load(Environment, data["environment"]),
                [load_finding(f) for f in data["findings"]],
                str(when["read"]),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None


def _replace(file: Path, data: bytes) -> None:
    """Write `file` whole or not at all (two runs at once: each its own partial file)."""
    partial = file.with_suffix(f".{os.getpid()}.partial")
    partial.write_bytes(data)
    os.replace(partial, file)
