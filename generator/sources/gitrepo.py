"""Env repos as files: a folder on disk, or a git repo read at a ref (cloned when remote)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from ..progress import say

GIT_TIMEOUT_SECONDS = 300
_URL = re.compile(r"^([a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:)", re.IGNORECASE)


class RepoError(Exception):
    """A repo that cannot be read: not found, not cloned, unknown ref."""


def is_url(repo: str) -> bool:
    return bool(_URL.match(repo))


# Never ask anything (a prompt would hang CI), never run a transport that runs commands.
GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_SSH_COMMAND": "ssh -oBatchMode=yes", "LC_ALL": "C"}
GIT = ("git", "-c", "protocol.ext.allow=never")


def git(args: list[str], cwd: Path | None = None, timeout: int = GIT_TIMEOUT_SECONDS) -> str:
    """Run git quietly and return its output; raise RepoError with git's own words."""
    env = {**os.environ, **GIT_ENV}
    try:
        done = subprocess.run(
            [*GIT, *args], cwd=cwd, capture_output=True, timeout=timeout, env=env, check=False,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as error:
        raise RepoError(f"git {args[0]} failed: {error}") from error
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RepoError(f"git {args[0]}: {message[-1] if message else 'failed'}")
    return done.stdout.decode("utf-8", "replace")


@dataclass
class RepoView:
    """Files of an env repo as they are at one commit (or on disk), and that commit."""

    root: Path
    ref: str | None  # None: read the work tree on disk
    commit: str = ""
    commit_date: str = ""

    def files(self) -> list[str]:
        """Every file, as a POSIX path relative to the repo root, sorted."""
        if self.ref is None:
            return sorted(  # links are not followed: they could lead out of the repo
                p.relative_to(self.root).as_posix()
                for p in self.root.rglob("*")
                if p.is_file()
                and not p.is_symlink()
                and ".git" not in p.relative_to(self.root).parts
            )
        out = git(["ls-tree", "-r", "-z", "--name-only", "--full-tree", self.ref], self.root)
        return sorted(name for name in out.split("\0") if name)

    def read(self, name: str, limit: int) -> bytes:
        """One file's bytes, refused past `limit`."""
        if self.ref is None:
            path = self.root / name
            if path.stat().st_size > limit:
                raise RepoError(f"{name} is larger than {limit} bytes")
            return path.read_bytes()
        size = int(git(["cat-file", "-s", f"{self.ref}:{name}"], self.root).strip() or 0)
        if size > limit:
            raise RepoError(f"{name} is larger than {limit} bytes")
        env = {**os.environ, "LC_ALL": "C"}
        done = subprocess.run(
            ["git", "cat-file", "blob", f"{self.ref}:{name}"],
            cwd=self.root,
            capture_output=True,
            timeout=GIT_TIMEOUT_SECONDS,
            env=env,
            check=False,
        )
        if done.returncode != 0:
            raise RepoError(f"cannot read {name} at {self.ref}")
        return done.stdout

    def exists(self, name: str) -> bool:
        if self.ref is None:
            return (self.root / name).is_file()
        try:
            git(["cat-file", "-e", f"{self.ref}:{name}"], self.root)
        except RepoError:
            return False
        return True


def _is_git_repo(path: Path) -> bool:
    return (path / ".git").exists() or ((path / "HEAD").is_file() and (path / "objects").is_dir())


def resolve_ref(root: Path, ref: str) -> str:
    """The commit a ref names; a ref is never read as an option of git."""
    if ref.startswith("-"):
        raise RepoError(f"{ref!r} is not a ref")
    return git(
        ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"], root
    ).strip()


def _head(root: Path, commit: str) -> tuple[str, str]:
    out = git(["log", "-1", "--format=%H%x00%cI", commit, "--"], root).strip()
    sha, _, date = out.partition("\0")
    return sha, date


def clone_or_fetch(url: str, cache: Path) -> Path:
    """A bare mirror of `url` in the cache: cloned once, fetched afterwards."""
    name = (
        hashlib.sha256(url.encode()).hexdigest()[:16]
        + "-"
        + re.sub(r"[^A-Za-z0-9._-]", "_", PurePosixPath(url.rstrip("/")).name)[-40:]
    )
    target = cache / "repos" / name
    if url.startswith("-"):
        raise RepoError(f"{url!r} is not a repository URL")
    if target.is_dir():
        say(f"fetching {url}")
        git(["fetch", "--quiet", "--prune", "--force", "origin",
             "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"], target)  # fmt: skip
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        say(f"cloning {url}")
        git(["clone", "--quiet", "--mirror", "--", url, str(target)])
    return target


def open_repo(repo: str, ref: str | None, base: Path, cache: Path) -> RepoView:
    """The view of an env repo as the config names it; raise RepoError when it cannot be read.

    A ref is resolved to its commit once, so every later git call gets a plain sha."""
    if is_url(repo):
        root = clone_or_fetch(repo, cache)
        ref = ref or "HEAD"
    else:
        root = (base / repo).resolve()
        if not root.is_dir():
            raise RepoError(f"{repo} is not a folder")
    if ref is None and not _is_git_repo(root):
        return RepoView(root, None)
    try:
        commit = resolve_ref(root, ref or "HEAD")
    except RepoError:
        if ref is not None:
            raise RepoError(f"ref {ref!r} not found in {repo}") from None
        return RepoView(root, None)  # a git repo without a commit yet: read as files
    view = RepoView(root, commit if ref is not None else None)
    view.commit, view.commit_date = _head(root, commit)
    return view


MAX_EXPORT_BYTES = 512 * 1024 * 1024
MAX_EXPORT_FILES = 200_000
KEPT_TREES = 16


def export_tree(view: RepoView, cache: Path) -> Path:
    """The repo's files on disk as the view reads them: the work tree itself, or the commit's
    tree exported once into the cache (regular files only: no link leads out of it)."""
    if view.ref is None:
        return view.root
    target = cache / "trees" / view.ref
    marker = target / ".pipeline-docs-complete"
    if marker.is_file():
        return target
    if target.exists():
        shutil.rmtree(target)
    _forget_old_trees(target.parent)
    target.mkdir(parents=True)
    args = [*GIT, "archive", "--format=tar", view.ref]
    env = {**os.environ, **GIT_ENV}
    with subprocess.Popen(args, cwd=view.root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          stdin=subprocess.DEVNULL, env=env) as process:  # fmt: skip
        assert process.stdout is not None
        try:
            _unpack(process.stdout, target)
        except (tarfile.TarError, OSError) as error:
            process.kill()
            raise RepoError(f"cannot export {view.ref[:12]}: {error}") from error
        finally:
            process.stdout.close()
    if process.returncode not in (0, None):
        raise RepoError(f"git archive failed on {view.ref[:12]}")
    marker.write_text("")
    return target


def _forget_old_trees(folder: Path, keep: int = KEPT_TREES) -> None:
    """Exported trees are kept for the few latest commits only: the cache does not grow forever."""
    if not folder.is_dir():
        return
    trees = sorted((p for p in folder.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for old in trees[: max(len(trees) - keep + 1, 0)]:
        shutil.rmtree(old, ignore_errors=True)


def _unpack(stream: IO[bytes], target: Path) -> None:
    total = count = 0
    with tarfile.open(fileobj=stream, mode="r|") as archive:
        for member in archive:
            count += 1
            total += max(member.size, 0)
            if count > MAX_EXPORT_FILES or total > MAX_EXPORT_BYTES:
                raise RepoError(
                    f"the tree is over {MAX_EXPORT_FILES} files or {MAX_EXPORT_BYTES} bytes"
                )
            parts = PurePosixPath(member.name).parts
            if not member.isfile() or member.name.startswith("/") or ".." in parts:
                continue
            source = archive.extractfile(member)
            if source is None:
                continue
            path = target.joinpath(*parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as out:
                shutil.copyfileobj(source, out)
