"""The catalog as one document: `catalog.json`, the `catalog` command and the catalog pages
all read this, so they cannot disagree."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..model import Deployment, Model


def _deployment(deployment: Deployment, state: str) -> dict[str, Any]:
    return {
        "environment": deployment.environment,
        "version": deployment.version,
        "drift": state,
        "owner": deployment.owner,
        "owner_source": deployment.owner_source,
        "source": deployment.source,
        "file": deployment.file,
        "line": deployment.line,
        "bundle": deployment.bundle_url or None,
        "sha256_verified": deployment.verified,
        "commit": deployment.commit or None,
        "repository": deployment.repository or None,
        "images": list(deployment.images),
        "kinds": list(deployment.kinds),
        "replicas": deployment.replicas,
        "problem": deployment.problem or None,
    }


def _service_owner(deployments: list[Deployment]) -> tuple[str | None, str]:
    """The owner most environments agree on; ties go to the environment latest in promotion order."""
    owners = Counter(d.owner for d in deployments if d.owner)
    if not owners:
        return None, ""
    best = max(owners.values())
    for deployment in reversed(deployments):
        if deployment.owner and owners[deployment.owner] == best:
            return deployment.owner, deployment.owner_source
    return None, ""


def catalog_document(model: Model) -> dict[str, Any]:
    """Everything the catalog pages show, as plain data (sorted, deterministic)."""
    states = {(service, env): state for service, env, state in model.drift}
    teams = {team.id: team for team in model.teams}
    services: dict[str, list[Deployment]] = {}
    for env in model.environments:
        for deployment in env.deployments:
            services.setdefault(deployment.service, []).append(deployment)
    service_docs = []
    for name in sorted(services):
        owner, source = _service_owner(services[name])
        team = teams.get(owner) if owner else None
        service_docs.append(
            {
                "name": name,
                # a team id, or null: an owner that names no team of owners.yml stays in `declared_owner`
                "owner": owner if owner in teams or not teams else None,
                "declared_owner": owner,
                "owner_source": source or None,
                "team": None
                if team is None
                else {
                    "id": team.id,
                    "name": team.name,
                    "contact": team.contact or None,
                    "chat": team.chat or None,
                    "oncall": team.oncall or None,
                },
                "deployments": [
                    _deployment(d, states.get((name, d.environment), "")) for d in services[name]
                ],
            }
        )
    team_docs = []
    for team in model.teams:
        owned = sorted(str(s["name"]) for s in service_docs if s["owner"] == team.id)
        team_docs.append(
            {
                "id": team.id,
                "name": team.name,
                "contact": team.contact or None,
                "chat": team.chat or None,
                "oncall": team.oncall or None,
                "services": owned,
            }
        )
    counts = Counter(f.severity.value for f in model.findings)
    return {
        "title": model.title,
        "environments": [
            {
                "name": env.name,
                "repo": env.repo,
                "commit": env.commit or None,
                "commit_date": env.commit_date or None,
                "services": len(env.deployments),
            }
            for env in model.environments
        ],
        "teams": team_docs,
        "services": service_docs,
        "findings": {level: counts.get(level, 0) for level in ("error", "warning", "info")},
    }
