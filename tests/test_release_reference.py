"""A reference per release (issue 21): each earlier release of the sample keeps its schemas'
pages under `reference/<release>/`, with the current pages' anchors, a banner naming the
release, links to the current page of each option and to the schema changes of the next
release; out of search, so the current page is found first; and option pages say in which
release an option appeared, or was removed."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import pytest
import yaml
from conftest import REPO, copy_sample, run_cli

from generator.collect import collect
from generator.config import load_config
from generator.ids import page_name, slug
from generator.render import paths


class _Ids(HTMLParser):
    """Every element id of a page, and every link's href."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        if tag == "a" and found.get("href"):
            self.links.append(str(found["href"]))


def _read(page: Path) -> _Ids:
    parser = _Ids()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def _releases() -> list[tuple[str, Path]]:
    """The sample's releases: name and schemas folder, oldest first."""
    data = yaml.safe_load((REPO / "pipeline-docs.yml").read_text(encoding="utf-8"))
    return [(r["name"], REPO / r["schemas"]) for r in data["releases"]]


def _page(site: Path, md: str) -> Path:
    return site / paths.page_url(md) / "index.html"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("releases") / "project"
    config = copy_sample(project)
    built = project / "site"
    done = run_cli("build", "--config", str(config), "--site-dir", str(built))
    assert done.returncode == 0, done.stderr
    return built


def _resolves(site: Path, page: Path, href: str) -> bool:
    """Whether a relative link of `page` leads to a page of the site, and to its anchor."""
    base = "file://" + page.parent.as_posix() + "/"
    target = urlsplit(urljoin(base, href))
    if target.scheme != "file":
        return True
    path = Path(unquote(target.path))
    file = path / "index.html" if path.is_dir() else path
    if not file.is_file():
        return False
    return not target.fragment or target.fragment in _read(file).ids


@pytest.fixture(scope="module")
def model(site: Path) -> Any:
    """The sample's model, as the build read it."""
    return collect(load_config(site.parent / "pipeline-docs.yml"))


def test_each_earlier_release_has_the_pages_of_its_schemas_with_the_current_anchors(
    site: Path, model: Any
) -> None:
    releases = _releases()
    assert [r.name for r in model.releases] == [name for name, _ in releases]
    current = {s.id: s for s in model.schemas}
    for release in model.releases:
        assert _page(site, paths.release_index(release.name)).is_file()
        assert release.schemas
        for schema in release.schemas:
            page = _page(site, paths.release_schema_page(release.name, schema.id))
            read = _read(page)
            assert f"Release {release.name}" in page.read_text(encoding="utf-8")  # the banner
            assert {o.anchor for o in schema.options} <= read.ids, page
            if schema.id in current:  # an option both have has the same anchor on both pages
                now = {o.path: o.anchor for o in current[schema.id].options}
                both = [o for o in schema.options if o.path in now]
                assert both and all(now[o.path] == o.anchor for o in both)
                assert {o.anchor for o in both} <= _read(
                    _page(site, paths.schema_page(schema.id))
                ).ids
            # every link of the page leads somewhere that exists, anchors included
            broken = [h for h in read.links if not _resolves(site, page, h)]
            assert broken == [], (page, broken)
    # the release picker lists every earlier release, newest first
    picker = _read(_page(site, paths.RELEASES)).links
    at = [
        next(i for i, h in enumerate(picker) if h.rstrip("/").endswith(page_name(name)))
        for name, _ in reversed(releases)
    ]
    assert at == sorted(at), picker


def test_each_release_page_links_the_schema_changes_of_the_next_release(site: Path) -> None:
    releases = [name for name, _ in _releases()]
    changelog = _read(_page(site, paths.CHANGELOG))
    for index, name in enumerate(releases):
        links = _read(_page(site, paths.release_schema_page(name, "service"))).links
        anchors = {h.rpartition("#")[2] for h in links if "changelog/#changes-" in h}
        if index + 1 < len(releases):  # the next release's changes
            assert anchors == {f"changes-{slug(releases[index + 1])}"}, name
        else:  # the changes since the last release: of the release the fragments name next
            assert len(anchors) == 1 and anchors != {f"changes-{slug(name)}"}, anchors
        assert anchors <= changelog.ids, anchors


def test_an_option_on_an_earlier_page_links_its_current_page(site: Path) -> None:
    page = _page(site, paths.release_schema_page("1.0.0", "service"))
    links = [h for h in _read(page).links if h.startswith("../../../schemas/service/#")]
    assert len(links) > 5 and all(_resolves(site, page, h) for h in links)


def test_a_removed_option_says_when_and_what_replaced_it(site: Path) -> None:
    html = _page(site, paths.release_schema_page("1.0.0", "service")).read_text("utf-8")
    section = html[html.index('id="test.report"') : html.index('id="test.services"')]
    assert "Removed in 1.1.0" in section
    assert "test.report is replaced by test.junit_report" in section  # the announcement says so
    assert "This option in the current reference" not in section
    # the current page has no such option, and says in which release junit_report appeared
    current = _page(site, paths.schema_page("service")).read_text("utf-8")
    assert "test.report<" not in current.replace("test.report_", "")
    junit = current[current.index('id="test.junit_report"') :]
    assert "Added in</strong> 1.1.0" in junit[: junit.index("</h", 30) + 2000]


def test_earlier_releases_are_out_of_the_search_index(site: Path) -> None:
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    locations = [d["location"] for d in index["docs"]]
    assert any(loc.startswith("reference/schemas/service/") for loc in locations)
    for name, _ in _releases():
        folder = paths.release_folder(name)
        assert not [loc for loc in locations if loc.startswith(folder)], name


def test_a_removal_announcement_may_name_an_option_of_an_earlier_release(tmp_path: Path) -> None:
    config = copy_sample(tmp_path / "project")
    done = run_cli("check", "--config", str(config), "--format", "json", "--fail-on", "never")
    rules = {f["rule"] for f in json.loads(done.stdout)["findings"]}
    assert "changelog/unknown-option" not in rules
    fragment = tmp_path / "project" / "examples" / "changes" / "2026-05-20-test-report.md"
    fragment.write_text(
        fragment.read_text("utf-8").replace("service:test.report\n", "service:test.nowhere\n"),
        "utf-8",
    )
    done = run_cli("check", "--config", str(config), "--format", "json", "--fail-on", "never")
    found = [
        f for f in json.loads(done.stdout)["findings"] if f["rule"] == "changelog/unknown-option"
    ]
    assert len(found) == 1 and "service:test.nowhere" in found[0]["message"]
    assert load_config(config).releases  # the sample keeps its releases as folders


@pytest.mark.browser
def test_a_search_for_an_option_finds_its_current_page_first(chromium: str, site: Path) -> None:
    from conftest import CHROMIUM_ARGS, serve_folder
    from playwright.sync_api import sync_playwright

    with serve_folder(site) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            for words in ("coverage_threshold", "deploy.replicas"):
                page.goto(base)
                page.evaluate("document.getElementById('__search').click()")
                box = page.locator("input.md-search__input")
                box.fill(words)
                box.press("End")  # Material reads the query on keyup
                first = page.locator(".md-search-result__item a").first
                first.wait_for()
                href = str(first.get_attribute("href"))
                assert "reference/schemas/service/" in href, (words, href)
                every: Any = page.evaluate(
                    "() => [...document.querySelectorAll('.md-search-result__item a')]"
                    ".map(a => a.getAttribute('href'))"
                )
                assert not [h for h in every if "/reference/1." in h], every
        finally:
            browser.close()


def test_an_option_without_x_since_says_the_release_it_appeared_in(tmp_path: Path) -> None:
    """From the schema diffs between the releases, as the changelog shows them."""
    config = copy_sample(tmp_path / "project")
    schema = tmp_path / "project" / "schemas" / "service.schema.json"
    data = json.loads(schema.read_text(encoding="utf-8"))
    del data["properties"]["build"]["properties"]["cache"]["x-since"]
    schema.write_text(json.dumps(data, indent=2), encoding="utf-8")
    out = tmp_path / "out"
    assert run_cli("generate", "--config", str(config), "--out", str(out)).returncode == 0
    page = (out / paths.schema_page("service")).read_text(encoding="utf-8")
    section = page[page.index('id="build.cache"') :]
    assert section[: section.index("<h", 10)].count("**Added in** 1.1.0") == 1


def test_a_release_without_a_schema_or_an_option_back_again_is_not_said_removed(
    tmp_path: Path,
) -> None:
    """1.1.0 without bundle.schema.json, and `test.report` (removed in 1.1.0) current again: the
    1.0.0 pages link the current page of each, and say no option was removed."""
    config = copy_sample(tmp_path / "project")
    (tmp_path / "project" / "examples" / "releases" / "1.1.0" / "bundle.schema.json").unlink()
    schema = tmp_path / "project" / "schemas" / "service.schema.json"
    data = json.loads(schema.read_text(encoding="utf-8"))
    data["properties"]["test"]["properties"]["report"] = {
        "type": "string", "description": "Back again: the path of the test report.",
    }  # fmt: skip
    schema.write_text(json.dumps(data, indent=2), encoding="utf-8")
    out = tmp_path / "out"
    assert run_cli("generate", "--config", str(config), "--out", str(out)).returncode == 0
    bundle = (out / paths.release_schema_page("1.0.0", "bundle")).read_text(encoding="utf-8")
    assert "Removed in" not in bundle and "This option in the current reference" in bundle
    assert not (out / paths.release_schema_page("1.1.0", "bundle")).exists()
    service = (out / paths.release_schema_page("1.0.0", "service")).read_text(encoding="utf-8")
    assert "Removed in" not in service
    section = service[service.index('id="test.report"') : service.index('id="test.services"')]
    assert "This option in the current reference" in section
    # the current page: back in the release after the last one without it
    current = (out / paths.schema_page("service")).read_text(encoding="utf-8")
    now = current[current.index('id="test.report"') :]
    assert "**Added in** 1.2.0" in now[: now.index("<h", 10)]


def test_releases_named_like_the_reference_folders_get_folders_of_their_own() -> None:
    folders = {paths.release_folder(n) for n in ("schemas", "templates", "~r-schemas", "1.0.0")}
    assert len(folders) == 4
    assert paths.release_folder("schemas") not in {"reference/schemas/", "reference/templates/"}


def test_the_changelog_links_a_removed_option_to_the_last_release_that_had_it(site: Path) -> None:
    page = _page(site, paths.CHANGELOG)
    links = [h for h in _read(page).links if h.endswith("#test.report")]
    assert links and all("/1.0.0/schemas/service/" in h for h in links), links
    assert all(_resolves(site, page, h) for h in links)
