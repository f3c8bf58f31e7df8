"""Env repos as files: a folder on disk, or a git repo read at a ref (cloned when remote).

An env repo is hostile input. On disk, a symbolic link that leaves the repo (or leads into its
`.git`) is never followed: the file is not read, and the view remembers the link so that the
reader can say so. Links inside the repo are followed, a bounded number of times. At a ref a
symbolic link is a blob, never a file, and is not followed on disk either.

git runs with the settings that make it run commands switched off (`core.fsmonitor`, hooks,
`log.showSignature`); history is never walked in a local repo itself but in a bare clone of it
in the cache (`local_clone`, which borrows its objects), whose config is ours; trees are
exported from raw blobs, never through `git archive` (which applies a repo's filters)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from ..progress import working

GIT_TIMEOUT_SECONDS = 300
MAX_LINK_HOPS = 8  # links followed one inside the other while a repo's files are listed
MAX_LISTED = 200_000  # entries of a repo's folders looked at while its files are listed
_URL = re.compile(r"^([a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:)", re.IGNORECASE)
_REGULAR = ("100644", "100755")  # file modes of a git tree; 120000 is a link, 160000 a submodule
_OURS = "refs/pipeline-docs/HEAD"  # where a local clone keeps the HEAD of the repo it clones


class RepoError(Exception):
    """A repo that cannot be read: not found, not cloned, unknown ref."""


class OutsideLink(RepoError):
    """A file of a repo that is (or lies under) a symbolic link out of the repo."""

    def __init__(self, link: str) -> None:
        super().__init__(f"{link} is a symbolic link out of the repo: not read")
        self.link = link


def is_url(repo: str) -> bool:
    return bool(_URL.match(repo))


# Never ask anything (a prompt would hang CI), never run a transport that runs commands.
GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_SSH_COMMAND": "ssh -oBatchMode=yes", "LC_ALL": "C"}
# Whatever a repo's own config says: no fsmonitor, no hooks, no gpg run to show a signature, no
# colours in what is parsed, no automatic gc in our clones.
GIT = (
    "git", "-c", "protocol.ext.allow=never", "-c", "core.fsmonitor=false",
    "-c", "core.hooksPath=/dev/null", "-c", "log.showSignature=false", "-c", "color.ui=never",
    "-c", "gc.auto=0", "-c", "maintenance.auto=false",
)  # fmt: skip


def git_message(stderr: bytes) -> str:
    """What git said: its first `fatal:` line, else its last `error:` line, else its last line."""
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line]
    fatal = [line for line in lines if line.startswith("fatal:")]
    errors = [line for line in lines if line.startswith("error:")]
    return fatal[0] if fatal else errors[-1] if errors else lines[-1] if lines else "failed"


def check_log(returncode: int, errors: IO[bytes]) -> None:
    """Raise RepoError when a streamed `git log` was stopped or failed, with what git said."""
    if returncode < 0:
        raise RepoError(f"git log stopped after {GIT_TIMEOUT_SECONDS} s")
    if returncode != 0:
        errors.seek(0)
        raise RepoError(f"git log: {git_message(errors.read(64 * 1024))}")


def git(
    args: list[str],
    cwd: Path | None = None,
    timeout: int = GIT_TIMEOUT_SECONDS,
    extra: dict[str, str] | None = None,
) -> str:
    """Run git quietly and return its output; raise RepoError with git's own words."""
    env = {**os.environ, **GIT_ENV, **(extra or {})}
    try:
        done = subprocess.run(
            [*GIT, *args], cwd=cwd, capture_output=True, timeout=timeout, env=env, check=False,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as error:
        raise RepoError(f"git {args[0]} failed: {error}") from error
    if done.returncode != 0:
        raise RepoError(f"git {args[0]}: {git_message(done.stderr)}")
    return done.stdout.decode("utf-8", "replace")


def _inside(real: str, real_root: str) -> bool:
    """Whether a resolved path is a file of the repo: under its root, not in its `.git`."""
    if real == real_root:
        return True
    if not real.startswith(real_root.rstrip(os.sep) + os.sep):
        return False
    return ".git" not in Path(real[len(real_root) :].lstrip(os.sep)).parts


def _lexically_inside(name: str, target: str) -> bool:
    """Whether a link at `name` with this target text stays in the repo (read at a ref)."""
    if not target or target.startswith("/") or "\0" in target:
        return False
    depth = len(PurePosixPath(name).parts) - 1
    for part in PurePosixPath(target).parts:
        if part == "..":
            depth -= 1
            if depth < 0:
                return False
        elif part == ".git":
            return False
        elif part not in (".", ""):
            depth += 1
    return True


@dataclass
class _Entry:
    mode: str
    sha: str
    size: int


@dataclass
class RepoView:
    """Files of an env repo as they are at one commit (or on disk), and that commit."""

    root: Path
    ref: str | None  # None: read the work tree on disk
    commit: str = ""
    commit_date: str = ""
    history_problem: str = ""  # why its history cannot be read, in git's words
    outside: set[str] = field(default_factory=set)  # links out of the repo met so far
    unusual: bool = False  # the work tree holds a FIFO, a socket or a device
    exported: Path | None = field(default=None, repr=False)  # the work tree's copy, once made
    _files: list[str] | None = field(default=None, repr=False)
    _entries: dict[str, _Entry] | None = field(default=None, repr=False)

    def files(self) -> list[str]:
        """Every file, as a POSIX path relative to the repo root, sorted."""
        if self._files is None:
            if self.ref is None:
                self._files = sorted(self._walk())
            else:
                entries = self._tree()
                self._files = sorted(n for n, e in entries.items() if e.mode in _REGULAR)
        return self._files

    def _walk(self) -> list[str]:
        """The work tree's files; links inside the repo followed (a bounded number of times,
        never round in a circle), links out of it remembered and never followed."""
        real_root = os.path.realpath(self.root)
        found: list[str] = []
        try:
            top = os.stat(real_root)
        except OSError:
            return found
        stack: list[tuple[str, str, int, tuple[tuple[int, int], ...]]] = [
            (real_root, "", 0, ((top.st_dev, top.st_ino),))
        ]
        looked = 0
        while stack and looked < MAX_LISTED:
            folder, prefix, hops, above = stack.pop()
            try:
                with os.scandir(folder) as listing:
                    entries = sorted(listing, key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                looked += 1
                if looked > MAX_LISTED:
                    break
                name = prefix + entry.name
                if entry.name == ".git":
                    continue
                try:
                    if entry.is_symlink():
                        real = os.path.realpath(entry.path)
                        if not _inside(real, real_root):
                            self.outside.add(name)
                            continue
                        if hops >= MAX_LINK_HOPS:
                            continue
                        info = os.stat(real)
                        hops_then = hops + 1
                    else:
                        real, info, hops_then = entry.path, entry.stat(follow_symlinks=False), hops
                except OSError:
                    continue  # a dangling link, or gone meanwhile
                if stat.S_ISDIR(info.st_mode):
                    key = (info.st_dev, info.st_ino)
                    if key not in above:  # a link to a folder it is in: a circle
                        stack.append((real, name + "/", hops_then, (*above, key)))
                elif stat.S_ISREG(info.st_mode):
                    found.append(name)
                else:
                    self.unusual = True
        return found

    def _tree(self) -> dict[str, _Entry]:
        """The commit's tree: every entry with its mode, blob id and size, read once."""
        if self._entries is None:
            assert self.ref is not None
            out = git(["ls-tree", "-r", "-z", "-l", "--full-tree", self.ref], self.root)
            entries: dict[str, _Entry] = {}
            for item in out.split("\0"):
                meta, tab, name = item.partition("\t")
                parts = meta.split()
                if not tab or len(parts) != 4:
                    continue
                size = int(parts[3]) if parts[3].isdigit() else 0
                entries[name] = _Entry(parts[0], parts[2], size)
            self._entries = entries
        return self._entries

    def _on_disk(self, name: str) -> str:
        """The resolved path of a file of the work tree; OutsideLink when a link on its way
        leaves the repo, RepoError when it is no name of a file of the repo."""
        parts = PurePosixPath(name).parts
        if not parts or name.startswith("/") or any(p in ("..", ".git") for p in parts):
            raise RepoError(f"{name} is not a file of the repo")
        real_root = os.path.realpath(self.root)
        current = real_root
        for index, part in enumerate(parts):
            current = os.path.join(current, part)
            if os.path.islink(current):
                resolved = os.path.realpath(current)
                if not _inside(resolved, real_root):
                    link = "/".join(parts[: index + 1])
                    self.outside.add(link)
                    raise OutsideLink(link)
                current = resolved
        return current

    def _link_at_ref(self, name: str, entry: _Entry) -> RepoError:
        """Why a link at a ref is not read: it is no file; said of it when it leaves the repo."""
        try:
            target = _blob(self.root, entry.sha, 4096).decode("utf-8", "replace")
        except RepoError:
            target = ""
        if not _lexically_inside(name, target):
            self.outside.add(name)
            return OutsideLink(name)
        return RepoError(f"{name} is a symbolic link: not read")

    def read(self, name: str, limit: int) -> bytes:
        """One file's bytes, refused past `limit`."""
        if self.ref is None:
            return _read_regular(self._on_disk(name), name, limit)
        entry = self._tree().get(name)
        if entry is None:
            raise RepoError(f"{name} does not exist at {self.ref[:12]}")
        if entry.mode == "120000":
            raise self._link_at_ref(name, entry)
        if entry.mode not in _REGULAR:
            raise RepoError(f"{name} is not a file")
        if entry.size > limit:
            raise RepoError(f"{name} is larger than {limit} bytes")
        return _blob(self.root, entry.sha, limit)

    def exists(self, name: str) -> bool:
        if self.ref is None:
            try:
                real = self._on_disk(name)
                return stat.S_ISREG(os.stat(real).st_mode)
            except (RepoError, OSError):
                return False
        entry = self._tree().get(name)
        if entry is not None and entry.mode == "120000":
            self._link_at_ref(name, entry)  # remembered when it leads out
        return entry is not None and entry.mode in _REGULAR


def _read_regular(real: str, name: str, limit: int) -> bytes:
    """A regular file's bytes, never more than `limit`: a FIFO or a device is never opened for
    long (it would block or never end); errors say what failed, not where."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(real, flags)
    except OSError as error:
        raise RepoError(error.strerror or "cannot be opened") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise RepoError(f"{name} is not a regular file")
        if info.st_size > limit:
            raise RepoError(f"{name} is larger than {limit} bytes")
        chunks: list[bytes] = []
        total = 0
        while chunk := os.read(fd, min(1 << 20, limit + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise RepoError(f"{name} is larger than {limit} bytes")
        return b"".join(chunks)
    except OSError as error:
        raise RepoError(error.strerror or "cannot be read") from None
    finally:
        os.close(fd)


def _blob(root: Path, sha: str, limit: int) -> bytes:
    """A blob's raw bytes (no filter, no textconv), refused past `limit`."""
    if not re.fullmatch(r"[0-9a-f]{40,64}", sha):
        raise RepoError("not a blob id")
    env = {**os.environ, **GIT_ENV}
    try:
        done = subprocess.run(
            [*GIT, "cat-file", "blob", sha], cwd=root, capture_output=True, env=env,
            timeout=GIT_TIMEOUT_SECONDS, check=False, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as error:
        raise RepoError(f"git cat-file failed: {error}") from error
    if done.returncode != 0:
        raise RepoError(f"git cat-file: {git_message(done.stderr)}")
    if len(done.stdout) > limit:
        raise RepoError(f"a file is larger than {limit} bytes")
    return done.stdout


def _is_git_repo(path: Path) -> bool:
    return (path / ".git").exists() or ((path / "HEAD").is_file() and (path / "objects").is_dir())


def resolve_ref(root: Path, ref: str, extra: dict[str, str] | None = None) -> str:
    """The commit a ref names; a ref is never read as an option of git."""
    if ref.startswith("-"):
        raise RepoError(f"{ref!r} is not a ref")
    return git(
        ["rev-parse", "--verify", "--end-of-options", f"{ref}^{{commit}}"], root, extra=extra,
    ).strip()  # fmt: skip


def _head(root: Path, commit: str, extra: dict[str, str] | None = None) -> tuple[str, str]:
    out = git(["log", "-1", "--format=%H%x00%cI", commit, "--"], root, extra=extra).strip()
    sha, _, date = out.partition("\0")
    return sha, date


def _only(root: Path) -> dict[str, str]:
    """git asked about this folder only: never about a repo above it (a `.git` that is broken
    would otherwise make git read the repo the folder happens to be in)."""
    return {"GIT_CEILING_DIRECTORIES": str(root.parent)}


def _born(root: Path) -> bool:
    """Whether HEAD names a commit yet; RepoError when it names something broken."""
    try:
        git(["rev-parse", "--verify", "--quiet", "HEAD"], root, extra=_only(root))
    except RepoError:
        try:
            git(["log", "-1", "--format=%H"], root, extra=_only(root))
        except RepoError as error:
            if "does not have any commits yet" in str(error):
                return False
            raise
    return True


# URLs already fetched within `fetching_once()`: one run asks for a repo's commit before it reads
# the repo (`runs.inputs_key`), and reads what it was told, without asking the remote twice
_fetched: ContextVar[set[str] | None] = ContextVar("pipeline_docs_fetched", default=None)
_opened: ContextVar[dict[tuple[str, str | None, Path, Path], RepoView] | None] = ContextVar(
    "pipeline_docs_opened", default=None
)


@contextmanager
def fetching_once() -> Iterator[None]:
    """Within the block, each remote repo is fetched at most once, and each env repo opened
    once (`open_repo`): what the run's key says of a repo is the view collect reads."""
    token = _fetched.set(set())
    opened = _opened.set({})
    try:
        yield
    finally:
        _opened.reset(opened)
        _fetched.reset(token)


def clone_or_fetch(url: str, cache: Path) -> Path:
    """A bare mirror of `url` in the cache: cloned once, fetched afterwards (once within
    `fetching_once`)."""
    name = (
        hashlib.sha256(url.encode()).hexdigest()[:16]
        + "-"
        + re.sub(r"[^A-Za-z0-9._-]", "_", PurePosixPath(url.rstrip("/")).name)[-40:]
    )
    target = cache / "repos" / name
    if url.startswith("-"):
        raise RepoError(f"{url!r} is not a repository URL")
    fetched = _fetched.get()
    if fetched is not None and url in fetched and target.is_dir():
        return target
    if target.is_dir():
        with working(f"fetching {url}"):
            git(["fetch", "--quiet", "--prune", "--force", "origin",
                 "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"], target)  # fmt: skip
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        with working(f"cloning {url}"):
            git(["clone", "--quiet", "--mirror", "--", url, str(target)])
    if fetched is not None:
        fetched.add(url)
    return target


def local_clone(view: RepoView, cache: Path) -> Path:
    """A bare clone of a local git repo in the cache, fetched now: its history is walked there,
    under our config, never the repo's own (textconv drivers, fsmonitor, hooks, signatures).
    Its HEAD follows the repo's HEAD; every ref is mirrored, so a ref names what it names there.

    The clone borrows the repo's objects (`objects/info/alternates`, as `git clone --shared`
    does): objects are data, read by our git; nothing is copied, so a clone costs no more than
    its refs. A clone that can no longer be fetched (the repo was made anew, its objects gone)
    is made again, once."""
    try:
        return _local_clone(view, cache)
    except RepoError:
        shutil.rmtree(_local_clone_path(view, cache), ignore_errors=True)
        return _local_clone(view, cache)


def _local_clone_path(view: RepoView, cache: Path) -> Path:
    source = view.root
    name = (
        "local-"
        + hashlib.sha256(str(source).encode()).hexdigest()[:16]
        + "-"
        + re.sub(r"[^A-Za-z0-9._-]", "_", source.name)[-40:]
    )
    return cache / "repos" / name


def _local_clone(view: RepoView, cache: Path) -> Path:
    source, target = view.root, _local_clone_path(view, cache)
    if not (target / "HEAD").is_file():
        if target.exists():
            shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            objects = git(["rev-parse", "--show-object-format"], source, extra=_only(source))
        except RepoError:
            objects = "sha1"
        git(["init", "--quiet", "--bare", f"--object-format={objects.strip() or 'sha1'}", "--",
             str(target)])  # fmt: skip
        git(["symbolic-ref", "HEAD", _OURS], target)
    _borrow_objects(source, target)
    refspecs = ["+refs/*:refs/*", "^refs/pipeline-docs/*"]
    try:
        if _born(source):
            refspecs.append(f"+HEAD:{_OURS}")
    except RepoError:
        pass  # a broken HEAD, with a ref to read: the ref is all that is fetched
    with working(f"copying the history of {source.name}"):
        git(["fetch", "--quiet", "--force", "--prune", "--update-shallow", "--no-write-fetch-head",
             "--", str(source), *refspecs], target)  # fmt: skip
    return target


def _borrow_objects(source: Path, target: Path) -> None:
    """Point the clone at the repo's object folder, as it is now. A shallow repo is copied
    instead (the fetch brings its shallow boundary only with objects), as is one whose folder
    git cannot name or a line cannot hold."""
    alternates = target / "objects" / "info" / "alternates"
    try:
        objects, shallow = git(
            ["rev-parse", "--path-format=absolute", "--git-path", "objects",
             "--is-shallow-repository"], source, extra=_only(source),
        ).splitlines()  # fmt: skip
    except (RepoError, ValueError):
        objects, shallow = "", ""
    if shallow.strip() != "false":
        objects = ""
    if objects and "\n" not in objects and "\r" not in objects and Path(objects).is_dir():
        alternates.parent.mkdir(parents=True, exist_ok=True)
        if not alternates.is_file() or alternates.read_text(encoding="utf-8") != objects + "\n":
            alternates.write_text(objects + "\n", encoding="utf-8")
    elif alternates.is_file():
        alternates.unlink()


def open_repo(repo: str, ref: str | None, base: Path, cache: Path) -> RepoView:
    """The view of an env repo as the config names it; raise RepoError when it cannot be read.

    A ref is resolved to its commit once, so every later git call gets a plain sha. A local
    work tree whose git repo is broken is still read as files, with `history_problem` set; one
    that git refuses (another user's, not listed in `safe.directory`) cannot be read. Within
    `fetching_once`, the same view each time (one that could not be opened is tried again)."""
    opened = _opened.get()
    if opened is None:
        return _open_repo(repo, ref, base, cache)
    key = (repo, ref, base, cache)
    if (view := opened.get(key)) is None:
        view = opened[key] = _open_repo(repo, ref, base, cache)
    return view


def _open_repo(repo: str, ref: str | None, base: Path, cache: Path) -> RepoView:
    if is_url(repo):
        root = clone_or_fetch(repo, cache)
        ref = ref or "HEAD"
        extra: dict[str, str] = {}
    else:
        root = (base / repo).resolve()
        if not root.is_dir():
            raise RepoError(f"{repo} is not a folder")
        extra = _only(root)
    if not _is_git_repo(root):
        if ref is None:
            return RepoView(root, None)
        raise RepoError(f"ref {ref!r} not found in {repo}: it is not a git repository")
    if not is_url(repo):
        try:
            git(["rev-parse", "--git-dir"], root, extra=extra)
        except RepoError as error:
            if ref is not None or "dubious ownership" in str(error):
                raise
            return RepoView(root, None, history_problem=str(error))
        try:
            if ref is None and not _born(root):
                return RepoView(root, None)  # a git repo without a commit yet: read as files
        except RepoError as error:
            return RepoView(root, None, history_problem=str(error))
    try:
        commit = resolve_ref(root, ref or "HEAD", extra)
    except RepoError as error:
        if ref is not None:
            raise RepoError(f"ref {ref!r} not found in {repo}") from None
        return RepoView(root, None, history_problem=str(error))
    view = RepoView(root, commit if ref is not None else None)
    try:
        view.commit, view.commit_date = _head(root, commit, extra)
    except RepoError as error:
        if ref is not None:
            raise
        view.history_problem = str(error)
    return view


MAX_EXPORT_BYTES = 512 * 1024 * 1024
MAX_EXPORT_FILES = 200_000
KEPT_TREES = 16


def export_tree(view: RepoView, cache: Path) -> Path:
    """The repo's files on disk as the view reads them, for the real kustomize: the work tree
    itself when no link in it leads out and it holds nothing but folders and files (a FIFO
    would block kustomize); else its files copied into the cache; at a ref, the
    commit's regular files written once into the cache from their raw blobs (no link, no filter
    or `export-subst` of the repo's attributes)."""
    if view.ref is None:
        names = view.files()
        if not view.outside and not view.unusual:
            return view.root
        if view.exported is not None:
            return view.exported
        key = hashlib.sha256(str(view.root).encode()).hexdigest()[:20]
        target = cache / "trees" / f"worktree-{key}"
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        total = 0
        for name in names[:MAX_EXPORT_FILES]:
            try:
                data = view.read(name, MAX_EXPORT_BYTES - total)
            except RepoError:
                continue
            total += len(data)
            _write(target, name, data)
        view.exported = target
        return target
    target = cache / "trees" / view.ref
    marker = target / ".pipeline-docs-complete"
    if marker.is_file():
        return target
    if target.exists():
        shutil.rmtree(target)
    _forget_old_trees(target.parent)
    target.mkdir(parents=True)
    entries = [(n, e) for n, e in sorted(view._tree().items()) if e.mode in _REGULAR]
    if len(entries) > MAX_EXPORT_FILES or sum(e.size for _, e in entries) > MAX_EXPORT_BYTES:
        raise RepoError(f"the tree is over {MAX_EXPORT_FILES} files or {MAX_EXPORT_BYTES} bytes")
    _export_blobs(view.root, entries, target)
    marker.write_text("")
    return target


def _write(target: Path, name: str, data: bytes) -> None:
    parts = PurePosixPath(name).parts
    if not parts or name.startswith("/") or ".." in parts:
        return
    path = target.joinpath(*parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _export_blobs(root: Path, entries: list[tuple[str, _Entry]], target: Path) -> None:
    """Blobs through one `git cat-file --batch`, one at a time (no pipe ever fills up)."""
    env = {**os.environ, **GIT_ENV}
    with subprocess.Popen([*GIT, "cat-file", "--batch"], cwd=root, stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env) as process:  # fmt: skip
        stdin, stdout = process.stdin, process.stdout
        assert stdin is not None and stdout is not None
        try:
            for name, entry in entries:
                stdin.write(entry.sha.encode() + b"\n")
                stdin.flush()
                header = stdout.readline().split()
                if len(header) != 3 or header[1] != b"blob":
                    raise RepoError(f"cannot export {name}: its blob is missing")
                size = int(header[2])
                data = stdout.read(size + 1)[:size]
                _write(target, name, data)
        except (OSError, ValueError) as error:
            raise RepoError(f"cannot export the tree: {error.__class__.__name__}") from None
        finally:
            stdin.close()
            if process.poll() is None:
                process.kill()


def _forget_old_trees(folder: Path, keep: int = KEPT_TREES) -> None:
    """Exported trees are kept for the few latest commits only: the cache does not grow forever."""
    if not folder.is_dir():
        return
    trees = sorted(
        (p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("worktree-")),
        key=lambda p: p.stat().st_mtime,
    )
    for old in trees[: max(len(trees) - keep + 1, 0)]:
        shutil.rmtree(old, ignore_errors=True)
