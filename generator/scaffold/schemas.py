"""Which folder holds the pipeline's JSON Schemas.

A file is a schema when it declares a JSON-Schema metaschema in `$schema`, or is plainly one (an
object with `type` and `properties`, `$defs` or `definitions`). A JSON-Schema-Test-Suite case
file (a list of `{description, schema, tests}`) holds schemas but is none; a folder with one is
never taken, nor is any folder of its suite (its `remotes/` are fixtures of those cases). The
config's `schemas:` reads every file of one folder, so a folder is taken only when every JSON or
YAML file under it is a schema."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ..ids import schema_id
from ..sources.schemas import SCHEMA_SUFFIXES
from .walk import Source

MAX_CASES_LOOKED = 50  # items of a list looked at to tell a test suite's case file
# how far above a case file its suite may start (`suite/tests/draft7/x.json`): every folder of
# the suite is left out, its `remotes/` too
CASE_FOLDERS_UP = 2


@dataclass(frozen=True)
class SchemaFolder:
    """A folder of schemas found in a source."""

    source: Source
    folder: str  # relative to the source's root; "" for the root itself
    count: int
    duplicates: bool  # two files of it have one schema id: the reader takes only the first

    @property
    def rank(self) -> tuple[bool, bool, int, int, str]:
        """How good a choice it is, best first: ids unique, named for schemas, most schemas."""
        named = "schema" in PurePosixPath(self.folder).name.lower()
        return (self.duplicates, not named, -self.count, self.folder.count("/"), self.folder)


def is_case_file(data: Any) -> bool:
    """A JSON-Schema-Test-Suite case file: a list of `{description, schema, tests}`."""
    items = data[:MAX_CASES_LOOKED] if isinstance(data, list) else []
    return bool(items) and all(
        isinstance(item, dict) and "schema" in item and "tests" in item for item in items
    )


# the keywords of JSON Schema (drafts 04 to 2020-12) an object schema is made of
KEYWORDS = frozenset({
    "$schema", "$id", "id", "$ref", "$defs", "definitions", "$comment", "$anchor",
    "$dynamicRef", "$dynamicAnchor", "$vocabulary", "title", "description", "default",
    "examples", "deprecated", "readOnly", "writeOnly", "type", "enum", "const", "properties",
    "patternProperties", "additionalProperties", "required", "propertyNames", "minProperties",
    "maxProperties", "dependencies", "dependentRequired", "dependentSchemas", "items",
    "prefixItems", "additionalItems", "contains", "minItems", "maxItems", "uniqueItems",
    "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "format", "pattern", "minLength",
    "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
    "unevaluatedProperties", "unevaluatedItems",
})  # fmt: skip
SHAPING = ("type", "$ref", "properties", "$defs", "definitions", "oneOf", "anyOf", "allOf")


def is_schema(data: Any) -> bool:
    """A JSON Schema, by its `$schema` or plainly by its keywords (an instance, a list, a test
    suite's case file are none)."""
    if not isinstance(data, dict):
        return False
    declared = data.get("$schema")
    if isinstance(declared, str):
        return "json-schema.org/" in declared
    nested = any(isinstance(data.get(key), dict) for key in ("properties", "$defs", "definitions"))
    if nested and any(key in data for key in ("type", "$ref", "title", "description")):
        return True
    keywords = all(str(key) in KEYWORDS or str(key).startswith("x-") for key in data)
    return keywords and any(key in data for key in SHAPING)


def _kind(source: Source, name: str) -> str:
    """`schema`, `case` (a test suite's), or `other` for a JSON or YAML file."""
    if not name.lower().endswith(".json"):
        text = source.text(name)  # most YAML is no schema: parsed only when it may be one
        if text is None or ("$schema" not in text and "properties:" not in text):
            return "other"
    data = source.data(name)
    if is_case_file(data):
        return "case"
    return "schema" if is_schema(data) else "other"


def _folder(path: PurePosixPath) -> str:
    return "" if str(path) == "." else str(path)


def _hidden(name: str) -> bool:
    return any(part.startswith(".") for part in PurePosixPath(name).parts)


def schema_folders(source: Source) -> tuple[list[SchemaFolder], list[str]]:
    """The widest folders of a source whose every JSON or YAML file is a schema, best first;
    and the folders of the test suites left out."""
    kinds = {
        name: _kind(source, name)
        for name in source.files
        if name.lower().endswith(SCHEMA_SUFFIXES) and not _hidden(name)
    }
    schemas: dict[str, list[str]] = defaultdict(list)
    impure: set[str] = set()
    tainted: set[str] = set()  # a test suite's folders
    for name, kind in kinds.items():
        folders = [_folder(p) for p in PurePosixPath(name).parents]
        for folder in folders:
            if kind == "schema":
                schemas[folder].append(schema_id(Path(name)))
            else:
                impure.add(folder)
        if kind == "case":
            tainted.update(folders[: 1 + CASE_FOLDERS_UP])

    def usable(folder: str) -> bool:
        inside = [folder, *(_folder(p) for p in PurePosixPath(folder).parents)]
        return folder not in impure and not tainted.intersection(inside) and bool(schemas[folder])

    found = [
        SchemaFolder(source, folder, len(ids), len(set(ids)) < len(ids))
        for folder, ids in list(schemas.items())
        if usable(folder) and (not folder or not usable(_folder(PurePosixPath(folder).parent)))
    ]
    suites = sorted(f for f in tainted if f and _folder(PurePosixPath(f).parent) not in tainted)
    return sorted(found, key=lambda f: f.rank), suites
