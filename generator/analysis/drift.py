"""Drift along the promotion graph: each environment against its direct upstreams only.

*pending* where a direct upstream runs a newer version (the normal state of a promotion);
*skipped* where an environment runs a version that none of its direct upstreams ever ran. Since
only direct upstreams are compared, a gap is reported once: at the first environment that
skipped, naming the upstream it skipped."""

from __future__ import annotations

from ..model import Deployment, Environment, Finding, Model, Severity
from ..sources.workloads import is_range
from .versions import compare

PENDING = "pending"
SKIPPED = "skipped"
SAME = "same"


def _by_service(model: Model) -> dict[str, dict[str, list[Deployment]]]:
    table: dict[str, dict[str, list[Deployment]]] = {}
    for env in model.environments:
        for deployment in env.deployments:
            table.setdefault(deployment.service, {}).setdefault(env.name, []).append(deployment)
    return table


def _histories(model: Model) -> dict[tuple[str, str], set[str]]:
    """(environment, service) -> every version its env repo's history shows it ran."""
    ran: dict[tuple[str, str], set[str]] = {}
    for env in model.environments:
        for change in env.history:
            if change.to_version:
                ran.setdefault((env.name, change.service), set()).add(change.to_version)
    return ran


def _against(
    version: str,
    deployments: list[Deployment],
    history: set[str],
    first_seen: dict[str, str] | None,
) -> tuple[bool, bool, str]:
    """How `version` downstream stands against one upstream: (whether the upstream can have
    handed it on, whether the upstream runs a newer one now, what the upstream runs, in words).

    With a history, the upstream handed on what it ran at some time (rolled back from or not);
    without one, only its current state is known: a version older than what it runs, or not
    comparable with it, may have passed through it before, so only a newer one is skipped."""
    current = sorted(
        {v for d in deployments for v in (d.version, *d.versions) if v and not is_range(v)}
    )
    unknown = any(d.version is None or is_range(d.version) for d in deployments)  # never blamed
    ahead = any(compare(now, version, first_seen) == 1 for now in current)
    handed_on = version in current or version in history or unknown
    if not handed_on and not history:
        handed_on = any(compare(version, now, first_seen) != 1 for now in current)
    if current:
        what = f"runs {', '.join(current)}" + (f" and never ran {version}" if history else "")
    else:
        what = f"never ran {version}" if history else "does not run it"
    return handed_on, ahead, what


def drift(
    model: Model, first_seen: dict[str, str] | None = None
) -> tuple[tuple[tuple[str, str, str], ...], list[Finding]]:
    """(service, environment, state) for each drifting cell, and the skipped-environment findings.

    Each environment is compared with its direct upstreams (`Environment.upstreams`) only; an
    unreadable upstream is ignored, never blamed. A version is fine when ANY readable direct
    upstream ran it (its history's versions and its current one; its current one only when it
    has no history of that service), since promotion from either upstream is legitimate; else the
    cell is *skipped*, with one finding naming every upstream that never ran it. A version an
    upstream ran and then rolled back from was handed on, so it is not skipped. Otherwise the
    cell is *pending* when a direct upstream runs a newer version now. Semver compares by
    precedence, commit hashes by when each first appeared (`first_seen`)."""
    environments = {env.name: env for env in model.environments}
    histories = _histories(model)
    states: list[tuple[str, str, str]] = []
    findings: list[Finding] = []
    for service, cells in sorted(_by_service(model).items()):
        for env in model.environments:
            later = cells.get(env.name, [None])[0]
            if later is None or later.version is None or is_range(later.version):
                continue  # nothing known, or a range: never compared
            upstreams: list[Environment] = [
                environments[name]
                for name in env.upstreams
                if name in environments and not environments[name].status
            ]
            verdicts = [
                (upstream.name, *_against(later.version, cells.get(upstream.name, []),
                                          histories.get((upstream.name, service), set()),
                                          first_seen))
                for upstream in upstreams
            ]  # fmt: skip
            if verdicts and not any(handed_on for _, handed_on, _, _ in verdicts):
                states.append((service, env.name, SKIPPED))
                findings.append(_skipped(service, later, env.name, verdicts))
            elif any(ahead for _, _, ahead, _ in verdicts):
                states.append((service, env.name, PENDING))
    return tuple(states), findings


def _skipped(
    service: str, deployment: Deployment, env: str, verdicts: list[tuple[str, bool, bool, str]]
) -> Finding:
    names = [name for name, _, _, _ in verdicts]
    if len(verdicts) == 1:
        [(name, _, _, what)] = verdicts
        skipped = f"{name}, which {what}"
    else:
        skipped = "; ".join(f"{name}, which {what}" for name, _, _, what in verdicts)
        skipped = f"each of its upstreams: {skipped}"
    return Finding(
        "catalog/skipped-environment",
        Severity.WARNING,
        deployment.file,
        deployment.line,
        f"{service} {deployment.version} runs in {env} but skipped {skipped}",
        f"promote through {' or '.join(names)} first, or say why in the merge request",
    )
