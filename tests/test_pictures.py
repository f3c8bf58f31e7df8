"""The pictures the generator draws (render/pictures.py): the promotion graph, the heat map of
drift and the timelines of deployments, as SVG. Each is well-formed XML, draws exactly what the
model holds, stays within its bounds, is the same every build, keeps hostile names as text, and
comes out of Python-Markdown byte for byte; in Chromium each renders on the built sample and on
the eleven-environment site (tests/manyenvs.py)."""

from __future__ import annotations

import json
import os
import pickle
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import markdown
import pytest
from manyenvs import GRAPH, PRODUCTION
from test_browser import new_page, visit

from generator.analysis.promotion import stages
from generator.model import Change, Deployment, Environment, Model
from generator.render import matrix, pictures, render_pages
from generator.render.catalog import catalog_document
from generator.render.paths import CATALOG, HOME, service_page

SVG = "{http://www.w3.org/2000/svg}"
DRAWN_TAGS = {"svg", "title", "defs", "marker", "path", "g", "rect", "text", "line", "circle"}
SITE_EXTENSIONS = ["md_in_html", "attr_list", "tables", "admonition"]


def deployment(service: str, env: str, version: str | None = "1.0.0", problem: str = "") -> Deployment:  # fmt: skip
    return Deployment(service, env, version, None, "", "bundle", f"{env}/environment.yml", 1,
                      problem=problem)  # fmt: skip


def change(env: str, service: str, date: str, before: str | None, after: str | None,
           rollback: bool = False, author: str = "Ann Author") -> Change:  # fmt: skip
    return Change(env, service, before, after, "a" * 40, author, date, "a change", rollback=rollback)  # fmt: skip


def svgs(page: str) -> list[str]:
    """Every SVG of a page, as the page holds it."""
    return re.findall(r"<svg .*?</svg>", page)


def parse(svg: str) -> ET.Element:
    """The SVG as XML: a parse error fails the test."""
    return ET.fromstring(svg)


def by_class(root: ET.Element, css: str) -> list[ET.Element]:
    return [e for e in root.iter() if css in (e.get("class") or "").split()]


def title(element: ET.Element) -> str:
    found = element.find(f"{SVG}title")
    return "" if found is None else found.text or ""


def graph_model() -> Model:
    """The eleven environments of tests/manyenvs.py, without their repos."""
    return Model(title="Graph", environments=tuple(
        Environment(name, "envs", upstreams=tuple(ups), production=name in PRODUCTION)
        for name, ups in GRAPH.items()
    ))  # fmt: skip


# --- the promotion graph --------------------------------------------------------------------


def test_the_graph_has_a_node_per_environment_and_an_arrow_per_upstream() -> None:
    picture = pictures.promotion_graph(graph_model())
    assert picture is not None
    root = parse(picture.svg)
    nodes = by_class(root, "pd-node")
    assert [n.get("data-env") for n in nodes] == list(GRAPH)
    edges = {title(e) for e in by_class(root, "pd-edge")}
    assert edges == {f"{up} → {env}" for env, ups in GRAPH.items() for up in ups}
    assert len(by_class(root, "pd-edge")) == sum(len(ups) for ups in GRAPH.values())
    assert {n.get("data-env") for n in by_class(root, "pd-node-prod")} == PRODUCTION
    assert title(by_class(root, "pd-node-prod")[0]).startswith("prod-eu: stage 5, production")


def test_each_environment_has_a_place_of_its_own_in_its_stage_column() -> None:
    model = graph_model()
    place = pictures.lanes(model)
    assert {name: stage for name, (stage, _) in place.items()} == stages(model)
    assert len(set(place.values())) == len(GRAPH)
    # a lane follows its first upstream where it can: each staging leads to its production
    for region in ("eu", "us", "ap"):
        assert place[f"staging-{region}"][1] == place[f"prod-{region}"][1]
    root = parse(pictures.promotion_graph(model).svg)  # type: ignore[union-attr]
    left = {n.get("data-env"): float(n.find(f"{SVG}rect").get("x")) for n in by_class(root, "pd-node")}  # type: ignore[union-attr, arg-type]  # fmt: skip
    assert left["sandbox"] < left["dev"] < left["qa"] < left["perf"] == left["staging-us"]
    assert left["prod-ap"] < left["dr"]


def test_no_environment_no_graph() -> None:
    assert pictures.promotion_graph(Model(title="Empty")) is None


# --- the heat map -------------------------------------------------------------------------------


def heatmap_of(model: Model, bound: int | None = None) -> pictures.Heatmap:
    catalog = catalog_document(model)
    columns = [e for g in matrix.groups(model, catalog) for e in g.environments]
    found = pictures.heatmap(matrix.rows(catalog, columns), columns, model.limits, bound)
    assert found is not None
    return found


def test_the_heat_map_has_a_cell_per_service_and_environment_in_its_state() -> None:
    envs = (
        Environment("dev", "d", deployments=(deployment("api", "dev", "2.0.0"), deployment("web", "dev"),
                                             deployment("db", "dev", problem="unreadable bundle"))),
        Environment("prod", "p", upstreams=("dev",), production=True,
                    deployments=(deployment("api", "prod", "1.0.0"), deployment("web", "prod", "0.9.0"))),
        Environment("gone", "g", upstreams=("dev",), status="unreadable"),
    )  # fmt: skip
    model = Model(title="t", environments=envs,
                  drift=(("api", "prod", "pending"), ("web", "prod", "skipped")))  # fmt: skip
    root = parse(heatmap_of(model).svg)
    rows = by_class(root, "pd-row")
    assert [r.get("data-service") for r in rows] == ["api", "db", "web"]
    cells = {r.get("data-service"): r.findall(f"{SVG}rect") for r in rows}
    assert all(len(c) == 3 for c in cells.values())
    states = {service: [c.get("class") for c in row] for service, row in cells.items()}
    assert states == {
        "api": ["pd-hm-sync", "pd-hm-pending", "pd-hm-unreadable"],
        "db": ["pd-hm-problem", "pd-hm-none", "pd-hm-unreadable"],
        "web": ["pd-hm-sync", "pd-hm-skipped", "pd-hm-unreadable"],
    }
    assert [title(c) for c in cells["api"]] == [
        "api in dev: 2.0.0, in sync",
        "api in prod: 1.0.0, pending",
        "api in gone: unreadable",
    ]
    assert title(cells["db"][0]) == "db in dev: 1.0.0, problem: unreadable bundle"
    assert title(cells["db"][1]) == "db in prod: not deployed"


def many_services(count: int) -> tuple[Model, dict[str, list[str]]]:
    """`count` services in dev -> staging -> prod: a tenth pending in staging and prod, most
    pending in prod only, a tenth in sync everywhere."""
    names = [f"svc-{i:04d}" for i in range(count)]
    groups = {"two": names[: count // 10], "in sync": names[-(count // 10) :]}
    groups["one"] = [n for n in names if n not in groups["two"] and n not in groups["in sync"]]
    drift = [(n, "staging", "pending") for n in groups["two"]]
    drift += [(n, "prod", "pending") for n in names if n not in groups["in sync"]]
    envs = tuple(
        Environment(env, env, deployments=tuple(deployment(n, env) for n in names), upstreams=ups)
        for env, ups in (("dev", ()), ("staging", ("dev",)), ("prod", ("staging",)))
    )
    return Model(title="Many", environments=envs, drift=tuple(drift)), groups


def test_past_its_bound_the_heat_map_draws_the_services_that_drift_most() -> None:
    model, groups = many_services(2_500)
    drawn = heatmap_of(model)
    assert (drawn.shown, drawn.total) == (pictures.HEATMAP_SERVICES, 2_500) == (2_000, 2_500)
    rows = [r.get("data-service") for r in by_class(parse(drawn.svg), "pd-row")]
    assert len(rows) == 2_000 and rows == sorted(rows)  # in the catalog's order
    assert set(groups["two"]) <= set(rows)
    assert not set(groups["in sync"]) & set(rows)
    assert [n for n in rows if n in groups["one"]] == groups["one"][: 2_000 - len(groups["two"])]
    pending = [
        c for r in by_class(parse(drawn.svg), "pd-row") for c in by_class(r, "pd-hm-pending")
    ]
    assert len(pending) == 2 * 250 + 1_750


def test_the_catalog_page_says_when_the_heat_map_is_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    model, _ = many_services(30)
    whole = render_pages(model)[CATALOG]
    assert "services are drawn" not in whole
    assert len(by_class(parse(svgs(whole)[-1]), "pd-row")) == 30
    monkeypatch.setattr(pictures, "HEATMAP_SERVICES", 5)
    page = render_pages(model)[CATALOG]
    assert (
        "**5 of 30 services are drawn**: those pending or skipped in the most environments" in page
    )
    assert "[the matrix](index.md) above" in page
    assert [r.get("data-service") for r in by_class(parse(svgs(page)[-1]), "pd-row")] == [
        "svc-0000", "svc-0001", "svc-0002", "svc-0003", "svc-0004"
    ]  # fmt: skip


# --- the timeline -------------------------------------------------------------------------------

NEWEST = "2026-11-04T14:30:00+01:00"  # 13:30 UTC


def timeline_model(extra: tuple[Change, ...] = ()) -> Model:
    """Two environments; the newest commit is staging's. Changes inside the 12 weeks up to the
    end of its day (2026-11-05T00:00+01:00), and one on either side of them."""
    dev = (
        change("dev", "api", "2026-08-12T22:59:59+00:00", "0.9.0", "1.0.0"),  # a second too early
        change("dev", "api", "2026-08-12T23:00:00+00:00", "1.0.0", "1.1.0"),  # the window's start
        change("dev", "web", "2026-10-01T09:00:00+02:00", None, "3.0.0"),
        change("dev", "web", "2026-10-02T09:00:00+02:00", "3.0.0", None),
    )
    staging = (
        change("staging", "api", "2026-10-06T11:25:00+02:00", "1.0.0", "1.1.0"),
        change("staging", "api", "2026-10-07T09:15:00+02:00", "1.1.0", "1.0.0", rollback=True),
        change("staging", "web", NEWEST, None, "3.0.0"),  # the newest commit's
        change("staging", "web", "2026-11-05T00:00:00+01:00", "3.0.0", "3.1.0"),  # the next day
        *extra,
    )
    return Model(title="t", environments=(
        Environment("dev", "d", commit_date="2026-10-02T09:00:00+02:00", history=dev),
        Environment("staging", "s", commit_date=NEWEST, history=staging, upstreams=("dev",)),
    ))  # fmt: skip


def marks(svg: str) -> dict[str, list[ET.Element]]:
    return {lane.get("data-env") or "": by_class(lane, "pd-mark")
            for lane in by_class(parse(svg), "pd-lane")}  # fmt: skip


def test_the_window_ends_with_the_day_of_the_newest_commit_of_the_env_repos() -> None:
    span = pictures.window(timeline_model())
    assert span is not None and span.newest == NEWEST
    assert span.end == datetime.fromisoformat("2026-11-05T00:00:00+01:00")
    assert span.end - span.start == timedelta(weeks=pictures.WEEKS) == timedelta(weeks=12)


def test_the_timeline_has_a_mark_per_change_in_the_window_and_none_outside() -> None:
    model = timeline_model()
    span = pictures.window(model)
    assert span is not None
    drawn = pictures.Timelines(list(model.environments), span, model.limits).of()
    lanes = marks(drawn.svg)
    assert {env: len(m) for env, m in lanes.items()} == {
        "dev": 3,
        "staging": 3,
    } and drawn.marks == 6
    titles = [title(m) for m in lanes["dev"] + lanes["staging"]]
    assert not [t for t in titles if t.startswith(("2026-08-12 22:59", "2026-11-05"))]
    assert "2026-08-12 23:00 api in dev: 1.0.0 → 1.1.0 by Ann Author" in titles
    assert "2026-11-04 14:30 web in staging: first deployed → 3.0.0 by Ann Author" in titles
    kinds = {title(m): m.get("class") for m in lanes["dev"] + lanes["staging"]}
    assert (
        kinds["2026-10-07 09:15 api in staging: 1.1.0 → 1.0.0 by Ann Author, a rollback"]
        == "pd-mark pd-rollback"
    )
    assert (
        kinds["2026-10-02 09:00 web in dev: 3.0.0 → removed by Ann Author"] == "pd-mark pd-removed"
    )
    assert [m.tag for m in lanes["staging"]] == [f"{SVG}circle", f"{SVG}path", f"{SVG}circle"]
    ticks = by_class(parse(drawn.svg), "pd-tick")
    assert len(ticks) == 13
    assert [t.text for t in by_class(parse(drawn.svg), "pd-note")][:2] == ["13 Aug 2026", "27 Aug"]


def test_a_service_timeline_has_only_that_service_s_changes() -> None:
    model = timeline_model()
    span = pictures.window(model)
    assert span is not None
    lanes = marks(pictures.Timelines(list(model.environments), span, model.limits).of("web").svg)
    assert {env: len(m) for env, m in lanes.items()} == {"dev": 2, "staging": 1}
    assert all(" web in " in title(m) for ms in lanes.values() for m in ms)


def test_a_lane_draws_its_newest_changes_up_to_its_bound_and_the_page_says_so() -> None:
    start = datetime.fromisoformat("2026-09-01T00:00:00+00:00")
    busy = tuple(change("staging", f"svc-{i % 7}", (start + timedelta(minutes=i)).isoformat(), "1.0.0",
                        "1.0.1") for i in range(600))  # fmt: skip
    model = timeline_model(busy)
    span = pictures.window(model)
    assert span is not None
    drawn = pictures.Timelines(list(model.environments), span, model.limits).of()
    lanes = marks(drawn.svg)
    assert len(lanes["staging"]) == pictures.MARKS_PER_LANE == 500
    assert drawn.over == (("staging", 603),) and len(lanes["dev"]) == 3
    # the 103 oldest of the 600 at 00:00 to 09:59 are left out: minutes 0 to 102
    kept = sorted(title(m)[:16] for m in lanes["staging"] if title(m).startswith("2026-09-01"))
    assert (len(kept), kept[0], kept[-1]) == (497, "2026-09-01 01:43", "2026-09-01 09:59")
    home = render_pages(model)[HOME]
    assert "- staging: only the newest 500 of its 603 changes in these weeks are drawn" in home


def test_without_dates_there_is_no_timeline() -> None:
    model = Model(title="t", environments=(Environment("dev", "d"),))
    assert pictures.window(model) is None
    assert "## Deployments" not in render_pages(model)[HOME]


def test_the_pictures_are_the_same_whatever_the_machine_s_time_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a date without an offset is UTC, not the local time of the machine that builds
    naive = Model(title="t", environments=(Environment("dev", "d", commit_date="2026-10-02T09:00:00+00:00",
                  history=(change("dev", "api", "2026-10-01T09:00:00", None, "1.0.0"),)),))  # fmt: skip
    made = []
    try:
        for zone in ("UTC", "Pacific/Kiritimati", "America/Adak"):
            monkeypatch.setenv("TZ", zone)
            time.tzset()
            made.append({path: svgs(page) for path, page in render_pages(naive).items()})
    finally:
        monkeypatch.undo()
        time.tzset()
    assert made[0] == made[1] == made[2]
    assert len(made[0][HOME]) == 2  # the graph and the timeline
    [mark] = by_class(parse(made[0][HOME][1]), "pd-mark")
    assert title(mark).startswith("2026-10-01 09:00 api in dev")


RENDER = """
import json, pickle, re, sys
from generator.render import render_pages
pages = render_pages(pickle.load(open(sys.argv[1], "rb")))
print(json.dumps({path: re.findall(r"<svg .*?</svg>", page) for path, page in pages.items()}))
"""


def test_the_pictures_are_the_same_every_build(sample_model: Model, tmp_path: Path) -> None:
    saved = tmp_path / "model.pickle"
    saved.write_bytes(pickle.dumps(sample_model))
    made = []
    for seed in ("1", "2"):  # sets and dicts of strings in another order each time
        done = subprocess.run([sys.executable, "-c", RENDER, str(saved)], capture_output=True,
                              text=True, check=True, env={**os.environ, "PYTHONHASHSEED": seed})  # fmt: skip
        made.append(json.loads(done.stdout))
    assert made[0] == made[1]
    assert [len(made[0][p]) for p in (HOME, CATALOG, service_page("payments-api"))] == [2, 2, 1]


# --- hostile names ------------------------------------------------------------------------------

PAYLOAD = (
    "<script>alert(1)</script>]]>\"q' &amp; & *em* _u_ `c` {: onclick=x} \x00\x1b\x7f\x85\u2028x"
)


def hostile_model() -> Model:
    env, service = f"prod{PAYLOAD}", f"svc{PAYLOAD}"
    history = (change(env, service, "2026-10-01T09:00:00+02:00", f"1{PAYLOAD}", f"2{PAYLOAD}",
                      author=f"Mallory{PAYLOAD}"),)  # fmt: skip
    return Model(title="t", environments=(
        Environment(f"dev{PAYLOAD}", "d", deployments=(deployment(service, f"dev{PAYLOAD}", "2.0.0"),)),
        Environment(env, "p", commit_date="2026-10-02T09:00:00+02:00", upstreams=(f"dev{PAYLOAD}",),
                    production=True, history=history,
                    deployments=(deployment(service, env, f"2{PAYLOAD}", problem=PAYLOAD),)),
    ), drift=((service, env, "skipped"),))  # fmt: skip


def test_hostile_names_are_text_in_well_formed_svg_that_markdown_leaves_alone() -> None:
    model = hostile_model()
    pages = render_pages(model)
    service = next(p for p in pages if p.startswith("catalog/services/") and "index" not in p)
    found = {path: svgs(pages[path]) for path in (HOME, CATALOG, service)}
    assert [len(s) for s in found.values()] == [2, 2, 1]
    for path, pictures_of_page in found.items():
        page = markdown.markdown(pages[path].split("---\n", 2)[2], extensions=SITE_EXTENSIONS)
        for svg in pictures_of_page:
            assert svg in page, f"{path}: Python-Markdown changed an SVG"
            assert "\n" not in svg and not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", svg)
            root = parse(svg)
            assert {e.tag.removeprefix(SVG) for e in root.iter()} <= DRAWN_TAGS
            assert not [a for e in root.iter() for a in e.attrib if a.lower().startswith("on")]
            texts = " ".join(t for e in root.iter() for t in (e.text, *e.attrib.values()) if t)
            assert "<script>alert(1)</script>]]>\"q' &amp; & *em* _u_ `c`" in texts
    [row] = by_class(parse(found[CATALOG][1]), "pd-row")
    cells = by_class(row, "pd-hm-problem")
    assert title(cells[0]).startswith(f"svc{PAYLOAD[:50]}")


# --- in Chromium --------------------------------------------------------------------------------

BOXES = """selector => Array.from(document.querySelectorAll(selector)).map(e => {
    const box = e.getBoundingClientRect();
    return [box.width, box.height];
})"""
COLOURS = """() => [getComputedStyle(document.querySelector('.pd-graph text')).fill,
                 getComputedStyle(document.querySelector('article')).color]"""


def drawn(page: Any, selector: str, line: bool = False) -> list[list[float]]:
    """The size of every element the selector finds; a zero size is one not drawn (a line,
    which may be straight, only needs a length)."""
    boxes: list[list[float]] = page.evaluate(BOXES, selector)
    seen = [w > 0 and h > 0 if not line else max(w, h) > 0 for w, h in boxes]
    assert boxes and all(seen), f"{selector}: {boxes[:5]}"
    return boxes


def in_window(envs: list[dict[str, Any]], changes: list[tuple[str, str]]) -> dict[str, int]:
    """Per environment, the changes in the 12 weeks up to the end of the day of the newest
    commit, worked out here."""
    last = max(datetime.fromisoformat(e["commit_date"]) for e in envs if e["commit_date"])
    end = last.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    counts = {e["name"]: 0 for e in envs}
    for env, date in changes:
        if end - timedelta(weeks=12) <= datetime.fromisoformat(date) < end:
            counts[env] += 1
    return {env: min(n, pictures.MARKS_PER_LANE) for env, n in counts.items()}


def lane_marks(page: Any, picture: str) -> dict[str, int]:
    """Per lane of a timeline, the marks it draws."""
    found: dict[str, int] = page.evaluate(
        """picture => Object.fromEntries(Array.from(document.querySelectorAll(picture + ' g.pd-lane'))
             .map(lane => [lane.dataset.env, lane.querySelectorAll('.pd-mark').length]))""",
        picture,
    )
    return found


@pytest.fixture
def site_data(request: pytest.FixtureRequest) -> Iterator[tuple[str, dict[str, Any], str]]:
    """A served site, what it shows (its catalog.json, from the model for the sample), and a
    service it has."""
    if request.param == "sample":
        model: Model = request.getfixturevalue("sample_model")
        catalog = catalog_document(model)
        catalog["changes"] = [(c.environment, c.date) for e in model.environments for c in e.history]  # fmt: skip
        yield request.getfixturevalue("served_site"), catalog, "payments-api"
    else:
        built: Path = request.getfixturevalue("many_envs_built")
        catalog = json.loads((built / "catalog.json").read_text(encoding="utf-8"))
        catalog["changes"] = [(c["environment"], c["date"])
                              for s in catalog["services"] for c in s["history"]]  # fmt: skip
        yield request.getfixturevalue("many_envs_site"), catalog, "svc-3"


@pytest.mark.browser
@pytest.mark.parametrize("site_data", ["sample", "eleven"], indirect=True)
def test_the_graph_and_the_timeline_render_on_the_home_page(
    browser: Any,
    site_data: tuple[str, dict[str, Any], str],
) -> None:
    base, catalog, _ = site_data
    page = new_page(browser, viewport={"width": 1400, "height": 1000})
    visit(page, base)
    drawn(page, ".pd-picture-graph svg")
    names = page.evaluate(
        "() => Array.from(document.querySelectorAll('.pd-node')).map(n => n.dataset.env)"
    )
    assert sorted(names) == sorted(e["name"] for e in catalog["environments"])
    assert len(drawn(page, ".pd-node rect")) == len(names)
    upstreams = sum(len(e["upstreams"]) for e in catalog["environments"])
    assert len(drawn(page, ".pd-edge", line=True)) == upstreams > 0
    drawn(page, ".pd-picture-timeline svg")
    expected = in_window(catalog["environments"], catalog["changes"])
    assert sum(expected.values()) > 0
    assert lane_marks(page, ".pd-picture-timeline") == expected
    assert len(drawn(page, ".pd-picture-timeline .pd-mark")) == sum(expected.values())


@pytest.mark.browser
@pytest.mark.parametrize("site_data", ["sample", "eleven"], indirect=True)
def test_the_heat_map_renders_a_cell_per_service_and_environment(
    browser: Any,
    site_data: tuple[str, dict[str, Any], str],
) -> None:
    base, catalog, _ = site_data
    page = new_page(browser, viewport={"width": 1400, "height": 1000})
    visit(page, f"{base}catalog/")
    drawn(page, ".pd-picture-heatmap svg")
    rows = page.evaluate(
        "() => Array.from(document.querySelectorAll('.pd-row')).map(r => r.dataset.service)"
    )
    assert rows == [s["name"] for s in catalog["services"]]
    cells = drawn(page, ".pd-row rect")
    assert len(cells) == len(catalog["services"]) * len(catalog["environments"])
    places: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for s in catalog["services"]:
        for d in s["deployments"]:
            places.setdefault((s["name"], d["environment"]), []).append(d)
    drifting = sum(c[0]["drift"] in ("pending", "skipped") and not any(d["problem"] for d in c)
                   for c in places.values())  # fmt: skip
    shown = page.locator(".pd-row rect.pd-hm-pending, .pd-row rect.pd-hm-skipped").count()
    assert shown == drifting > 0


@pytest.mark.browser
@pytest.mark.parametrize("site_data", ["sample", "eleven"], indirect=True)
def test_a_service_page_shows_that_service_s_deployments(
    browser: Any,
    site_data: tuple[str, dict[str, Any], str],
) -> None:
    base, catalog, service = site_data
    page = new_page(browser, viewport={"width": 1400, "height": 1000})
    visit(page, f"{base}catalog/services/{service}/")
    drawn(page, ".pd-picture-timeline svg")
    [history] = [s["history"] for s in catalog["services"] if s["name"] == service]
    expected = in_window(catalog["environments"], [(c["environment"], c["date"]) for c in history])
    assert sum(expected.values()) > 0
    assert lane_marks(page, ".pd-picture-timeline") == expected


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_pictures_take_the_theme_s_colours(
    browser: Any,
    served_site: str,
    scheme: str,
) -> None:
    page = new_page(browser, color_scheme=scheme)
    visit(page, served_site)
    fill, text = page.evaluate(COLOURS)
    assert fill == text
    light = scheme == "light"
    channels = [int(c) for c in re.findall(r"\d+", fill)[:3]]
    assert (sum(channels) < 3 * 128) == light, fill  # dark text on light, light text on dark
