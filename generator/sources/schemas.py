"""The pipeline's JSON Schemas: read, resolved with `referencing`, flattened into options."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import referencing
import referencing.exceptions
from referencing.jsonschema import DRAFT202012, specification_with

from ..ids import anchor, schema_id
from ..model import Finding, Option, Pitfall, Schema, Severity
from ..yamlload import Document, as_list, load_data_file

SCHEMA_SUFFIXES = (".json", ".yaml", ".yml")
MAX_OPTIONS = 20_000


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
    pairs: list[tuple[str, referencing.Resource[Any]]] = []
    for schema in schemas:
        resource = _resource(schema.document.data)
        pairs.append((schema.uri, resource))
        own = resource.id()
        if own and own != schema.uri:
            pairs.append((own.rstrip("#"), resource))
    registry: referencing.Registry[Any] = referencing.Registry().with_resources(pairs)
    return registry


@dataclass
class _Walk:
    """State of one schema's flattening."""

    schema: LoadedSchema
    registry: referencing.Registry[Any]
    options: list[Option] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    anchors: set[str] = field(default_factory=set)
    reported_refs: set[str] = field(default_factory=set)
    by_path: dict[str, int] = field(default_factory=dict)
    expanded: dict[str, str] = field(default_factory=dict)  # ref target -> anchor of first use


def _types(node: dict[str, Any]) -> tuple[str, ...]:
    value = node.get("type")
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    if "properties" in node:
        return ("object",)
    if "items" in node:
        return ("array",)
    if "enum" in node and isinstance(node["enum"], list) and node["enum"]:
        return tuple(sorted({type(v).__name__.replace("str", "string") for v in node["enum"]}))
    return ()


def _pitfalls(node: dict[str, Any]) -> tuple[Pitfall, ...]:
    raw = node.get("x-pitfalls")
    if not isinstance(raw, list):
        return ()
    result = []
    for item in raw:
        if isinstance(item, dict) and item.get("text"):
            severity = (
                "danger" if item.get("severity") in ("danger", "error", "critical") else "warning"
            )
            result.append(Pitfall(severity, str(item["text"])))
        elif isinstance(item, str):
            result.append(Pitfall("warning", item))
    return tuple(result)


def _resolve(
    walk: _Walk, node: dict[str, Any], resolver: referencing._core.Resolver[Any], line: int
) -> tuple[dict[str, Any] | None, referencing._core.Resolver[Any], str | None]:
    """Follow `$ref` chains; return the target, its resolver and its URI (None if unresolved)."""
    seen: set[str] = set()
    uri: str | None = None
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        try:
            resolved = resolver.lookup(ref)
        except Exception:
            if ref.startswith(("http://", "https://")) and ref not in walk.reported_refs:
                walk.reported_refs.add(ref)
                walk.findings.append(
                    Finding(
                        "schema/remote-ref",
                        Severity.INFO,
                        walk.schema.display,
                        line,
                        f"$ref to {ref} is not fetched; it is shown as a link",
                        "put the referenced schema in the schemas folder to document it here",
                    )
                )
            elif not ref.startswith(("http://", "https://")) and ref not in walk.reported_refs:
                walk.reported_refs.add(ref)
                walk.findings.append(
                    Finding(
                        "schema/unresolved-ref",
                        Severity.ERROR,
                        walk.schema.display,
                        line,
                        f"$ref {ref!r} cannot be resolved",
                        "check the pointer and that the file is in the schemas folder",
                    )
                )
            return None, resolver, None
        uri = resolver._base_uri + "|" + ref  # identity of the target, for cycle detection
        if uri in seen:
            return None, resolver, None
        seen.add(uri)
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        node = resolved.contents if isinstance(resolved.contents, dict) else {}
        if siblings:
            node = {**node, **siblings}
        resolver = resolved.resolver
    return node, resolver, uri


def _children(node: dict[str, Any]) -> Iterator[tuple[str, Any, bool, tuple[str | int, ...]]]:
    """(path suffix, subschema, required, pointer into the node) for each child option."""
    required = as_list(node.get("required"))
    properties = node.get("properties")
    if isinstance(properties, dict):
        for name, sub in properties.items():
            yield f".{name}", sub, name in required, ("properties", name)
    patterns = node.get("patternProperties")
    if isinstance(patterns, dict):
        for pattern, sub in patterns.items():
            yield f".<{pattern}>", sub, False, ("patternProperties", pattern)
    additional = node.get("additionalProperties")
    if isinstance(additional, dict):
        yield ".<name>", additional, False, ("additionalProperties",)
    items = node.get("items")
    if isinstance(items, dict):
        yield "[]", items, False, ("items",)
    elif isinstance(items, list):
        for index, sub in enumerate(items):
            yield f"[{index}]", sub, False, ("items", index)
    prefix = node.get("prefixItems")
    if isinstance(prefix, list):
        for index, sub in enumerate(prefix):
            yield f"[{index}]", sub, False, ("prefixItems", index)
    for keyword in ("allOf", "anyOf", "oneOf"):
        branches = node.get(keyword)
        if isinstance(branches, list):
            for index, sub in enumerate(branches):
                yield "", sub, False, (keyword, index)
    for keyword in ("then", "else", "if"):
        if isinstance(node.get(keyword), dict):
            yield "", node[keyword], False, (keyword,)
    defs = node.get("dependentSchemas")
    if isinstance(defs, dict):
        for name, sub in defs.items():
            yield "", sub, False, ("dependentSchemas", name)


def _option(
    walk: _Walk,
    path: str,
    node: dict[str, Any],
    required: bool,
    depth: int,
    line: int | None,
    same_as: str = "",
) -> Option:
    unique = anchor(path)
    base, count = unique, 1
    while unique in walk.anchors:
        count += 1
        unique = f"{base}-{count}"
    walk.anchors.add(unique)
    enum = as_list(node.get("enum")) or ([node["const"]] if "const" in node else [])
    examples = as_list(node.get("examples")) or ([node["example"]] if "example" in node else [])
    description = (
        node.get("markdownDescription") or node.get("description") or node.get("title") or ""
    )
    return Option(
        schema_id=walk.schema.id,
        path=path,
        anchor=unique,
        depth=depth,
        types=_types(node),
        required=required,
        description=str(description),
        default=node.get("default"),
        has_default="default" in node,
        enum=tuple(enum),
        examples=tuple(examples),
        deprecated=node.get("deprecated") is True,
        deprecated_message=str(node.get("x-deprecated-message") or ""),
        since=str(node.get("x-since") or ""),
        pitfalls=_pitfalls(node),
        line=line,
        same_as=same_as,
    )


def _walk(
    walk: _Walk,
    node: Any,
    resolver: Any,
    path: str,
    depth: int,
    pointer: tuple[str | int, ...],
    stack: tuple[str, ...],
    own: bool,
) -> None:
    """Add the children of `node` as options, depth first; `stack` holds refs being expanded."""
    if not isinstance(node, dict) or len(walk.options) >= MAX_OPTIONS:
        return
    by_path = walk.by_path
    for suffix, child, required, key in _children(node):
        line = walk.schema.document.line((*pointer, *key)) if own else None
        target, child_resolver, uri = _resolve(walk, child, resolver, line or 1)
        child_own = own and uri is None
        child_pointer = (*pointer, *key)
        if target is None:
            target = child if isinstance(child, dict) else {}
        if not suffix:  # a composition branch: its options belong to this level
            if uri is not None and uri in stack:
                continue
            _walk(
                walk,
                target,
                child_resolver,
                path,
                depth,
                child_pointer,
                (*stack, uri) if uri else stack,
                child_own,
            )
            continue
        child_path = f"{path}{suffix}" if path or not suffix.startswith(".") else suffix[1:]
        if suffix == "[]" or suffix.startswith("[") or not _is_documentable(target):
            _walk(
                walk,
                target,
                child_resolver,
                child_path,
                depth,
                child_pointer,
                (*stack, uri) if uri else stack,
                child_own,
            )
            continue
        if child_path in by_path:
            continue  # already listed through another branch
        same_as = walk.expanded.get(uri, "") if uri is not None else ""
        option = _option(walk, child_path, target, required, depth, line, same_as)
        walk.options.append(option)
        by_path[child_path] = len(walk.options) - 1
        if same_as:
            continue  # recursion, or a definition already shown: linked, not expanded again
        if uri is not None:
            walk.expanded[uri] = option.anchor
        _walk(
            walk,
            target,
            child_resolver,
            child_path,
            depth + 1,
            child_pointer,
            (*stack, uri) if uri else stack,
            child_own,
        )


def _is_documentable(node: dict[str, Any]) -> bool:
    return isinstance(node, dict)


def _metaschema_findings(schema: LoadedSchema) -> list[Finding]:
    data = schema.document.data
    if isinstance(data, bool):
        return []
    try:
        cls = jsonschema.validators.validator_for(data, default=jsonschema.Draft202012Validator)
    except Exception:
        cls = jsonschema.Draft202012Validator
    findings = []
    for error in list(cls(cls.META_SCHEMA).iter_errors(data))[:20]:
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


def read_schema(
    loaded: LoadedSchema, registry: referencing.Registry[Any]
) -> tuple[Schema, list[Finding]]:
    """Flatten one schema into its options, with findings for what is wrong in it."""
    walk = _Walk(loaded, registry)
    data = loaded.document.data if isinstance(loaded.document.data, dict) else {}
    resolver = registry.resolver(base_uri=loaded.uri)
    root, resolver, uri = _resolve(walk, data, resolver, 1)
    _walk(walk, root or data, resolver, "", 0, (), (uri,) if uri else (), uri is None)
    findings = _metaschema_findings(loaded) + walk.findings
    for option in walk.options:
        if not option.description.strip():
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
    )
    return schema, findings


def read_schemas(folder: Path | None, display: Any) -> tuple[list[Schema], list[Finding]]:
    """Every schema of the folder, flattened; findings for whatever could not be read."""
    if folder is None:
        return [], []
    loaded, findings = load_schemas(folder, display)
    registry = build_registry(loaded)
    schemas = []
    for item in loaded:
        schema, found = read_schema(item, registry)
        schemas.append(schema)
        findings.extend(found)
    return schemas, findings


__all__ = ["LoadedSchema", "build_registry", "load_schemas", "read_schemas", "specification_with"]
