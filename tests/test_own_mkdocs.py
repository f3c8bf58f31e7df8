"""A project's own mkdocs.yml and pages: `build` adds what the generated pages need, keeps the
project's pages and theme, and says which lines to add when it cannot (#17)."""

from __future__ import annotations

import html.parser
import json
import subprocess
from pathlib import Path

import pytest

from generator.config import load_config
from generator.siteconfig import SiteConfigError, adapt, hand_written
from tests.conftest import deployment_yaml, make_config, run_cli, write

# the pages every site has, whatever its inputs
GENERATED = (
    "index.html", "reference/index.html", "reference/rules/index.html", "catalog/index.html",
    "changelog/index.html", "pitfalls/index.html", "health/index.html",
    "catalog/services/shop/index.html", "reference/schemas/shop/index.html",
)  # fmt: skip


def small_project(root: Path, mkdocs_yml: str | None) -> Path:
    """A pipeline of one schema and one environment (a folder of manifests), with a guide and
    a page of its own, and the mkdocs.yml given (none when None)."""
    write(
        root / "schemas" / "shop.schema.json",
        json.dumps(
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "title": "Shop config",
                "description": "The shop's config.",
                "type": "object",
                "properties": {
                    "replicas": {
                        "type": "integer",
                        "default": 2,
                        "description": "How many pods run.",
                    }
                },
            }
        ),
    )
    write(
        root / "envs" / "prod" / "shop.yaml", deployment_yaml("shop", "shop:1.2.3", {"team": "web"})
    )
    write(root / "owners.yml", "teams:\n  web:\n    name: Web team\n")
    write(
        root / "docs" / "guides" / "start.md",
        """
        # Start here

        The shop runs [these replicas](../reference/schemas/shop.md#replicas) by default:
        --8<-- "option/shop/replicas/default.md"
        """,
    )
    write(root / "docs" / "notes" / "runbook.md", "# Our runbook\n\nCall the web team.\n")
    if mkdocs_yml is not None:
        write(root / "mkdocs.yml", mkdocs_yml)
    return make_config(
        root, schemas="schemas", owners="owners.yml",
        environments=[{"name": "production", "repo": "envs/prod"}],
    )  # fmt: skip


def build(config: Path, *more: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    site = config.parent / "site"
    done = run_cli("build", "--config", str(config), "--site-dir", str(site), *more)
    return done, site


class _NavLinks(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and "md-nav__link" in (found.get("class") or "").split():
            self.links.add(found.get("href") or "")


def nav_links(page: Path) -> set[str]:
    """The hrefs of the links of Material's nav on a built page."""
    parser = _NavLinks()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.links


def assert_full_site(site: Path) -> None:
    missing = [page for page in GENERATED if not (site / page).is_file()]
    assert missing == []
    assert (site / "guides" / "start" / "index.html").is_file()
    assert (site / "notes" / "runbook" / "index.html").is_file()
    guide = (site / "guides" / "start" / "index.html").read_text(encoding="utf-8")
    assert "<code>2</code>" in guide  # the fact quoted
    assert (site / "assets" / "pipeline-docs" / "site.css").is_file()
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "assets/pipeline-docs/site.css" in home and "assets/pipeline-docs/catalog.js" in home
    assert "feed.xml" in home  # the package's template override: the feed in every head


def test_a_two_line_mkdocs_yml_builds_every_generated_page_and_the_own_pages(
    tmp_path: Path,
) -> None:
    config = small_project(tmp_path, "site_name: Our pipeline\ntheme: material\n")
    done, site = build(config)
    assert done.returncode == 0, done.stderr[-3000:]
    assert_full_site(site)
    assert "mkdocs.yml: added for the generated pages: " in done.stderr
    assert "plugins: gen-files" in done.stderr and "markdown_extensions: md_in_html" in done.stderr
    links = nav_links(site / "index.html")
    assert any(link.endswith("guides/start/") for link in links), links
    assert any(link.endswith("notes/runbook/") for link in links), links
    assert any(link.endswith("catalog/") for link in links), links
    # the service pages are reached through the catalog, not listed in every page's nav
    assert not any("catalog/services/shop" in link for link in links)
    # the mkdocs.yml is left as it was: the additions are for the build only
    assert (tmp_path / "mkdocs.yml").read_text() == "site_name: Our pipeline\ntheme: material\n"


def test_an_own_custom_dir_keeps_its_templates_and_gets_the_generated_pages(
    tmp_path: Path,
) -> None:
    config = small_project(
        tmp_path,
        """
        site_name: Our pipeline
        theme:
          name: material
          custom_dir: theme
        nav:
          - Runbook: notes/runbook.md
        """,
    )
    write(
        tmp_path / "theme" / "partials" / "copyright.html",
        '<div class="our-own-footer">Made by the platform team</div>\n',
    )
    done, site = build(config)
    assert done.returncode == 0, done.stderr[-3000:]
    assert_full_site(site)
    for page in ("index.html", "catalog/index.html", "notes/runbook/index.html"):
        assert "our-own-footer" in (site / page).read_text(encoding="utf-8"), page
    links = nav_links(site / "notes" / "runbook" / "index.html")
    # the project's nav first, as it wrote it; the generated sections it lacked are added
    assert any(link.endswith("catalog/") for link in links), links
    assert any(link.endswith("reference/") for link in links), links
    assert "nav: Home, Reference" in done.stderr


def test_an_own_main_html_wins_over_the_packages(tmp_path: Path) -> None:
    config = small_project(
        tmp_path, "site_name: P\ntheme:\n  name: material\n  custom_dir: theme\n"
    )
    write(
        tmp_path / "theme" / "main.html",
        '{% extends "base.html" %}\n{% block announce %}OUR-BANNER{% endblock %}\n',
    )
    done, site = build(config)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "OUR-BANNER" in (site / "catalog" / "index.html").read_text(encoding="utf-8")


def test_another_theme_exits_2_with_the_lines_to_add(tmp_path: Path) -> None:
    config = small_project(tmp_path, "site_name: P\ntheme: readthedocs\n")
    done, site = build(config)
    assert done.returncode == 2
    assert "theme:\n  name: material" in done.stderr
    assert "'readthedocs'" in done.stderr and "Traceback" not in done.stderr
    assert not site.exists()


def test_no_mkdocs_yml_takes_the_projects_docs_folder(tmp_path: Path) -> None:
    # the default mkdocs.yml: a guide under docs/guides/ is built and linked (the home page
    # links it: before, the default site had no docs/ and the build failed on that link)
    config = small_project(tmp_path, None)
    done, site = build(config)
    assert done.returncode == 0, done.stderr[-3000:]
    assert_full_site(site)
    links = nav_links(site / "index.html")
    assert any(link.endswith("guides/start/") for link in links), links
    assert "added for the generated pages" not in done.stderr


def test_what_is_added_keeps_the_projects_own_settings(tmp_path: Path) -> None:
    config = load_config(small_project(tmp_path, None))
    data = {
        "site_name": "P",
        "theme": {"name": "material", "font": {"text": "Roboto"}},
        "plugins": ["search", {"gen-files": {"scripts": ["docs/own.py"]}}, "tags"],
        "markdown_extensions": [{"toc": {"toc_depth": 2}}, "admonition"],
        "extra_css": ["own.css"],
        "not_in_nav": "/drafts/\n",
    }
    write(tmp_path / "docs" / "own.py", "print('their own script')\n")
    adapted = adapt(config, tmp_path / "mkdocs.yml", data).overrides
    assert adapted["theme"]["font"] == {"text": "Roboto"}  # theirs kept: they chose a font
    plugins = adapted["plugins"]
    assert plugins[0] == "search" and plugins[2] == "tags"
    scripts = plugins[1]["gen-files"]["scripts"]
    assert scripts[0] == "docs/own.py" and scripts[1].endswith("gen_pages.py")
    toc = next(
        e["toc"] for e in adapted["markdown_extensions"] if isinstance(e, dict) and "toc" in e
    )
    assert toc == {"toc_depth": 2, "permalink": True}
    names = [e if isinstance(e, str) else next(iter(e)) for e in adapted["markdown_extensions"]]
    assert names.count("admonition") == 1 and "md_in_html" in names
    assert names[-1] == "pymdownx.snippets"
    assert adapted["extra_css"] == ["own.css", "assets/pipeline-docs/site.css"]
    assert adapted["not_in_nav"].startswith("/drafts/\n/reference/schemas/")


def test_a_script_that_writes_the_pages_is_not_added_twice(tmp_path: Path) -> None:
    config = load_config(small_project(tmp_path, None))
    write(tmp_path / "docs" / "gen_pages.py", "from generator.site import write_with_gen_files\n")
    data = {"site_name": "P", "theme": "material",
            "plugins": [{"gen-files": {"scripts": ["docs/gen_pages.py"]}}]}  # fmt: skip
    adapted = adapt(config, tmp_path / "mkdocs.yml", data)
    gen = next(p for p in adapted.overrides["plugins"] if isinstance(p, dict) and "gen-files" in p)
    assert gen == {"gen-files": {"scripts": ["docs/gen_pages.py"]}}
    assert adapted.overrides["plugins"][0]["search"]["separator"]  # search, with the separator


def test_a_custom_dir_that_is_not_a_folder_is_said(tmp_path: Path) -> None:
    config = load_config(small_project(tmp_path, None))
    data = {"site_name": "P", "theme": {"name": "material", "custom_dir": "nowhere"}}
    with pytest.raises(SiteConfigError, match="custom_dir 'nowhere' is not a folder"):
        adapt(config, tmp_path / "mkdocs.yml", data)


def test_hand_written_pages_leave_out_what_the_generator_writes(tmp_path: Path) -> None:
    for name in ("index.md", "guides/b.md", "guides/onboarding.md", "catalog/index.md",
                 "catalog/services/x.md", "notes/a.md", ".hidden/c.md"):  # fmt: skip
        write(tmp_path / name, "# x\n")
    assert hand_written(tmp_path) == ["guides/onboarding.md", "guides/b.md", "notes/a.md"]


def test_a_page_of_a_generated_path_is_a_finding_not_lost_silently(tmp_path: Path) -> None:
    config = small_project(tmp_path, "site_name: P\ntheme: material\n")
    write(tmp_path / "docs" / "index.md", "# Our own home\n")
    done = run_cli("check", "--config", str(config), "--format", "json", "--fail-on", "never")
    found = [f for f in json.loads(done.stdout)["findings"] if f["rule"] == "docs/replaced-page"]
    assert [(f["file"], f["severity"]) for f in found] == [("docs/index.md", "warning")]
    assert "index.md is a page pipeline-docs generates" in found[0]["message"]
    # a docs folder `generate --out` wrote into holds generated copies: not reported
    write(tmp_path / "docs" / "catalog.json", "{}")
    done = run_cli("check", "--config", str(config), "--format", "json", "--fail-on", "never")
    assert not [f for f in json.loads(done.stdout)["findings"] if f["rule"] == "docs/replaced-page"]


class _Hrefs(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href and "://" not in href and not href.startswith(("#", "mailto:")):
            self.hrefs.append(href)


@pytest.mark.parametrize("directory_urls", [True, False])
def test_the_catalogs_html_links_lead_to_built_pages(tmp_path: Path, directory_urls: bool) -> None:
    # the matrix and the service pages' tables are HTML: their links are the built site's URLs
    yml = "site_name: P\ntheme: material\n" + (
        "" if directory_urls else "use_directory_urls: false\n"
    )
    config = small_project(tmp_path, yml)
    done, site = build(config)
    assert done.returncode == 0, done.stderr[-3000:]
    pages = ["catalog/index.html", "catalog/environments/production/index.html"]
    if not directory_urls:  # `x.md` is `x.html`; an index stays `index.html`
        pages[1] = "catalog/environments/production.html"
    for page in pages:
        source = site / page
        parser = _Hrefs()
        parser.feed(source.read_text(encoding="utf-8"))
        service = [h for h in parser.hrefs if "services/shop" in h]
        assert service, (page, parser.hrefs)
        for href in service:
            target = (source.parent / href.split("#")[0]).resolve()
            if target.is_dir():
                target = target / "index.html"
            assert target.is_file(), (page, href)
