"""Hostile names that become page titles, the feed and the terminal tables.

A name that is a page's H1 (a team, a service, a schema's title, the config's title) is what
MkDocs takes as the page's title and Material prints into `<title>`, the header and the nav;
`site_name` is printed on every page. Built sites are loaded in Chromium: nothing may run, and
the payload must show as text. A control page proves scripts do run in that setup.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    CHROMIUM_ARGS,
    deployment_yaml,
    git_commit,
    git_init,
    invoke,
    make_config,
    serve_folder,
    write,
)

from generator.config import load_config
from generator.model import Announcement, Model, Schema, Team
from generator.render import render_pages
from generator.render.feed import ATOM, render_feed
from generator.render.pages import front_matter_title, html_title
from generator.site import mkdocs_config_file

SCRIPT = "</title><script>document.body.setAttribute('data-pwned','1')</script>"
# a script in <head> runs before <body> exists: this one runs wherever it lands
IMAGE = "\"'><img src=x onerror=document.documentElement.setAttribute('data-pwned','1')>"
PAYLOAD = SCRIPT + IMAGE
CONTROL = "<script>document.body.setAttribute('data-pwned','1')</script>"

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://tests.example/hostile.schema.json",
    "title": f"Schema {PAYLOAD}",
    "description": "A schema whose title is hostile.",
    "type": "object",
    "properties": {"name": {"type": "string", "description": "A name."}},
}


def _hostile_site(root: Path, own_mkdocs: bool) -> Path:
    """A small site: a hostile config title, team name, service name and schema title."""
    write(root / "schemas" / "hostile.schema.json", json.dumps(SCHEMA, indent=2))
    write(
        root / "owners.yml",
        json.dumps({"teams": {"team-x": {"name": f"Team {PAYLOAD}"}}}),
    )
    repo = root / "envs" / "prod"
    write(
        repo / "apps" / "api.yaml",
        deployment_yaml(f"api {PAYLOAD}", "corp/api:1.2.3", {"team": "team-x"}),
    )
    config = make_config(
        root,
        title=f"Pipeline {PAYLOAD}",
        schemas="schemas/",
        owners="owners.yml",
        environments=[{"name": "prod", "repo": "envs/prod"}],
    )
    if own_mkdocs:
        write(
            root / "mkdocs.yml",
            f"""
            site_name: {json.dumps("Own " + PAYLOAD)}
            theme:
              name: material
            plugins:
              - search
              - gen-files:
                  scripts: [gen/gen_pages.py]
            extra_javascript:
              - assets/pipeline-docs/catalog.js
            markdown_extensions: [attr_list, md_in_html, tables, toc]
            """,
        )
        write(
            root / "gen" / "gen_pages.py",
            "from generator.site import write_with_gen_files\n\nwrite_with_gen_files()\n",
        )
        docs = root / "docs"
    else:
        docs = root / ".cache" / "mkdocs" / "docs"  # the docs folder of the default mkdocs.yml
    write(docs / "control.md", f"# Control\n\n{CONTROL}\n")
    return config


@pytest.mark.browser
@pytest.mark.parametrize("own_mkdocs", [False, True], ids=["default-mkdocs-yml", "own-mkdocs-yml"])
def test_hostile_titles_do_not_run_in_a_browser(
    chromium: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, own_mkdocs: bool
) -> None:
    from playwright.sync_api import sync_playwright

    config = _hostile_site(tmp_path, own_mkdocs)
    monkeypatch.chdir(tmp_path)
    site = tmp_path / "built"
    done = invoke("build", "--config", str(config), "--fail-on", "never", "--site-dir", str(site))
    assert done.exit_code == 0, done.stderr
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    assert "control/index.html" in pages
    titled = {  # pages whose own title carries the payload
        "catalog/teams/team-x/index.html",
        "reference/schemas/hostile/index.html",
    }
    assert titled <= set(pages), pages
    services = [p for p in pages if p.startswith("catalog/services/") and p.count("/") == 3]
    assert services, pages
    titled |= set(services)
    site_name = "Own " + PAYLOAD if own_mkdocs else "Pipeline " + PAYLOAD
    with serve_folder(site) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            for name in pages:
                pwned, title, topic = _visit(page, base + name.removesuffix("index.html"))
                if name == "control/index.html":
                    assert pwned[0] == "1", "scripts do not run here: the test proves nothing"
                    continue
                assert pwned == [None, None], f"{name}: script ran"
                assert site_name in title, (name, title)
                if name in titled:  # shown as text in the tab and the header
                    assert PAYLOAD in title, (name, title)
                    assert PAYLOAD in topic, (name, topic)
        finally:
            browser.close()


def _visit(page: Any, url: str) -> tuple[list[str | None], str, str]:
    """Whether a payload ran (on <body>, on <html>), the <title> text, the header's page title."""
    page.goto(url)
    page.wait_for_load_state("load")
    page.wait_for_timeout(50)  # an image's onerror may fire after load
    pwned = page.evaluate(
        "[document.body.getAttribute('data-pwned'),"
        " document.documentElement.getAttribute('data-pwned')]"
    )
    assert page.locator("head > title").count() == 1, url
    title = page.evaluate("document.querySelector('head > title').textContent")
    topic = page.evaluate(
        "(document.querySelector('[data-md-component=header-topic]') || {}).textContent || ''"
    )
    return pwned, " ".join(title.split()), " ".join(topic.split())


# --- every page's title, as front matter -------------------------------------------------------


def test_html_title_escapes_what_a_browser_would_read_as_markup() -> None:
    assert html_title("Payments") == "Payments"
    assert (
        html_title("Orders & Checkout") == "Orders & Checkout"
    )  # reads right even if escaped twice
    assert html_title("R&D &amp; co") == "R&amp;D &amp;amp; co"
    assert html_title("a<b>\"c'") == "a&lt;b&gt;&quot;c&#39;"
    assert html_title(" two\n lines\x1b[31m\x00 ") == "two lines [31m"
    assert html_title("lone \ud800 surrogate \ufffe") == "lone surrogate"


def test_a_template_s_front_matter_gets_the_title_beside_its_own_keys() -> None:
    page = front_matter_title("---\nhide: [toc]\n---\n# Catalog\n", "Catalog")
    assert page == "---\ntitle: Catalog\nhide: [toc]\n---\n# Catalog\n"
    assert front_matter_title("# Health\n", "Health") == "---\ntitle: Health\n---\n# Health\n"
    with pytest.raises(ValueError, match="own title"):
        front_matter_title("---\ntitle: x\n---\n# x\n", "x")


@pytest.mark.parametrize(
    "title", [PAYLOAD, "Pipeline 🚀 ünïcødé", "- [x]: {y} # z", "yes", "1.10", "\x85\u2028\x1b"]
)
def test_every_generated_page_has_a_front_matter_title_mkdocs_reads_back(title: str) -> None:
    from mkdocs.utils.meta import get_data

    team = Team(id="team-x", name=title)
    model = Model(
        title=title,
        schemas=(
            Schema(
                id="hostile",
                file="schemas/hostile.schema.json",
                title=title,
                description="",
                options=(),
            ),
        ),
        teams=(team,),
    )
    pages = {p: t for p, t in render_pages(model).items() if p.endswith(".md")}
    assert len(pages) > 10
    for path, page in pages.items():
        body, meta = get_data(page)
        assert isinstance(meta.get("title"), str) and meta["title"], path
        assert "<" not in meta["title"] and '"' not in meta["title"], path
        assert body.lstrip().startswith("# "), path
    # a name with nothing to show titles its page by the file's name
    assert get_data(pages["catalog/teams/team-x.md"])[1]["title"] == (html_title(title) or "team-x")
    assert get_data(pages["reference/schemas/hostile.md"])[1]["title"] == (
        html_title(title) or "hostile"
    )
    assert get_data(pages["catalog/index.md"])[1] == {
        "title": "Catalog",
        "hide": ["navigation", "toc"],
    }


def test_the_default_mkdocs_yml_has_the_config_title_made_safe(tmp_path: Path) -> None:
    from mkdocs.config import load_config as load_mkdocs_config

    config = load_config(make_config(tmp_path, title=f"Pipeline 🚀 {PAYLOAD}"))
    loaded = load_mkdocs_config(config_file=str(mkdocs_config_file(config)))
    assert loaded["site_name"] == html_title(f"Pipeline 🚀 {PAYLOAD}")
    assert "🚀" in loaded["site_name"]


# --- the feed ----------------------------------------------------------------------------------


def test_characters_xml_forbids_do_not_reach_the_feed() -> None:
    # a lone surrogate cannot come from a file read as UTF-8; render_feed copes with one anyway
    hostile = "bad \x01 and \x1b[31m red \x7f\ufffe end"
    item = Announcement(
        id="2026-01-01-x", file="changes/x.md", title=f"Title {hostile}", type="feature\x02",
        date="2026-01-01", release="1.0.0", body=f"First {hostile}\n\nSecond.",
    )  # fmt: skip
    model = Model(title=f"Pipeline {hostile}", announcements=(item,))
    feeds = {
        "render_feed": render_feed(model, {item.id: f"Summary {hostile}\ud800"}),
        "render_pages": render_pages(model)["feed.xml"],
    }
    for how, feed in feeds.items():
        root = ET.fromstring(feed.encode("utf-8"))  # parses: well-formed XML 1.0
        texts = [e.text or "" for e in root.iter()] + [
            v for e in root.iter() for v in e.attrib.values()
        ]
        shown = "".join(texts)
        for char in "\x01\x02\x1b\ufffe\ud800":
            assert char not in shown, (how, repr(char))
        assert "\x7f" in shown, how  # XML 1.0 allows DEL
        titles = [e.text for e in root.iter(f"{{{ATOM}}}title")]
        assert "Title bad \ufffd and \ufffd[31m red \x7f\ufffd end" in titles, (how, titles)
        summaries = [e.text or "" for e in root.iter(f"{{{ATOM}}}summary")]
        assert any(s.startswith(("First bad \ufffd", "Summary bad \ufffd")) for s in summaries), how


# --- the terminal ------------------------------------------------------------------------------

ESC = "\x1b[31m"
CSI = "\x9b31m"  # the C1 form of ESC [


def _hostile_envs(tmp_path: Path) -> Path:
    """dev and prod, git repos of one workload whose name label and version carry escapes."""
    for env, versions in (("dev", ["1.0.0", "1.1.0"]), ("prod", ["1.0.0"])):
        repo = git_init(tmp_path / "envs" / env)
        for version in versions:
            write(
                repo / "apps" / "api.yaml",
                deployment_yaml(
                    "api",
                    f"corp/api:{version}{ESC}",
                    {"app.kubernetes.io/name": f"api{ESC}", "team": f"team{CSI}"},
                ),
            )
            git_commit(repo, f"api {version}")
    return make_config(
        tmp_path,
        environments=[{"name": "dev", "repo": "envs/dev"}, {"name": "prod", "repo": "envs/prod"}],
    )


def _shows_escapes(output: str) -> None:
    assert "\x1b" not in output and "\x9b" not in output, repr(output)
    assert "api\\x1b[31m" in output, output


def test_catalog_diff_and_history_tables_show_control_characters(tmp_path: Path) -> None:
    config = str(_hostile_envs(tmp_path))
    catalog = invoke("catalog", "--config", config)
    assert catalog.exit_code == 0, catalog.stderr
    _shows_escapes(catalog.stdout)
    assert "team\\x9b31m" in catalog.stdout and "1.1.0\\x1b[31m" in catalog.stdout
    diff = invoke("diff", "--config", config, "dev", "prod")
    assert diff.exit_code == 0, diff.stderr
    _shows_escapes(diff.stdout)
    assert "1.1.0\\x1b[31m" in diff.stdout
    history = invoke("history", "--config", config, f"api{ESC}")
    assert history.exit_code == 0, history.stderr
    assert "\x1b" not in history.stdout and "\x9b" not in history.stdout, repr(history.stdout)
    assert "1.1.0\\x1b[31m" in history.stdout, history.stdout
