"""Linear everywhere (#18): no stage scans every change, deployment, finding or service once per
service, team or environment. Measured by the work done, not by time: the Python lines each
stage runs for an organisation of n services and for one of 4n grow about 4 times (a scan per
service would make it 16)."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest

from generator import cli
from generator.analysis.bounds import cut_findings
from generator.analysis.changelog import unannounced_findings
from generator.analysis.drift import drift
from generator.analysis.identity import history_as_cataloged
from generator.analysis.owners import owner_findings
from generator.analysis.promotion import promotion, promotion_order, stages
from generator.analysis.risks import risk_findings
from generator.analysis.schemadiff import covers
from generator.collect import first_seen
from generator.model import (
    Announcement,
    Change,
    Container,
    Deployment,
    Environment,
    Model,
    Option,
    Release,
    ReleaseDiff,
    Schema,
    SchemaChange,
    Team,
    WorkloadRef,
)
from generator.render import render_pages
from generator.render.catalog import catalog_document
from generator.render.changelog import notes_for_options

ENVIRONMENTS = ("dev", "qa", "staging", "prod-eu", "prod-us")
CHANGES = 4  # per service and environment
PER_TEAM = 4  # services: teams grow with the services, as in a real organisation
LINEAR = 5.0  # growth at 4x the size: about 4 when linear, 16 when quadratic


def organisation(
    n: int, per_team: int = PER_TEAM, changes: int = CHANGES, envs: tuple[str, ...] = ENVIRONMENTS
) -> Model:
    """n services in five environments, every one with its history, a team per four services,
    and a schema of n options added since the last release, half of them announced."""
    teams = tuple(Team(f"team-{t}", f"Team {t}") for t in range(max(1, n // per_team)))
    environments = []
    for index, name in enumerate(envs):
        deployments, history = [], []
        for s in range(n):
            service, version = f"svc-{s}", f"1.{s % 7}.{index}"
            file = f"{name}:apps/{service}/deployment.yaml"
            image = f"registry.example.com/{service}:{version}"
            workload = WorkloadRef("Deployment", "default", service, (image,), 1, file, 3,
                                   containers=(Container(service, image),))  # fmt: skip
            deployments.append(Deployment(
                service, name, version, f"team-{s % len(teams)}", "label", "manifest", file, 3,
                repository=f"https://git.example.com/{service}", images=(image,),
                kinds=("Deployment",), replicas=1, cpu=0.5, memory=1 << 20, workloads=(workload,),
            ))  # fmt: skip
            for c in range(changes):
                history.append(Change(
                    name, service, f"1.{c}.0" if c else None, f"1.{c + 1}.0",
                    f"{s:06x}{c:04x}{index:02x}", "Alice", f"2026-01-{1 + c:02d}T10:{s % 60:02d}:00+00:00",
                    "Promote", merge_request=f"#{s}",
                ))  # fmt: skip
        upstreams = (envs[index - 1],) if 0 < index < 4 else ("staging",) if index else ()
        environments.append(Environment(
            name, f"envs/{name}", "abc123", "2026-01-20T00:00:00+00:00", tuple(deployments),
            tuple(history), web="https://git.example.com/envs", upstreams=upstreams,
            production=name.startswith("prod"),
        ))  # fmt: skip
    options = tuple(Option("service", f"deploy.o{i}", f"deploy.o{i}", 1) for i in range(n))
    schema = Schema("service", "schemas/service.json", "Service", "", options)
    changes = tuple(SchemaChange(f"service:deploy.o{i}", "added", False, "") for i in range(n))
    fragments = tuple(
        Announcement(f"a{i}", f"changes/a{i}.md", f"A{i}", "feature", "2026-01-01", "2.0.0", "",
                     options=tuple(f"service:deploy.o{j}" for j in range(2 * i, n, 8)))
        for i in range(PER_TEAM)
    )  # fmt: skip
    return Model(
        title="Synthetic", environments=tuple(environments), teams=teams, schemas=(schema,),
        announcements=fragments, releases=(Release("1.0.0", "2025-12-01", ()),),
        schema_changes=(ReleaseDiff("1.0.0", "", changes),),
    )  # fmt: skip


def lines_run(work: Callable[[], Any]) -> int:
    """How many Python lines `work` runs: the work it does, the same on any machine."""
    count = 0

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return local

    previous = sys.gettrace()
    sys.settrace(lambda frame, event, arg: local)
    try:
        work()
    finally:
        sys.settrace(previous)
    return count


def analysed(model: Model) -> Model:
    """The model as collect leaves it: history named as cataloged, drift and findings."""
    model = dataclasses.replace(model, environments=history_as_cataloged(model.environments))
    states, found = drift(model, first_seen(model))
    found += owner_findings(model, True) + risk_findings(model.environments)
    found += cut_findings(model, "owners.yml") + unannounced_findings(model)
    return dataclasses.replace(model, drift=states, findings=tuple(found))


STAGES: dict[str, Callable[[Model], Any]] = {
    "history_as_cataloged": lambda m: history_as_cataloged(m.environments),
    "first_seen": first_seen,
    "drift": lambda m: drift(m, first_seen(m)),
    "owner_findings": lambda m: owner_findings(m, True),
    "risk_findings": lambda m: risk_findings(m.environments),
    "cut_findings": lambda m: cut_findings(m, "owners.yml"),
    "unannounced_findings": unannounced_findings,
    "promotion": lambda m: promotion(m, "staging", "prod-eu", first_seen(m)),
    "catalog_document": catalog_document,
    "cli findings per row": cli._findings_at,
    "cli catalog table": lambda m: cli._catalog_table(
        catalog_document(m), None, m.limits, cli._findings_at(m)
    ),
    "cli service history": lambda m: cli.service_history(m, "svc-1"),
    "notes_for_options": notes_for_options,
}


@pytest.fixture(scope="module")
def sizes() -> tuple[Model, Model]:
    """The organisation at 20 and 80 services, analysed."""
    return analysed(organisation(20)), analysed(organisation(80))


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_each_stage_grows_linearly(sizes: tuple[Model, Model], stage: str) -> None:
    small, large = (lines_run(lambda m=m: STAGES[stage](m)) for m in sizes)
    assert large / small < LINEAR, f"{stage}: {small:,} lines at 20 services, {large:,} at 80"


def test_the_catalog_grows_linearly_with_the_teams() -> None:
    # a team per service, no history, one environment: little work per service besides what
    # a team costs, so that a scan of every service per team shows (5.8 before #18, 3.9 after)
    small, large = (
        lines_run(lambda n=n: catalog_document(organisation(n, 1, 0, ("prod",)))) for n in (50, 200)
    )
    assert large / small < LINEAR, (
        f"catalog_document: {small:,} lines at 50 teams, {large:,} at 200"
    )


def test_the_pages_grow_linearly() -> None:
    # rendering has a large fixed cost (loading the templates): compared by what n more services
    # add, from 10 to 20 and from 10 to 40 services: 3 times as much when linear, 5 if quadratic
    at = {n: lines_run(lambda n=n: render_pages(analysed(organisation(n)))) for n in (10, 20, 40)}
    added = (at[40] - at[10]) / (at[20] - at[10])
    assert added < 4, f"render_pages: {at} lines"


def test_a_team_total_is_made_of_its_own_services_only() -> None:
    model = analysed(organisation(8))
    document = catalog_document(model)
    [team] = [t for t in document["teams"] if t["id"] == "team-1"]
    assert team["services"] == ["svc-1", "svc-3", "svc-5", "svc-7"]  # two teams: every other one
    assert team["totals"]["dev"] == {"cpu_requests": 2.0, "memory_requests": 4 << 20}
    assert [f.message for f in model.findings if f.rule == "changelog/missing-announcement"] == [
        f"service:deploy.o{i}: added since 1.0.0 (), and no changelog fragment says so"
        for i in (1, 3, 5, 7)
    ]


def test_the_promotion_order_visits_each_edge_once() -> None:
    names = [f"e{i}" for i in range(200)]  # a line: each environment promoted from the one before
    model = Model(title="t", environments=tuple(
        Environment(name, name, upstreams=(names[i - 1],) if i else ()) for i, name in enumerate(names)
    ))  # fmt: skip
    assert promotion_order(model) == names
    assert stages(model)["e199"] == 199
    small = lines_run(lambda: promotion_order(dataclasses.replace(
        model, environments=model.environments[:50])))  # fmt: skip
    large = lines_run(lambda: promotion_order(model))
    assert large / small < LINEAR


def test_the_notes_of_an_option_are_those_that_cover_it() -> None:
    # the lookup by the option and each option above it gives what scanning with `covers` gives
    model = organisation(40)
    parent = Announcement("p", "changes/p.md", "P", "feature", "2026-01-01", "2.0.0", "",
                          options=("service:deploy",))  # fmt: skip
    model = dataclasses.replace(model, announcements=(*model.announcements, parent))
    expected = {}
    for option in model.schemas[0].options:
        found = [a for a in model.announcements if any(covers(n, option.id) for n in a.options)]
        if found:
            expected[option.id] = found
    assert notes_for_options(model) == expected
    assert all(notes[-1] is parent for notes in expected.values())
