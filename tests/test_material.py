"""Material offline and friendly: no font or CDN request, a light/dark toggle that follows the
system, copy buttons, option names that search finds at their anchor, finding messages with
their code spans, days instead of timestamps in the changelog, and no invented example."""

from __future__ import annotations

import html
import json
import mimetypes
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import markdown
import pytest
import referencing
import yaml
from conftest import (
    CORPUS,
    REPO,
    HtmlTables,
    corpus_cases,
    render_schema_folder,
    serve_folder,
)

from generator.model import Announcement, Finding, Model, Release, Severity
from generator.render import render_pages
from generator.render.paths import CHANGELOG, FEED
from generator.render.paths import health_page as health_page_of

SAMPLE_MKDOCS = REPO / "mkdocs.yml"
DEFAULT_MKDOCS = REPO / "generator" / "formats" / "mkdocs.default.yml"
CONFIGS = [SAMPLE_MKDOCS, DEFAULT_MKDOCS]
EXTENSIONS = ["admonition", "attr_list", "md_in_html", "tables", "pymdownx.details", "toc"]


def mkdocs_config(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def search_separator(config: dict[str, Any]) -> str:
    [search] = [p for p in config["plugins"] if p == "search" or "search" in p]
    assert isinstance(search, dict), "the search plugin has no separator"
    return str(search["search"]["separator"])


def to_html(page: str) -> str:
    """A generated page as MkDocs' Markdown pass makes it (front matter left out)."""
    if page.startswith("---\n"):
        page = page.split("\n---\n", 1)[1]
    return str(markdown.markdown(page, extensions=EXTENSIONS))


# --- the two mkdocs.yml ------------------------------------------------------------------------


@pytest.mark.parametrize("path", CONFIGS, ids=["sample", "default"])
def test_no_font_is_fetched_from_google(path: Path) -> None:
    theme = mkdocs_config(path)["theme"]
    assert theme["font"] is False
    assert "privacy" not in json.dumps(mkdocs_config(path)["plugins"])  # it needs the network


@pytest.mark.parametrize("path", CONFIGS, ids=["sample", "default"])
def test_the_palette_follows_the_system_then_toggles_light_and_dark(path: Path) -> None:
    palette = mkdocs_config(path)["theme"]["palette"]
    assert [p["media"] for p in palette] == [
        "(prefers-color-scheme)",
        "(prefers-color-scheme: light)",
        "(prefers-color-scheme: dark)",
    ]
    assert "scheme" not in palette[0]  # automatic: the system's
    assert [p.get("scheme") for p in palette[1:]] == ["default", "slate"]
    for entry in palette:
        assert entry["toggle"]["icon"].startswith("material/"), entry
        assert entry["toggle"]["name"].startswith("Switch to"), entry


@pytest.mark.parametrize("path", CONFIGS, ids=["sample", "default"])
def test_code_has_copy_buttons_and_headings_permalinks(path: Path) -> None:
    config = mkdocs_config(path)
    assert "content.code.copy" in config["theme"]["features"]
    [toc] = [e["toc"] for e in config["markdown_extensions"] if isinstance(e, dict) and "toc" in e]
    assert toc["permalink"] is True


def test_instant_navigation_only_where_the_site_has_a_url() -> None:
    # Material follows instantly only the links sitemap.xml lists, and the sitemap is empty
    # without a site_url: the default config has none to give
    sample, default = mkdocs_config(SAMPLE_MKDOCS), mkdocs_config(DEFAULT_MKDOCS)
    assert "navigation.instant" in sample["theme"]["features"]
    assert re.match(r"^https://[a-z.-]+/$", sample["site_url"])
    assert "navigation.instant" not in default["theme"]["features"]
    assert "site_url" not in default


@pytest.mark.parametrize("path", CONFIGS, ids=["sample", "default"])
def test_search_reads_an_option_path_as_words_and_a_version_as_one(path: Path) -> None:
    separator = re.compile(search_separator(mkdocs_config(path)))

    def words(value: str) -> list[str]:
        return [w for w in separator.split(value) if w]

    assert words("deploy.replicas") == ["deploy", "replicas"]
    assert words("deploy.ports[].name") == ["deploy", "ports", "name"]
    assert words("build.args.&lt;name&gt;") == ["build", "args", "name"]
    assert words("payments-api 1.4.2") == ["payments", "api", "1.4.2"]


# --- pages -------------------------------------------------------------------------------------


def health_page(*messages: str) -> str:
    findings = tuple(
        Finding("schema/missing-description", Severity.WARNING, "a.yml", i + 1, m)
        for i, m in enumerate(messages)
    )
    # the findings of a rule area are listed on that area's page
    return render_pages(Model(title="Test pipeline", findings=findings))[health_page_of("schema")]


def test_a_finding_message_shows_its_backtick_spans_as_code() -> None:
    page = health_page("container `api` has no probe")
    assert "container <code>api</code> has no probe" in page
    parser = HtmlTables()
    parser.feed(to_html(page))
    [table] = parser.tables
    assert table[1][2] == "container api has no probe"
    assert "code" in parser.tags


def test_a_hostile_message_stays_literal_inside_and_outside_its_code_spans() -> None:
    hostile = "`<script>alert(1)</script>` | *x* [a](javascript:b) `a|b` {: onclick=x} ` lone"
    rendered = to_html(health_page(hostile))
    rendered = rendered[rendered.index("<table") :]  # the findings (the page links to its index)
    assert "<script" not in rendered and "<a " not in rendered and "<em>" not in rendered
    assert re.search(r"<[^>]*onclick", rendered) is None
    codes = [html.unescape(c) for c in re.findall(r"<code>(.*?)</code>", rendered)]
    assert codes[-2:] == ["<script>alert(1)</script>", "a|b"]
    parser = HtmlTables()
    parser.feed(rendered)
    [table] = parser.tables
    # one cell (no `|` split it), every character shown but the backticks around the spans
    assert (
        table[1][2] == "<script>alert(1)</script> | *x* [a](javascript:b) a|b {: onclick=x} ` lone"
    )


def changelog_model(when: str) -> Model:
    news = Announcement(
        id="2026-06-01-news", file="changes/news.md", title="News", type="feature",
        date=when, release="1.2.0", body="Something new.",
    )  # fmt: skip
    return Model(
        title="Test pipeline",
        announcements=(news,),
        releases=(Release("1.1.0", "2026-05-20", ()), Release("1.2.0", when, ())),
    )


def test_the_changelog_shows_days_not_timestamps() -> None:
    when = "2026-06-01T10:00:00+02:00"
    pages = render_pages(changelog_model(when))
    page = pages[CHANGELOG]
    assert "## 1.2.0 <small>2026-06-01</small> { #release-1.2.0 }" in page
    assert "**feature** · 2026-06-01" in page
    assert "T10:00" not in page and "+02:00" not in page
    # the feed keeps the timestamp as it is
    assert f"<updated>{when}</updated>" in pages[FEED]


def test_a_day_stays_a_day_and_a_date_in_words_is_shown_as_written() -> None:
    page = render_pages(changelog_model("2026-06-01"))[CHANGELOG]
    assert "## 1.2.0 <small>2026-06-01</small>" in page
    page = render_pages(changelog_model("next *week*"))[CHANGELOG]
    assert "· next \\*week\\*" in page


# --- examples ----------------------------------------------------------------------------------


def schema_page(tmp_path: Path, schema: dict[str, Any]) -> tuple[Any, str]:
    (tmp_path / "s.json").write_text(json.dumps(schema), encoding="utf-8")
    shown = render_schema_folder(tmp_path)
    return shown.schemas["s"], shown.pages["s"]


def test_a_schema_without_defaults_or_examples_shows_no_example(tmp_path: Path) -> None:
    schema, page = schema_page(
        tmp_path,
        {
            "type": "object",
            "required": ["name", "kind"],
            "properties": {
                "name": {"type": "string", "description": "Name."},
                "kind": {"const": "Service", "description": "Kind."},
                "mode": {"enum": ["a", "b"], "description": "Mode."},
                "port": {"type": "integer", "description": "Port."},
            },
        },
    )
    assert not schema.has_example
    assert "## Example" not in page and "_example" not in page


def test_a_schema_whose_defaults_do_not_validate_shows_no_example(tmp_path: Path) -> None:
    schema, page = schema_page(
        tmp_path,
        {
            "type": "object",
            "required": ["port"],
            "properties": {
                "port": {"type": "integer", "minimum": 1, "default": 0, "description": "Port."},
            },
        },
    )
    assert not schema.has_example
    assert "## Example" not in page


def test_an_example_made_of_defaults_validates_and_says_so(tmp_path: Path) -> None:
    document = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "description": "Name."},
            "port": {"type": "integer", "minimum": 1, "default": 8080, "description": "Port."},
        },
    }
    schema, page = schema_page(tmp_path, document)
    assert schema.example == {"name": "string", "port": 8080}
    assert jsonschema.Draft202012Validator(document).is_valid(schema.example)
    section = page[page.index("## Example { #_example }") : page.index("## Summary")]
    assert "Built from the schema's defaults and examples" in section


def test_the_schemas_own_example_is_shown_as_it_is(tmp_path: Path) -> None:
    example = {"name": "payments-api"}
    schema, page = schema_page(
        tmp_path,
        {
            "type": "object",
            "examples": [example],
            "properties": {"name": {"type": "string", "description": "Name."}},
        },
    )
    assert schema.example == example
    section = page[page.index("## Example { #_example }") : page.index("## Summary")]
    assert "name: payments-api" in section
    assert "Built from" not in section


def _holds_a_written_value(node: Any) -> bool:
    """Whether a schema document has `default`, `example` or `examples` anywhere (as a keyword,
    or a property of that name: then it is not counted as having none)."""
    if isinstance(node, dict):
        return any(k in node for k in ("default", "example", "examples")) or any(
            _holds_a_written_value(v) for v in node.values()
        )
    if isinstance(node, list):
        return any(_holds_a_written_value(v) for v in node)
    return False


SCHEMASTORE = CORPUS / "schemas" / "schemastore"


@pytest.mark.parametrize("folder", corpus_cases(lambda: [SCHEMASTORE], id=lambda p: p.name))
def test_corpus_examples_validate_and_none_is_made_of_placeholders(folder: Path) -> None:
    shown = render_schema_folder(folder)
    documents = {
        p.relative_to(folder).as_posix(): json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(folder.rglob("*.json"))
    }
    registry: referencing.Registry[Any] = referencing.Registry().with_resources(
        (d["$id"], referencing.Resource.from_contents(d))
        for d in documents.values()
        if isinstance(d, dict) and isinstance(d.get("$id"), str)
    )
    placeholders_only, checked = [], 0
    for schema_id, schema in shown.schemas.items():
        document = documents[schema.file]
        if not _holds_a_written_value(document) and schema.has_example:
            placeholders_only.append(schema_id)
        if schema.has_example:
            validator = jsonschema.validators.validator_for(document)(document, registry=registry)
            assert list(validator.iter_errors(schema.example)) == [], schema_id
            assert "## Example { #_example }" in shown.pages[schema_id]
            checked += 1
        else:
            assert "## Example" not in shown.pages[schema_id], schema_id
    assert placeholders_only == []
    assert checked > 0


# --- the built sample in a browser -------------------------------------------------------------

# every element's URL that the browser fetches by itself (a link to follow is no request)
FETCHED = re.compile(r"<(?:link|script|img|iframe|source|video|audio)\b[^>]*>", re.IGNORECASE)
URL_ATTRIBUTE = re.compile(r'\b(?:href|src)="([^"]*)"')

READY = """() => {
  const meta = document.querySelector('.md-search-result__meta');
  return meta !== null && !/initializing/i.test(meta.textContent);
}"""
# what Material opens on Enter: the best-scored link of the first group of results
BEST = """() => {
  const group = document.querySelector('.md-search-result__list > li');
  if (group === null) return null;
  const links = [...group.querySelectorAll('a.md-search-result__link')];
  links.sort((a, b) => parseFloat(b.firstElementChild.dataset.mdScore)
                     - parseFloat(a.firstElementChild.dataset.mdScore));
  return new URL(links[0].href).hash;
}"""


def search(page: Any, base: str, query: str) -> Any:
    page.goto(base)
    page.evaluate("document.getElementById('__search').click()")
    page.wait_for_function(READY)
    box = page.locator("input.md-search__input")
    box.fill(query)
    box.press("End")  # Material reads the query on keyup
    page.locator(".md-search-result__item").first.wait_for(timeout=15000)
    page.wait_for_timeout(300)
    return page.evaluate(BEST)


def test_no_page_of_the_built_sample_fetches_anything_from_another_host(
    built_sample_site: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    done, site = built_sample_site
    assert done.returncode == 0, done.stderr
    foreign: dict[str, list[str]] = {}
    pages = sorted(site.rglob("*.html"))
    for path in pages:
        for tag in FETCHED.findall(path.read_text(encoding="utf-8")):
            if 'rel="canonical"' in tag:
                continue  # where the page is published; no browser fetches it
            for url in URL_ATTRIBUTE.findall(tag):
                if re.match(r"^(?:[a-z][a-z0-9+.-]*:)?//", url, re.IGNORECASE):
                    foreign.setdefault(path.relative_to(site).as_posix(), []).append(url)
    assert len(pages) > 20
    assert foreign == {}


@pytest.mark.browser
@pytest.mark.parametrize(
    ("query", "anchor"),
    [
        ("replicas", "#deploy.replicas"),
        ("deploy.replicas", "#deploy.replicas"),
        ("deploy.ports[].name", "#deploy.ports.name"),
        ("coverage_threshold", "#test.coverage_threshold"),
    ],
)
def test_the_top_search_result_for_an_option_is_its_anchor(
    browser: Any, served_site: str, query: str, anchor: str
) -> None:
    page = browser.new_page()
    assert search(page, served_site, query) == anchor
    page.locator("input.md-search__input").press("Enter")  # goes where the top result is
    page.wait_for_url(re.compile(r"/reference/schemas/service/.*" + re.escape(anchor) + "$"))
    assert page.locator(f'[id="{anchor[1:]}"]').is_visible()


@pytest.mark.browser
def test_the_home_catalog_and_a_schema_page_request_nothing_but_the_site(
    browser: Any, served_site: str
) -> None:
    context = browser.new_context()
    local = served_site.rstrip("/")
    # nothing leaves the machine, whatever the pages ask for: the requests are recorded first
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(local) else r.abort())
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    context.on("request", lambda request: requested.append(request.url))  # workers' too
    for path in ("", "catalog/", "reference/schemas/service/"):
        page.goto(served_site + path)
        page.wait_for_load_state("networkidle")
    assert search(page, served_site, "replicas") == "#deploy.replicas"  # the index, the worker
    hosts = {re.sub(r"^[a-z]+://([^/]+)/.*$", r"\1", url) for url in requested}
    assert hosts == {local.removeprefix("http://")}, sorted(set(requested) - {local})
    assert any(url.endswith("search_index.json") for url in requested)


@pytest.mark.browser
@pytest.mark.parametrize("system", ["light", "dark"])
def test_the_palette_follows_the_system_until_toggled(
    browser: Any, served_site: str, system: str
) -> None:
    page = browser.new_context(color_scheme=system).new_page()
    page.goto(served_site)
    scheme = "document.body.getAttribute('data-md-color-scheme')"
    assert page.evaluate(scheme) == {"light": "default", "dark": "slate"}[system]
    toggle = page.locator("form[data-md-component=palette] label:visible")
    assert toggle.get_attribute("title") == "Switch to light mode"
    toggle.click()
    assert page.evaluate(scheme) == "default"
    page.locator("form[data-md-component=palette] label:visible").click()
    assert page.evaluate(scheme) == "slate"


@pytest.mark.browser
def test_the_site_works_from_a_folder_and_navigates_instantly_at_its_url(
    browser: Any,
    built_sample_site: tuple[subprocess.CompletedProcess[str], Path],
    tmp_path: Path,
) -> None:
    done, site = built_sample_site
    assert done.returncode == 0, done.stderr
    shutil.copytree(site, tmp_path / "a" / "b")

    def to_the_catalog(page: Any) -> Any:
        page.evaluate("window.pdSamePage = true")
        page.locator("article").get_by_role("link", name="Catalog", exact=True).first.click()
        page.wait_for_url("**/catalog/")
        page.locator(".pd-filter").first.wait_for()  # catalog.js ran on the new page
        return page.evaluate("window.pdSamePage === true")

    # from a folder of another host: every link loads its page
    with serve_folder(tmp_path) as base:
        page = browser.new_page()
        page.goto(base + "a/b/")
        assert to_the_catalog(page) is False
        assert page.url == base + "a/b/catalog/"

    # at site_url: Material swaps the page in (instant navigation), and catalog.js runs again
    site_url = str(mkdocs_config(SAMPLE_MKDOCS)["site_url"])
    context = browser.new_context()

    def serve(route: Any) -> None:
        path = route.request.url.removeprefix(site_url).split("?")[0].split("#")[0]
        target = site / path
        target = target / "index.html" if target.is_dir() else target
        if not target.is_file():
            route.fulfill(status=404, body="not found")
            return
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        route.fulfill(status=200, body=target.read_bytes(), content_type=kind)

    context.route("**/*", lambda r: serve(r) if r.request.url.startswith(site_url) else r.abort())
    page = context.new_page()
    page.goto(site_url)
    assert to_the_catalog(page) is True
