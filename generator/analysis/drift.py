"""Drift along the promotion order: pending where an earlier environment is ahead, skipped
where a later one runs what an earlier one never had."""

from __future__ import annotations

from ..model import Deployment, Finding, Model, Severity
from .versions import compare

PENDING = "pending"
SKIPPED = "skipped"
SAME = "same"


def _by_service(model: Model) -> dict[str, dict[str, Deployment]]:
    table: dict[str, dict[str, Deployment]] = {}
    for env in model.environments:
        for deployment in env.deployments:
            table.setdefault(deployment.service, {}).setdefault(env.name, deployment)
    return table


def drift(
    model: Model, first_seen: dict[str, str] | None = None
) -> tuple[tuple[tuple[str, str, str], ...], list[Finding]]:
    """(service, environment, state) for each drifting cell, and the skipped-environment findings."""
    order = [env.name for env in model.environments]
    unreadable = {env.name for env in model.environments if env.status}  # nothing known there
    states: list[tuple[str, str, str]] = []
    findings: list[Finding] = []
    for service, cells in sorted(_by_service(model).items()):
        for index, env in enumerate(order):
            later = cells.get(env)
            if later is None or later.version is None:
                continue
            skipped_from = None
            pending = False
            for earlier_env in order[:index]:
                if earlier_env in unreadable:
                    continue
                earlier = cells.get(earlier_env)
                if earlier is None:
                    skipped_from = skipped_from or (earlier_env, "does not run it")
                    continue
                if earlier.version is None:
                    continue
                order_of = compare(later.version, earlier.version, first_seen)
                if order_of == 1:
                    skipped_from = skipped_from or (earlier_env, f"runs {earlier.version}")
                elif order_of == -1:
                    pending = True
            if skipped_from is not None:
                states.append((service, env, SKIPPED))
                findings.append(
                    Finding(
                        "catalog/skipped-environment",
                        Severity.WARNING,
                        later.file,
                        later.line,
                        f"{service} {later.version} runs in {env} but skipped {skipped_from[0]}, "
                        f"which {skipped_from[1]}",
                        f"promote through {skipped_from[0]} first, or say why in the merge request",
                    )
                )
            elif pending:
                states.append((service, env, PENDING))
    return tuple(states), findings
