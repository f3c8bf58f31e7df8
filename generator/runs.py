"""What a `generate` run read and wrote, so that the next one, when nothing it read changed and
its output is as it left it, writes `build.json` alone.

A record per output folder (`<cache>/runs/<digest of the folder>.json`) holds:

- the key of every input as the run found it before reading it: the code, the config, today's
  date (an announcement without a date is dated by the day it is read), the kustomize on PATH,
  every file under the folders and files the config names (schemas, templates, owners,
  announcements, releases, `validate:` globs, docs/guides, the sample's script) by path, size and
  modification time, the refs of the schemas' git repo (releases are its tags), and each
  environment's repo commit (and work tree, as `envcache` keys it);
- the bundle files the fetches read (mirror and downloaded tarballs, `download.recording`);
- every file written, by path, size and modification time, and for a page the cache kept (a
  service's, an environment's) its key: the next run, whatever changed, writes such a page
  without reading it when its key and the file's size and time are the same
  (`generate.write_pages`);
- the findings, to report them again, and what `build.json` says of each environment.

Anything unknown (a fetch that went to the network and kept nothing, a repo without a commit, a
folder too large) leaves no record: the next run is a full one. A record is trusted as the cache
folder is."""

from __future__ import annotations

import glob
import hashlib
import json
import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from .cachekey import key_of, stated_files
from .config import Config
from .kept import dump_finding, load_finding
from .model import Finding
from .sources import download
from .sources.envcache import tools, work_tree_state
from .sources.gitrepo import RepoError, RepoView, git, open_repo

MOST_FILES = 100_000  # files under the config's folders stated for the key; more: no record
MOST_RECORD_BYTES = 64 * 1024 * 1024


def _named(config: Config) -> list[Path]:
    """The files and folders the config names that collect reads, besides the env repos."""
    named = [config.file, config.schemas, *config.templates, config.owners, config.announcements,
             config.sample, config.root / "docs" / "guides",
             *(config.root / r.schemas for r in config.releases if r.schemas)]  # fmt: skip
    for pattern, _ in config.validate:
        named += [Path(p) for p in sorted(glob.glob(str(config.root / pattern), recursive=True))]
    return [p for p in named if p is not None]


def _refs(config: Config) -> str:
    """The refs of the git repo holding the schemas (releases are read from its tags)."""
    if config.schemas is None or not config.schemas.is_dir():
        return ""
    try:
        return git(["for-each-ref", "--format=%(refname)%00%(objectname)"], config.schemas)
    except RepoError:
        return ""


def _environments(config: Config) -> list[Any] | None:
    """Each environment's repo as it is now: its commit, and its work tree when that is read."""
    states: list[Any] = []
    for env in config.environments:
        try:
            view = open_repo(env.repo, env.ref, config.root, config.cache)
        except RepoError:
            return None
        if not isinstance(view, RepoView) or not view.commit or view.history_problem:
            return None
        state = work_tree_state(env, view)
        if state is False:
            return None
        states.append([repr(env), view.commit, view.ref, state])
    return states


def inputs_key(config: Config) -> str | None:
    """The key of everything a run reads but the bundles, as it is now; None when unknown."""
    rows = stated_files(_named(config), MOST_FILES)
    if rows is None:
        return None
    environments = _environments(config)
    if environments is None:
        return None
    return key_of(
        repr(config), date.today().isoformat(), tools(), rows, _refs(config), environments
    )


class RunRecord:
    """The record of the last `generate` into one folder."""

    def __init__(self, config: Config, out: Path) -> None:
        name = hashlib.sha256(str(out.resolve()).encode()).hexdigest()[:20]
        self.file = config.cache / "runs" / f"{name}.json"
        self.out = out
        self._data: dict[str, Any] | None = None  # the record, once read

    def _read(self) -> dict[str, Any] | None:
        if self._data is not None:
            return self._data
        try:
            if self.file.stat().st_size > MOST_RECORD_BYTES:
                return None
            data = json.loads(self.file.read_bytes())
        except (OSError, ValueError):
            return None
        self._data = data if isinstance(data, dict) else None
        return self._data

    def unchanged(self, key: str | None) -> tuple[list[Finding], list[Any], int] | None:
        """When the last run had these inputs and its output is as it left it: its findings,
        what build.json said of each environment, and how many files it wrote."""
        data = self._read() if key is not None else None
        if data is None or data.get("key") != key:
            return None
        try:
            fetched = [tuple(r) for r in data["fetched"]]
            written = {str(p): (s, m) for p, s, m, *_ in data["written"]}
            if not download.unchanged(fetched):
                return None
            for path, stated in written.items():
                info = os.stat(path)
                if (info.st_size, info.st_mtime_ns) != stated:
                    return None
            findings = [load_finding(f) for f in data["findings"]]
            return findings, list(data["environments"]), len(written)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def known_pages(self) -> dict[str, tuple[str, int, int]]:
        """The kept pages the last run wrote: by path, their key, size and modification time
        then (what `write_pages` trusts, as `unchanged` trusts the files' size and time)."""
        data = self._read()
        try:
            rows = data["written"] if data is not None else []
            return {str(row[0]): (str(row[3]), int(row[1]), int(row[2]))
                    for row in rows if len(row) == 4}  # fmt: skip
        except (KeyError, TypeError, ValueError, IndexError):
            return {}

    def save(self, key: str | None, fetched: list[Any], written: list[Path],
             findings: tuple[Finding, ...], environments: list[Any],
             keys: Mapping[str, str] | None = None) -> None:  # fmt: skip
        """Record this run; nothing when its inputs are not all known. `keys`: the kept pages'
        keys by the path of their file, as `written` names it."""
        if key is None or any(path == download.NETWORK for path, _, _ in fetched):
            self.file.unlink(missing_ok=True)
            return
        try:
            stated: list[list[Any]] = []
            for path in written:
                info = path.stat()
                page = keys.get(str(path)) if keys else None
                stated.append(
                    [str(path), info.st_size, info.st_mtime_ns, *([page] if page else [])]
                )
            record = {"key": key, "fetched": fetched, "written": stated,
                      "findings": [dump_finding(f) for f in findings],
                      "environments": environments}  # fmt: skip
            self.file.parent.mkdir(parents=True, exist_ok=True)
            partial = self.file.with_suffix(".partial")
            partial.write_text(json.dumps(record), encoding="utf-8")
            os.replace(partial, self.file)
        except OSError:
            self.file.unlink(missing_ok=True)
