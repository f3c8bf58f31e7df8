"""Config files checked against the pipeline's schemas: invalid values, undocumented options in
use, deprecated options in use. The same checks serve `check` (environment.yml, bundle.yml,
files `validate:` maps) and `validate` (any file, in any repo's CI)."""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import referencing

from . import forked
from .ids import schema_id
from .kept import Kept
from .limits import Limits
from .model import Finding, Option, Schema, Severity
from .sources.schemas import (
    LoadedSchema,
    bounded_errors,
    build_registry,
    load_schemas,
    pattern_search,
    read_schema,
    validation_hazard,
    validation_steps,
    validator_class,
)
from .yamlload import Document, YamlPath, as_dict, load_data_file

FORMATS = ("environment", "bundle")  # the pipeline's own formats, built in unless overridden


@dataclass
class _Node:
    """One option in the tree the checks walk a config file along."""

    option: Option | None = None
    children: dict[str, _Node] = field(default_factory=dict)
    alias: _Node | None = None  # an option shown as the same definition as another

    def target(self) -> _Node:
        node, hops = self, 0
        while node.alias is not None and hops < 16:
            node, hops = node.alias, hops + 1
        return node

    def child(self, key: str | int) -> _Node | None:
        node = self.target()
        if isinstance(key, int):
            return node.children.get("[]") or node.children.get(f"[{key}]")
        if key in node.children:
            return node.children[key]
        return next((c for name, c in node.children.items() if name.startswith("<name")), None)

    def open(self) -> bool:
        """No option below it is documented: what it holds is free-form, not unknown."""
        return not self.target().children


def _tree(schema: Schema) -> _Node:
    root = _Node()
    by_anchor: dict[str, _Node] = {}
    for option in schema.options:
        if option.definition or not option.segments:
            continue
        node = root
        for part in option.segments:
            node = node.children.setdefault(part, _Node())
        node.option = option
        by_anchor[option.anchor] = node
    for node in by_anchor.values():
        if node.option is not None and node.option.same_as in by_anchor:
            node.alias = by_anchor[node.option.same_as]
    return root


@dataclass
class Validator:
    """Schemas by id, ready to check documents against."""

    loaded: dict[str, LoadedSchema]
    schemas: dict[str, Schema]
    registry: referencing.Registry[Any]
    trees: dict[str, _Node] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    hazards: dict[str, Finding | None] = field(default_factory=dict)

    def _hazard(self, schema_id: str) -> Finding | None:
        """Why validation against a schema would not end (reported where the schema is read)."""
        if schema_id not in self.hazards:
            loaded = self.loaded[schema_id]
            resolver = self.registry.resolver(base_uri=loaded.uri)
            steps = validation_steps(self.limits)
            self.hazards[schema_id] = validation_hazard(loaded, resolver, steps)
        return self.hazards[schema_id]

    def _tree(self, schema_id: str) -> _Node:
        if schema_id not in self.trees:
            self.trees[schema_id] = _tree(self.schemas[schema_id])
        return self.trees[schema_id]

    def known(self, schema_id: str) -> bool:
        return schema_id in self.loaded

    def check_kept(
        self, kept: Kept, digest: str, document: Document, schema_id: str, what: str = ""
    ) -> list[Finding]:
        """`check`, or what it found before for a document of the same file whose text had this
        sha256 (`digest`), kept in `kept` (whose salt holds the schemas and limits)."""
        with self.check_kept_aside(kept, digest, document, schema_id, what) as checked:
            return checked()

    @contextlib.contextmanager
    def check_kept_aside(
        self, kept: Kept, digest: str, document: Document, schema_id: str, what: str = "",
        worth: bool = False,
    ) -> Iterator[Callable[[], list[Finding]]]:  # fmt: skip
        """`check_kept`, done in a forked child while the block runs when nothing is kept and
        it is `worth` one (`forked.findings_aside`); the block's function gives its findings
        (once), kept as `check_kept` keeps them."""
        parts = ("check", document.file, digest, schema_id, what)
        found = kept.kept_findings(*parts)
        check = functools.partial(self.check, document, schema_id, what)
        with forked.findings_aside(check, found is None and worth) as aside:

            def findings() -> list[Finding]:
                if found is not None:
                    return found
                made = aside()
                kept.put_findings(made, *parts)
                return made

            yield findings

    def check(self, document: Document, schema_id: str, what: str = "") -> list[Finding]:
        """Findings for one document: invalid values, unknown and deprecated options."""
        loaded = self.loaded[schema_id]
        data = loaded.document.data
        label = f"{what} " if what else ""
        findings: list[Finding] = []
        steps = validation_steps(self.limits)
        errors: list[Any] = []
        if self._hazard(schema_id) is not None:
            findings.append(Finding(
                "limits/too-many", Severity.WARNING, document.file, document.start_line,
                f"{label}not validated: validation against schema {schema_id} would not end "
                "(see the schema's finding)", "fix the schema",
            ))  # fmt: skip
        else:
            try:
                validator = validator_class(data)(data, registry=self.registry)
                errors, complete = bounded_errors(validator, document.data, steps)
            except Exception as problem:  # a broken schema is reported where it is read
                return [Finding("config/invalid", Severity.ERROR, document.file, document.start_line,
                                f"cannot check against schema {schema_id}: {problem}")]  # fmt: skip
            if not complete:
                findings.append(Finding(
                    "limits/too-many", Severity.WARNING, document.file, document.start_line,
                    f"{label}validation against schema {schema_id} took more than {steps} steps "
                    "(50 x limits.options): the rest is not checked",
                    "simplify the schema, or raise `limits.options` in the config",
                ))  # fmt: skip
        unknown: set[YamlPath] = set()
        for error in errors:
            path = tuple(error.absolute_path)
            if error.validator in ("additionalProperties", "unevaluatedProperties") and isinstance(
                error.instance, dict
            ):
                # Decided along the option tree, which knows patternProperties and the
                # options allOf and $ref compose: the error only says which keys to look at.
                node = _node_at(self._tree(schema_id), path)
                patterns = list(as_dict(as_dict(error.schema).get("patternProperties")))
                for key in sorted(map(str, error.instance)):
                    named = node is not None and key in node.target().children
                    matched = any(_matches(p, key) for p in patterns)
                    if (
                        node is None
                        or node.open()
                        or node.child(key) is None
                        or not (named or matched)
                    ):
                        unknown.add((*path, key))
                continue
            where = _show(path)
            findings.append(Finding(
                "config/invalid", Severity.ERROR, document.file, document.line(path),
                f"{label}{where}: {error.message[:300]}", f"fix the value to match schema {schema_id}",
            ))  # fmt: skip
        _walk(document.data, self._tree(schema_id), (), unknown, findings, document, label)
        for path in sorted(unknown, key=lambda p: (document.line(p), _show(p))):
            findings.append(Finding(
                "config/unknown-option", Severity.ERROR, document.file, document.line(path),
                f"{label}{_show(path)} is not an option of schema {schema_id}: it is undocumented",
                "fix the name, or document the option in the schema before using it",
            ))  # fmt: skip
        return findings


def _matches(pattern: str, key: str) -> bool:
    return pattern_search(pattern, key)  # RE2 where it accepts the pattern: no backtracking


def _node_at(root: _Node, path: YamlPath) -> _Node | None:
    node: _Node | None = root
    for part in path:
        node = node.child(part) if node is not None else None
    return node


def _show(path: YamlPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _walk(value: Any, node: _Node, path: YamlPath, unknown: set[YamlPath], findings: list[Finding],
          document: Document, label: str) -> None:  # fmt: skip
    """Every key of the document along the option tree: unknown keys and deprecated options."""
    option = node.target().option or node.option
    if path and option is not None and option.deprecated:
        findings.append(Finding(
            "config/deprecated-option", Severity.WARNING, document.file, document.line(path),
            f"{label}{_show(path)} is deprecated: {option.deprecated_message or 'see its reference'}",
            option.deprecated_message or "stop using it before it is removed",
        ))  # fmt: skip
    if node.open():
        return
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child_value in items:
        child = node.child(key)
        child_path = (*path, key)
        if child is None:
            if isinstance(key, str):
                unknown.add(child_path)
            continue
        _walk(child_value, child, child_path, unknown, findings, document, label)


def _builtin(name: str) -> Path:
    return Path(str(resources.files("generator"))) / "formats" / f"{name}.schema.json"


def make_validator(
    loaded: list[LoadedSchema], schemas: list[Schema], limits: Limits | None = None
) -> Validator:
    """A validator over the pipeline's schemas, with the built-in formats they do not replace."""
    by_id = {item.id: item for item in loaded}
    flat = {schema.id: schema for schema in schemas}
    extra = []
    for name in FORMATS:
        if name not in by_id:
            builtin, _ = load_schemas(_builtin(name).parent, lambda p: f"(built-in) {p.name}")
            extra += [item for item in builtin if item.id == name]
    registry = build_registry([*loaded, *extra])
    for item in extra:
        by_id[item.id] = item
        flat[item.id], _ = read_schema(item, registry, limits=limits)
    return Validator(by_id, flat, registry, limits=limits or Limits())


def builtin_format(name: str) -> dict[str, Any]:
    """A format schema shipped with the package: `environment` or `bundle`."""
    data: dict[str, Any] = json.loads(_builtin(name).read_text("utf-8"))
    return data


def schema_file_validator(path: Path) -> Validator:
    """A validator for one schema file: the file itself, with the files beside it for its `$ref`s
    (never one of them in its place, even with the same id)."""
    target = path.resolve()
    siblings = [p for p in sorted(target.parent.iterdir()) if p.is_file() and p != target]
    loaded: list[LoadedSchema] = []
    for candidate in [target, *siblings]:
        if candidate.suffix.lower() not in (".json", ".yaml", ".yml"):
            continue
        document, _ = load_data_file(candidate, candidate.name)
        sid = schema_id(candidate)
        if (
            document is not None
            and isinstance(document.data, dict)
            and all(i.id != sid for i in loaded)
        ):
            loaded.append(LoadedSchema(sid, candidate, candidate.name, document))
    registry = build_registry(loaded)
    own = loaded[0] if loaded and loaded[0].path == target else None
    flat = {own.id: read_schema(own, registry)[0]} if own is not None else {}
    return Validator({own.id: own} if own is not None else {}, flat, registry)
