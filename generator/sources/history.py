"""Deployment history: every change of version in an env repo's git log, from -> to.

One streaming `git log -p` per repo, first-parent on the ref (a long first walk cut in parts
that run side by side, one per core): for `environment.yml` the diff
hunks already say which bundle lines changed, so no file is parsed again at each commit. Other
layouts are read the same way from the lines that pin a version (`image:`, `newTag:`,
`targetRevision:`, a chart's `version:`). The result is cached by commit: a second run reads only
the commits that are new since.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import itertools
import json
import os
import re
import secrets
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..machine import cores
from ..model import Change, Finding, Severity
from ..progress import counted
from .bundles import url_facts
from .gitrepo import (
    GIT,
    GIT_ENV,
    GIT_TIMEOUT_SECONDS,
    RepoError,
    check_log,
    git,
    resolve_ref,
)
from .workloads import image_parts

# A commit's header is fields split on NUL (which no commit message can hold), closed by a marker
# made anew for each walk: a message cannot end its header early and pass lines off as a diff.
_START = "\x1e"
_SHA = re.compile(r"^[0-9a-f]{40,64}$")


def _format(end: str) -> str:
    return f"%x1e%H%x00%an%x00%aI%x00%s%x00%b{end}"


# Every expression here runs on text of the env repo: none can try a line in more than one
# way (no quantifier next to another that matches the same characters), so a long line costs
# its length, never its square.
_URL_RUN = re.compile(r"https?://[^\s\"'#]+")  # a URL and what follows it up to a delimiter
_BUNDLE_END = re.compile(r"\.(?:tar\.gz|tgz|tar)")
_IMAGE = re.compile(r"^\s*(?:-\s*)?image:\s*[\"']?([^\s\"']+)")
_PINNED = re.compile(r"^\s*(?:-\s*)?(newTag|targetRevision|version|tag):\s*[\"']?([^\s\"'#]+)")
_NAME = re.compile(r"^\s*(?:-\s*)?(?:name|chart):\s*[\"']?([^\s\"'#]+)")
_GITLAB_MR = re.compile(r"See merge request ([^\s!]+![0-9]+)")
_GITHUB_PR = re.compile(r"Merge pull request (#[0-9]+)|\((#[0-9]+)\)\s*$", re.MULTILINE)
CACHE_VERSION = 2


@dataclass
class _Commit:
    sha: str
    author: str
    date: str
    subject: str
    body: str
    removed: dict[str, str]
    added: dict[str, str]


def merge_request(subject: str, body: str) -> str:
    """`group/project!123` or `#123` when the commit message names its merge request."""
    text = f"{subject}\n{body}"
    gitlab = _GITLAB_MR.search(text)
    if gitlab:
        return gitlab.group(1)
    github = _GITHUB_PR.search(text)
    return (github.group(1) or github.group(2)) if github else ""


def bundle_url_in(line: str) -> str | None:
    """The first bundle URL of a line: `http(s)://`, then the shortest run of URL characters
    that ends in `.tar.gz`, `.tgz` or `.tar`.

    Each run of URL characters is looked at once: a URL that starts later in the same run
    ends where it ends, so if the run holds no bundle URL from its start, it holds none."""
    if "://" not in line:
        return None
    for run in _URL_RUN.finditer(line):
        scheme = run.group().index("://") + 3
        end = _BUNDLE_END.search(line, run.start() + scheme + 1, run.end())
        if end is not None:
            return line[run.start() : end.end()]
    return None


def _bundle_line(line: str, facts: Callable[[str], tuple[str, str]]) -> tuple[str, str] | None:
    found = bundle_url_in(line)
    return facts(found) if found else None


def _manifest_line(line: str, last_name: str) -> tuple[str, str] | None:
    image = _IMAGE.match(line)
    if image:
        repo, tag, digest = image_parts(image.group(1))
        version = tag or digest
        return (repo.rsplit("/", 1)[-1], version) if version else None
    pinned = _PINNED.match(line)
    if pinned and last_name:
        return last_name.rsplit("/", 1)[-1], pinned.group(2)
    return None


def _parse(lines: Iterator[str], bundles: bool, end: str) -> Iterator[_Commit]:
    """Commits of a `git log -p` stream, each with the versions its diff removes and adds.

    This loop is the hot path of a 20,000-commit walk: lines are told apart by their first
    character before any regular expression runs."""
    commit: _Commit | None = None
    header: list[str] = []
    last_name = ""
    url = bundle_url_in
    for line in lines:
        first = line[:1]
        if header or first == _START:
            header.append(line)
            if end not in line:
                continue
            text = "".join(header)[1:].split(end, 1)[0]
            header = []
            sha, author, date, subject, body = (text.split("\0") + [""] * 5)[:5]
            if not _SHA.match(sha):
                continue
            if commit is not None:
                yield commit
            commit = _Commit(sha, author, date, subject, body.strip(), {}, {})
            continue
        if commit is None:
            continue
        if bundles:
            if first not in "+-" or line.startswith(("+++", "---")):
                continue
            bundle = url(line)
            if bundle is not None:  # URLs are kept: what they name is settled after the cache
                (commit.added if first == "+" else commit.removed)[bundle] = bundle
            continue
        if first == "@":
            last_name = ""
            continue
        if first not in "+- " or line.startswith(("+++", "---")):
            continue
        body_line = line[1:].rstrip("\n")
        name = _NAME.match(body_line)
        if name:
            last_name = name.group(1)
        if first != " ":
            found = _manifest_line(body_line, last_name)
            if found is not None:
                service, version = found
                (commit.added if first == "+" else commit.removed)[service] = version
    if commit is not None:
        yield commit


def _by_service(
    urls: dict[str, str], facts: Callable[[str], tuple[str, str]] | None
) -> dict[str, str]:
    if facts is None:
        return urls
    return dict(facts(url) for url in sorted(urls))


def _changes(
    environment: str, commit: _Commit, facts: Callable[[str], tuple[str, str]] | None
) -> list[Change]:
    """The changes of one commit: for bundle URLs, what each URL names is asked of `facts`."""
    removed, added = _by_service(commit.removed, facts), _by_service(commit.added, facts)
    mr = merge_request(commit.subject, commit.body)
    changes = []
    for service in sorted(set(removed) | set(added)):
        before, after = removed.get(service), added.get(service)
        if before == after:
            continue  # reformatted, or only the checksum beside it changed
        changes.append(Change(
            environment=environment, service=service, from_version=before, to_version=after,
            commit=commit.sha, author=commit.author, date=commit.date, message=commit.subject,
            merge_request=mr,
        ))  # fmt: skip
    return changes


def _log_args(revisions: str, paths: list[str], context: int, end: str) -> list[str]:
    return [*GIT, "log", "--first-parent", "--reverse", "-p", f"-U{context}", "--no-color",
            "--no-ext-diff", "--no-textconv", "--text", "--no-renames", f"--format={_format(end)}",
            revisions, "--", *paths]  # fmt: skip


def _log(root: Path, revisions: str, paths: list[str], context: int, end: str) -> Iterator[str]:
    """The lines of `git log -p`, first-parent, oldest first: of one streaming git, or, for a
    long walk on a machine of more than one core, of the walk cut into parts along its
    first-parent chain (`_parts`), git writing the later parts to files while this process
    reads the first (their lines are those of one walk, in the same order).

    No textconv driver or external diff of the repo is run, and every file is shown as text
    (an attribute cannot hide a change); RepoError when git fails or takes too long."""
    parts = _parts(root, revisions)
    if len(parts) == 1:
        yield from _streamed(root, revisions, paths, context, end)
        return
    env = {**os.environ, **GIT_ENV}
    with contextlib.ExitStack() as stack:
        later = []
        for part in parts[1:]:
            out = stack.enter_context(tempfile.TemporaryFile())
            errors = stack.enter_context(tempfile.TemporaryFile())
            process = stack.enter_context(subprocess.Popen(
                _log_args(part, paths, context, end), cwd=root, stdout=out, stderr=errors,
                stdin=subprocess.DEVNULL, env=env,
            ))  # fmt: skip
            stack.callback(_stopped, process)
            later.append((process, out, errors))
        yield from _streamed(root, parts[0], paths, context, end)
        for process, out, errors in later:
            _waited(process)
            check_log(process.returncode, errors)
            out.seek(0)
            text = io.TextIOWrapper(out, encoding="utf-8", errors="replace")
            try:
                yield from text
            finally:
                text.detach()  # the file is the stack's to close


def _waited(process: subprocess.Popen[Any]) -> None:
    """Wait for git to end, killed when it takes longer than GIT_TIMEOUT_SECONDS."""
    try:
        process.wait(timeout=GIT_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _stopped(process: subprocess.Popen[bytes]) -> None:
    """A part's git killed if still running (the walk was left early, or failed)."""
    if process.poll() is None:
        process.kill()
        process.wait()


SPLIT_FROM = 4_000  # first-parent commits from which a walk is cut into parts
MOST_PARTS = 4


def _parts(root: Path, revisions: str) -> list[str]:
    """The walk `revisions` as consecutive ranges of its first-parent chain, one per core (at
    most `MOST_PARTS`), when it is a whole history (a single revision: a first walk) of at
    least `SPLIT_FROM` commits; else the walk itself. A range `a..b` of a first-parent walk
    holds the commits after `a` on `b`'s chain, so the parts' logs, one after another, are the
    log of the whole walk."""
    count = min(cores(), MOST_PARTS)
    if count < 2 or ".." in revisions or revisions.startswith("-"):
        return [revisions]
    try:
        chain = git(["rev-list", "--first-parent", revisions, "--"], root).split()
    except RepoError:
        return [revisions]  # the walk itself says what is wrong
    if len(chain) < SPLIT_FROM:
        return [revisions]
    chain.reverse()  # oldest first
    cuts = [chain[len(chain) * i // count - 1] for i in range(1, count)]
    return [cuts[0], *(f"{a}..{b}" for a, b in itertools.pairwise([*cuts, revisions]))]


def _streamed(
    root: Path, revisions: str, paths: list[str], context: int, end: str
) -> Iterator[str]:
    """The lines of one streaming `git log -p`."""
    args = _log_args(revisions, paths, context, end)
    env = {**os.environ, **GIT_ENV}
    with tempfile.TemporaryFile() as errors:
        with subprocess.Popen(args, cwd=root, stdout=subprocess.PIPE, stderr=errors,
                              stdin=subprocess.DEVNULL, env=env, text=True, encoding="utf-8",
                              errors="replace") as process:  # fmt: skip
            assert process.stdout is not None
            watchdog = threading.Timer(GIT_TIMEOUT_SECONDS, process.kill)  # never hangs a run
            watchdog.daemon = True
            watchdog.start()
            try:
                yield from process.stdout
            finally:
                watchdog.cancel()
                process.stdout.close()
                _waited(process)
        check_log(process.returncode, errors)


def earlier_names(root: Path, revisions: str, path: str) -> list[str]:
    """The names a file had before it was renamed (`env.yml` -> `environment.yml`).

    Asked only when the file's first commit in the walk is not the repo's first one."""
    args = ["log", "--first-parent", "--follow", "--no-textconv", "--no-ext-diff",
            "--name-only", "--format=", revisions, "--", path]  # fmt: skip
    out = git(args, root)
    return sorted({name for name in out.splitlines() if name and name != path})


@dataclass(frozen=True)
class HistorySource:
    """Where one environment's history is read: the repo, the ref, and the files that matter."""

    environment: str
    root: Path
    ref: str
    paths: tuple[str, ...]  # the env file, or the folder of manifests
    bundles: bool  # our environment.yml layout, or manifests


def _walk(source: HistorySource, revisions: str) -> list[_Commit]:
    """The commits that change what runs, oldest first, as they are in the log."""
    paths = list(source.paths)
    context = 0 if source.bundles else 3  # manifests need the `name:` lines around a change
    end = f"\x1d{secrets.token_hex(16)}\x1d"
    what = f"walking history of {source.environment}"
    lines = _log(source.root, revisions, paths, context, end)
    commits = list(counted(_parse(lines, source.bundles, end), what, "commit"))
    if source.bundles and len(paths) == 1 and commits and _has_parent(source.root, commits[0].sha):
        older = earlier_names(source.root, revisions, paths[0])
        if older:  # renamed: walk again with every name it had
            lines = _log(source.root, revisions, [*paths, *older], context, end)
            commits = list(counted(_parse(lines, source.bundles, end), what, "commit"))
    return [c for c in commits if c.added or c.removed]


def _has_parent(root: Path, sha: str) -> bool:
    try:
        git(["rev-parse", "--verify", "--quiet", f"{sha}^"], root)
    except RepoError:
        return False
    return True


def _cache_file(cache: Path, source: HistorySource) -> Path:
    key = json.dumps([CACHE_VERSION, str(source.root), source.ref, source.paths, source.bundles])
    return cache / "history" / f"{hashlib.sha256(key.encode()).hexdigest()[:20]}.json"


def read_history(
    source: HistorySource, cache: Path | None, facts: Callable[[str], tuple[str, str]], shown: str
) -> tuple[list[Change], list[Finding]]:
    """Every change of version, oldest first; a second run only reads the commits since the last."""
    findings: list[Finding] = []
    try:
        head = resolve_ref(source.root, source.ref)
    except RepoError:
        return [], findings
    shallow = is_shallow(source.root)
    if shallow:
        findings.append(Finding(
            "history/partial", Severity.WARNING, shown, None,
            f"{source.environment}: the env repo is a shallow clone; its history is partial",
            "clone it in full (git fetch --unshallow) to see every earlier version",
        ))  # fmt: skip
    stored = _cache_file(cache, source) if cache is not None else None
    previous: dict[str, Any] = {}
    if stored is not None and stored.is_file():
        try:
            previous = json.loads(stored.read_text())
        except (OSError, ValueError):
            previous = {}
    old_head = str(previous.get("head") or "")
    try:
        old = [_Commit(**item) for item in previous.get("commits", [])] if old_head else []
    except TypeError:
        old_head, old = "", []
    if old_head != head:
        if old_head and _is_ancestor(source.root, old_head, head):
            commits = old + _walk(source, f"{old_head}..{head}")
        else:
            commits = _walk(source, head)
        if shallow:  # the oldest commit of a shallow clone adds everything: no deploy happened
            cut = shallow_commits(source.root)
            commits = [c for c in commits if c.sha not in cut]
        if stored is not None:
            stored.parent.mkdir(parents=True, exist_ok=True)
            raw = [vars(c) for c in commits]  # flat already: no deep copy as asdict would make
            stored.write_text(json.dumps({"head": head, "commits": raw}))
        old = commits
    changes: list[Change] = []
    for commit in old:
        changes += _changes(source.environment, commit, facts if source.bundles else None)
    return changes, findings


def is_shallow(root: Path) -> bool:
    return git(["rev-parse", "--is-shallow-repository"], root).strip() == "true"


def shallow_commits(root: Path) -> set[str]:
    """The commits a shallow clone was cut at: their parents are missing."""
    path = Path(git(["rev-parse", "--git-path", "shallow"], root).strip())
    path = path if path.is_absolute() else root / path
    try:
        return set(path.read_text().split())
    except OSError:
        return set()


def _is_ancestor(root: Path, old: str, new: str) -> bool:
    try:
        git(["merge-base", "--is-ancestor", old, new], root)
    except RepoError:
        return False
    return True


def bundle_facts(known: dict[str, tuple[str, str]]) -> Callable[[str], tuple[str, str]]:
    """Service and version of a bundle URL: as read from the bundle when it was, else the URL's."""

    cache = dict(known)

    def facts(url: str) -> tuple[str, str]:
        if url not in cache:
            guessed = url_facts(url)
            cache[url] = guessed.get("service", url), guessed.get("version", "?")
        return cache[url]

    return facts
