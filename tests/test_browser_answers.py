"""The three questions, asked of the built sample in a real browser from its home page: what runs
in production, who owns a service and how to reach them, what it ran before and who changed it;
and the riskiest production finding. Each answer is at most two clicks or one search away."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CHROMIUM_ARGS

from generator.model import Model
from generator.render.catalog import catalog_document
from generator.render.pitfalls import risks

pytestmark = pytest.mark.browser


@pytest.fixture
def page(chromium: str) -> Iterator[Any]:
    """A fresh page of a 1400 px wide window; it fails the test on a console error."""
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1400, "height": 1000})
            tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            tab.on("pageerror", lambda e: errors.append(str(e)))
            yield tab
        finally:
            browser.close()
    assert errors == []


def _catalog(site: tuple[subprocess.CompletedProcess[str], Path]) -> dict[str, Any]:
    return json.loads((site[1] / "catalog.json").read_text(encoding="utf-8"))


def _search(page: Any, words: str) -> Any:
    """Type into Material's search box; the results, once there are some."""
    page.evaluate("document.getElementById('__search').click()")
    box = page.locator("input.md-search__input")
    box.fill(words)
    box.press("End")  # Material reads the query on keyup, which `fill` does not send
    results = page.locator(".md-search-result__item")
    results.first.wait_for()
    return results


def _matrix_cells(page: Any, environment: str) -> dict[str, str]:
    """Service -> the text of its cell in one environment's column, for the rows shown."""
    return page.evaluate(
        """env => Object.fromEntries(Array.from(document.querySelectorAll('table.pd-matrix tbody tr'))
             .filter(row => !row.hidden)
             .map(row => [row.cells[0].innerText.trim(),
                          row.querySelector('td[data-env="' + env + '"] .pd-clip')?.innerText.trim() ?? '']))""",
        environment,
    )


def test_what_runs_in_production_is_one_click_from_home(
    page: Any, served_site: str, built_sample_site: Any
) -> None:
    page.goto(served_site)
    page.locator("article").get_by_role("link", name="Catalog", exact=True).first.click()
    page.wait_for_url("**/catalog/")
    expected = {
        s["name"]: d["version"]
        for s in _catalog(built_sample_site)["services"]
        for d in s["deployments"]
        if d["environment"] == "production"
    }
    shown = {name: text for name, text in _matrix_cells(page, "production").items() if text}
    assert shown == expected and "payments-api" in shown


def test_who_owns_a_service_and_how_to_reach_them_is_one_search_away(
    page: Any, served_site: str
) -> None:
    page.goto(served_site)
    results = _search(page, "payments-api")
    results.first.locator("a").first.click()
    page.wait_for_url("**/catalog/services/payments-api/**")
    owner = page.locator("article p", has_text="Owner:")
    assert "Payments" in owner.inner_text()
    assert owner.locator('a[href="mailto:payments@acme.example"]').count() == 1


def test_what_ran_before_and_who_changed_it_is_on_the_first_line_of_the_service(
    page: Any, served_site: str, built_sample_site: Any
) -> None:
    service = next(
        s for s in _catalog(built_sample_site)["services"] if s["name"] == "payments-api"
    )
    production = next(d for d in service["deployments"] if d["environment"] == "production")
    before, author = production["last_change"]["from"], production["last_change"]["author"]
    page.goto(served_site)
    _search(page, "payments-api").first.locator("a").first.click()
    page.wait_for_url("**/catalog/services/payments-api/**")
    first = page.locator("article table").first.locator("tbody tr").first
    cells = first.locator("td").all_inner_texts()
    assert cells[0].startswith("production")
    assert cells[1].startswith(production["version"]) and cells[3].startswith(author)
    assert cells[4].strip() == before


def test_a_matrix_cell_shows_what_ran_before_on_focus(
    page: Any, served_site: str, built_sample_site: Any
) -> None:
    page.goto(served_site + "catalog/")
    row = page.locator("table.pd-matrix tbody tr", has_text="payments-api")
    tip = row.locator('td[data-env="production"] .pd-tip')
    assert not tip.is_visible()
    row.locator('td[data-env="production"] .pd-cellbox').focus()  # a keyboard or a tap
    assert tip.is_visible()
    service = next(
        s for s in _catalog(built_sample_site)["services"] if s["name"] == "payments-api"
    )
    change = next(d for d in service["deployments"] if d["environment"] == "production")[
        "last_change"
    ]
    assert f"before: {change['from']}" in tip.inner_text() and change["author"] in tip.inner_text()


def test_the_riskiest_production_finding_is_on_the_home_page(
    page: Any, served_site: str, sample_model: Model
) -> None:
    worst = next(r for r in risks(sample_model, catalog_document(sample_model)) if r.production)
    page.goto(served_site)
    first = page.locator("article h2#_risks + ul > li").first
    text = first.inner_text()
    assert worst.finding.rule in text and "production" in text
    assert worst.finding.severity.value in text
    assert worst.service is not None and worst.service in text


def test_a_word_naming_an_environment_keeps_its_column_and_what_runs_there(
    page: Any, served_site: str, built_sample_site: Any
) -> None:
    page.goto(served_site + "catalog/")
    box = page.locator("input.pd-filter")
    box.fill("production")
    shown = page.eval_on_selector_all(
        "table.pd-matrix tr.pd-heads th[data-env]",
        "ths => ths.filter(t => !t.hidden).map(t => t.dataset.env)",
    )
    assert shown == ["production"]
    running = {s["name"] for s in _catalog(built_sample_site)["services"]
               if any(d["environment"] == "production" for d in s["deployments"])}  # fmt: skip
    assert set(_matrix_cells(page, "production")) == running
    box.fill("prod payments-api")
    assert list(_matrix_cells(page, "production")) == ["payments-api"]
    box.fill("prod payments")  # the team's name too
    teams = {s["name"] for s in _catalog(built_sample_site)["services"]
             if s["team"] and s["team"]["name"] == "Payments"}  # fmt: skip
    assert set(_matrix_cells(page, "production")) == teams & running
    box.fill("")
    assert (
        len(page.eval_on_selector_all("table.pd-matrix th[data-env]:not([hidden])", "t => t")) == 3
    )


@pytest.mark.parametrize("width", [1400, 900])
@pytest.mark.parametrize(
    "path", ["catalog/services/payments-api/", "reference/templates/build/", "catalog/"]
)
def test_identifiers_in_tables_never_wrap(
    page: Any, served_site: str, path: str, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 1000})
    page.goto(served_site + path)
    wrapped = page.eval_on_selector_all(
        "article td code",
        "codes => codes.filter(c => c.getClientRects().length > 1).map(c => c.textContent)",
    )
    assert page.eval_on_selector_all("article td code", "c => c.length") > 0
    assert wrapped == []
