"""The catalog as one document: `catalog.json`, the `catalog` command and the catalog pages
all read this, so they cannot disagree."""

from __future__ import annotations

from collections import Counter, defaultdict
from importlib import resources
from typing import Any
from urllib.parse import quote

from ..analysis.promotion import stages
from ..analysis.versions import instant
from ..model import Change, Deployment, Environment, Finding, Model, WorkloadRef
from .links import commit_url, compare_url, file_url, merge_request_url

LATEST_CHANGES = 20


def _findings(findings: list[Finding]) -> list[dict[str, Any]]:
    return [{"rule": f.rule, "severity": f.severity.value, "message": f.message} for f in findings]


def _last(change: dict[str, Any] | None) -> dict[str, Any] | None:
    """The change that made a deployment what it is: what it ran before, who changed it, when."""
    if change is None:
        return None
    keys = ("from", "to", "author", "date", "commit", "commit_url", "merge_request",
            "merge_request_url", "rollback")  # fmt: skip
    return {key: change[key] for key in keys}


def _deployment(
    deployment: Deployment,
    state: str,
    findings: list[Finding],
    env: Environment | None,
    last: dict[str, Any] | None = None,
) -> dict[str, Any]:
    web, commit, ref = (env.web, env.commit, env.ref) if env is not None else ("", "", "")
    defined = (deployment.version_path or deployment.path, deployment.version_line
               if deployment.version_path else deployment.line)  # fmt: skip
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
        "namespace": deployment.namespace or None,
        "replicas": deployment.replicas,
        "cpu_requests": _round(deployment.cpu),
        "memory_requests": deployment.memory,
        "deploys": deployment.chart or None,
        "note": deployment.note or None,
        "problem": deployment.problem or None,
        "versions": list(deployment.versions) or None,
        "version_file": deployment.version_file or None,
        "version_line": deployment.version_line,
        "part_of": deployment.part_of or None,
        "defined_in": {
            "file": deployment.version_file or deployment.file,
            "line": deployment.version_line if deployment.version_file else deployment.line,
            "url": file_url(web, commit, defined[0], defined[1]) or None,
            # the same file at the env repo's branch: what a page links to, which the page's
            # script pins to the commit build.json names (so no page changes with each commit)
            "at": quote(ref, safe="/") if ref else "HEAD",
            "ref_url": file_url(web, quote(ref, safe="/") if ref else "HEAD", *defined) or None,
        },
        "workloads": [_workload(w) for w in deployment.workloads],
        "findings": _findings(findings),
        # the newest change of this service here; `since` only when it set the version shown
        "last_change": _last(last),
        "since": last["date"] if last is not None and last["to"] == deployment.version else None,
    }


def _workload(workload: WorkloadRef) -> dict[str, Any]:
    return {
        "kind": workload.kind,
        "namespace": workload.namespace or None,
        "name": workload.name,
        "images": list(workload.images),
        "replicas": workload.replicas,
        "file": workload.file,
        "line": workload.line,
        **({"note": workload.note} if workload.note else {}),
    }


def status_of(env: Environment) -> str:
    """`read`, `unreadable`, `from an earlier build` (unreadable now, shown as an earlier run
    read it), `not rendered by kustomize`, or `incomplete` (the built-in renderer could not
    follow all of an overlay)."""
    problems = [r.problem for r in env.renderings if r.problem]
    if env.status:
        return env.status
    if any(p.startswith("not rendered by kustomize") for p in problems):
        return "not rendered by kustomize"
    return "incomplete" if problems else "read"


def _earlier(env: Environment) -> dict[str, Any] | None:
    """When an earlier run read what is shown, its commit, and why the repo cannot be read
    now; None when it was read now."""
    if not env.earlier:
        return None
    return {"read": env.earlier, "commit": env.commit or None, "reason": env.unreadable_now}


def renderer_of(env: Environment) -> str | None:
    """What rendered an environment's overlays, in one phrase (None: nothing to render)."""
    names = sorted({r.renderer for r in env.renderings})
    return "; ".join(names) if names else None


def change_document(change: Change, web: str, repository: str | None) -> dict[str, Any]:
    """One change of version, with links where the forges' URLs are known."""
    return {
        "environment": change.environment,
        "service": change.service,
        "from": change.from_version,
        "to": change.to_version,
        "commit": change.commit,
        "author": change.author,
        "date": change.date,
        "message": change.message,
        "merge_request": change.merge_request or None,
        "from_replicas": change.from_replicas,
        "to_replicas": change.to_replicas,
        "rollback": change.rollback,
        "commit_url": commit_url(web, change.commit) or None,
        "merge_request_url": merge_request_url(web, change.merge_request) or None,
        "compare_url": compare_url(repository or "", change.from_version, change.to_version)
        or None,
    }


def history(model: Model, repositories: dict[str, str | None]) -> list[dict[str, Any]]:
    """Every change in every environment, newest first."""
    changes = [(change, env) for env in model.environments for change in env.history]
    changes.sort(
        key=lambda pair: (instant(pair[0].date), pair[1].name, pair[0].service), reverse=True
    )
    return [change_document(c, e.web, repositories.get(c.service)) for c, e in changes]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


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


def _totals(deployments: list[Deployment]) -> dict[str, Any]:
    cpu = [d.cpu for d in deployments if d.cpu is not None]
    memory = [d.memory for d in deployments if d.memory is not None]
    return {
        "cpu_requests": _round(sum(cpu)) if cpu else None,
        "memory_requests": sum(memory) if memory else None,
    }


def source_repositories(model: Model) -> dict[str, str | None]:
    """Each service's source repository, as its bundles name it (the last one, sorted)."""
    found: dict[str, set[str]] = {}
    for env in model.environments:
        for deployment in env.deployments:
            found.setdefault(deployment.service, set())
            if deployment.repository:
                found[deployment.service].add(deployment.repository)
    return {name: (sorted(repos)[-1] if repos else None) for name, repos in found.items()}


def catalog_document(model: Model) -> dict[str, Any]:
    """Everything the catalog pages show, as plain data (sorted, deterministic)."""
    sources = source_repositories(model)
    states = {(service, env): state for service, env, state in model.drift}
    teams = {team.id: team for team in model.teams}
    envs = {env.name: env for env in model.environments}
    by_place: dict[tuple[str | None, int | None], list[Finding]] = defaultdict(list)
    for finding in model.findings:
        by_place[(finding.file, finding.line)].append(finding)
    services: dict[str, list[Deployment]] = {}
    for env in model.environments:
        for deployment in env.deployments:
            services.setdefault(deployment.service, []).append(deployment)
    changes = history(model, sources)
    by_service: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_environment: dict[str, list[dict[str, Any]]] = defaultdict(list)
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for change in changes:  # newest first: the first one met per place is its latest
        by_service[change["service"]].append(change)
        by_environment[change["environment"]].append(change)
        latest.setdefault((change["service"], change["environment"]), change)
    service_docs = []
    # each team's services, and their deployments by environment: grouped as they are met
    owned: dict[str, list[str]] = defaultdict(list)
    placed: dict[tuple[str, str], list[Deployment]] = defaultdict(list)
    for name in sorted(services):
        owner, source = _service_owner(services[name])
        team = teams.get(owner) if owner else None
        # a team id, or null: an owner that names no team of owners.yml stays in `declared_owner`
        kept = owner if owner in teams or not teams else None
        if kept is not None:
            owned[kept].append(name)
            for d in services[name]:
                placed[(kept, d.environment)].append(d)
        service_docs.append({
            "name": name,
            "owner": kept,
            "declared_owner": owner,
            "owner_source": source or None,
            "team": None if team is None else {
                "id": team.id, "name": team.name, "contact": team.contact or None,
                "chat": team.chat or None, "oncall": team.oncall or None,
            },
            "repository": sources.get(name),
            "deployments": [
                _deployment(d, states.get((name, d.environment), ""), by_place.get((d.file, d.line), []),
                            envs.get(d.environment), latest.get((name, d.environment)))
                for d in services[name]
            ],
            "history": by_service.get(name, []),
        })  # fmt: skip
    team_docs = []
    for team in model.teams:
        team_docs.append({
            "id": team.id, "name": team.name, "contact": team.contact or None, "chat": team.chat or None,
            "oncall": team.oncall or None, "services": list(owned.get(team.id, [])),
            "totals": {
                env.name: _totals(placed.get((team.id, env.name), [])) for env in model.environments
            },
        })  # fmt: skip
    counts = Counter(f.severity.value for f in model.findings)
    stage = stages(model)
    return {
        "title": model.title,
        "environments": [
            {
                "name": env.name,
                "repo": env.repo,
                "commit": env.commit or None,
                "commit_date": env.commit_date or None,
                "services": len(env.deployments),
                "totals": _totals(list(env.deployments)),
                "web": env.web or None,
                "production": env.production,
                "stage": stage.get(env.name, 0),
                "upstreams": list(env.upstreams),
                "status": status_of(env),
                # unreadable now, shown as an earlier run read it: when, and why not now
                "earlier": _earlier(env),
                "renderer": renderer_of(env),
                "history": env.history_note or None,
                "overlays": [
                    {"path": r.path, "renderer": r.renderer, "problem": r.problem or None}
                    for r in env.renderings
                ],
                "other_objects": [_workload(w) for w in env.others],
                "latest_changes": by_environment.get(env.name, [])[:LATEST_CHANGES],
            }
            for env in model.environments
        ],
        "teams": team_docs,
        "services": service_docs,
        "findings": {level: counts.get(level, 0) for level in ("error", "warning", "info")},
    }


def catalog_schema() -> str:
    """The JSON Schema of `catalog_document` (formats/catalog.schema.json), as the package holds
    it: the site publishes it beside catalog.json, byte for byte."""
    return resources.files("generator").joinpath("formats/catalog.schema.json").read_text("utf-8")
