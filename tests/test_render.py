"""Rendering: whatever the inputs say, it reaches a page escaped, tables keep their shape, and
anchors are stable ids."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import markdown
import pytest
from conftest import (
    CORPUS,
    REPO,
    HtmlTables,
    deployment_yaml,
    make_config,
    needs_corpus,
    write,
)

from generator.collect import collect
from generator.config import load_config
from generator.generate import generate
from generator.ids import anchor
from generator.model import Model
from generator.sources.schemas import read_schemas

# the Markdown extensions of the sample's mkdocs.yml
EXTENSIONS = [
    "admonition",
    "attr_list",
    "md_in_html",
    "tables",
    "pymdownx.details",
    "pymdownx.superfences",
    "toc",
]
ANCHOR = re.compile(r"[A-Za-z0-9._-]+")
SCRIPT = "<script>alert(1)</script>"


def to_html(page: str) -> str:
    """A generated page as MkDocs turns it into HTML (front matter left out)."""
    if page.startswith("---\n"):
        page = page.split("\n---\n", 1)[1]
    return markdown.Markdown(extensions=EXTENSIONS).convert(page)


def parse(page: str) -> HtmlTables:
    parser = HtmlTables()
    parser.feed(to_html(page))
    parser.close()
    return parser


def outside_code(page: str) -> str:
    """The Markdown source without fenced blocks and code spans, where HTML would be live."""
    page = re.sub(r"^[ \t]*```.*?^[ \t]*```", "", page, flags=re.MULTILINE | re.DOTALL)
    return re.sub(r"(`+)(.+?)\1", "", page)


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[Model, dict[str, str]]:
    """A schema and an env repo whose texts try to inject HTML and break tables."""
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Evil {SCRIPT}",
        "description": f"Top level {SCRIPT}",
        "type": "object",
        "properties": {
            "name": {
                "type": "string",
                "description": f"A | pipe, `back`ticks ` and\nnew lines {SCRIPT}. More | text.",
                "examples": [f"{SCRIPT} | `x`\nsecond line", {"k": SCRIPT}],
                "default": "a|b",
                "enum": ["a|b", SCRIPT, "`"],
            },
            "weird|key": {"type": "string", "description": "A key with a pipe | in it."},
            "plain": {"type": "integer", "description": "Plain."},
        },
    }
    write(tmp_path / "schemas" / "evil.schema.json", json.dumps(schema, indent=2))
    img = "<img src=x onerror=alert(1)>"
    write(
        tmp_path / "envs" / "dev" / "web.yaml",
        deployment_yaml(
            "web",
            "nginx:1.27.0",
            {"owner": img, "app.kubernetes.io/version": f"1.0{img}", "team": "x|y"},
        ),
    )
    config = load_config(
        make_config(
            tmp_path, schemas="schemas/", environments=[{"name": "dev", "repo": "envs/dev"}]
        )
    )
    model = collect(config)
    return model, generate(config, model)


def test_no_script_from_a_schema_reaches_the_page(hostile: tuple[Model, dict[str, str]]) -> None:
    _, pages = hostile
    page = pages["reference/schemas/evil.md"]
    assert "<script" not in outside_code(page)
    assert "script" not in parse(page).tags
    assert "<script" not in to_html(page).replace("&lt;script", "")
    # the text is shown, not dropped
    assert "alert(1)" in to_html(page)


def test_summary_rows_keep_their_cells(hostile: tuple[Model, dict[str, str]]) -> None:
    _, pages = hostile
    tables = parse(pages["reference/schemas/evil.md"]).tables
    summary = tables[0]
    assert summary[0] == ["Option", "Type", "Required", "Default", "Description"]
    assert len(summary) == 4
    for row in summary:
        assert len(row) == 5, row
    cells = {row[0]: row for row in summary[1:]}
    assert set(cells) == {"name", "weird|key", "plain"}
    assert cells["name"][3] == "a|b"
    assert cells["name"][4].startswith("A | pipe")
    assert cells["weird|key"][4] == "A key with a pipe | in it."


def test_an_env_repo_label_cannot_inject_html(hostile: tuple[Model, dict[str, str]]) -> None:
    model, pages = hostile
    assert model.environments[0].deployments[0].owner == "<img src=x onerror=alert(1)>"
    shown = [p for p, body in pages.items() if p.endswith(".md") and "onerror" in body]
    assert "catalog/environments/dev.md" in shown
    assert "catalog/services/web.md" in shown
    for path in shown:
        assert "<img" not in outside_code(pages[path]), path
        assert "img" not in parse(pages[path]).tags, path
        for table in parse(pages[path]).tables:
            widths = {len(row) for row in table}
            assert len(widths) == 1, (path, table)


def test_catalog_json_keeps_values_as_they_are(hostile: tuple[Model, dict[str, str]]) -> None:
    _, pages = hostile
    catalog = json.loads(pages["catalog.json"])
    [service] = catalog["services"]
    assert service["declared_owner"] == "<img src=x onerror=alert(1)>"
    assert service["deployments"][0]["version"] == "1.0<img src=x onerror=alert(1)>"


def test_code_in_a_description_is_shown_as_written(sample_pages: dict[str, str]) -> None:
    # promote's env_repo_group says: named `env-<environment>`
    rendered = to_html(sample_pages["reference/templates/promote.md"])
    assert "<code>env-&lt;environment&gt;</code>" in rendered


@pytest.mark.parametrize(
    ("page", "anchor_id", "description"),
    [
        ("reference/schemas/service.md", "deploy.replicas", "Number of pods"),
        ("reference/templates/promote.md", "input-service", "Service to deploy"),
    ],
    ids=["schema-option", "template-input"],
)
def test_a_description_is_a_paragraph_of_its_own(
    sample_pages: dict[str, str], page: str, anchor_id: str, description: str
) -> None:
    rendered = to_html(sample_pages[page])
    start = rendered.index(f'id="{anchor_id}"')
    section = rendered[start : rendered.index("<h", start + 1)]
    paragraphs = re.findall(r"<p>(.*?)</p>", section, flags=re.DOTALL)
    type_line = next(p for p in paragraphs if "<strong>Type</strong>" in p)
    assert description not in type_line
    assert any(p.startswith(description) for p in paragraphs)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("deploy.replicas", "deploy.replicas"),
        ("deploy.ports[].name", "deploy.ports.name"),
        ("env.<name>", "env._name_"),
        ("build.args.<name>", "build.args._name_"),
    ],
)
def test_option_anchors_follow_the_documented_examples(path: str, expected: str) -> None:
    assert anchor(path) == expected


@pytest.mark.parametrize(
    "path", ["a b/c", "x.<^[a-z]+$>", "items[0].x", "ünïcode.ключ", "weird|key", "<name>", "[]"]
)
def test_an_anchor_uses_only_letters_digits_dots_underscores_and_dashes(path: str) -> None:
    assert ANCHOR.fullmatch(anchor(path))


def _options_of(folder: Path) -> list:
    schemas, _ = read_schemas(folder, str)
    return [(s.id, o) for s in schemas for o in s.options]


def test_every_option_anchor_of_the_sample_is_a_valid_unique_id(
    sample_pages: dict[str, str],
) -> None:
    options = _options_of(REPO / "schemas")
    assert len(options) > 30
    seen: dict[str, set[str]] = {}
    for schema_id, option in options:
        assert ANCHOR.fullmatch(option.anchor), option.path
        assert option.anchor not in seen.setdefault(schema_id, set()), option.path
        seen[schema_id].add(option.anchor)
        assert f'id="{option.anchor}"' in sample_pages[f"reference/schemas/{schema_id}.md"]


@needs_corpus
def test_anchors_of_real_world_schemas_are_valid_ids(tmp_path: Path) -> None:
    # patternProperties, additionalProperties and odd property names, from SchemaStore
    for name in ("cargo.json", "lefthook.json", "drone.json"):
        shutil.copy(CORPUS / "schemas" / "schemastore" / name, tmp_path / name)
    options = _options_of(tmp_path)
    assert len(options) > 300
    assert any("<" in o.path for _, o in options)
    for schema_id, option in options:
        assert ANCHOR.fullmatch(option.anchor), (schema_id, option.path, option.anchor)
    per_schema: dict[str, list[str]] = {}
    for schema_id, option in options:
        per_schema.setdefault(schema_id, []).append(option.anchor)
    for schema_id, anchors in per_schema.items():
        assert len(anchors) == len(set(anchors)), schema_id


def test_template_input_anchors_are_valid_ids(sample_model: Model) -> None:
    inputs = [i for t in sample_model.templates for i in t.inputs]
    assert inputs
    for item in inputs:
        assert ANCHOR.fullmatch(item.anchor), item.name
        assert item.anchor == f"input-{item.name}"


def test_a_very_long_name_gets_a_short_page_name_of_its_own() -> None:
    from generator.ids import MAX_PAGE_NAME, page_name

    long_a, long_b = "a" * 300, "a" * 299 + "b"
    assert len(page_name(long_a)) <= MAX_PAGE_NAME
    assert page_name(long_a) != page_name(long_b)
    assert page_name("payments-api") == "payments-api"


def test_a_fragment_naming_an_unknown_template_links_nothing(tmp_path: Path) -> None:
    write(tmp_path / "changes" / "x.md", """
        ---
        title: Something
        type: feature
        date: 2026-01-01
        templates: [no-such-template]
        ---
        Words.
        """)  # fmt: skip
    config = make_config(tmp_path, announcements="changes")
    page = generate(load_config(config), None)["changelog/index.md"]
    assert "`no-such-template`" in page
    assert "templates/no-such-template.md" not in page
