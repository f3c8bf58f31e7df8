"""The catalog's pages answer at a glance: the matrix in promotion order with drift badges and
what ran before in every cell, a service page that starts with what runs now, production first,
and one page of every pitfall."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pagedom import Element, dom

from generator.model import (
    Change,
    Deployment,
    Environment,
    Finding,
    Model,
    Option,
    Pitfall,
    Schema,
    Severity,
    Team,
)
from generator.render import paths
from generator.render.pages import LATEST_PER_ENVIRONMENT, render_pages

# dev -> staging-eu -> prod-eu, dev -> staging-us -> prod-us; `ops` is a second root
GRAPH = {
    "dev": (),
    "staging-eu": ("dev",),
    "prod-eu": ("staging-eu",),
    "staging-us": ("dev",),
    "prod-us": ("staging-us",),
    "ops": (),
}
PRODUCTION = {"prod-eu", "prod-us"}
VERSIONS = {"dev": "1.5.0", "staging-eu": "1.4.2", "prod-eu": "1.4.2", "staging-us": "1.4.2",
            "prod-us": "1.4.1"}  # fmt: skip


def _deployment(env: str, version: str, service: str = "payments-api") -> Deployment:
    return Deployment(service, env, version, "team-payments", "bundle.yml", "bundle",
                      f"{env}:environment.yml", 3, images=(f"registry.example.com/{service}:{version}",))  # fmt: skip


def _change(env: str, service: str, before: str | None, after: str, day: int, who: str) -> Change:
    return Change(env, service, before, after, f"{day:02d}" * 20, who, f"2026-05-{day:02d}T10:00:00+00:00",
                  f"Deploy {service} {after}")  # fmt: skip


def _model(history_in_prod_eu: int = 3) -> Model:
    envs = []
    for name, upstreams in GRAPH.items():
        deployments: tuple[Deployment, ...] = ()
        history: tuple[Change, ...] = ()
        if name in VERSIONS:
            deployments = (_deployment(name, VERSIONS[name]),)
            history = (
                _change(name, "payments-api", None, "1.4.1", 1, "Alice Martin"),
                _change(name, "payments-api", "1.4.1", VERSIONS[name], 2, "Bob Nguyen"),
            )
        if name == "prod-eu":  # many changes, oldest first, ending at what runs
            history = (
                *(_change(name, "payments-api", f"1.3.{i}", f"1.3.{i + 1}", 3 + i % 20, "Carol Smith")
                  for i in range(history_in_prod_eu)),
                _change(name, "payments-api", "1.4.1", "1.4.2", 25, "Emma Schulz"),
            )  # fmt: skip
        if name == "ops":
            deployments = (_deployment(name, "7.2.4", "redis"),)
        envs.append(Environment(name, f"repos/{name}", commit="a" * 40, commit_date="2026-05-26T00:00:00+00:00",
                                deployments=deployments, history=history, upstreams=upstreams,
                                production=name in PRODUCTION))  # fmt: skip
    team = Team("team-payments", "Payments", contact="payments@acme.example")
    return Model(
        "ACME", environments=tuple(envs), teams=(team,),
        drift=(("payments-api", "prod-us", "pending"), ("payments-api", "dev", "skipped")),
    )  # fmt: skip


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    return render_pages(_model())


def _matrix(pages: dict[str, str]) -> Element:
    return dom(pages[paths.CATALOG]).one("table", class_="pd-matrix")


def test_the_matrix_columns_follow_the_promotion_graph_stage_by_stage(
    pages: dict[str, str],
) -> None:
    table = _matrix(pages)
    heads = [
        th.attrs["data-env"]
        for th in table.one("tr", class_="pd-heads").all("th")
        if "data-env" in th.attrs
    ]
    assert heads == ["dev", "ops", "staging-eu", "staging-us", "prod-eu", "prod-us"]
    groups = [(g.text, g.attrs["colspan"]) for g in table.all("th", class_="pd-group")]
    assert groups == [("Stage 1", "2"), ("Stage 2", "2"), ("Stage 3 · production", "2")]


def test_a_straight_chain_has_no_group_row() -> None:
    chain = {"dev": (), "staging-eu": ("dev",), "prod-eu": ("staging-eu",)}
    model = _model()
    model = replace(model, environments=tuple(
        replace(e, upstreams=chain[e.name]) for e in model.environments if e.name in chain))  # fmt: skip
    table = _matrix(render_pages(model))
    assert table.all("th", class_="pd-group") == []
    assert [th.text for th in table.all("th") if "data-env" in th.attrs] == list(chain)


def test_drift_is_a_badge_with_its_word_and_the_legend_explains_each(pages: dict[str, str]) -> None:
    page = dom(pages[paths.CATALOG])
    row = next(tr for tr in _matrix(pages).all("tr") if "payments-api" in tr.text)
    cells = {td.attrs["data-env"]: td for td in row.all("td") if "data-env" in td.attrs}
    assert [b.text for b in cells["prod-us"].all("span", class_="pd-badge")] == ["pending"]
    assert cells["prod-us"].all("span", class_="pd-pending")
    assert [b.text for b in cells["dev"].all("span", class_="pd-badge")] == ["skipped"]
    assert cells["prod-eu"].all("span", class_="pd-badge") == []
    legend = page.one("div", class_="pd-legend")
    assert {b.text for b in legend.all("span", class_="pd-badge")} >= {
        "pending",
        "skipped",
        "unreadable",
    }


def test_each_cell_holds_what_ran_before_who_changed_it_and_when(pages: dict[str, str]) -> None:
    row = next(tr for tr in _matrix(pages).all("tr") if "payments-api" in tr.text)
    cells = {td.attrs["data-env"]: td for td in row.all("td") if "data-env" in td.attrs}
    tip = cells["prod-eu"].one("span", class_="pd-tip")
    assert "before: 1.4.1" in tip.text and "Emma Schulz" in tip.text and "2026-05-25" in tip.text
    box = cells["prod-eu"].one("span", class_="pd-cellbox")
    assert box.attrs["tabindex"] == "0"  # reachable by keyboard and touch, not only by hover
    assert cells["ops"].text == "\N{EN DASH}" and cells["ops"].attrs["data-sort"] == ""


def test_a_long_version_is_cut_and_whole_in_its_title() -> None:
    model = _model()
    long = "1.4.2-rc.1+build.20260525.very.long.metadata"
    envs = tuple(replace(e, deployments=(_deployment(e.name, long),)) if e.name == "prod-eu" else e
                 for e in model.environments)  # fmt: skip
    row = next(tr for tr in _matrix(render_pages(replace(model, environments=envs))).all("tr")
               if "payments-api" in tr.text)  # fmt: skip
    clip = next(td for td in row.all("td") if td.attrs.get("data-env") == "prod-eu").one(
        "span", class_="pd-clip"
    )
    assert clip.attrs["title"] == long and clip.one("code").text == long


def _service(pages: dict[str, str]) -> Element:
    return dom(pages[paths.service_page("payments-api")])


def test_a_service_page_starts_with_now_production_first(pages: dict[str, str]) -> None:
    page = _service(pages)
    headings = [h.attrs.get("id") for h in page.all("h2")]
    assert headings[0] == "_now"
    now = page.all("table")[0]
    rows = [[td.text.strip() for td in tr.all("td")] for tr in now.all("tr")[1:]]
    assert [r[0].split()[0] for r in rows] == [
        "prod-eu",
        "prod-us",
        "staging-us",
        "staging-eu",
        "dev",
    ]
    prod_eu = rows[0]
    assert prod_eu[1] == "1.4.2" and prod_eu[2] == "2026-05-25 10:00"
    assert prod_eu[3] == "Emma Schulz" and prod_eu[4] == "1.4.1"
    assert "production" in prod_eu[0] and "pending" in rows[1][1]


def test_history_shows_the_latest_per_environment_and_the_rest_on_its_own_page() -> None:
    pages = render_pages(_model(history_in_prod_eu=30))
    page = dom(pages[paths.service_page("payments-api")])
    section = page.one("h3", id="_history-prod-eu")
    history = dom(pages[paths.service_history_page("payments-api")])
    assert section is not None
    shown = [t for t in page.all("table") if "Carol Smith" in t.text or "Emma Schulz" in t.text]
    assert len(shown[-1].all("tr")) - 1 <= LATEST_PER_ENVIRONMENT
    full = [t for t in history.all("table") if "Carol Smith" in t.text]
    assert len(full[0].all("tr")) - 1 == 31
    links = [a.attrs["href"] for a in page.all("a") if "history" in a.attrs.get("href", "")]
    assert any(h.endswith("catalog/history/payments-api.md#_history-prod-eu") or
               h == "../history/payments-api.md#_history-prod-eu" for h in links), links  # fmt: skip


def test_a_short_history_has_no_page_of_its_own(pages: dict[str, str]) -> None:
    assert paths.service_history_page("payments-api") not in pages


def test_the_pitfalls_page_groups_option_pitfalls_by_severity_linked_to_the_option() -> None:
    options = (
        Option("service", "deploy.replicas", "deploy.replicas", 1,
               pitfalls=(Pitfall("warning", "One replica is an outage per drain."),)),
        Option("service", "deploy.strategy", "deploy.strategy", 1,
               pitfalls=(Pitfall("danger", "`Recreate` stops every pod."),)),
    )  # fmt: skip
    schema = Schema("service", "schemas/service.json", "Service config", "", options)
    pages = render_pages(replace(_model(), schemas=(schema,)))
    page = dom(pages[paths.PITFALLS])
    danger = page.one("h3", id="_options-danger")
    assert danger is not None
    boxes = page.all("div", class_="admonition")
    assert [b.attrs["class"].split()[1] for b in boxes] == ["danger", "warning"]
    link = boxes[0].one("a")
    assert link.attrs["href"] == "reference/schemas/service.md#deploy.strategy"
    assert [c.text for c in boxes[0].all("code")] == ["deploy.strategy", "Recreate"]


def test_risks_are_listed_worst_first_production_first_and_on_the_home_page() -> None:
    findings = (
        Finding("risk/no-resources", Severity.WARNING, "dev:environment.yml", 3, "payments-api in dev: no limits"),
        Finding("risk/privileged", Severity.ERROR, "prod-eu:environment.yml", 3, "payments-api in prod-eu: privileged"),
        Finding("risk/no-resources", Severity.WARNING, "prod-us:environment.yml", 3,
                "payments-api in prod-us: no limits"),
        Finding("schema/missing-description", Severity.ERROR, "schemas/x.json", 1, "not a risk"),
    )  # fmt: skip
    pages = render_pages(replace(_model(), findings=findings))
    page = dom(pages[paths.PITFALLS])
    items = [li.text for li in page.all("li")]
    assert [i.split(":")[0] for i in items if "no limits" in i or "privileged" in i] == [
        "production payments-api in prod-eu",
        "production payments-api in prod-us",
        "payments-api in dev",
    ]
    assert not any("not a risk" in i for i in items)
    home = dom(pages[paths.HOME])
    worst = home.one("h2", id="_risks")
    assert worst is not None
    first = next(li for li in home.all("li") if "privileged" in li.text)
    assert "error" in first.text and "production" in first.text
    assert first.all("a")[0].attrs["href"] == "catalog/services/payments-api.md"


def test_a_history_page_is_bounded_and_says_where_the_rest_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import generator.render.pages as pages_module

    monkeypatch.setattr(pages_module, "HISTORY_PAGE_CHANGES", 12)
    pages = render_pages(_model(history_in_prod_eu=30))
    history = dom(pages[paths.service_history_page("payments-api")])
    table = next(t for t in history.all("table") if "Carol Smith" in t.text)
    assert len(table.all("tr")) - 1 == 12
    assert "The 19 earlier changes are in catalog.json" in history.text
