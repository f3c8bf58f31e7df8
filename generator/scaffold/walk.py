"""The folders `init` is given, walked with bounds; a git URL is cloned into the cache first.

Links are never followed (a link may lead anywhere on the machine); `.git`, `node_modules` and
hidden folders but `.github` and `.gitlab` are not entered."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..sources.gitrepo import RepoError, export_tree, is_url, open_repo
from ..yamlload import YamlError, load_data_file, read_text

MAX_FILES = 20_000  # files kept from one folder given
MAX_ENTRIES = 100_000  # folder entries looked at in one folder given
MAX_DEPTH = 12  # folders below the one given
READ_BYTES = 4 * 1024 * 1024  # one file read to tell what it is
READ_BUDGET = 512 * 1024 * 1024  # all the files read from one folder given
SKIPPED = frozenset({".git", "node_modules", "__pycache__"})
HIDDEN_KEPT = frozenset({".github", ".gitlab"})


class SourceError(Exception):
    """A path or URL given to `init` that cannot be read."""


@dataclass
class Source:
    """One folder given to `init` (or the tree of a cloned URL) and the files found in it."""

    given: str  # as the user wrote it
    root: Path  # on disk
    files: list[str]  # POSIX paths relative to root, sorted
    repos: list[str]  # folders that are git repos ("" for root itself)
    url: str | None = None  # the git URL it was cloned from
    cut: bool = False  # a bound was reached: some files were not looked at
    budget: int = field(default=READ_BUDGET, repr=False)  # bytes that may still be read

    def _readable(self, name: str) -> Path | None:
        """The file on disk, when it is small enough and the budget allows it."""
        path = self.root / name
        try:
            if path.is_symlink():  # made since the walk: never followed
                return None
            size = path.stat().st_size
        except OSError:
            return None
        if size > self.budget:
            self.cut = True
        if size > READ_BYTES or size > self.budget:
            return None
        self.budget -= size
        return path

    def text(self, name: str) -> str | None:
        """A file's text, or None when it cannot be read or is too large to be an input."""
        path = self._readable(name)
        try:
            return read_text(path, name, READ_BYTES) if path is not None else None
        except YamlError:
            return None

    def data(self, name: str) -> object:
        """A JSON or YAML file's first document, or None when it does not parse."""
        path = self._readable(name)
        document = load_data_file(path, name)[0] if path is not None else None
        return document.data if document is not None else None

    def repo_of(self, name: str) -> str | None:
        """The innermost git repo holding a file, or None."""
        parents = [str(p) for p in PurePosixPath(name).parents]
        found = [r for r in self.repos if (r or ".") in parents]
        return max(found, key=len) if found else None


def walk(root: Path, skip: tuple[Path, ...] = ()) -> tuple[list[str], list[str], bool]:
    """The files under `root` and its folders that are git repos; whether a bound was reached."""
    files: list[str] = []
    repos: list[str] = []
    skipped = {os.path.realpath(p) for p in skip}
    stack: list[tuple[str, str, int]] = [(str(root), "", 0)]
    looked, cut = 0, False
    while stack and not cut:
        folder, prefix, depth = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError:
            if not prefix:
                raise SourceError(f"{root} cannot be read") from None
            continue
        if any(e.name == ".git" for e in entries):
            repos.append(prefix.rstrip("/"))
        for entry in entries:
            looked += 1
            if looked > MAX_ENTRIES or len(files) >= MAX_FILES:
                cut = True
                break
            try:
                if entry.is_symlink():
                    continue
                if entry.is_dir(follow_symlinks=False):
                    hidden = entry.name.startswith(".") and entry.name not in HIDDEN_KEPT
                    if entry.name in SKIPPED or hidden or os.path.realpath(entry.path) in skipped:
                        continue
                    if depth >= MAX_DEPTH:
                        cut = True
                        continue
                    stack.append((entry.path, f"{prefix}{entry.name}/", depth + 1))
                elif entry.is_file(follow_symlinks=False):
                    files.append(prefix + entry.name)
            except OSError:
                continue
    return sorted(files), sorted(repos), cut


def open_source(given: str, cache: Path, skip: tuple[Path, ...] = ()) -> Source:
    """A folder given to `init`, or a git URL cloned into the cache and its tree exported there;
    SourceError with what went wrong."""
    if is_url(given):
        try:
            view = open_repo(given, None, Path.cwd(), cache)
            root = export_tree(view, cache / "init")
        except (RepoError, OSError) as error:
            raise SourceError(f"{given} cannot be cloned: {error}") from None
        files, _, cut = walk(root)
        return Source(given, root, files, [""], url=given, cut=cut)
    root = Path(given).expanduser()
    if not root.exists():
        raise SourceError(f"{given} does not exist")
    if not root.is_dir():
        raise SourceError(f"{given} is not a folder")
    if not os.access(root, os.R_OK | os.X_OK):
        raise SourceError(f"{given} cannot be read (permission denied)")
    files, repos, cut = walk(root.resolve(), skip)
    return Source(given, root.resolve(), files, repos, cut=cut)
