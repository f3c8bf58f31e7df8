"""A synthetic organisation for the scale benchmark: deterministic by seed, sized by flags.

    .venv/bin/python benchmarks/org.py DIR --services 2000 [--layout environment|overlay]

writes a ready pipeline-docs project into DIR (missing or empty):

- `schemas/`: three pipeline schemas with `--options` options between them (nested groups,
  enums, patterns, maps, a shared `$defs` entry, examples, pitfalls, deprecations, `x-since`),
  and `releases/1.0.0/` the same schemas as they were before the last fifth of their options;
- `templates/`: `--templates` GitLab CI/CD components with `spec: inputs:`;
- `changes/`: `--fragments` changelog fragments naming real options and templates;
- `owners.yml`: `--teams` teams with contacts, a few services overridden;
- `services/<name>/.pipeline.yml`: each service's pipeline config, valid, checked by `validate:`;
- env repos, real git repos made with one `git fast-import` each, in one of two layouts:
  - `environment` (our own): one repo per environment under `envs/<env>`, `environment.yml`
    listing every service's bundle URL (the last environment pins them by `sha256`) plus
    `manifests/`; the first repo has `--commits` commits of version bumps, each later one a
    quarter of the one before (promotions of its upstream's version, a few rollbacks); the
    bundles running at every repo's head are real tar.gz files (bundle.yml and the rendered
    manifests) under `nexus/`, the local folder `bundles.mirrors` names;
  - `overlay`: one Kustomize overlay repo under `envs/` made by the tests' fixture generator
    (tests/overlayrepo.py): a base, an overlay per environment, `--commits` deployments;
    rendered by the built-in renderer (`kustomize: builtin`), so figures do not depend on
    which kustomize is on PATH;
- `pipeline-docs.yml` naming all of it.

The same flags give the same files and the same commit ids.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import random
import subprocess
import sys
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from overlayrepo import make_overlay_repo  # the tests' fixture generator

LAYOUTS = ("environment", "overlay")
NEXUS = "https://nexus.example.com/repository/k8s-bundles/"
URL = NEXUS + "{s}/{v}/{s}-{v}.tar.gz"
START = 1_704_099_600  # 2024-01-01T09:00:00Z
STAGES = ("dev", "qa", "staging", "preprod", "uat", "perf", "canary", "sandbox", "demo")
WORDS = (
    "payments",
    "orders",
    "cart",
    "billing",
    "ledger",
    "identity",
    "auth",
    "profile",
    "search",
    "catalog",
    "pricing",
    "inventory",
    "shipping",
    "returns",
    "reviews",
    "notify",
    "mailer",
    "gateway",
    "reports",
    "fraud",
    "risk",
    "loyalty",
    "coupons",
    "checkout",
    "invoices",
    "tax",
    "media",
    "images",
    "feeds",
    "events",
    "audit",
    "metrics",
    "sessions",
    "accounts",
)
KINDS = ("api", "worker", "web", "batch", "sync", "exporter", "consumer", "scheduler")
GROUPS = (
    "build",
    "test",
    "scan",
    "package",
    "deploy",
    "probes",
    "resources",
    "autoscaling",
    "network",
    "secrets",
    "observability",
    "release",
    "cache",
    "artifacts",
    "notifications",
)
SCHEMAS = ("service", "worker", "cronjob")
FIRST = ("Ada", "Grace", "Alan", "Katherine", "Linus", "Margaret", "Ken", "Barbara", "Edsger")
LAST = ("Lovelace", "Hopper", "Turing", "Johnson", "Torvalds", "Hamilton", "Thompson", "Liskov")


@dataclass(frozen=True)
class Sizes:
    """What to make: the flags of this script."""

    services: int = 500
    teams: int = 0  # 0: one per 25 services, at least 3
    environments: int = 5
    commits: int = 20_000
    options: int = 600
    templates: int = 40
    fragments: int = 80
    seed: int = 0

    @property
    def team_count(self) -> int:
        return self.teams or max(3, self.services // 25)


@dataclass
class Org:
    """What was made, for the benchmark to read back."""

    root: Path
    config: Path
    layout: str
    services: tuple[str, ...]
    environments: tuple[str, ...]
    env_repos: tuple[Path, ...]  # the git repos, each once
    env_files: list[Path] = field(default_factory=list)  # YAML files in the repos' work trees
    bundles: list[Path] = field(default_factory=list)  # tarballs in the mirror folder


def environment_names(count: int) -> tuple[str, ...]:
    """`count` environments in promotion order: dev first, production last."""
    if count < 1:
        raise ValueError("need at least one environment")
    middle = [STAGES[i] if i < len(STAGES) else f"stage{i}" for i in range(1, count - 1)]
    return ("dev", *middle, "production") if count > 1 else ("production",)


def service_names(rng: random.Random, count: int) -> tuple[str, ...]:
    """`count` distinct service names in the shape real ones have (`payments-api`)."""
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        name = f"{rng.choice(WORDS)}-{rng.choice(KINDS)}"
        if name in seen:
            name = f"{rng.choice(WORDS)}-{name}"
        if name in seen:
            name = f"{name}-{len(names)}"
        seen.add(name)
        names.append(name)
    return tuple(names)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _dump(path: Path, data: Any) -> None:
    _write(path, yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100))


# ---- schemas -----------------------------------------------------------------------------


def _option(rng: random.Random, group: str, number: int) -> tuple[str, dict[str, Any], Any]:
    """One option: its name, its schema and a valid value for a service's config."""
    name = f"{rng.choice(('max', 'min', 'use', 'enable', 'default', 'extra'))}_{group}_{number}"
    kind = number % 6
    text = (
        f"How `{group}` treats {name.replace('_', ' ')}. Set it per service; the shared "
        f"components read it in the `{group}` stage."
    )
    schema: dict[str, Any] = {"description": text}
    value: Any
    if kind == 0:
        schema |= {"type": "string", "examples": [f"{group}-value-{number}"]}
        value = f"{group}-value-{number}"
    elif kind == 1:
        schema |= {"type": "string", "enum": ["low", "medium", "high"], "default": "medium"}
        value = "high"
    elif kind == 2:
        schema |= {"type": "integer", "minimum": 0, "maximum": 1000, "default": number % 100}
        value = number % 7
    elif kind == 3:
        schema |= {"type": "boolean", "default": False}
        value = True
    elif kind == 4:
        schema |= {"type": "array", "items": {"type": "string"}, "default": []}
        value = ["a", "b"]
    else:
        schema |= {
            "type": "object",
            "description": text + " A map of names to values.",
            "additionalProperties": {"type": "string", "description": "One value."},
        }
        value = {"KEY": "value"}
    if number % 5 == 0:
        schema["x-pitfalls"] = [
            {
                "severity": "warning",
                "text": f"Setting `{name}` without `{group}` enabled does nothing.",
            }
        ]
    if number % 17 == 3:
        schema["deprecated"] = True
        schema["x-deprecated-message"] = f"Use `{group}.extra_{group}_{number + 1}` instead."
    if number % 4 == 1:
        schema["x-since"] = f"1.{number % 3}.0"
    return name, schema, value


def _schemas(sizes: Sizes, keep: float = 1.0) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Each schema id -> (the schema, a valid config); `keep` of the options, in order."""
    per_schema = max(1, sizes.options // len(SCHEMAS))
    made = {}
    for index, schema_id in enumerate(SCHEMAS):
        rng = random.Random(f"{sizes.seed}-{schema_id}")  # the same names whatever `keep` is
        groups: dict[str, Any] = {}
        config: dict[str, Any] = {"service": "payments-api", "team": "team-payments"}
        total = max(1, int(per_schema * keep))
        per_group = max(1, per_schema // len(GROUPS))
        for number in range(total):
            group = GROUPS[(number // per_group) % len(GROUPS)]
            name, option, value = _option(rng, group, number)
            entry = groups.setdefault(
                group,
                {
                    "type": "object",
                    "additionalProperties": False,
                    "description": f"The `{group}` stage.",
                    "properties": {},
                },
            )
            entry["properties"][name] = option
            if number % 9 == 0 and not option.get("deprecated"):
                config.setdefault(group, {})[name] = value
        groups.setdefault("resources", {"type": "object", "properties": {}})
        groups["resources"]["properties"]["requests"] = {"$ref": "#/$defs/quantity"}
        groups["resources"]["properties"]["limits"] = {"$ref": "#/$defs/quantity"}
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://pipeline.example.com/schemas/{schema_id}.schema.json",
            "title": f"{schema_id.title()} pipeline config ({index + 1} of {len(SCHEMAS)})",
            "description": f"The `.pipeline.yml` of a {schema_id}: how the shared components "
            "build, test and deploy it.",
            "type": "object",
            "additionalProperties": False,
            "required": ["service", "team"],
            "properties": {
                "service": {
                    "type": "string",
                    "description": "Name of the service.",
                    "pattern": "^[a-z][a-z0-9-]{1,60}$",
                    "examples": ["payments-api"],
                },
                "team": {
                    "type": "string",
                    "description": "Owning team, from owners.yml.",
                    "pattern": "^team-[a-z0-9-]+$",
                },
                **groups,
            },
            "$defs": {
                "quantity": {
                    "type": "object",
                    "additionalProperties": False,
                    "description": "CPU and memory, as Kubernetes quantities.",
                    "properties": {
                        "cpu": {
                            "type": "string",
                            "pattern": "^[0-9]+m?$",
                            "examples": ["250m"],
                            "description": "CPU, in cores or millicores.",
                        },
                        "memory": {
                            "type": "string",
                            "pattern": "^[0-9]+(Mi|Gi)$",
                            "examples": ["256Mi"],
                            "description": "Memory.",
                        },
                    },
                }
            },
        }
        made[schema_id] = (schema, config)
    return made


def write_schemas(root: Path, sizes: Sizes) -> dict[str, dict[str, Any]]:
    """schemas/ and releases/1.0.0/; return a valid config per schema id."""
    configs = {}
    for schema_id, (schema, config) in _schemas(sizes).items():
        _write(root / "schemas" / f"{schema_id}.schema.json", json.dumps(schema, indent=2))
        configs[schema_id] = config
    for schema_id, (schema, _) in _schemas(sizes, keep=0.8).items():
        _write(root / "releases/1.0.0" / f"{schema_id}.schema.json", json.dumps(schema, indent=2))
    return configs


# ---- templates, fragments, owners, service configs ---------------------------------------


def write_templates(root: Path, sizes: Sizes) -> list[str]:
    """GitLab CI/CD components with `spec: inputs:`; return their ids."""
    ids = []
    for number in range(sizes.templates):
        tid = f"{GROUPS[number % len(GROUPS)]}-{number}"
        inputs: dict[str, Any] = {
            "stage": {
                "type": "string",
                "default": GROUPS[number % len(GROUPS)],
                "description": "Stage the job runs in.",
            },
            "image": {"type": "string", "description": "Image the job runs in, with its tag."},
            "level": {
                "type": "string",
                "default": "info",
                "options": ["debug", "info", "warn"],
                "description": "How much the job logs.",
            },
            "retries": {"type": "number", "default": 2, "description": "Retries of a failed job."},
            "strict": {"type": "boolean", "default": True, "description": "Fail on a warning."},
            "paths": {"type": "array", "default": [], "description": "Paths the job reads."},
        }
        for extra in range(number % 6):
            inputs[f"option_{extra}"] = {
                "type": "string",
                "default": f"v{extra}",
                "description": f"Extra setting {extra} of {tid}.",
            }
        header = yaml.safe_dump({"spec": {"inputs": inputs}}, sort_keys=False)
        used = " ".join(f"--{n} $[[ inputs.{n} ]]" for n in inputs if n not in ("stage", "image"))
        job = (
            f"{tid}:\n  stage: $[[ inputs.stage ]]\n  image: $[[ inputs.image ]]\n"
            f"  script:\n    - ci/{tid} {used}\n"
        )
        _write(root / "templates" / f"{tid}.yml", f"{header}---\n{job}")
        ids.append(tid)
    return ids


def _option_ids(sizes: Sizes, keep: float = 1.0) -> list[str]:
    """Every option id of the schemas `_schemas` makes, in order."""
    ids = []
    for sid, (schema, _) in _schemas(sizes, keep).items():
        for group, entry in schema["properties"].items():
            if "properties" in entry:
                ids.append(f"{sid}:{group}")
                ids += [
                    f"{sid}:{group}.{name}"
                    for name, option in entry["properties"].items()
                    if "$ref" not in option
                ]
    return ids


def write_fragments(root: Path, sizes: Sizes, templates: Sequence[str]) -> None:
    """Changelog fragments over three releases, each naming options and templates; those
    after 1.0.0 between them name every option added since (so none is unannounced)."""
    rng = random.Random(sizes.seed * 7 + 2)
    options = _option_ids(sizes)
    before = set(_option_ids(sizes, keep=0.8))
    added = [o for o in options if o not in before]
    kinds = ("feature", "change", "fix", "security")
    later = max(1, sizes.fragments - sizes.fragments // 3)  # fragments after 1.0.0
    for number in range(sizes.fragments):
        release = ("1.0.0", "1.1.0", "1.2.0")[number * 3 // max(1, sizes.fragments)]
        day = 1 + number % 28
        month = {"1.0.0": 3, "1.1.0": 5, "1.2.0": 7}[release]
        named = rng.sample(options, min(2, len(options)))
        if release != "1.0.0":
            named = added[(number - sizes.fragments // 3) % later :: later] or named
        front = {
            "title": f"Change {number}: {rng.choice(GROUPS)} learns something new",
            "type": "feature" if release != "1.0.0" else kinds[number % len(kinds)],
            "date": f"2026-{month:02d}-{day:02d}",
            "release": release,
            "options": named,
            "templates": rng.sample(list(templates), min(1, len(templates))),
        }
        body = (
            f"The `{named[0].split(':')[1]}` option now does what its page says.\n\n"
            "Nothing to do for most services; see the reference for the details.\n"
        )
        _write(
            root / "changes" / f"2026-{month:02d}-{day:02d}-change-{number}.md",
            f"---\n{yaml.safe_dump(front, sort_keys=False)}---\n{body}",
        )


def teams_of(sizes: Sizes, services: Sequence[str]) -> dict[str, str]:
    """Each service's team, round robin."""
    count = sizes.team_count
    return {service: f"team-{i % count:03d}" for i, service in enumerate(services)}


def write_owners(root: Path, sizes: Sizes, owners: dict[str, str], every: bool) -> None:
    """owners.yml: every team with how to reach it; one service in fifty overridden, or with
    `every` each service mapped to its team (overlays carry no bundle.yml to name it)."""
    teams = {}
    for i in range(sizes.team_count):
        tid = f"team-{i:03d}"
        teams[tid] = {
            "name": f"{WORDS[i % len(WORDS)].title()} {i}",
            "contact": f"{tid}@example.com",
            "chat": f"#{tid}",
            "oncall": f"https://oncall.example.com/{tid}",
        }
    team_ids = list(teams)
    overrides = {s: team_ids[(i + 1) % len(team_ids)] for i, s in enumerate(owners) if i % 50 == 7}
    if every:
        overrides = owners | overrides
    _dump(root / "owners.yml", {"teams": teams, "services": overrides})


def write_service_configs(
    root: Path, configs: dict[str, dict[str, Any]], owners: dict[str, str]
) -> dict[str, str]:
    """services/<name>/.pipeline.yml, each valid against its schema; `validate:` globs."""
    globs = {}
    for i, (service, team) in enumerate(owners.items()):
        schema_id = SCHEMAS[i % len(SCHEMAS)]
        config = configs[schema_id] | {"service": service, "team": team}
        _dump(root / "services" / schema_id / service / ".pipeline.yml", config)
        globs[f"services/{schema_id}/*/.pipeline.yml"] = schema_id
    return globs


# ---- the environment.yml layout ----------------------------------------------------------


def _labels(service: str, version: str, team: str, pad: str) -> str:
    return (
        f"{pad}app.kubernetes.io/name: {service}\n"
        f'{pad}app.kubernetes.io/version: "{version}"\n{pad}team: {team}\n'
    )


def _manifests(service: str, version: str, team: str) -> dict[str, str]:
    """A bundle's rendered manifests: a Deployment and a Service, as a build job writes them."""
    labels = _labels(service, version, team, "    ")
    deployment = f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {service}
  labels:
{labels}spec:
  replicas: 3
  selector:
    matchLabels:
      app.kubernetes.io/name: {service}
  template:
    metadata:
      labels:
{_labels(service, version, team, "        ")}    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
      containers:
        - name: {service}
          image: registry.example.com/{team}/{service}:{version}
          ports:
            - name: http
              containerPort: 8080
          readinessProbe:
            httpGet: {{path: /ready, port: http}}
          resources:
            requests: {{cpu: 250m, memory: 256Mi}}
            limits: {{cpu: "1", memory: 512Mi}}
"""
    svc = f"""apiVersion: v1
kind: Service
metadata:
  name: {service}
  labels:
{labels}spec:
  selector:
    app.kubernetes.io/name: {service}
  ports:
    - name: http
      port: 80
      targetPort: http
"""
    return {"manifests/deployment.yaml": deployment, "manifests/service.yaml": svc}


def bundle_bytes(service: str, version: str, team: str) -> bytes:
    """The bundle tarball of one version: bundle.yml and manifests, packed reproducibly."""
    commit = hashlib.sha1(f"{service}@{version}".encode()).hexdigest()[:12]
    members = {
        "bundle.yml": (
            f'service: {service}\nversion: "{version}"\ncommit: "{commit}"\n'
            f"owner: {team}\nrepository: https://git.example.com/{team}/{service}\n"
        ),
        **_manifests(service, version, team),
    }
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, text in sorted(members.items()):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1_700_000_000, 0o644
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), compresslevel=6, mtime=0)


Version = tuple[int, int, int] | str  # semver, or a commit hash


def _text(version: Version) -> str:
    return version if isinstance(version, str) else ".".join(map(str, version))


def _bump(rng: random.Random, version: Version) -> Version:
    if isinstance(version, str):
        return f"{rng.getrandbits(28):07x}"
    major, minor, patch = version
    roll = rng.random()
    if roll < 0.01:
        return (major + 1, 0, 0)
    return (major, minor + 1, 0) if roll < 0.15 else (major, minor, patch + 1)


class _Repo:
    """One env repo being written: its fast-import process and what each service runs."""

    def __init__(self, root: Path, env: str, services: Sequence[str], pinned: bool) -> None:
        self.root, self.env, self.pinned = root, env, pinned
        self.services = list(services)
        self.index = {s: i for i, s in enumerate(self.services)}
        self.lines: list[str] = []
        self.running: dict[str, Version] = {}
        self.past: dict[str, list[Version]] = {}
        self.commits = 0
        root.mkdir(parents=True)
        _git(root, "init", "--quiet")
        self.process = subprocess.Popen(
            ["git", "fast-import", "--quiet", "--done", "--date-format=raw"],
            cwd=root,
            stdin=subprocess.PIPE,
            env=_git_env(),
        )

    def entry(self, service: str, version: Version, sha: str | None) -> str:
        url = URL.format(s=service, v=_text(version))
        return f"  - url: {url}\n    sha256: {sha}\n" if sha else f"  - {url}\n"

    def commit(self, who: str, when: int, message: str, files: dict[str, str]) -> None:
        assert self.process.stdin is not None
        out = [f"commit refs/heads/main\nauthor {who} {when} +0000\ncommitter {who} {when} +0000\n"]
        data = message.encode()
        chunks = [out[0].encode(), f"data {len(data)}\n".encode(), data, b"\n"]
        for path, text in files.items():
            body = text.encode()
            chunks += [f"M 100644 inline {path}\ndata {len(body)}\n".encode(), body, b"\n"]
        self.process.stdin.write(b"".join(chunks))
        self.commits += 1

    def environment_yml(self) -> str:
        head = f"name: {self.env}\nmanifests: manifests/\nbundles:\n"
        return head + "".join(self.lines)

    def finish(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"done\n")
        self.process.stdin.close()
        if self.process.wait() != 0:
            raise RuntimeError(f"git fast-import failed in {self.root}")
        _git(self.root, "read-tree", "--reset", "-u", "main")


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return env | {
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "LC_ALL": "C",
        "GIT_AUTHOR_NAME": "Org",
        "GIT_AUTHOR_EMAIL": "org@example.com",
        "GIT_COMMITTER_NAME": "Org",
        "GIT_COMMITTER_EMAIL": "org@example.com",
    }


def _git(root: Path, *args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(
        ["git", "-c", "init.defaultBranch=main", *args],
        cwd=root,
        env=_git_env() | (env or {}),
        check=True,
        capture_output=True,
    )


def _raw_manifests(env: str) -> dict[str, str]:
    namespace = (
        f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop-{env}\n  labels:\n"
        f"    team: team-000\n---\napiVersion: v1\nkind: ResourceQuota\nmetadata:\n"
        f"  name: shop-{env}-quota\n  namespace: shop-{env}\nspec:\n  hard:\n"
        f'    requests.cpu: "800"\n    pods: "20000"\n'
    )
    policy = (
        f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
        f"  name: default-deny\n  namespace: shop-{env}\nspec:\n  podSelector: {{}}\n"
        f"  policyTypes: [Ingress]\n"
    )
    return {"manifests/namespace.yaml": namespace, "manifests/network-policy.yaml": policy}


def _people(rng: random.Random) -> list[str]:
    return [
        f"{a} {b} <{a.lower()}.{b.lower()}@example.com>"
        for a in FIRST
        for b in LAST
        if rng.random() < 0.5
    ] or ["Ada Lovelace <ada@example.com>"]


def _history_plan(sizes: Sizes, envs: Sequence[str], rng: random.Random) -> list[int]:
    """Which environment each commit after the first goes to, in time order."""
    counts = [sizes.commits // (4**i) if i else sizes.commits for i in range(len(envs))]
    plan = [i for i, count in enumerate(counts) for _ in range(count)]
    rng.shuffle(plan)
    return plan


def make_environment_layout(
    root: Path, sizes: Sizes, services: Sequence[str], owners: dict[str, str]
) -> Org:
    """env repos under envs/, bundles under nexus/ (see the module's docstring)."""
    rng = random.Random(sizes.seed * 7 + 3)
    envs = environment_names(sizes.environments)
    people = _people(rng)
    tarballs: dict[tuple[str, str], bytes] = {}

    def sha(service: str, version: Version) -> str:
        key = (service, _text(version))
        if key not in tarballs:
            tarballs[key] = bundle_bytes(service, key[1], owners[service])
        return hashlib.sha256(tarballs[key]).hexdigest()

    first: dict[str, Version] = {
        s: f"{rng.getrandbits(28):07x}" if i % 20 == 13 else (1, rng.randrange(10), 0)
        for i, s in enumerate(services)
    }  # one service in twenty versioned by commit hash
    repos: list[_Repo] = []
    for number, env in enumerate(envs):
        last = number == len(envs) - 1
        # one service in fifty is new: not in the last environment yet
        present = [s for i, s in enumerate(services) if not (last and i % 50 == 49)]
        repo = _Repo(root / "envs" / env, env, present, pinned=last)
        repo.running = {s: first[s] for s in present}
        repo.past = {s: [first[s]] for s in present}
        repo.lines = [repo.entry(s, first[s], sha(s, first[s]) if last else None) for s in present]
        files = {
            "environment.yml": repo.environment_yml(),
            **_raw_manifests(env),
            "CODEOWNERS": "* @example/platform-team\n",
        }
        repo.commit(people[0], START, f"Create the {env} environment\n", files)
        repos.append(repo)
    when = START
    for target in _history_plan(sizes, envs, rng):
        repo = repos[target]
        when += rng.randint(60, 1200)
        service, version, verb = _next_change(rng, repo, repos[target - 1] if target else None)
        repo.running[service] = version
        repo.past[service].append(version)
        pinned = sha(service, version) if repo.pinned else None
        repo.lines[repo.index[service]] = repo.entry(service, version, pinned)
        mr = f"See merge request platform/env-{repo.env}!{repo.commits}\n"
        message = f"{verb} {service} {_text(version)}\n\n{mr}"
        repo.commit(rng.choice(people), when, message, {"environment.yml": repo.environment_yml()})
    for repo in repos:
        repo.finish()
    org = Org(
        root,
        root / "pipeline-docs.yml",
        "environment",
        tuple(services),
        envs,
        tuple(r.root for r in repos),
    )
    running = {(s, _text(v)) for repo in repos for s, v in repo.running.items()}
    for service, version in sorted(running):
        if (service, version) not in tarballs:
            sha(service, version)
        path = root / "nexus" / service / version / f"{service}-{version}.tar.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(tarballs[service, version])
        org.bundles.append(path)
    org.env_files = sorted(
        p for r in repos for p in r.root.rglob("*") if p.suffix in (".yml", ".yaml")
    )
    return org


def _next_change(
    rng: random.Random, repo: _Repo, upstream: _Repo | None
) -> tuple[str, Version, str]:
    """A version bump (first environment), else a promotion of the upstream's version, or now
    and then a rollback to the version before."""
    if upstream is None:
        service = rng.choice(repo.services)
        return service, _bump(rng, repo.running[service]), "Deploy"
    for _ in range(20):
        service = rng.choice(repo.services)
        past = repo.past[service]
        if rng.random() < 0.03 and len(past) > 1 and past[-2] != past[-1]:
            return service, past[-2], "Roll back"
        ahead = upstream.running.get(service)
        if ahead is not None and ahead != repo.running[service]:
            return service, ahead, "Promote"
    service = rng.choice(repo.services)  # all caught up: a hotfix
    return service, _bump(rng, repo.running[service]), "Hotfix"


# ---- the overlay layout -------------------------------------------------------------------


def make_overlay_layout(root: Path, sizes: Sizes) -> Org:
    """One Kustomize overlay repo under envs/, from the tests' fixture generator."""
    envs = environment_names(sizes.environments)
    made = make_overlay_repo(
        root / "envs",
        environments=envs,
        services=sizes.services,
        commits=sizes.commits,
        name_label=True,
        seed=sizes.seed,
    )
    org = Org(root, root / "pipeline-docs.yml", "overlay", made.services, envs, (made.root,))
    org.env_files = sorted(
        p for p in made.root.rglob("*") if p.suffix in (".yml", ".yaml") and ".git" not in p.parts
    )
    return org


# ---- the whole project ---------------------------------------------------------------------


def make_org(root: Path, sizes: Sizes, layout: str = "environment") -> Org:
    """The whole project in `root` (missing or empty), `pipeline-docs.yml` included."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout {layout!r} is not one of {', '.join(LAYOUTS)}")
    if root.exists() and any(root.iterdir()):
        raise FileExistsError(f"{root} is not empty")
    root.mkdir(parents=True, exist_ok=True)
    if layout == "environment":
        services = service_names(random.Random(sizes.seed), sizes.services)
        owners = teams_of(sizes, services)
        org = make_environment_layout(root, sizes, services, owners)
    else:
        org = make_overlay_layout(root, sizes)
        owners = teams_of(sizes, org.services)
    configs = write_schemas(root, sizes)
    templates = write_templates(root, sizes)
    write_fragments(root, sizes, templates)
    write_owners(root, sizes, owners, every=layout == "overlay")
    validate = write_service_configs(root, configs, owners)
    _dump(org.config, _config(org, validate))
    return org


def _config(org: Org, validate: dict[str, str]) -> dict[str, Any]:
    environments: list[dict[str, Any]] = []
    for env in org.environments:
        entry: dict[str, Any] = {"name": env}
        if org.layout == "environment":
            entry |= {"repo": f"envs/{env}", "web": f"https://git.example.com/platform/env-{env}"}
        else:
            entry |= {
                "repo": "envs",
                "path": f"envs/{env}",
                "web": "https://git.example.com/platform/envs",
            }
        if env == org.environments[-1]:
            entry["production"] = True
        environments.append(entry)
    config: dict[str, Any] = {
        "title": f"Synthetic organisation: {len(org.services):,} services ({org.layout} layout)",
        "cache": ".cache",
        "schemas": "schemas/",
        "templates": ["templates/"],
        "environments": environments,
        "owners": "owners.yml",
        "announcements": "changes/",
        "releases": [{"name": "1.0.0", "date": "2026-03-02", "schemas": "releases/1.0.0/"}],
        "validate": validate,
    }
    if org.layout == "environment":
        config["bundles"] = {"mirrors": {NEXUS: "nexus/"}}
    else:
        config["kustomize"] = "builtin"
    return config


def parse_sizes(argv: Sequence[str] | None = None) -> tuple[Path, Sizes, str]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("root", type=Path, help="folder to write (missing or empty)")
    parser.add_argument("--layout", choices=LAYOUTS, default="environment")
    defaults = Sizes()
    for name in (
        "services",
        "teams",
        "environments",
        "commits",
        "options",
        "templates",
        "fragments",
        "seed",
    ):
        parser.add_argument(f"--{name}", type=int, default=getattr(defaults, name))
    args = parser.parse_args(argv)
    sizes = Sizes(**{k: v for k, v in vars(args).items() if k not in ("root", "layout")})
    return args.root, sizes, args.layout


def main() -> None:
    root, sizes, layout = parse_sizes()
    org = make_org(root, sizes, layout)
    print(
        f"{org.config}: {len(org.services)} services, {len(org.environments)} environments, "
        f"{len(org.env_repos)} env repos, {len(org.bundles)} bundles"
    )


if __name__ == "__main__":
    main()
