"""The bundled sample's env repos: replayed from a scripted history into real git repos.

The sample keeps its environments' history as data (`history.yml`), since git repos cannot be
nested in this project's work tree. `prepare_sample` turns it into one git repo per environment
under the cache, with `git fast-import`, so the same script always gives the same commit ids.
"""

from __future__ import annotations

import email.utils
import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .config import Config
from .sources.download import mirror_path
from .sources.gitrepo import git
from .yamlload import load_file

BRANCH = "main"


class SampleError(Exception):
    """The sample's history script cannot be replayed."""


@dataclass(frozen=True)
class _Commit:
    environment: str
    when: datetime
    name: str
    email: str
    message: str
    set: dict[str, str]
    remove: tuple[str, ...]


def _commits(data: dict[str, Any]) -> list[_Commit]:
    commits = []
    for index, raw in enumerate(data.get("commits") or []):
        try:
            name, address = email.utils.parseaddr(raw["author"])
            commits.append(
                _Commit(
                    environment=str(raw["environment"]),
                    when=datetime.fromisoformat(str(raw["date"])),
                    name=name,
                    email=address,
                    message=str(raw["message"]).rstrip() + "\n",
                    set={str(k): str(v) for k, v in (raw.get("set") or {}).items()},
                    remove=tuple(str(s) for s in raw.get("remove") or ()),
                )
            )
        except (KeyError, TypeError, ValueError) as error:
            raise SampleError(f"commit {index + 1} of the history: {error}") from error
    return commits


def _environment_yml(
    name: str, state: dict[str, str], url: str, pin: bool, config: Config
) -> bytes:
    lines = [
        "# What runs in this environment. Change it through a merge request.",
        f"name: {name}",
        "bundles:",
    ]
    for service in sorted(state):
        bundle = url.format(service=service, version=state[service])
        local = mirror_path(bundle, config.mirrors)
        if pin and local is not None and local.is_file():
            digest = hashlib.sha256(local.read_bytes()).hexdigest()
            lines += [f"  - url: {bundle}", f"    sha256: {digest}"]
        else:
            lines.append(f"  - {bundle}")
    lines.append("manifests: manifests/")
    return ("\n".join(lines) + "\n").encode()


def _blob(out: list[bytes], path: str, data: bytes) -> None:
    out.append(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")


def _stream(
    env: str, commits: list[_Commit], files: Path, url: str, pin: bool, config: Config
) -> bytes:
    out: list[bytes] = []
    state: dict[str, str] = {}
    for number, commit in enumerate(c for c in commits if c.environment == env):
        state.update(commit.set)
        for service in commit.remove:
            state.pop(service, None)
        stamp = f"{int(commit.when.timestamp())} {commit.when.strftime('%z')}"
        who = f"{commit.name} <{commit.email}> {stamp}"
        message = commit.message.encode()
        out.append(f"commit refs/heads/{BRANCH}\nauthor {who}\ncommitter {who}\n".encode())
        out.append(f"data {len(message)}\n".encode() + message + b"\n")
        if number == 0 and files.is_dir():
            for path in sorted(p for p in files.rglob("*") if p.is_file()):
                _blob(out, path.relative_to(files).as_posix(), path.read_bytes())
        _blob(out, "environment.yml", _environment_yml(env, state, url, pin, config))
    return b"".join(out)


def _fingerprint(history: Path, data: dict[str, Any], config: Config) -> str:
    digest = hashlib.sha256(history.read_bytes())
    for settings in (data.get("environments") or {}).values():
        folder = config.root / str(settings.get("files", ""))
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            if path.is_file():
                digest.update(path.as_posix().encode() + path.read_bytes())
    for _prefix, mirror in config.mirrors:
        for path in sorted(mirror.rglob("*")) if mirror.is_dir() else []:
            if path.is_file():
                digest.update(path.as_posix().encode() + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def sample_root(config: Config) -> Path:
    return config.cache / "sample" / "envs"


def prepare_sample(config: Config) -> list[Path]:
    """Make (or refresh) the sample's env repos; return their folders. No-op without `sample:`."""
    if config.sample is None:
        return []
    document, findings = load_file(config.sample, config.display(config.sample))
    if document is None or not isinstance(document.data, dict):
        raise SampleError("; ".join(f.message for f in findings) or "history is empty")
    data = document.data
    root = sample_root(config)
    stamp = root / ".fingerprint"
    fingerprint = _fingerprint(config.sample, data, config)
    environments = data.get("environments") or {}
    targets = [root / str(name) for name in environments]
    if stamp.is_file() and stamp.read_text() == fingerprint and all(t.is_dir() for t in targets):
        return targets
    commits = _commits(data)
    url = str(data.get("bundle_url", ""))
    for name, settings in environments.items():
        target = root / str(name)
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        git(["init", "--quiet", "--initial-branch", BRANCH], target)
        files = config.root / str(settings.get("files", ""))
        stream = _stream(str(name), commits, files, url, bool(settings.get("sha256")), config)
        done = subprocess.run(
            ["git", "fast-import", "--quiet", "--date-format=raw"],
            cwd=target,
            input=stream,
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            raise SampleError(f"git fast-import failed for {name}: {done.stderr.decode()[-500:]}")
        git(["reset", "--quiet", "--hard", BRANCH], target)
    stamp.write_text(fingerprint)
    return targets


__all__ = ["SampleError", "prepare_sample", "sample_root"]
