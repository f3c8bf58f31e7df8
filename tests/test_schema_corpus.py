"""Real-world schemas: SchemaStore, GitLab CI, and every schema of the JSON Schema test suite.

Rendering them must not crash nor hang, and every property name that the schema document holds
somewhere a validator would look is shown on its page, with its anchor. The names are found
here by walking the document, independently of the generator's flattening.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, SchemaPages, needs_corpus, render_schema_folder

SCHEMAS = CORPUS / "schemas"
TEST_SUITE = SCHEMAS / "json-schema-test-suite" / "tests"

# where subschemas are, by the shape of the keyword's value
SCHEMA_MAPS = (
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
    "dependencies",
)
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems", "items")
SCHEMA_VALUES = (
    "additionalProperties",
    "items",
    "contains",
    "not",
    "if",
    "then",
    "else",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
    "additionalItems",
)


def reachable_property_names(schema: Any) -> set[str]:
    """The keys of every `properties` object in the schema document, wherever it may apply.

    Never looks into values (`enum`, `const`, `default`, `examples`) nor vendor keywords.
    """
    names: set[str] = set()
    pending = [schema]
    while pending:
        node = pending.pop()
        if not isinstance(node, dict):
            continue
        if isinstance(node.get("properties"), dict):
            names.update(node["properties"])
        for keyword in SCHEMA_MAPS:
            if isinstance(node.get(keyword), dict):
                pending.extend(node[keyword].values())
        for keyword in SCHEMA_LISTS:
            if isinstance(node.get(keyword), list):
                pending.extend(node[keyword])
        for keyword in SCHEMA_VALUES:
            if isinstance(node.get(keyword), dict):
                pending.append(node[keyword])
    return names


def missing_names(folder: Path, shown: SchemaPages) -> dict[str, list[str]]:
    """Per schema, the reachable property names no option with an anchor on the page shows.

    A name is shown by an option whose path is the name or ends with `.` and the name.
    """
    missing: dict[str, list[str]] = {}
    for schema_id, schema in shown.schemas.items():
        document = json.loads((folder / schema.file).read_text(encoding="utf-8"))
        ids = set(re.findall(r'\bid="([^"]*)"', shown.pages[schema_id]))
        tails: set[str] = set()
        for option in schema.options:
            if option.anchor in ids:
                path = option.path
                tails.add(path)
                tails.update(path[i + 1 :] for i, char in enumerate(path) if char == ".")
        absent = sorted(reachable_property_names(document) - tails)
        if absent:
            missing[schema_id] = absent
    return missing


def test_the_walk_finds_names_everywhere_but_in_values() -> None:
    schema = {
        "properties": {"a": {"properties": {"b": {}}}},
        "allOf": [{"properties": {"c": {}}}],
        "items": [{"properties": {"d": {}}}],
        "$defs": {"x": {"additionalProperties": {"properties": {"e": {}}}}},
        "if": {"properties": {"f": {}}},
        "dependencies": {"a": ["b"], "g": {"properties": {"g2": {}}}},
        "enum": [{"properties": {"no1": {}}}],
        "default": {"properties": {"no2": {}}},
        "examples": [{"properties": {"no3": {}}}],
        "x-extra": {"properties": {"no4": {}}},
    }
    assert reachable_property_names(schema) == {"a", "b", "c", "d", "e", "f", "g2"}


def test_a_name_the_page_does_not_show_is_reported_missing(tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string", "description": "A."}}}
    (tmp_path / "s.json").write_text(json.dumps(schema), encoding="utf-8")
    shown = render_schema_folder(tmp_path)
    assert missing_names(tmp_path, shown) == {}
    emptied = SchemaPages(shown.schemas, shown.findings, {"s": "# s\n"})
    assert missing_names(tmp_path, emptied) == {"s": ["a"]}


def _corpus_folder(name: str, tmp_path: Path) -> Path:
    if name in ("schemastore", "gitlab-ci"):
        return SCHEMAS / name
    # each test file is a list of {description, schema, tests}: one schema file per case
    draft = TEST_SUITE / name
    folder = tmp_path / name
    folder.mkdir()
    for path in sorted(draft.rglob("*.json")):
        stem = "-".join(path.relative_to(draft).with_suffix("").parts)  # optional/format/x
        for index, case in enumerate(json.loads(path.read_text(encoding="utf-8"))):
            target = folder / f"{stem}-{index}.json"
            target.write_text(json.dumps(case["schema"], indent=2), encoding="utf-8")
    return folder


@needs_corpus
@pytest.mark.parametrize("name", ["schemastore", "gitlab-ci", "draft7", "draft2020-12"])
def test_every_reachable_property_is_shown_with_its_anchor(name: str, tmp_path: Path) -> None:
    folder = _corpus_folder(name, tmp_path)
    files = sorted(p for p in folder.rglob("*.json"))
    shown = render_schema_folder(folder)
    assert len(shown.schemas) == len(files) > 0
    assert [f for f in shown.findings if f.rule == "yaml/parse-error"] == []
    assert missing_names(folder, shown) == {}
