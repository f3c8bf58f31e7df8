"""History in the catalog's terms: a change read from a diff line names what the line names (an
image, a workload); it is put under the service the catalog knows by that name, when only one."""

from __future__ import annotations

from collections import defaultdict

from ..codec import replaced
from ..model import Environment
from ..sources.workloads import image_parts


def _aliases(environments: tuple[Environment, ...]) -> dict[str, str]:
    """Each name a service is also known by (its workloads' names, its images' short names),
    when it names that one service only."""
    names: dict[str, set[str]] = defaultdict(set)
    for env in environments:
        for deployment in env.deployments:
            known = {deployment.service}
            for workload in deployment.workloads:
                known.add(workload.name)
                known |= {image_parts(i)[0].rsplit("/", 1)[-1] for i in workload.images}
            known |= {image_parts(i)[0].rsplit("/", 1)[-1] for i in deployment.images}
            for name in known:
                names[name].add(deployment.service)
    services = {d.service for env in environments for d in env.deployments}
    return {
        name: next(iter(owners)) for name, owners in names.items()
        if len(owners) == 1 and (name not in services or name in owners)
    }  # fmt: skip


def history_as_cataloged(environments: tuple[Environment, ...]) -> tuple[Environment, ...]:
    """Environments whose history names services as the catalog does, where that is certain."""
    aliases = _aliases(environments)
    renamed = []
    for env in environments:
        history = tuple(
            change if aliases.get(change.service, change.service) == change.service
            else replaced(change, service=aliases[change.service])
            for change in env.history
        )  # fmt: skip
        renamed.append(env if history == env.history else replaced(env, history=history))
    return tuple(renamed)
