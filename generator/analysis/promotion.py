"""What promoting one environment to another would change."""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Model
from .versions import compare


@dataclass(frozen=True)
class Step:
    """One service's change if TO became what FROM runs."""

    service: str
    action: str  # added, removed, upgraded, downgraded, changed
    current: str | None  # what TO runs now
    promoted: str | None  # what FROM runs


def promotion(model: Model, source: str, target: str, first_seen: dict[str, str]) -> list[Step]:
    """Each service that would change if `target` ran what `source` runs, by service name."""
    envs = {env.name: env for env in model.environments}
    have = {d.service: d.version for d in envs[source].deployments}
    now = {d.service: d.version for d in envs[target].deployments}
    steps = []
    for service in sorted(set(have) | set(now)):
        if service not in now:
            steps.append(Step(service, "added", None, have[service]))
        elif service not in have:
            steps.append(Step(service, "removed", now[service], None))
        elif have[service] != now[service]:
            before, after = now[service], have[service]
            order = compare(after, before, first_seen) if before and after else None
            action = {1: "upgraded", -1: "downgraded"}.get(order or 0, "changed")
            steps.append(Step(service, action, before, after))
    return steps
