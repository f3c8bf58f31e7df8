"""The built sites in Chromium: the sample's and one of eleven environments (tests/manyenvs.py).

Every page loads without a console error and without a request to another host, the light/dark
toggle works and follows the system at first, the catalog's matrix fits a wide screen, and the
catalog's table sorts and filters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser
LOCAL_SCHEMES = ("data", "blob")


@dataclass(frozen=True)
class Site:
    """A served site and the pages of each kind to visit on it."""

    base: str
    service: str
    environment: str

    def pages(self) -> dict[str, str]:
        return {
            "home": self.base,
            "catalog": f"{self.base}catalog/",
            "service": f"{self.base}catalog/services/{self.service}/",
            "environment": f"{self.base}catalog/environments/{self.environment}/",
            "schema": f"{self.base}reference/schemas/service/",
            "changelog": f"{self.base}changelog/",
            "health": f"{self.base}health/",
        }


@dataclass
class Visit:
    """What loading one page showed: console errors, uncaught exceptions, every request."""

    url: str
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def foreign(self) -> list[str]:
        """The requests that went to another host than 127.0.0.1."""
        return [u for u in self.requests if not is_local(u)]


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or parts.hostname == "127.0.0.1"


@pytest.fixture(params=["sample", "eleven"])
def site(request: pytest.FixtureRequest) -> Site:
    """Each site in turn, with a service and an environment it has."""
    if request.param == "sample":
        return Site(request.getfixturevalue("served_site"), "payments-api", "production")
    return Site(request.getfixturevalue("many_envs_site"), "svc-3", "prod-eu")


def new_page(browser: Any, **context: Any) -> Any:
    """A page in a fresh context (no stored palette) that never reaches another host: a
    request for one is recorded by `visit` and aborted here (data: and blob: are not routed)."""
    page = browser.new_context(**context).new_page()
    page.route(re.compile(r"^(?!http://127\.0\.0\.1[:/])"), lambda route: route.abort())
    return page


def visit(page: Any, url: str) -> Visit:
    """Load `url` until the network is idle, recording errors and requests meanwhile."""
    seen = Visit(url)

    def console(message: Any) -> None:
        # a request to another host fails, aborted by `new_page`: the request test says so
        aborted = message.text.startswith("Failed to load resource") and not is_local(
            message.location.get("url", "")
        )
        if message.type == "error" and not aborted:
            seen.errors.append(f"console: {message.text}")

    def page_error(error: Any) -> None:
        seen.errors.append(f"uncaught: {error}")

    def request(req: Any) -> None:
        seen.requests.append(req.url)

    handlers = {"console": console, "pageerror": page_error, "request": request}
    for event, handler in handlers.items():
        page.on(event, handler)
    try:
        response = page.goto(url)
        assert response is not None and response.ok, f"{url}: {response and response.status}"
        page.wait_for_load_state("networkidle")
    finally:
        for event, handler in handlers.items():
            page.remove_listener(event, handler)
    return seen


def visit_all(browser: Any, site: Site) -> dict[str, Visit]:
    page = new_page(browser)
    return {kind: visit(page, url) for kind, url in site.pages().items()}


def test_no_page_logs_an_error(browser: Any, site: Site) -> None:
    visits = visit_all(browser, site)
    errors = {v.url: v.errors for v in visits.values() if v.errors}
    assert errors == {}


def test_no_page_asks_another_host(browser: Any, site: Site) -> None:
    visits = visit_all(browser, site)
    assert all(v.requests for v in visits.values())
    foreign = {v.url: v.foreign() for v in visits.values() if v.foreign()}
    assert foreign == {}


def scheme(page: Any) -> str:
    return str(page.locator("body").get_attribute("data-md-color-scheme"))


def toggle(page: Any) -> str:
    """Click the palette's toggle (the one label shown) and return the scheme it leads to."""
    from playwright.sync_api import expect

    label = page.locator('form[data-md-component="palette"] label:not([hidden])')
    option = page.locator(f"#{label.get_attribute('for')}")
    label.click()
    expect(option).to_be_checked()
    return scheme(page)


def test_the_toggle_switches_between_light_and_dark(browser: Any, site: Site) -> None:
    page = new_page(browser, color_scheme="light")
    visit(page, site.base)
    palette = page.locator('form[data-md-component="palette"]')
    options = palette.locator("input[name=__palette]").count()
    assert options >= 2, "no palette toggle: the theme's `palette:` has one scheme"
    targets = palette.locator("label").evaluate_all("labels => labels.map(l => l.htmlFor)")
    assert sorted(targets) == [f"__palette_{i}" for i in range(options)]
    start = scheme(page)
    seen = [toggle(page) for _ in range(options)]  # once round the cycle, back to the start
    assert {"default", "slate"} <= set(seen), seen
    assert seen[-1] == start == "default"


def test_a_dark_system_starts_dark(browser: Any, site: Site) -> None:
    page = new_page(browser, color_scheme="dark")
    visit(page, site.base)
    media = page.locator('form[data-md-component="palette"] input').evaluate_all(
        "inputs => inputs.map(i => i.dataset.mdColorMedia)"
    )
    assert media[:1] == ["(prefers-color-scheme)"], "the first palette is not the automatic one"
    assert scheme(page) == "slate"


# Material wraps a table in a scrolling box: a table too wide scrolls there, not in the page
OVERFLOW = """() => {
    const article = document.querySelector("article");
    const name = e => e.tagName.toLowerCase() + (e.className ? "." + e.className : "");
    const wide = [];
    article.querySelectorAll("table").forEach((table, index) => {
        if (table.scrollWidth > table.parentElement.clientWidth + 1) {
            wide.push(`table ${index}: ${table.scrollWidth} px in ${table.parentElement.clientWidth}`);
        }
        for (let e = table; e !== article.parentElement; e = e.parentElement) {
            if (e.scrollWidth > e.clientWidth + 1) {
                wide.push(`table ${index}: ${name(e)} scrolls, ${e.scrollWidth} px in ${e.clientWidth}`);
            }
        }
    });
    return {page: [document.documentElement.scrollWidth, window.innerWidth], wide: wide};
}"""


@pytest.mark.parametrize("width", [1400, 1920])
def test_the_matrix_fits_a_wide_screen(browser: Any, many_envs_site: str, width: int) -> None:
    page = new_page(browser, viewport={"width": width, "height": 1000})
    visit(page, f"{many_envs_site}catalog/")
    fit = page.evaluate(OVERFLOW)
    scroll, inner = fit["page"]
    assert scroll <= inner, f"the page scrolls sideways: {scroll} px wide in {inner} px"
    assert fit["wide"] == []


def natural(text: str) -> list[Any]:
    """Order as the catalog's script sorts (numbers by value, case ignored)."""
    return [int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", text)]


def first_column(table: Any) -> list[str]:
    return [t.strip() for t in table.locator("tbody tr td:first-child").all_text_contents()]


def test_the_catalog_table_sorts(browser: Any, site: Site) -> None:
    page = new_page(browser)
    visit(page, f"{site.base}catalog/")
    table = page.locator("article .pd-table table").first
    original = first_column(table)
    ascending = sorted(original, key=natural)
    assert len(set(original)) > 1, original
    header = table.locator("thead tr").last.locator("th").first  # the last row's, per column
    header.click()
    assert first_column(table) == ascending
    assert header.get_attribute("aria-sort") == "ascending"
    header.click()
    assert first_column(table) == ascending[::-1] != original
    assert header.get_attribute("aria-sort") == "descending"


def test_the_catalog_filter_keeps_the_matching_rows(browser: Any, site: Site) -> None:
    from playwright.sync_api import expect

    page = new_page(browser)
    visit(page, f"{site.base}catalog/")
    container = page.locator("article .pd-table").first
    rows = container.locator("table tbody tr")
    total = rows.count()
    container.locator("input.pd-filter").fill(site.service)
    visible = container.locator("table tbody tr:visible")
    expect(visible).to_have_count(1)
    assert visible.locator("td").first.text_content().strip() == site.service
    container.locator("input.pd-filter").fill("")
    expect(visible).to_have_count(total)


def test_every_page_shows_the_build_stamp_from_build_json(
    browser: Any, site: Site, built_sample_site: Any
) -> None:
    import json
    from pathlib import Path

    build = json.loads((Path(built_sample_site[1]) / "build.json").read_text(encoding="utf-8"))
    page = new_page(browser)
    for kind, url in site.pages().items():
        visit(page, url)
        stamp = page.locator(".pd-built")
        stamp.wait_for(state="visible")
        shown = stamp.inner_text()
        assert shown.startswith("Site built ") and " UTC from the env repos at " in shown, kind
        if site.service == "payments-api":  # the sample: the very file built with it
            assert build["built"][:16].replace("T", " ") in shown
            for env in build["environments"]:
                assert f"{env['name']} {env['commit'][:7]}" in shown


def test_a_link_to_an_env_repo_file_is_pinned_to_the_commit_the_site_was_built_from(
    browser: Any, served_site: str, built_sample_site: Any
) -> None:
    import json
    from pathlib import Path

    site = Site(served_site, "payments-api", "production")  # the sample: its env repos' web URLs
    build = json.loads((Path(built_sample_site[1]) / "build.json").read_text(encoding="utf-8"))
    commits = {env["name"]: env["commit"] for env in build["environments"]}
    page = new_page(browser)
    visit(page, site.pages()["service"])
    page.locator(".pd-built").wait_for(state="visible")
    links: list[list[str]] = page.evaluate(
        """() => Array.from(document.querySelectorAll('[data-pd-pin] a'))
                .map(a => [a.closest('[data-pd-pin]').dataset.pdPin, a.getAttribute('href')])"""
    )
    assert len(links) >= 3
    for env, href in links:
        assert f"/-/blob/{commits[env]}/environment.yml#L" in href, (env, href)
    # the page as built, before its script ran, links to the branch
    html = Path(built_sample_site[1]) / "catalog" / "services" / "payments-api" / "index.html"
    assert "/-/blob/HEAD/environment.yml#L" in html.read_text(encoding="utf-8")
