"""The catalog's matrix: a row per service, a column per environment, the columns in the order
of the promotion graph and grouped by its stages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..analysis.promotion import promotion_order
from ..model import Model


@dataclass(frozen=True)
class Group:
    """Environments of one stage of the promotion graph: a header over their columns."""

    label: str
    environments: tuple[dict[str, Any], ...]  # the catalog document's environments


@dataclass(frozen=True)
class Row:
    """One service and, per column, its deployments there (empty: it does not run there)."""

    service: dict[str, Any]
    cells: tuple[tuple[dict[str, Any], ...], ...]


def groups(model: Model, catalog: dict[str, Any]) -> list[Group]:
    """The columns' groups: stage by stage (a root first), each in promotion order, labelled by
    its number, and as production when all its environments are."""
    order = {name: index for index, name in enumerate(promotion_order(model))}
    envs = sorted(catalog["environments"], key=lambda e: (e["stage"], order.get(e["name"], 0)))
    found: list[Group] = []
    for env in envs:
        if found and found[-1].environments[0]["stage"] == env["stage"]:
            found[-1] = Group(found[-1].label, (*found[-1].environments, env))
        else:
            found.append(Group("", (env,)))
    return [
        Group(f"Stage {index + 1}" + (" · production" if all(e["production"] for e in g.environments) else ""),
              g.environments)
        for index, g in enumerate(found)
    ]  # fmt: skip


def rows(catalog: dict[str, Any], columns: list[dict[str, Any]]) -> list[Row]:
    """Every service of the catalog with its deployments in each column's environment."""
    found = []
    for service in catalog["services"]:
        here: dict[str, list[dict[str, Any]]] = {}
        for deployment in service["deployments"]:
            here.setdefault(deployment["environment"], []).append(deployment)
        found.append(Row(service, tuple(tuple(here.get(env["name"], ())) for env in columns)))
    return found


def versions(cell: tuple[dict[str, Any], ...]) -> list[str | None]:
    """The distinct versions a cell shows: every version of every deployment there, in order."""
    seen: dict[str | None, None] = {}
    for deployment in cell:
        for version in deployment["versions"] or [deployment["version"]]:
            seen.setdefault(version, None)
    return list(seen)
