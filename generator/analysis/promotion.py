"""What promoting one environment to another would change, and the order of the promotion
graph."""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from ..model import Environment, Model
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


def promotion_order(model: Model) -> list[str]:
    """The environments' names, upstreams before downstreams (a topological order of the
    promotion graph), ties in config order: lanes stay together as the config lists them
    (`staging-eu, prod-eu, staging-us, prod-us`), and a config already in promotion order keeps
    its order. Upstreams that name no environment are ignored; environments a cycle leaves
    over (the config refuses cycles) follow in config order."""
    names = [env.name for env in model.environments]
    position = {name: index for index, name in reversed(list(enumerate(names)))}
    waiting = {
        index: {position[u] for u in env.upstreams if u in position and position[u] != index}
        for index, env in enumerate(model.environments)
    }
    downstreams: dict[int, list[int]] = {index: [] for index in waiting}
    for index, upstreams in waiting.items():
        for upstream in upstreams:
            downstreams[upstream].append(index)
    order: list[int] = []
    ready = [index for index, upstreams in waiting.items() if not upstreams]
    heapq.heapify(ready)
    while ready:
        index = heapq.heappop(ready)
        order.append(index)
        for other in downstreams[index]:  # each edge once, not every environment per step
            waiting[other].discard(index)
            if not waiting[other]:
                heapq.heappush(ready, other)
    placed = set(order)
    order += [index for index in range(len(names)) if index not in placed]
    return [names[index] for index in order]


def stages(model: Model) -> dict[str, int]:
    """Each environment's stage in the promotion graph: 0 for a root, else one more than its
    furthest upstream (the longest path from a root), worked out in `promotion_order`."""
    envs = {env.name: env for env in reversed(model.environments)}
    stage: dict[str, int] = {}
    for name in promotion_order(model):
        before = [stage[u] for u in envs[name].upstreams if u in stage and u != name]
        stage[name] = max(before) + 1 if before else 0
    return stage


def ordered_environments(model: Model) -> list[Environment]:
    """The environments in `promotion_order`: the columns of the catalog's tables."""
    by_name = {env.name: env for env in reversed(model.environments)}
    return [by_name[name] for name in promotion_order(model)]


def from_upstreams(
    model: Model, target: str, first_seen: dict[str, str]
) -> list[tuple[str, list[Step]]]:
    """For each direct upstream of `target`, in the order its `promotes_from` gives: what
    promoting that upstream to `target` would change."""
    envs = {env.name: env for env in model.environments}
    return [
        (upstream, promotion(model, upstream, target, first_seen))
        for upstream in envs[target].upstreams
        if upstream in envs
    ]
