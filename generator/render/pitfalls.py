"""Every pitfall in one place: the traps the schemas and templates document (`x-pitfalls`), and
the risks `check` finds in what runs, each tied to the service and environment it is about."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..model import Finding, Model
from . import paths

# The findings about what runs, worst first within one severity.
RISK_RULES = (
    "risk/privileged",
    "risk/mutable-image",
    "catalog/skipped-environment",
    "risk/single-replica",
    "risk/unpinned-bundle",
    "risk/no-readiness-probe",
    "risk/runs-as-root",
    "risk/no-resources",
)
SHOWN_PER_RULE = 100  # findings of one rule listed on the page; the health page has them all
PITFALL_LEVELS = ("danger", "warning")


@dataclass(frozen=True)
class Risk:
    """A finding about what runs, with the service and environment it is about, when known."""

    finding: Finding
    service: str | None
    environments: tuple[str, ...]  # those that run what it is about (a bundle: each that lists it)
    production: bool  # one of them is production


@dataclass(frozen=True)
class Trap:
    """A pitfall of an option or a template input, and where its documentation is."""

    severity: str  # "danger" or "warning"
    owner: str  # the schema's title or the template's id
    name: str  # the option's path or the input's name
    link: str  # page.md#anchor
    text: str


def _places(catalog: dict[str, Any]) -> dict[tuple[str | None, int | None], tuple[str, list[str]]]:
    """(file, line) of every deployment and workload -> its service and the environments that
    run it (a bundle's file is one for every environment that lists it)."""
    found: dict[tuple[str | None, int | None], tuple[str, list[str]]] = {}
    for service in catalog["services"]:
        for deployment in service["deployments"]:
            env = deployment["environment"]
            places = [(deployment["file"], deployment["line"])]
            places += [(w["file"], w["line"]) for w in deployment["workloads"]]
            for place in places:
                _, names = found.setdefault(place, (service["name"], []))
                if env not in names:
                    names.append(env)
    return found


def risks(model: Model, catalog: dict[str, Any]) -> list[Risk]:
    """The findings of the risk rules, worst first: by severity, production first, then by rule."""
    places = _places(catalog)
    production = {env.name for env in model.environments if env.production}
    known = {env.name for env in model.environments}
    found = []
    for finding in model.findings:
        if finding.rule not in RISK_RULES:
            continue
        service, names = places.get((finding.file, finding.line), (None, []))
        if not names and finding.file and finding.file.split(":", 1)[0] in known:
            names = [finding.file.split(":", 1)[0]]  # `<environment>:<path in its repo>`
        found.append(Risk(finding, service, tuple(names), any(n in production for n in names)))
    rank = {rule: index for index, rule in enumerate(RISK_RULES)}
    found.sort(key=lambda r: (-r.finding.severity.rank, not r.production, rank[r.finding.rule],
                              r.service or "", r.environments, r.finding.sort_key()))  # fmt: skip
    return found


def traps(model: Model) -> list[Trap]:
    """Every `x-pitfalls` of every schema option and template input, dangers first."""
    found = []
    for schema in model.schemas:
        page = paths.schema_page(schema.id)
        for option in schema.options:
            for p in option.pitfalls:
                found.append(Trap(p.severity, schema.title or schema.id, option.path,
                                  f"{page}#{option.anchor}", p.text))  # fmt: skip
    for template in model.templates:
        page = paths.template_page(template.id)
        for item in template.inputs:
            for p in item.pitfalls:
                found.append(
                    Trap(p.severity, template.id, item.name, f"{page}#{item.anchor}", p.text)
                )
    order = {level: index for index, level in enumerate(PITFALL_LEVELS)}
    found.sort(key=lambda t: order.get(t.severity, len(order)))
    return found
