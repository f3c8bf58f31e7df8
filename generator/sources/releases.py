"""Earlier releases of the pipeline's schemas: `releases:` in the config, else the `vX.Y.Z` tags
of the git repo that holds the schemas folder."""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

from ..analysis.versions import semver_key
from ..config import Config
from ..model import Finding, Release, Severity
from .gitrepo import GIT_TIMEOUT_SECONDS, RepoError, git
from .history import is_shallow
from .schemas import read_schema_folder

_TAG = re.compile(r"^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]*)?$")
MAX_ARCHIVE_BYTES = 64 * 1024 * 1024


def _tagged(schemas: Path) -> list[tuple[str, str]]:
    """(tag, commit date) of each release tag of the repo holding `schemas`, oldest first."""
    try:
        out = git(
            ["tag", "--list", "--format=%(refname:short)%00%(creatordate:iso-strict)"], schemas
        )
    except RepoError:
        return []
    tags = []
    for line in out.splitlines():
        name, _, date = line.partition("\0")
        if _TAG.match(name):
            tags.append((name, date))
    return sorted(tags, key=lambda t: semver_key(t[0]) or (0, 0, 0, 0, ()))


def _extract(schemas: Path, ref: str, cache: Path) -> Path | None:
    """The schemas folder as it was at `ref`, unpacked once into the cache."""
    try:
        top = Path(git(["rev-parse", "--show-toplevel"], schemas).strip())
        commit = git(["rev-parse", f"{ref}^{{commit}}"], schemas).strip()
    except RepoError:
        return None
    relative = schemas.resolve().relative_to(top.resolve()).as_posix()
    target = cache / "releases" / hashlib.sha256(f"{commit}:{relative}".encode()).hexdigest()[:20]
    if target.is_dir():
        return target / relative
    done = subprocess.run(
        ["git", "archive", "--format=tar", commit, "--", relative or "."],
        cwd=top, capture_output=True, timeout=GIT_TIMEOUT_SECONDS, check=False,
    )  # fmt: skip
    if done.returncode != 0 or len(done.stdout) > MAX_ARCHIVE_BYTES:
        return None
    partial = target.with_suffix(".part")
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as tar:
        for member in tar.getmembers():
            name = Path(member.name)
            if not member.isfile() or name.is_absolute() or ".." in name.parts:
                continue  # only regular files, inside the folder
            data = tar.extractfile(member)
            if data is not None:
                path = partial / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data.read())
    partial.mkdir(parents=True, exist_ok=True)
    partial.replace(target)
    return target / relative


def no_release_finding(config: Config, display: Callable[[Path], str]) -> Finding | None:
    """Why there is no earlier release to compare with, when the releases come from tags and
    there is none: a shallow clone (CI's default) has no tags, which silently turns off the gate."""
    if config.releases or config.schemas is None or not config.schemas.is_dir():
        return None
    if _tagged(config.schemas):
        return None
    folder = display(config.schemas)
    try:
        shallow = is_shallow(config.schemas)
        tags = "no `vX.Y.Z` tag in the schemas' repo"
    except RepoError:
        shallow, tags = False, "the schemas folder is in no git repo, so it has no `vX.Y.Z` tags"
    if shallow:
        return Finding(
            "changelog/shallow-clone", Severity.WARNING, folder, None,
            "the changelog gate is off: the schemas' repo is a shallow clone without its tags, so "
            "there is no earlier release to compare the schemas with, and no schema change is "
            "reported as unannounced",
            "clone it in full with its tags: `git fetch --unshallow --tags`; in CI, `fetch-depth: 0` "
            "(actions/checkout) or `GIT_DEPTH: 0` (GitLab)",
        )  # fmt: skip
    return Finding(
        "changelog/no-earlier-release", Severity.INFO, folder, None,
        f"no earlier release to compare the schemas with: no `releases:` in the config and {tags}, "
        "so the changelog gate checks nothing",
        "tag a release (`git tag v1.0.0`), or list earlier releases under `releases:`",
    )  # fmt: skip


def read_releases(
    config: Config, display: Callable[[Path], str]
) -> tuple[list[Release], list[Finding]]:
    """Every earlier release with its schemas, oldest first."""
    findings: list[Finding] = []
    releases: list[Release] = []
    if config.releases:
        entries = [(r.name, r.date or "", r.ref, r.schemas) for r in config.releases]
    elif config.schemas is not None and config.schemas.is_dir():
        entries = [(tag, date, tag, None) for tag, date in _tagged(config.schemas)]
    else:
        entries = []
    missing = no_release_finding(config, display) if not entries else None
    if missing is not None:
        findings.append(missing)
    for index, (name, date, ref, folder) in enumerate(entries):
        if folder is not None:
            where: Path | None = config.root / folder
        elif ref is not None and config.schemas is not None:
            where = _extract(config.schemas, ref, config.cache)
        else:
            where = None
        if where is None or not where.is_dir():
            findings.append(Finding(
                "changelog/unknown-release", Severity.ERROR, display(config.file),
                config.line_of("releases", index) if config.releases else None,
                f"release {name}: its schemas cannot be read ({ref or folder})",
                "name a git ref of the schemas' repo, or a folder of schemas, for this release",
            ))  # fmt: skip
            continue
        # an old release's own findings are history: its schemas are not checked again
        _, schemas, _ = read_schema_folder(where, display, check=False)
        releases.append(Release(name, date, tuple(schemas)))
    return releases, findings
