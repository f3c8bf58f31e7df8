"""A pipeline-docs project of eleven environments, for the browser tests and anyone who wants a
big site: one Kustomize overlay env repo (tests/overlayrepo.py) with a fan-out promotion graph,
eighteen services, several hundred commits, teams, and the sample's schemas and templates.

`make_many_envs_project(folder)` writes it and returns its pipeline-docs.yml. The same call
gives the same files and the same commit ids.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from overlayrepo import AUTHORS, OverlayRepo, make_overlay_repo

REPO = Path(__file__).resolve().parents[1]
SEED = 11
COMMITS = 400
SERVICES = 16  # svc-0 .. svc-15 from overlayrepo, and LONG_NAMED on top
# Environment -> its direct upstreams, upstreams first (overlayrepo promotes along this order).
GRAPH: dict[str, list[str]] = {
    "sandbox": [],
    "dev": ["sandbox"],
    "qa": ["dev"],
    "perf": ["qa"],
    "staging-eu": ["qa"],
    "staging-us": ["qa"],
    "staging-ap": ["qa"],
    "prod-eu": ["staging-eu"],
    "prod-us": ["staging-us"],
    "prod-ap": ["staging-ap"],
    "dr": ["prod-eu"],
}
PRODUCTION = {"prod-eu", "prod-us", "prod-ap", "dr"}
# overlayrepo names its services svc-N under one short registry path; these two, added by one
# commit after its history, give the catalog the long names and image paths real repos have.
LONG_NAMED = {
    "customer-notification-preferences-gateway": (
        "registry.example.com/platform/customer-engagement/notifications/"
        "customer-notification-preferences-gateway",
        ("4.17.2", "4.18.0-rc.3"),
    ),
    "payments-reconciliation-batch-exporter": (
        "registry.example.com/finance/ledger/payments-reconciliation-batch-exporter",
        ("2023.11.28-7f3c9ab", "2024.02.14-0b1d2ce"),
    ),
}
TEAMS = {
    "team-payments": ("Payments", "#payments"),
    "team-orders": ("Orders & Checkout", "#orders"),
    "team-identity": ("Identity", "#identity"),
    "team-platform": ("Platform", "#platform"),
    "team-engagement": ("Customer Engagement", "#engagement"),
}


def make_many_envs_project(folder: Path, **keys: Any) -> Path:
    """Write the project under `folder` (missing or empty), its config with these keys on top
    (`kustomize="builtin"`, say); return its pipeline-docs.yml."""
    folder.mkdir(parents=True, exist_ok=True)
    repo = make_overlay_repo(
        folder / "envs",
        environments=tuple(GRAPH),
        services=SERVICES,
        commits=COMMITS,
        name_label=True,
        seed=SEED,
    )
    _add_long_named(repo)
    for part in ("schemas", "examples/templates", "examples/changes"):
        shutil.copytree(REPO / part, folder / part)
    _dump(folder / "owners.yml", _owners(repo))
    return _dump(folder / "pipeline-docs.yml", _config() | keys)


def _config() -> dict[str, Any]:
    environments = []
    for env, upstreams in GRAPH.items():
        entry: dict[str, Any] = {"name": env, "repo": "envs", "path": f"envs/{env}"}
        entry["promotes_from"] = upstreams
        entry["web"] = "https://git.example.com/platform/envs"
        if env in PRODUCTION:
            entry["production"] = True
        environments.append(entry)
    return {
        "title": "Eleven environments",
        "cache": ".cache",
        "schemas": "schemas/",
        "templates": ["examples/templates/"],
        "environments": environments,
        "owners": "owners.yml",
        "announcements": "examples/changes/",
    }


def _owners(repo: OverlayRepo) -> dict[str, Any]:
    """Every team with a contact and a chat; every service but the last svc-N owned."""
    teams = {
        team: {"name": name, "contact": f"{team.removeprefix('team-')}@acme.example", "chat": chat}
        for team, (name, chat) in TEAMS.items()
    }
    ids = list(TEAMS)
    services = {s: ids[i % len(ids)] for i, s in enumerate(repo.services[:-1])}
    services |= {name: "team-engagement" for name in LONG_NAMED}
    return {"teams": teams, "services": services}


def _add_long_named(repo: OverlayRepo) -> None:
    """One commit: the long-named services in the base, a newer tag in the first overlays."""
    base = repo.root / "base"
    kustomization = _load(base / "kustomization.yaml")
    for name, (image, (old, new)) in LONG_NAMED.items():
        _dump_all(base / f"{name}.yaml", _workload(name, f"{image}:{old}"))
        kustomization["resources"].append(f"{name}.yaml")
        for env in repo.environments[:3]:
            overlay_file = repo.overlay_dir(env) / "kustomization.yaml"
            overlay = _load(overlay_file)
            overlay.setdefault("images", []).append({"name": image, "newTag": new})
            _dump(overlay_file, overlay)
    _dump(base / "kustomization.yaml", kustomization)
    last = datetime.fromisoformat(repo.history[-1].date)
    _commit(repo.root, "Add the notification gateway and the reconciliation exporter", last)


def _workload(name: str, image: str) -> tuple[dict[str, Any], ...]:
    labels = {"app": name, "app.kubernetes.io/name": name}
    container = {
        "name": name,
        "image": image,
        "ports": [{"containerPort": 8080}],
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
        "resources": {
            "requests": {"cpu": "250m", "memory": "256Mi"},
            "limits": {"cpu": "1", "memory": "512Mi"},
        },
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001},
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": labels},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    return deployment, service


def _commit(root: Path, message: str, after: datetime) -> None:
    """Commit the work tree an hour after `after`, as overlayrepo's first author."""
    name, _, address = AUTHORS[0].partition(" <")
    stamp = (after + timedelta(hours=1)).isoformat()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env |= {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C"}
    for role in ("AUTHOR", "COMMITTER"):
        env |= {f"GIT_{role}_NAME": name, f"GIT_{role}_EMAIL": address.rstrip(">")}
        env[f"GIT_{role}_DATE"] = stamp
    for args in (["add", "--all"], ["commit", "--quiet", "--message", message]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


def _dump(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _dump_all(path: Path, documents: tuple[dict[str, Any], ...]) -> None:
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False), encoding="utf-8")
