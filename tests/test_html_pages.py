"""Large tables are raw HTML that MkDocs passes through unparsed: their links are the built
site's URLs, their values escaped for HTML only, bulk kept out of the search index, and the
health page split by rule area."""

from __future__ import annotations

import posixpath
import re
from dataclasses import replace
from typing import Any

import pytest
import yaml
from pagedom import dom
from test_catalog_pages import _model

from generator.model import Finding, Severity
from generator.render import paths
from generator.render.jinja import html_code, html_href, html_text, message
from generator.render.pages import render_pages
from generator.render.paths import page_url, url_from

HREF = re.compile(r'<a href="([^"]*)"')


def _front(page: str) -> Any:
    """A page's front matter."""
    return yaml.safe_load(page.split("\n---\n", 1)[0].removeprefix("---\n"))


@pytest.mark.parametrize(
    ("source", "target", "directory", "flat"),
    [
        ("catalog/index.md", "catalog/services/x.md", "services/x/", "services/x.html"),
        ("catalog/environments/dev.md", "catalog/services/x.md#_now",
         "../../services/x/#_now", "../services/x.html#_now"),
        ("catalog/services/x.md", "catalog/index.md", "../../", "../index.html"),
        ("catalog/services/x.md", "catalog/teams/t~20u.md", "../../teams/t~20u/", "../teams/t~20u.html"),
        ("index.md", "index.md", "./", "index.html"),
        ("index.md", "health.md", "health/", "health.html"),
        ("health.md", "health/risk.md", "risk/", "health/risk.html"),
        ("health/risk.md", "health.md#_error", "../#_error", "../health.html#_error"),
        ("catalog/index.md", "catalog.json", "../catalog.json", "../catalog.json"),
        ("catalog/services/x.md", "#_history", "#_history", "#_history"),
    ],
)  # fmt: skip
def test_a_link_in_html_is_the_url_mkdocs_serves_the_page_at(
    source: str, target: str, directory: str, flat: str
) -> None:
    assert url_from(source, target) == directory
    assert url_from(source, target, directory_urls=False) == flat


def _resolves(pages: dict[str, str], directory_urls: bool) -> list[tuple[str, str]]:
    """Every relative link written in HTML, with the page it leads to (or None)."""
    served = {page_url(p, directory_urls): p for p in pages}
    found = []
    for source, text in pages.items():
        if not source.endswith(".md"):
            continue
        here = page_url(source, directory_urls)
        base = here.rstrip("/") if here.endswith("/") or not here else posixpath.dirname(here)
        for link in HREF.findall(text):
            if re.match(r"^[a-z]+:", link) or link.startswith("#"):
                continue
            where = posixpath.normpath(posixpath.join(base, link.split("#")[0]))
            where = "" if where == "." else where
            key = where + "/" if link.split("#")[0].endswith("/") and where else where
            found.append((link, served.get(key, "")))
    return found


@pytest.mark.parametrize("directory_urls", [True, False])
def test_every_link_written_in_html_leads_to_a_page(directory_urls: bool) -> None:
    findings = (Finding("risk/no-resources", Severity.WARNING, "dev:environment.yml", 3, "x"),)
    pages = render_pages(replace(_model(30), findings=findings), directory_urls=directory_urls)
    links = _resolves(pages, directory_urls)
    assert len(links) > 20
    assert [link for link, page in links if not page] == []
    targets = {page for _, page in links}
    assert paths.service_page("payments-api") in targets
    assert (
        paths.environment_page("prod-eu") in targets and paths.team_page("team-payments") in targets
    )


def test_the_html_filters_escape_for_html_only() -> None:
    hostile = 'a <b> "q" *x* _y_ [l](u) {: x} \\ |\x00\x07 \n  end'
    assert html_text(hostile) == "a &lt;b&gt; &quot;q&quot; *x* _y_ [l](u) {: x} \\ | end"
    assert html_code("<x>") == "<code>&lt;x&gt;</code>"
    assert html_href("javascript:alert(1)", "<a>") == "&lt;a&gt;"
    assert (
        html_href("https://x.example/?a&b", "*l*") == '<a href="https://x.example/?a&amp;b">*l*</a>'
    )
    assert message("`<s>` *", html_text) == "<code>&lt;s&gt;</code> *"


def test_the_big_tables_are_raw_html_that_markdown_leaves_alone() -> None:
    pages = render_pages(_model(30))
    for page in (paths.CATALOG, paths.environment_page("prod-eu"), paths.service_page("payments-api"),
                 paths.service_history_page("payments-api"), paths.team_page("team-payments"),
                 paths.SERVICES):  # fmt: skip
        body = pages[page]
        assert "\n| " not in body.split("## Resource requests")[0], page  # no Markdown table
        assert "<table" in body and not re.search('markdown="(block|span|1)"', body), page


def test_bulk_is_kept_out_of_search_and_what_runs_now_stays_in() -> None:
    pages = render_pages(_model(30))
    history = pages[paths.service_history_page("payments-api")]
    assert _front(history)["search"] == {"exclude": True}
    env = dom(pages[paths.environment_page("prod-eu")])
    assert all("data-search-exclude" in div.attrs for div in env.all("div") if div.all("table"))
    service = dom(pages[paths.service_page("payments-api")])
    now = service.one("div", class_="pd-now")
    assert "data-search-exclude" not in now.attrs and "Emma Schulz" in now.text
    assert all(
        "data-search-exclude" in div.attrs for div in service.all("div", class_="pd-history")
    )
    matrix = dom(pages[paths.CATALOG]).one("div", class_="pd-wide")
    assert "data-search-exclude" in matrix.attrs


def test_the_health_page_has_the_totals_and_each_area_its_own_page() -> None:
    findings = (
        Finding("risk/no-resources", Severity.WARNING, "dev:environment.yml", 3, "no `limits`"),
        Finding("risk/privileged", Severity.ERROR, "prod:environment.yml", 4, "privileged"),
        Finding("schema/missing-description", Severity.WARNING, "schemas/a.json", 1, "bare"),
    )
    pages = render_pages(replace(_model(), findings=findings))
    health = dom(pages[paths.HEALTH])
    assert [h.attrs["id"] for h in health.all("h2")] == ["_error", "_warning"]
    hrefs = {a.text: a.attrs["href"] for a in health.all("a")}
    assert hrefs["risk/privileged"] == "health/risk.md#_error"
    assert hrefs["schema/missing-description"] == "health/schema.md#_warning"
    risk = pages[paths.health_page("risk")]
    assert _front(risk)["search"] == {"exclude": True}
    rows = [[td.text for td in tr.all("td")] for tr in dom(risk).all("tr")[1:]]
    assert ["risk/privileged", "prod:environment.yml:4", "privileged"] in rows
    assert ["risk/no-resources", "dev:environment.yml:3", "no limits"] in rows
    assert "bare" not in risk and "bare" in pages[paths.health_page("schema")]
    assert "no limits" not in pages[paths.HEALTH]


def test_search_reads_each_cell_of_an_html_table_as_words_of_its_own() -> None:
    import markdown
    from material.plugins.search.plugin import Parser
    from pagedom import EXTENSIONS

    page = render_pages(_model())[paths.service_page("payments-api")]
    parser = Parser()
    parser.feed(markdown.markdown(page.split("\n---\n", 1)[1], extensions=EXTENSIONS))
    parser.close()
    now = next(s for s in parser.data if s.id == "_now")
    words = "".join(now.text).split()  # as Material joins them
    assert "Schulz" in words and "Emma Schulz1.4.1" not in "".join(now.text)


_PATHS = ["", ".", "a", "a/", "a/b", "a/b/", "a/b/c", "a//b", "./a/b", "a/./b", "b", "b/a", "ab/c",
          "a/bc", "a/b/c/d", "..", "a/../b", "../a", "/a", "/a/b", "catalog/services/x"]  # fmt: skip


@pytest.mark.parametrize("start", _PATHS)
def test_a_relative_path_is_the_one_relpath_gives(start: str) -> None:
    for path in _PATHS:
        if path and start:  # relpath refuses an empty path; url_from never asks for one
            assert paths.relative_path(path, start) == posixpath.relpath(path, start), path
