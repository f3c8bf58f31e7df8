"""The pipeline's JSON Schemas: read, resolved with `referencing`, flattened into options."""

from __future__ import annotations

import contextvars
import functools
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import referencing
import referencing.exceptions
from jsonschema.exceptions import ValidationError
from referencing.jsonschema import DRAFT202012

from ..ids import schema_id
from ..kept import Kept
from ..limits import Limits
from ..model import Finding, Schema, Severity
from ..yamlload import Document, as_dict, as_list, input_regex, load_data_file
from .schematree import (
    ROOT_ANCHOR,
    Walk,
    build_example,
    identity,
    make_option,
    resolve,
    scoped,
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
    except (referencing.exceptions.CannotDetermineSpecification, AttributeError, TypeError):
        return DRAFT202012.create_resource(contents)  # no `$schema`, or not a string (`[]`)


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


# -- validation that ends: every keyword counts against a budget, patterns run on RE2 ----------

STEPS_PER_OPTION = 50  # keywords one validation may evaluate, per option `limits.options` allows


class TooMuchWork(Exception):
    """A validation evaluated more keywords than its budget allows."""


_BUDGET: contextvars.ContextVar[list[int]] = contextvars.ContextVar("validation_budget")


def validation_steps(limits: Limits) -> int:
    """The keywords one validation may evaluate: enough for a schema of `limits.options`
    options, checked against a file that uses them all."""
    return STEPS_PER_OPTION * limits.options


def pattern_search(pattern: str, text: str) -> bool:
    """A schema's regex searched in `text`: by RE2 (linear) when it accepts it, else (a look-around
    ECMA allows and RE2 does not) by Python's `re`."""
    compiled = input_regex(pattern)
    if compiled is not None:
        return compiled.search(text) is not None
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False


def _pattern(validator: Any, pattern: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not pattern_search(str(pattern), instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator: Any, patterns: Any, instance: Any,
                        schema: Any) -> Iterator[ValidationError]:  # fmt: skip
    if not validator.is_type(instance, "object") or not isinstance(patterns, dict):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if pattern_search(str(pattern), str(key)):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator: Any, additional: Any, instance: Any,
                           schema: Any) -> Iterator[ValidationError]:  # fmt: skip
    if not validator.is_type(instance, "object"):
        return
    named = as_dict(schema.get("properties"))
    patterns = [str(p) for p in as_dict(schema.get("patternProperties"))]
    extras = [
        k
        for k in instance
        if k not in named and not any(pattern_search(p, str(k)) for p in patterns)
    ]
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif additional is False and extras:
        shown = ", ".join(repr(e) for e in sorted(map(str, extras)))
        yield ValidationError(f"Additional properties are not allowed ({shown} unexpected)")


def _counted(keyword: Any) -> Any:
    def counted(validator: Any, value: Any, instance: Any, schema: Any) -> Any:
        budget = _BUDGET.get(None)
        if budget is not None:
            budget[0] -= 1
            if budget[0] < 0:
                raise TooMuchWork
        return keyword(validator, value, instance, schema)

    return counted


_OVERRIDES = {"pattern": _pattern, "patternProperties": _pattern_properties,
              "additionalProperties": _additional_properties}  # fmt: skip


@functools.cache
def bounded(cls: Any) -> Any:
    """`cls` (a jsonschema validator class) whose keywords count against the budget of
    `bounded_errors`, and whose `pattern`s run on RE2: a schema cannot make a validation
    backtrack, nor recurse or branch for ever."""
    keywords = {name: _counted(_OVERRIDES.get(name, keyword))
                for name, keyword in cls.VALIDATORS.items()}  # fmt: skip
    return jsonschema.validators.extend(cls, validators=keywords)  # type: ignore[no-untyped-call]


def bounded_errors(validator: Any, instance: Any, steps: int,
                   most: int | None = None) -> tuple[list[Any], bool]:  # fmt: skip
    """The validation errors of `instance` (at most `most`), and whether the validation ended
    within `steps` keywords (False: the errors found until then)."""
    errors: list[Any] = []
    token = _BUDGET.set([steps])
    try:
        for error in validator.iter_errors(instance):
            errors.append(error)
            if most is not None and len(errors) >= most:
                break
    except (TooMuchWork, RecursionError):
        return errors, False
    finally:
        _BUDGET.reset(token)
    return errors, True


def validator_class(data: Any) -> Any:
    """The bounded validator class for a schema, by its `$schema`."""
    try:
        cls = jsonschema.validators.validator_for(data, default=jsonschema.Draft202012Validator)
    except Exception:
        cls = jsonschema.Draft202012Validator
    return bounded(cls)


# -- schemas that validation cannot end on ---------------------------------------------------

_SAME_PLACE_LISTS = ("allOf", "anyOf", "oneOf")
_SAME_PLACE = ("not", "if", "then", "else")
_BELOW = ("additionalProperties", "items", "contains", "propertyNames", "additionalItems",
          "unevaluatedItems", "unevaluatedProperties")  # fmt: skip


def _same_place(node: dict[str, Any], resolver: Any) -> Iterator[tuple[Any, Any]]:
    """The subschemas a validator applies to the same value as `node`, `$ref` targets included."""
    for keyword in ("$ref", "$dynamicRef"):
        if isinstance(node.get(keyword), str):
            try:
                found = resolver.lookup(node[keyword])
            except Exception:  # unresolved: reported by the walk
                continue
            if isinstance(found.contents, dict):
                yield found.contents, scoped(found.resolver, found.contents)
    for keyword in _SAME_PLACE_LISTS:
        for sub in as_list(node.get(keyword)):
            if isinstance(sub, dict):
                yield sub, scoped(resolver, sub)
    for keyword in _SAME_PLACE:
        if isinstance(node.get(keyword), dict):
            yield node[keyword], scoped(resolver, node[keyword])
    for sub in as_dict(node.get("dependentSchemas")).values():
        if isinstance(sub, dict):
            yield sub, scoped(resolver, sub)


def _below(node: dict[str, Any], resolver: Any) -> Iterator[tuple[Any, Any]]:
    """The subschemas applied to values inside the value `node` applies to."""
    subs: list[Any] = [*as_dict(node.get("properties")).values(),
                       *as_dict(node.get("patternProperties")).values(),
                       *as_list(node.get("prefixItems")),
                       *as_dict(node.get("dependencies")).values()]  # fmt: skip
    for keyword in _BELOW:
        value = node.get(keyword)
        subs += value if keyword == "items" and isinstance(value, list) else [value]
    for sub in subs:
        if isinstance(sub, dict):
            yield sub, scoped(resolver, sub)


def _pointers(data: Any) -> dict[int, tuple[str | int, ...]]:
    """Where each mapping of a document is, by identity."""
    found: dict[int, tuple[str | int, ...]] = {}
    todo: list[tuple[Any, tuple[str | int, ...]]] = [(data, ())]
    while todo:
        node, pointer = todo.pop()
        if isinstance(node, dict):
            found.setdefault(id(node), pointer)
            todo += [(v, (*pointer, k)) for k, v in node.items() if isinstance(v, dict | list)]
        elif isinstance(node, list):
            todo += [(v, (*pointer, i)) for i, v in enumerate(node) if isinstance(v, dict | list)]
    return found


def validation_hazard(loaded: LoadedSchema, resolver: Any, steps: int) -> Finding | None:
    """Why validating against this schema would never end, if it would: subschemas that apply
    each other to the same value in a cycle (through `$ref`, `allOf`, `oneOf`, `if`...), or that
    apply more than `steps` subschemas to one value (`allOf` of a `$ref` twice, nested: 2^n).
    Each subschema is counted once (memoised) and walked without recursion."""
    data = loaded.document.data
    if not isinstance(data, dict):
        return None
    pointers = _pointers(data)
    sizes: dict[int, int] = {}  # subschema -> subschemas it applies to its value, itself included

    def finding(node: Any, rule: str, message: str, hint: str) -> Finding:
        pointer = pointers.get(id(node))
        line = loaded.document.line(pointer) if pointer is not None else 1
        return Finding(rule, Severity.ERROR, loaded.display, line, message, hint)

    def size(start: dict[str, Any], start_resolver: Any) -> Finding | None:
        on_path = {id(start)}
        counts = {id(start): 1}
        stack = [(start, _same_place(start, start_resolver))]
        while stack:
            node, children = stack[-1]
            for child, child_resolver in children:
                if id(child) in on_path:
                    return finding(child, "schema/invalid", "subschemas apply each other to the "
                                   "same value in a cycle ($ref, allOf, anyOf, oneOf, not, "
                                   "if/then/else): validation against it never ends",
                                   "break the cycle: a $ref back to a definition must be below "
                                   "a property or an item")  # fmt: skip
                if id(child) in sizes:
                    counts[id(node)] += sizes[id(child)]
                    continue
                on_path.add(id(child))
                counts[id(child)] = 1
                stack.append((child, _same_place(child, child_resolver)))
                break
            else:
                stack.pop()
                on_path.discard(id(node))
                sizes[id(node)] = min(counts.pop(id(node)), steps + 1)
                if sizes[id(node)] > steps:
                    return finding(node, "limits/too-many", f"this subschema applies more than "
                                   f"{steps} subschemas to one value through $ref, allOf, anyOf, "
                                   "oneOf (the same definition again and again): no file is "
                                   "validated against this schema",
                                   "refer to each definition once; raise `limits.options` if "
                                   "the schema is really that big")  # fmt: skip
                if stack:
                    counts[id(stack[-1][0])] += sizes[id(node)]
        return None

    seen: set[int] = set()
    todo: list[tuple[Any, Any]] = [(data, scoped(resolver, data))]
    while todo:
        node, node_resolver = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if id(node) not in sizes:
            problem = size(node, node_resolver)
            if problem is not None:
                return problem
        todo += [*_same_place(node, node_resolver), *_below(node, node_resolver)]
    return None


@functools.cache
def _meta_validator(cls: Any) -> Any:
    """One validator per draft: building it resolves the whole metaschema, which is not cheap."""
    return bounded(cls)(cls.META_SCHEMA)


def _checked_against_metaschema(
    schema: LoadedSchema, steps: int, kept: Kept | None
) -> list[Finding]:
    if kept is None:
        return _metaschema_findings(schema, steps)
    text = json.dumps(schema.document.data, sort_keys=True, default=str)
    digest = hashlib.sha256(text.encode()).hexdigest()
    return kept.findings(lambda: _metaschema_findings(schema, steps), "metaschema",
                         schema.display, digest, steps)  # fmt: skip


def _metaschema_findings(schema: LoadedSchema, steps: int) -> list[Finding]:
    data = schema.document.data
    if isinstance(data, bool):
        return []
    try:
        cls = jsonschema.validators.validator_for(data, default=jsonschema.Draft202012Validator)
    except Exception:
        cls = jsonschema.Draft202012Validator
    findings = []
    errors, complete = bounded_errors(_meta_validator(cls), data, steps, 20)
    if not complete:
        findings.append(Finding(
            "limits/too-many", Severity.WARNING, schema.display, 1,
            f"the schema is too big to check against its metaschema in {steps} steps "
            "(50 x limits.options): the rest is not checked",
            "split the schema, or raise `limits.options` in the config",
        ))  # fmt: skip
    for error in errors:
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


def _example(walk: Walk, data: dict[str, Any], resolver: Any, steps: int) -> tuple[Any, bool]:
    """An example that validates: the fuller one if it does, else the one with required keys;
    none when it would hold no example or default of the schema (placeholders only)."""
    if not any(k in data for k in _SHAPES):
        return None, False  # definitions only: there is no document to give an example of
    try:
        validator = validator_class(data)(data, registry=walk_registry(resolver))
    except Exception:
        return None, False
    for full in (True, False):
        walk.written_values = 0
        try:
            example = build_example(data, resolver, walk, full=full)
        except Exception:
            continue
        if example is None or not walk.written_values:
            continue
        try:
            errors, complete = bounded_errors(validator, example, steps, 1)
        except Exception:  # a $ref validation cannot resolve
            continue
        if complete and not errors:
            return example, True
    return None, False


def walk_registry(resolver: Any) -> Any:
    return resolver._registry


def read_schema(
    loaded: LoadedSchema,
    registry: referencing.Registry[Any],
    check: bool = True,
    limits: Limits | None = None,
    kept: Kept | None = None,
) -> tuple[Schema, list[Finding]]:
    """Flatten one schema into its options, with findings for what is wrong in it. Its check
    against its metaschema is `kept` by the schema's content (it is the costly part)."""
    limits = limits or Limits()
    steps = validation_steps(limits)
    walk = Walk(loaded.id, loaded.display, loaded.document.line, max_options=limits.options,
                ref_depth=limits.ref_depth)  # fmt: skip
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
    hazard = validation_hazard(loaded, resolver, steps)
    example, has_example = (None, False) if hazard else _example(walk, data, resolver, steps)
    findings = (_checked_against_metaschema(loaded, steps, kept) if check else []) + walk.findings
    findings += [hazard] if hazard is not None and check else []
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
    folder: Path | None, display: Any, check: bool = True, limits: Limits | None = None,
    kept: Kept | None = None,
) -> tuple[list[LoadedSchema], list[Schema], list[Finding]]:  # fmt: skip
    """Every schema of the folder, as loaded and flattened; findings for what could not be read.
    `kept`: where the metaschema checks of earlier runs are kept."""
    if folder is None:
        return [], [], []
    loaded, findings = load_schemas(folder, display)
    registry = build_registry(loaded)
    schemas = []
    for item in loaded:
        try:
            schema, found = read_schema(item, registry, check, limits, kept)
        except RecursionError:
            findings.append(Finding(
                "schema/invalid", Severity.ERROR, item.display, 1,
                "schema nested too deep to document", "flatten the schema with definitions and $ref",
            ))  # fmt: skip
            continue
        schemas.append(schema)
        findings.extend(found)
    return loaded, schemas, findings


def read_schemas(
    folder: Path | None, display: Any, limits: Limits | None = None
) -> tuple[list[Schema], list[Finding]]:
    """Every schema of the folder, flattened; findings for whatever could not be read."""
    _, schemas, findings = read_schema_folder(folder, display, limits=limits)
    return schemas, findings


__all__ = [
    "LoadedSchema",
    "bounded_errors",
    "build_registry",
    "load_schemas",
    "read_schema_folder",
    "read_schemas",
    "validation_hazard",
    "validation_steps",
    "validator_class",
]
