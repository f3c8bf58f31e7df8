"""The pipeline's JSON Schemas: read, resolved with `referencing`, flattened into options."""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import referencing
import referencing.exceptions
from referencing.jsonschema import DRAFT202012

from ..ids import schema_id
from ..model import Finding, Schema, Severity
from ..yamlload import Document, as_dict, load_data_file
from .schematree import (
    ROOT_ANCHOR,
    Walk,
    build_example,
    identity,
    make_option,
    resolve,
    walk_children,
    walk_definitions,
)

SCHEMA_SUFFIXES = (".json", ".yaml", ".yml")


@dataclass
class LoadedSchema:
    """A schema file as read: its id, where it is, its contents and line lookup."""

    id: str
    path: Path
    display: str
    document: Document

    @property
    def uri(self) -> str:
        return self.path.resolve().as_uri()


def _resource(contents: Any) -> referencing.Resource[Any]:
    try:
        return referencing.Resource.from_contents(contents, default_specification=DRAFT202012)
    except referencing.exceptions.CannotDetermineSpecification:
        return DRAFT202012.create_resource(contents)


def schema_files(folder: Path) -> list[Path]:
    """Every schema file under `folder`, sorted."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in SCHEMA_SUFFIXES and not p.name.startswith(".")
    )


def load_schemas(folder: Path, display: Any) -> tuple[list[LoadedSchema], list[Finding]]:
    """Load every schema file; a file that does not parse is a finding, not an error."""
    loaded: list[LoadedSchema] = []
    findings: list[Finding] = []
    seen: dict[str, str] = {}
    for path in schema_files(folder):
        shown = display(path)
        document, found = load_data_file(path, shown)
        findings.extend(found)
        if document is None:
            continue
        if not isinstance(document.data, dict | bool):
            findings.append(
                Finding(
                    "schema/invalid",
                    Severity.ERROR,
                    shown,
                    1,
                    "a schema must be an object (or a boolean)",
                    "wrap the schema in an object",
                )
            )
            continue
        sid = schema_id(path)
        if sid in seen:
            findings.append(
                Finding(
                    "schema/duplicate-id",
                    Severity.ERROR,
                    shown,
                    1,
                    f"schema id {sid!r} is already taken by {seen[sid]}",
                    "rename one of the two files",
                )
            )
            continue
        seen[sid] = shown
        loaded.append(LoadedSchema(sid, path, shown, document))
    return loaded, findings


def build_registry(schemas: list[LoadedSchema]) -> referencing.Registry[Any]:
    """One registry holding every schema under its file URI and its own `$id`."""
    registry: referencing.Registry[Any] = referencing.Registry()
    for schema in schemas:
        resource = _resource(schema.document.data)
        pairs = [(schema.uri, resource)]
        try:
            own = resource.id()
        except AttributeError:
            own = None
        if own and own != schema.uri:
            pairs.append((own.rstrip("#"), resource))
        # Crawled once here (for `$id`s and `$anchor`s inside), not at every lookup. A schema too
        # malformed to crawl is registered as opaque: its pointers resolve, its inner ids do not,
        # and it cannot make every later lookup crawl (and fail) again.
        try:
            referencing.Registry().with_resources(pairs).crawl()
        except Exception:  # referencing meets lists where it expects schemas
            pairs = [(uri, referencing.Resource.opaque(res.contents)) for uri, res in pairs]
        registry = registry.with_resources(pairs).crawl()
    return registry


@functools.cache
def _meta_validator(cls: Any) -> Any:
    """One validator per draft: building it resolves the whole metaschema, which is not cheap."""
    return cls(cls.META_SCHEMA)


def _metaschema_findings(schema: LoadedSchema) -> list[Finding]:
    data = schema.document.data
    if isinstance(data, bool):
        return []
    try:
        cls = jsonschema.validators.validator_for(data, default=jsonschema.Draft202012Validator)
    except Exception:
        cls = jsonschema.Draft202012Validator
    findings = []
    for error in itertools.islice(_meta_validator(cls).iter_errors(data), 20):
        findings.append(
            Finding(
                "schema/invalid",
                Severity.ERROR,
                schema.display,
                schema.document.line(tuple(error.absolute_path)),
                f"not a valid schema: {error.message[:200]}",
                "fix the keyword so that validators read the schema as intended",
            )
        )
    return findings


def _draft(data: Any) -> str:
    value = data.get("$schema") if isinstance(data, dict) else None
    for marker, name in (
        ("draft-04", "draft-04"),
        ("draft-06", "draft-06"),
        ("draft-07", "draft-07"),
        ("2019-09", "2019-09"),
        ("2020-12", "2020-12"),
    ):
        if isinstance(value, str) and marker in value:
            return name
    return "2020-12 (no $schema)" if not value else str(value)


_SHAPES = (
    "type",
    "properties",
    "allOf",
    "anyOf",
    "oneOf",
    "$ref",
    "items",
    "enum",
    "const",
    "examples",
)


def _example(walk: Walk, data: dict[str, Any], resolver: Any) -> tuple[Any, bool]:
    """An example that validates: the fuller one if it does, else the one with required keys."""
    if not any(k in data for k in _SHAPES):
        return None, False  # definitions only: there is no document to give an example of
    try:
        cls = jsonschema.validators.validator_for(data, default=jsonschema.Draft202012Validator)
        validator = cls(data, registry=walk_registry(resolver))
    except Exception:
        return None, False
    for full in (True, False):
        try:
            example = build_example(data, resolver, walk, full=full)
            if example is not None and validator.is_valid(example):
                return example, True
        except Exception:
            continue
    return None, False


def walk_registry(resolver: Any) -> Any:
    return resolver._registry


def read_schema(
    loaded: LoadedSchema, registry: referencing.Registry[Any], check: bool = True
) -> tuple[Schema, list[Finding]]:
    """Flatten one schema into its options, with findings for what is wrong in it."""
    walk = Walk(loaded.id, loaded.display, loaded.document.line)
    data = as_dict(loaded.document.data)
    resolver = registry.resolver(base_uri=loaded.uri)
    root = resolve(walk, data, resolver, 1)
    pointer = () if root.uri is None else None
    root_option = make_option(walk, "", root, False, 0, 1)
    walk.anchors.discard(root_option.anchor)
    stack = frozenset(root.chain)
    walk.expanded[identity(data)] = ROOT_ANCHOR  # `$ref: "#"` leads back to the whole schema
    root.mark(walk.expanded, ROOT_ANCHOR)
    walk_children(walk, root.node, root.resolver, "", 0, pointer, stack=stack)
    walk_definitions(walk, data, resolver)
    example, has_example = _example(walk, data, resolver)
    findings = (_metaschema_findings(loaded) if check else []) + walk.findings
    for option in walk.options:
        if option.definition and option.depth == 0:
            continue  # a definition's own description is optional; its options' are not
        # an option with no line here is defined in another file, which reports it itself
        if not option.description.strip() and not option.same_as and option.line is not None:
            findings.append(
                Finding(
                    "schema/missing-description",
                    Severity.ERROR,
                    loaded.display,
                    option.line,
                    f"option {option.path} has no description",
                    "add a `description` that says what the option does and when to set it",
                )
            )
        if option.deprecated and not option.deprecated_message:
            findings.append(
                Finding(
                    "schema/deprecated-without-message",
                    Severity.WARNING,
                    loaded.display,
                    option.line,
                    f"option {option.path} is deprecated without `x-deprecated-message`",
                    "say what to use instead in `x-deprecated-message`",
                )
            )
    description = str(data.get("markdownDescription") or data.get("description") or "")
    schema = Schema(
        id=loaded.id,
        file=loaded.display,
        title=str(data.get("title") or loaded.id),
        description=description,
        options=tuple(walk.options),
        example=example,
        has_example=has_example,
        root=root_option,
        draft=_draft(data),
    )
    return schema, findings


def read_schema_folder(
    folder: Path | None, display: Any, check: bool = True
) -> tuple[list[LoadedSchema], list[Schema], list[Finding]]:
    """Every schema of the folder, as loaded and flattened; findings for what could not be read."""
    if folder is None:
        return [], [], []
    loaded, findings = load_schemas(folder, display)
    registry = build_registry(loaded)
    schemas = []
    for item in loaded:
        try:
            schema, found = read_schema(item, registry, check)
        except RecursionError:
            findings.append(Finding(
                "schema/invalid", Severity.ERROR, item.display, 1,
                "schema nested too deep to document", "flatten the schema with definitions and $ref",
            ))  # fmt: skip
            continue
        schemas.append(schema)
        findings.extend(found)
    return loaded, schemas, findings


def read_schemas(folder: Path | None, display: Any) -> tuple[list[Schema], list[Finding]]:
    """Every schema of the folder, flattened; findings for whatever could not be read."""
    _, schemas, findings = read_schema_folder(folder, display)
    return schemas, findings


__all__ = ["LoadedSchema", "build_registry", "load_schemas", "read_schema_folder", "read_schemas"]
