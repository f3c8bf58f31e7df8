"""Kustomize overlay env repos made for tests and benchmarks, with what they should show.

`make_overlay_repo` writes a base, one overlay per environment and version components, then a
history of deployments, all in one `git fast-import` (5,000 commits in a second or two).
The `OverlayRepo` it returns says what it wrote: each service's image and replicas in each
environment, where its tag is set, and every change in order. It describes repos; it never
reads them with the project's code, so tests can hold the project's reading against it.
"""

from __future__ import annotations

import email.utils
import functools
import json
import os
import random
import re
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

REGISTRY = "registry.example.com/team"
BRANCH = "main"
MR_PROJECT = "platform/envs"
PLACES = ("images", "patch", "component")  # where an overlay sets a service's tag
LAYOUTS = ("mixed", *PLACES)
AUTHORS = (
    "Ada Lovelace <ada@example.com>",
    "Grace Hopper <grace@example.com>",
    "Alan Turing <alan@example.com>",
    "Katherine Johnson <katherine@example.com>",
)
START = 1_704_099_600  # 2024-01-01T09:00:00Z, the first commit's date
_OFFSETS = (0, 60, -300, 330)  # minutes east of UTC, the authors' zones in turn
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$")

Version = tuple[int, int, int]
Documents = tuple[dict[str, Any], ...]  # a file's YAML documents, dumped when committed


@dataclass(frozen=True)
class ServiceState:
    """What the generator wrote for one service in one environment, at the last commit."""

    image: str  # registry.example.com/team/svc-0:1.2.3
    replicas: int
    tag_in: str  # "images" (the overlay's list), "patch" (version.yml) or "component"
    replicas_in: str  # "base" (not overridden), "replicas" (the overlay's field) or "patch"

    @property
    def version(self) -> str:
        return self.image.rpartition(":")[2]


@dataclass(frozen=True)
class HistoryEvent:
    """One commit after the first: one service's tag or replicas changed in one environment."""

    commit: str
    author: str
    email: str
    date: str  # as `git log --format=%aI` shows it
    environment: str
    service: str
    kind: str  # "deploy" (a new version), "promote", "rollback" or "scale"
    from_version: str
    to_version: str  # from_version again for "scale"
    from_replicas: int
    to_replicas: int
    merge_request: str  # "platform/envs!42" (GitLab), "#42" (GitHub) or "" (a direct push)
    subject: str
    path: str  # the one file the commit changed


@dataclass(frozen=True)
class OverlayRepo:
    """A generated overlay repo: where it is, what it holds, and how it got there."""

    root: Path
    environments: tuple[str, ...]  # in promotion order
    services: tuple[str, ...]  # base names: svc-0, svc-1, ...
    overlays: Mapping[str, str]  # environment -> envs/<env>, relative to root
    state: Mapping[tuple[str, str], ServiceState]  # (environment, service) -> what runs
    history: tuple[HistoryEvent, ...]  # oldest first
    initial_commit: str
    name_prefix: bool
    branch: str = BRANCH

    def overlay_dir(self, environment: str) -> Path:
        return self.root / self.overlays[environment]

    def rendered_name(self, environment: str, service: str) -> str:
        """The Deployment's name in `kubectl kustomize envs/<env>` output."""
        return f"{environment}-{service}" if self.name_prefix else service


@dataclass
class _State:
    """The generator's working state: what each file says now."""

    environments: tuple[str, ...]
    services: tuple[str, ...]
    name_prefix: bool
    legacy: frozenset[str]  # environments listing version.yml under patchesStrategicMerge
    tag_in: dict[tuple[str, str], str]
    replicas_in: dict[tuple[str, str], str]
    deployed: dict[tuple[str, str], list[Version]]  # oldest first; the last one runs
    replicas: dict[tuple[str, str], int]
    latest: dict[str, Version]

    def version(self, env: str, service: str) -> Version:
        return self.deployed[env, service][-1]


@dataclass(frozen=True)
class _Change:
    kind: str
    env: str
    service: str
    before: tuple[Version, int]
    after: tuple[Version, int]


def _text(version: Version) -> str:
    return ".".join(map(str, version))


def _image(service: str, version: Version) -> str:
    return f"{REGISTRY}/{service}:{_text(version)}"


def _dump(*documents: dict[str, Any]) -> bytes:
    """Block-style YAML: PyYAML's dumper would take most of a 5,000-commit history's time."""
    return "---\n".join("".join(f"{line}\n" for line in _lines(d)) for d in documents).encode()


def _lines(value: dict[str, Any] | list[Any], pad: str = "") -> Iterator[str]:
    """The lines of a mapping or list of (non-empty) mappings, lists, strings and ints."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list):
                yield f"{pad}{_scalar(key)}:"
                yield from _lines(item, pad + "  ")
            else:
                yield f"{pad}{_scalar(key)}: {_scalar(item)}"
        return
    for item in value:
        nested = isinstance(item, dict | list)
        lines = list(_lines(item, pad + "  ")) if nested else [f"{pad}  {_scalar(item)}"]
        yield f"{pad}- {lines[0][len(pad) + 2 :]}"
        yield from lines[1:]


@functools.cache
def _scalar(value: str | int) -> str:
    """A string plain when PyYAML reads it back as itself, else JSON-quoted; an int as is."""
    if isinstance(value, int):
        return str(value)
    return value if value and yaml.safe_load(value) == value else json.dumps(value)


def _base_files(services: Sequence[str], name_label: bool) -> dict[str, Documents]:
    files: dict[str, Documents] = {
        "base/kustomization.yaml": ({
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": [f"{s}.yaml" for s in services],
        },)
    }  # fmt: skip
    for service in services:
        labels = {"app": service} | ({"app.kubernetes.io/name": service} if name_label else {})
        container = {
            "name": service,
            "image": f"{REGISTRY}/{service}:1.0.0",
            "ports": [{"containerPort": 8080}],
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
        }
        deployment = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": service, "labels": labels},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": service}},
                "template": {
                    "metadata": {"labels": dict(labels)},
                    "spec": {"containers": [container]},
                },
            },
        }
        port = {"port": 80, "targetPort": 8080}
        service_object = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": service, "labels": dict(labels)},
            "spec": {"selector": {"app": service}, "ports": [port]},
        }
        files[f"base/{service}.yaml"] = (deployment, service_object)
    return files


def _env_files(st: _State, env: str) -> dict[str, Documents]:
    """The overlay of `env`, its version.yml patch and its component, as they are now."""
    placed = {p: [s for s in st.services if st.tag_in[env, s] == p] for p in PLACES}
    overlay: dict[str, Any] = {"apiVersion": "kustomize.config.k8s.io/v1beta1"}
    overlay["kind"] = "Kustomization"
    if st.name_prefix:
        overlay["namePrefix"] = f"{env}-"
    overlay["namespace"] = env
    overlay["resources"] = ["../../base"]
    if placed["component"]:
        overlay["components"] = [f"../../components/versions-{env}"]
    if placed["patch"] and env in st.legacy:
        overlay["patchesStrategicMerge"] = ["version.yml"]
    elif placed["patch"]:
        overlay["patches"] = [{"path": "version.yml"}]
    if placed["images"]:
        overlay["images"] = _images(st, env, placed["images"])
    if scaled := [s for s in st.services if st.replicas_in[env, s] == "replicas"]:
        overlay["replicas"] = [{"name": s, "count": st.replicas[env, s]} for s in scaled]
    files: dict[str, Documents] = {f"envs/{env}/kustomization.yaml": (overlay,)}
    if placed["patch"]:
        files[f"envs/{env}/version.yml"] = tuple(_patch(st, env, s) for s in placed["patch"])
    if placed["component"]:
        files[f"components/versions-{env}/kustomization.yaml"] = ({
            "apiVersion": "kustomize.config.k8s.io/v1alpha1",
            "kind": "Component",
            "images": _images(st, env, placed["component"]),
        },)  # fmt: skip
    return files


def _images(st: _State, env: str, services: list[str]) -> list[dict[str, str]]:
    return [{"name": f"{REGISTRY}/{s}", "newTag": _text(st.version(env, s))} for s in services]


def _patch(st: _State, env: str, service: str) -> dict[str, Any]:
    """A strategic-merge patch of the base Deployment: by its base name, before the prefix."""
    spec: dict[str, Any] = {}
    if st.replicas_in[env, service] == "patch":
        spec["replicas"] = st.replicas[env, service]
    container = {"name": service, "image": _image(service, st.version(env, service))}
    spec["template"] = {"spec": {"containers": [container]}}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": service},
        "spec": spec,
    }


def _plan(
    environments: tuple[str, ...],
    count: int,
    layout: str,
    name_prefix: bool,
    seed: int,
    rng: random.Random,
) -> _State:
    """The first commit's state: places, tags (the later environment, the older) and replicas."""
    services = tuple(f"svc-{i}" for i in range(count))
    tag_in, replicas_in, deployed, replicas = {}, {}, {}, {}
    for k, env in enumerate(environments):
        places = [layout] * count
        if layout == "mixed":  # every place in every environment that has three services
            places = [PLACES[(i + k + seed) % len(PLACES)] for i in range(count)]
            rng.shuffle(places)
        for i, service in enumerate(services):
            key = env, service
            tag_in[key] = places[i]
            deployed[key] = [(1 + i % 3, len(environments) - k, 0)]
            replicas[key] = 1 if k == 0 else rng.choice((1, 2, 3))
            in_patch = places[i] == "patch" and rng.random() < 0.5
            replicas_in[key] = "patch" if in_patch else "base" if replicas[key] == 1 else "replicas"
    legacy = frozenset(e for k, e in enumerate(environments) if (k + seed) % 3 == 1)
    latest = {s: deployed[environments[0], s][0] for s in services}
    return _State(
        environments, services, name_prefix, legacy, tag_in, replicas_in, deployed, replicas, latest
    )


def _step(st: _State, rng: random.Random, force_rollback: bool) -> _Change:
    """Choose the next change and make it in the state."""
    envs, service = st.environments, rng.choice(st.services)
    roll = rng.random()
    if force_rollback and (back := [k for k, past in st.deployed.items() if len(past) > 1]):
        env, service = rng.choice(back)
        return _change(st, "rollback", env, service)
    if roll < 0.06 and (behind := [e for e in envs if len(st.deployed[e, service]) > 1]):
        return _change(st, "rollback", rng.choice(behind), service)
    if roll < 0.18:
        env = rng.choice(envs)
        count = rng.choice([n for n in range(1, 6) if n != st.replicas[env, service]])
        return _change(st, "scale", env, service, replicas=count)
    # promotions go along the environments in order: the first one behind the one before it
    ahead = (k for k in range(1, len(envs)) if _newer(st, envs[k - 1], envs[k], service))
    if roll < 0.62 and (k := next(ahead, 0)):
        return _change(st, "promote", envs[k], service, st.version(envs[k - 1], service))
    major, minor, patch = st.latest[service]
    new = (major, minor, patch + 1) if rng.random() < 0.75 else (major, minor + 1, 0)
    st.latest[service] = new
    return _change(st, "deploy", envs[0], service, new)


def _newer(st: _State, ahead: str, env: str, service: str) -> bool:
    return st.version(ahead, service) > st.version(env, service)


def _change(
    st: _State,
    kind: str,
    env: str,
    service: str,
    version: Version | None = None,
    replicas: int | None = None,
) -> _Change:
    """Deploy a version, roll the last one back, or set the replicas, in the state."""
    key = env, service
    before = st.version(env, service), st.replicas[key]
    if kind == "rollback":
        st.deployed[key].pop()
    if version is not None:
        st.deployed[key].append(version)
    if replicas is not None:
        st.replicas[key] = replicas
        if st.replicas_in[key] == "base":
            st.replicas_in[key] = "replicas"
    return _Change(kind, env, service, before, (st.version(env, service), st.replicas[key]))


def _message(change: _Change, number: int, branch_owner: str, roll: float) -> tuple[str, str, str]:
    """(subject, body, merge request) in one of the forges' styles, or a direct push's."""
    version, replicas = _text(change.after[0]), change.after[1]
    line = {
        "deploy": f"Deploy {change.service} {version} to {change.env}",
        "promote": f"Deploy {change.service} {version} to {change.env}",
        "rollback": f"Roll back {change.service} to {version} in {change.env}",
        "scale": f"Scale {change.service} to {replicas} replicas in {change.env}",
    }[change.kind]
    if roll < 0.45:  # GitLab's merge commit
        return line, f"See merge request {MR_PROJECT}!{number}", f"{MR_PROJECT}!{number}"
    if roll < 0.75:  # GitHub's merge commit
        branch = f"{branch_owner}/{change.kind}-{change.service}-{change.env}"
        return f"Merge pull request #{number} from {branch}", line, f"#{number}"
    if roll < 0.9:  # GitHub's squash merge
        return f"{line} (#{number})", "", f"#{number}"
    return line, "", ""


def _person(author: str) -> tuple[str, str]:
    name, address = email.utils.parseaddr(author)
    if not name or "@" not in address:
        raise ValueError(f"author {author!r} is not `Name <email>`")
    return name, address


def _commit(
    out: list[bytes], who: str, stamp: str, message: str, files: Mapping[str, Documents]
) -> None:
    """Append one commit on the branch to a fast-import stream."""
    text = message.encode()
    out.append(
        f"commit refs/heads/{BRANCH}\nauthor {who} {stamp}\ncommitter {who} {stamp}\n".encode()
    )
    out.append(f"data {len(text)}\n".encode() + text + b"\n")
    for path, documents in files.items():
        data = _dump(*documents)
        out.append(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")


def _when(seconds: int, offset: int) -> tuple[str, str]:
    """A date as fast-import's raw format takes it, and as `%aI` shows it."""
    sign, minutes = "+" if offset >= 0 else "-", abs(offset)
    raw = f"{seconds} {sign}{minutes // 60:02d}{minutes % 60:02d}"
    zone = timezone(timedelta(minutes=offset))
    return raw, datetime.fromtimestamp(seconds, zone).isoformat()


def _git(root: Path, args: Sequence[str], stdin: bytes = b"") -> str:
    """Run git in `root` with a fixed identity, no global or system config, no prompts."""
    name, address = _person(AUTHORS[0])
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env |= {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C"}
    env |= {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": address, "GIT_TERMINAL_PROMPT": "0"}
    env |= {"GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": address}
    command = ["git", "-c", f"init.defaultBranch={BRANCH}", *args]
    done = subprocess.run(command, cwd=root, env=env, input=stdin, capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"git {args[0]} failed in {root}: {done.stderr.decode()[-2000:]}")
    return done.stdout.decode()


def _history(
    st: _State,
    rng: random.Random,
    people: Sequence[tuple[str, str, int]],
    commits: int,
    written: dict[str, Documents],
    out: list[bytes],
) -> list[HistoryEvent]:
    """Append `commits` commits, one change each, to the stream; their events, shas unknown."""
    events: list[HistoryEvent] = []
    seconds, rolled_back = START, False
    for number in range(1, commits + 1):
        change = _step(st, rng, force_rollback=number == commits and not rolled_back)
        rolled_back = rolled_back or change.kind == "rollback"
        changed = {p: d for p, d in _env_files(st, change.env).items() if written.get(p) != d}
        if len(changed) != 1:
            raise RuntimeError(f"commit {number} changes {sorted(changed)}, not one file")
        written |= changed
        name, address, offset = rng.choice(people)
        seconds += rng.randint(300, 6 * 3600)
        raw, iso = _when(seconds, offset)
        subject, body, mr = _message(change, number, address.split("@")[0], rng.random())
        message = f"{subject}\n\n{body}\n" if body else f"{subject}\n"
        _commit(out, f"{name} <{address}>", raw, message, changed)
        events.append(
            HistoryEvent(
                commit="",
                author=name,
                email=address,
                date=iso,
                environment=change.env,
                service=change.service,
                kind=change.kind,
                from_version=_text(change.before[0]),
                to_version=_text(change.after[0]),
                from_replicas=change.before[1],
                to_replicas=change.after[1],
                merge_request=mr,
                subject=subject,
                path=next(iter(changed)),
            )
        )
    return events


def _final_state(st: _State) -> dict[tuple[str, str], ServiceState]:
    return {
        key: ServiceState(
            image=_image(key[1], past[-1]),
            replicas=st.replicas[key],
            tag_in=st.tag_in[key],
            replicas_in=st.replicas_in[key],
        )
        for key, past in st.deployed.items()
    }


def _check(
    envs: tuple[str, ...],
    services: int,
    commits: int,
    authors: Sequence[str],
    layout: str,
    root: Path,
) -> None:
    if layout not in LAYOUTS:
        raise ValueError(f"layout {layout!r} is not one of {', '.join(LAYOUTS)}")
    if services < 1 or commits < 0 or not envs or not authors:
        raise ValueError("need at least one service, one environment, one author; commits >= 0")
    if any(not _DNS_LABEL.match(e) for e in envs) or len(set(envs)) != len(envs):
        raise ValueError(f"environments must be distinct DNS labels (namespaces): {envs}")
    if root.exists() and any(root.iterdir()):
        raise FileExistsError(f"{root} is not empty")


def make_overlay_repo(
    root: Path,
    *,
    environments: Sequence[str] = ("dev", "staging", "prod"),
    services: int = 3,
    commits: int = 20,
    authors: Sequence[str] = AUTHORS,
    layout: str = "mixed",
    name_prefix: bool = True,
    name_label: bool = False,
    seed: int = 0,
) -> OverlayRepo:
    """A Kustomize overlay env repo in `root` (missing or empty), with `commits` deployments.

    `environments` are in promotion order; `authors` are `Name <email>`. `layout` puts every
    tag in the overlays' `images:`, `patch` (version.yml) or `component`, or with "mixed" each
    (environment, service) in one of the three, from the seed. The same arguments give the
    same files and the same commit ids.
    """
    envs = tuple(environments)
    _check(envs, services, commits, authors, layout, root)
    people = [(*_person(a), _OFFSETS[i % len(_OFFSETS)]) for i, a in enumerate(authors)]
    rng = random.Random(seed)
    st = _plan(envs, services, layout, name_prefix, seed, rng)
    written = _base_files(st.services, name_label)
    for env in envs:
        written |= _env_files(st, env)
    out: list[bytes] = []
    name, address, offset = people[0]
    first = "Create the environments\n"
    _commit(out, f"{name} <{address}>", _when(START, offset)[0], first, dict(written))
    events = _history(st, rng, people, commits, written, out)
    out.append(b"done\n")
    root.mkdir(parents=True, exist_ok=True)
    _git(root, ["init", "--quiet"])
    _git(root, ["fast-import", "--quiet", "--done", "--date-format=raw"], b"".join(out))
    _git(root, ["read-tree", "--reset", "-u", BRANCH])  # work tree and index at the branch
    shas = _git(root, ["rev-list", "--first-parent", "--reverse", BRANCH]).split()
    return OverlayRepo(
        root=root,
        environments=envs,
        services=st.services,
        overlays={e: f"envs/{e}" for e in envs},
        state=_final_state(st),
        history=tuple(replace(e, commit=sha) for e, sha in zip(events, shas[1:], strict=True)),
        initial_commit=shas[0],
        name_prefix=name_prefix,
    )
