"""A schema flattened into options: every property reachable from the root, then definitions.

Each referenced definition is shown in full where it is first met; later uses link back to it
(`same_as`), so recursive schemas end and shared definitions do not multiply the page.
Composition is kept visible: `allOf` branches merge into their parent, `oneOf`/`anyOf` branches
become alternatives whose options say which alternative they belong to, `if`/`then`/`else`,
`dependentSchemas` and `not` give their options a condition.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import referencing
from referencing.jsonschema import DRAFT202012

from ..ids import anchor
from ..model import Finding, Option, Pitfall, Severity
from ..yamlload import as_dict, as_list

MAX_OPTIONS = 20_000
MAX_VALUES = 1_000  # enum values and examples shown for one option
ROOT_ANCHOR = "_options"  # the heading above all options: where the whole schema is shown
PAGE_ANCHORS = ("_example", "_summary", "_options", "_definitions")  # the page's own headings
Pointer = tuple[str | int, ...]
_COMPOSITIONS = {"oneOf": "one of", "anyOf": "any of"}
_BOUNDS = (
    ("pattern", "pattern"),
    ("format", "format"),
    ("minimum", "minimum"),
    ("maximum", "maximum"),
    ("multipleOf", "multiple of"),
    ("minLength", "min length"),
    ("maxLength", "max length"),
    ("minItems", "min items"),
    ("maxItems", "max items"),
    ("minProperties", "min properties"),
    ("maxProperties", "max properties"),
    ("contentMediaType", "content type"),
    ("contentEncoding", "content encoding"),
)


@dataclass
class Walk:
    """State of one schema's flattening."""

    schema_id: str
    display: str
    lines: Any  # Callable[[Pointer], int]
    options: list[Option] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    anchors: set[str] = field(default_factory=lambda: set(PAGE_ANCHORS))
    reported_refs: set[str] = field(default_factory=set)
    by_path: dict[str, int] = field(default_factory=dict)
    expanded: dict[str, str] = field(default_factory=dict)  # ref target -> anchor of first use
    segments: dict[str, tuple[str, ...]] = field(default_factory=dict)  # path -> its parts
    pending: list[tuple[dict[str, Any], Any, str, Pointer | None]] = field(default_factory=list)
    max_options: int = MAX_OPTIONS  # `limits.options`
    ref_depth: int = 64  # `limits.ref_depth`: `$ref`s followed in one chain, or nested in a path
    nested_refs: int = 0  # definitions being expanded inside each other, where the walk is
    cut: set[str] = field(default_factory=set)  # limits already reported
    too_long: set[str] = field(default_factory=set)  # definitions in a $ref chain over the limit
    written_values: int = 0  # examples and defaults `build_example` has taken from the schema


@dataclass(frozen=True)
class Resolved:
    """A subschema after following its `$ref` chain."""

    node: dict[str, Any]
    resolver: Any
    uri: str | None  # identity of the first target when a $ref was followed
    remote: str = ""  # a URL `$ref` that was not fetched
    chain: tuple[str, ...] = ()  # every target followed, first to last
    pointer: tuple[str | int, ...] | None = None  # where the target is, when it is in this file
    extra: dict[str, Any] = field(default_factory=dict)  # keywords written beside the `$ref`s

    def shown(self, expanded: dict[str, str]) -> str | None:
        """Where any definition of the chain is already shown in full, if it is."""
        return next((expanded[u] for u in self.chain if u in expanded), None)

    def first_shown(self, expanded: dict[str, str]) -> str | None:
        """Where the definition the `$ref` names is already shown in full, if it is."""
        return expanded.get(self.chain[0]) if self.chain else None

    def mark(self, expanded: dict[str, str], anchor: str) -> None:
        for uri in self.chain:
            expanded.setdefault(uri, anchor)


def too_many(walk: Walk, what: str, line: int | None, message: str, hint: str) -> None:
    """A limit of the walk is hit: said once per kind of limit."""
    if what in walk.cut:
        return
    walk.cut.add(what)
    walk.findings.append(
        Finding("limits/too-many", Severity.WARNING, walk.display, line, message, hint)
    )


def resolve(walk: Walk, node: Any, resolver: Any, line: int | None) -> Resolved:
    """Follow `$ref` chains (siblings of `$ref` kept); report what cannot be resolved, once."""
    if not isinstance(node, dict):
        return Resolved({} if node is not False else {"not": {}}, resolver, None)
    resolver = scoped(resolver, node)
    seen: list[str] = []
    extra: dict[str, Any] = {}
    local: bool | None = None  # every $ref so far stayed in this file
    pointer: tuple[str | int, ...] | None = None
    uri: str | None = None
    while isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        try:
            found = resolver.lookup(ref)
        except Exception:
            _unresolved(walk, ref, line)
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            remote = ref if ref.startswith(("http://", "https://")) else ""
            return Resolved(siblings, resolver, uri, remote, tuple(seen), extra=extra)
        target = identity(found.contents)
        if target in seen or target in walk.too_long:
            return Resolved({}, resolver, uri, chain=tuple(seen), extra=extra)
        if len(seen) >= walk.ref_depth:
            walk.too_long.update(seen)  # met again from another $ref: not followed again
            too_many(walk, "ref-chain", line, f"more than {walk.ref_depth} $refs lead to one "
                     "another (limits.ref_depth): the rest are not followed",
                     "refer to the definition itself")  # fmt: skip
            return Resolved({}, resolver, uri, chain=tuple(seen), extra=extra)
        seen.append(target)
        uri = uri or target
        local = ref.startswith("#/") and (local is not False)
        pointer = _pointer(ref) if local else None
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        node = found.contents if isinstance(found.contents, dict) else {}
        if siblings:
            node = _merge(node, siblings)
            extra = _merge(siblings, extra)
        resolver = scoped(
            found.resolver, found.contents if isinstance(found.contents, dict) else {}
        )
    return Resolved(node, resolver, uri, chain=tuple(seen), extra=extra, pointer=pointer)


def scoped(resolver: Any, node: dict[str, Any]) -> Any:
    """The resolver for refs inside `node`: relative to its own `$id` (`id` in draft-04)."""
    own = node.get("$id", node.get("id"))
    if not isinstance(own, str) or not own or own.startswith("#"):
        return resolver
    try:
        return resolver.in_subresource(
            referencing.Resource.from_contents(node, default_specification=DRAFT202012)
        )
    except Exception:
        return resolver


def _merge(target: dict[str, Any], siblings: dict[str, Any]) -> dict[str, Any]:
    """A `$ref` target with the keywords written beside the `$ref`: both sides' options kept."""
    merged = {**target, **siblings}
    for keyword in ("properties", "patternProperties", "$defs", "definitions"):
        if isinstance(target.get(keyword), dict) and isinstance(siblings.get(keyword), dict):
            merged[keyword] = {**target[keyword], **siblings[keyword]}
    if isinstance(target.get("required"), list) and isinstance(siblings.get("required"), list):
        merged["required"] = [*target["required"], *siblings["required"]]
    return merged


def _pointer(ref: str) -> tuple[str | int, ...]:
    """`#/$defs/a~1b/0` -> $defs, a/b, 0: where a local `$ref` points, for its lines."""
    parts: list[str | int] = []
    for raw in ref[2:].split("/"):
        part = unquote(raw).replace("~1", "/").replace("~0", "~")
        parts.append(int(part) if part.isascii() and part.isdigit() and len(part) < 19 else part)
    return tuple(parts)


def identity(contents: Any) -> str:
    """The same definition, however a `$ref` named it (the registry keeps contents alive)."""
    return f"ref-{id(contents)}"


def _unresolved(walk: Walk, ref: str, line: int | None) -> None:
    if ref in walk.reported_refs:
        return
    walk.reported_refs.add(ref)
    if ref.startswith(("http://", "https://")):
        walk.findings.append(
            Finding(
                "schema/remote-ref",
                Severity.INFO,
                walk.display,
                line,
                f"$ref to {ref} is not fetched; it is shown as a link",
                "put the referenced schema in the schemas folder to document it here",
            )
        )
    else:
        walk.findings.append(
            Finding(
                "schema/unresolved-ref",
                Severity.ERROR,
                walk.display,
                line,
                f"$ref {ref!r} cannot be resolved",
                "check the pointer, and that the file it names is in the schemas folder",
            )
        )


def types_of(node: dict[str, Any]) -> tuple[str, ...]:
    """The types a subschema allows, from `type` or guessed from its other keywords."""
    value = node.get("type")
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    if "properties" in node or "additionalProperties" in node or "patternProperties" in node:
        return ("object",)
    if "items" in node or "prefixItems" in node:
        return ("array",)
    values = as_list(node.get("enum")) or ([node["const"]] if "const" in node else [])
    return tuple(sorted({_json_type(v) for v in values}))


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "null" if value is None else "object"


def _pitfalls(node: dict[str, Any]) -> tuple[Pitfall, ...]:
    result = []
    for item in as_list(node.get("x-pitfalls")):
        if isinstance(item, dict) and item.get("text"):
            level = (
                "danger" if item.get("severity") in ("danger", "error", "critical") else "warning"
            )
            result.append(Pitfall(level, str(item["text"])))
        elif isinstance(item, str):
            result.append(Pitfall("warning", item))
    return tuple(result)


def _bounds(node: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for keyword, label in _BOUNDS:
        if keyword in node and not isinstance(node[keyword], dict | list):
            found.append((prefix + label, node[keyword]))
    for keyword, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = node.get(keyword)
        if value is True and plain in node:  # draft-04: a flag on minimum/maximum
            found = [c for c in found if c[0] != prefix + plain]
            found.append((f"{prefix}exclusive {plain}", node[plain]))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            found.append((f"{prefix}exclusive {plain}", value))
    if node.get("uniqueItems") is True:
        found.append((prefix + "unique items", True))
    return found


def summary(node: Any) -> str:
    """One line that tells a subschema apart from its siblings: title, type, keys, const."""
    if node is True or node == {}:
        return "anything"
    if node is False:
        return "nothing"
    node = as_dict(node)
    if node.get("title"):
        return str(node["title"])
    if "$ref" in node:
        return "see " + str(node["$ref"]).rsplit("/", 1)[-1]
    if "const" in node:
        return f"exactly {node['const']!r}"
    parts = [" | ".join(types_of(node)) or "any type"]
    properties = as_dict(node.get("properties"))
    if properties:
        parts.append(
            "with " + ", ".join(list(properties)[:6]) + (", ..." if len(properties) > 6 else "")
        )
    required = as_list(node.get("required"))
    if required and not properties:
        parts.append("requiring " + ", ".join(map(str, required[:6])))
    enum = as_list(node.get("enum"))
    if enum:
        parts.append("one of " + ", ".join(map(str, enum[:6])) + (", ..." if len(enum) > 6 else ""))
    parts += [f"{label} {value}" for label, value in _bounds(node)[:2]]
    return " ".join(parts)


def condition_text(node: Any) -> str:
    """What an `if` tests, in words: `kind is CronJob`, `schedule is set`."""
    node = as_dict(node)
    parts = []
    for name, sub in as_dict(node.get("properties")).items():
        sub = as_dict(sub)
        if "const" in sub:
            parts.append(f"{name} is {sub['const']!r}")
        elif as_list(sub.get("enum")):
            parts.append(
                f"{name} is one of " + ", ".join(repr(v) for v in as_list(sub["enum"])[:6])
            )
        elif sub.get("pattern"):
            parts.append(f"{name} matches {sub['pattern']}")
    named = {p.split(" ", 1)[0] for p in parts}
    parts += [
        f"{name} is set" for name in map(str, as_list(node.get("required"))) if name not in named
    ]
    return " and ".join(parts) if parts else summary(node)


def _constraints(node: dict[str, Any], items: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    found = _bounds(node)
    if node.get("additionalProperties") is False:
        found.append(("other keys", "not allowed"))
    names = as_dict(node.get("propertyNames"))
    if names:
        found.append(("keys", summary(names)))
    for name, needs in sorted(as_dict(node.get("dependentRequired")).items()):
        found.append((f"with {name}, also required", list(as_list(needs))))
    for name, needs in sorted(as_dict(node.get("dependencies")).items()):
        if isinstance(needs, list):
            found.append((f"with {name}, also required", needs))
    if "contains" in node:
        found.append(("contains an item that is", summary(node["contains"])))
    if "not" in node:
        found.append(("must not be", summary(node["not"])))
    if "if" in node:
        found.append(("conditional", "when " + condition_text(node["if"])))
    if items:
        item_types = types_of(items)
        if item_types:
            found.append(("items", " | ".join(item_types)))
        enum = as_list(items.get("enum"))
        if enum:
            found.append(("item values", enum))
        found += _bounds(items, "item ")
    return tuple(found)


def _children(node: dict[str, Any]) -> Iterator[tuple[str, Any, bool, Pointer, str]]:
    """(path suffix, subschema, required, pointer, condition) of each child; "" merges."""
    required = {str(r) for r in as_list(node.get("required"))}
    for name, sub in as_dict(node.get("properties")).items():
        yield f".{name}", sub, name in required, ("properties", name), ""
    patterns = as_dict(node.get("patternProperties"))
    additional = node.get("additionalProperties")
    keyed: list[tuple[Pointer, Any, str]] = [
        (("patternProperties", p), sub, f"key matches {p}") for p, sub in patterns.items()
    ]
    if isinstance(additional, dict) and additional:
        keyed.append((("additionalProperties",), additional, ""))
    unevaluated = node.get("unevaluatedProperties")
    if isinstance(unevaluated, dict) and unevaluated:
        keyed.append((("unevaluatedProperties",), unevaluated, ""))
    for index, (pointer, sub, condition) in enumerate(keyed):
        label = "<name>" if len(keyed) == 1 else f"<name{index + 1}>"
        yield f".{label}", sub, False, pointer, condition
    items = node.get("items")
    if isinstance(items, dict):
        yield "[]", items, False, ("items",), ""
    tuple_items = as_list(node.get("prefixItems")) or as_list(items)
    tuple_key = "prefixItems" if node.get("prefixItems") else "items"
    for index, sub in enumerate(tuple_items):
        yield f"[{index}]", sub, False, (tuple_key, index), ""
    for keyword in ("additionalItems", "unevaluatedItems"):
        if isinstance(node.get(keyword), dict):
            yield "[]", node[keyword], False, (keyword,), ""
    if isinstance(node.get("contains"), dict):
        yield "[]", node["contains"], False, ("contains",), "in the item that contains requires"
    for index, sub in enumerate(as_list(node.get("allOf"))):
        yield "", sub, False, ("allOf", index), ""
    for keyword, word in _COMPOSITIONS.items():
        branches = as_list(node.get(keyword))
        for index, sub in enumerate(branches):
            yield (
                "",
                sub,
                False,
                (keyword, index),
                f"alternative {index + 1} of {len(branches)} ({word})",
            )
    if "if" in node:
        when = condition_text(node["if"])
        yield "", node["if"], False, ("if",), f"in the condition ({when})"
        if "then" in node:
            yield "", node["then"], False, ("then",), f"when {when}"
        if "else" in node:
            yield "", node["else"], False, ("else",), f"unless {when}"
    for keyword in ("dependentSchemas", "dependencies"):
        for name, sub in as_dict(node.get(keyword)).items():
            if isinstance(sub, dict):
                yield "", sub, False, (keyword, name), f"when {name} is set"
    if isinstance(node.get("not"), dict):
        yield "", node["not"], False, ("not",), "forbidden (not)"


def _join(outer: str, inner: str) -> str:
    return f"{outer}; {inner}" if outer and inner else outer or inner


def _unique_anchor(walk: Walk, path: str) -> str:
    wanted = anchor(path)
    result, count = wanted, 1
    while result in walk.anchors:
        count += 1
        result = f"{wanted}-{count}"
    walk.anchors.add(result)
    return result


def _items_of(node: dict[str, Any], resolver: Any, walk: Walk) -> dict[str, Any]:
    items = node.get("items")
    if not isinstance(items, dict):
        return {}
    return resolve(walk, items, resolver, None).node


def make_option(
    walk: Walk,
    path: str,
    target: Resolved,
    required: bool,
    depth: int,
    line: int | None,
    condition: str = "",
    same_as: str = "",
    definition: bool = False,
) -> Option:
    """The option at `path`, from its (resolved) subschema."""
    node = target.node
    enum = as_list(node.get("enum"))
    examples = as_list(node.get("examples")) or ([node["example"]] if "example" in node else [])
    if len(enum) > MAX_VALUES or len(examples) > MAX_VALUES:
        too_many(walk, f"values {path}", line, f"option {path or '(top level)'} has more than "
                 f"{MAX_VALUES} enum values or examples: the first {MAX_VALUES} are shown",
                 "move the list to a file the description links to")  # fmt: skip
        enum, examples = enum[:MAX_VALUES], examples[:MAX_VALUES]
    description = node.get("markdownDescription") or node.get("description") or node.get("title")
    items = _items_of(node, target.resolver, walk) if "items" in node else {}
    alternatives: list[str] = []
    composition = ""
    for keyword, word in _COMPOSITIONS.items():
        branches = as_list(node.get(keyword))
        if branches and not composition:
            composition = word
            alternatives = [
                summary(resolve(walk, b, target.resolver, line).node or b) for b in branches
            ]
    if not composition and items:
        for keyword, word in _COMPOSITIONS.items():
            branches = as_list(items.get(keyword))
            if branches and not composition:
                composition = f"each item is {word}"
                alternatives = [
                    summary(resolve(walk, b, target.resolver, line).node or b) for b in branches
                ]
    types = types_of(node)
    if not types and alternatives:
        branch_types: list[str] = []
        for keyword in _COMPOSITIONS:
            for branch in as_list(node.get(keyword)):
                for kind in types_of(resolve(walk, branch, target.resolver, line).node):
                    if kind not in branch_types:
                        branch_types.append(kind)
        types = tuple(branch_types)
    return Option(
        schema_id=walk.schema_id,
        path=path,
        segments=() if definition else walk.segments.get(path, ()),
        anchor=_unique_anchor(walk, path),
        depth=depth,
        types=types,
        required=required,
        description=str(description or ""),
        default=node.get("default"),
        has_default="default" in node,
        enum=tuple(enum) if enum else ((node["const"],) if "const" in node else ()),
        has_const="const" in node and not enum,
        examples=tuple(examples),
        deprecated=node.get("deprecated") is True,
        deprecated_message=str(
            node.get("x-deprecated-message") or node.get("deprecationMessage") or ""
        ),
        since=str(node.get("x-since") or ""),
        pitfalls=_pitfalls(node),
        line=line,
        same_as=same_as,
        constraints=_constraints(node, items),
        composition=composition,
        alternatives=tuple(alternatives),
        condition=condition,
        ref_url=target.remote,
        read_only=node.get("readOnly") is True,
        write_only=node.get("writeOnly") is True,
        definition=definition,
    )


def walk_children(
    walk: Walk,
    node: dict[str, Any],
    resolver: Any,
    path: str,
    depth: int,
    pointer: Pointer | None,
    condition: str = "",
    definition: bool = False,
    stack: frozenset[str] = frozenset(),
) -> None:
    """Add the options below `node` (at `path`), depth first, in document order.

    `stack` holds the definitions being merged into this path, so a recursive composition ends.
    """
    base = walk.segments.get(path, ())
    if node.get("$defs") or node.get("definitions"):
        walk.pending.append((node, resolver, path, pointer))  # listed once the root is walked
    for suffix, child, required, key, child_condition in _children(node):
        if len(walk.options) >= walk.max_options:
            _options_cut(walk)
            return
        child_pointer = (*pointer, *key) if pointer is not None else None
        line = walk.lines(child_pointer) if child_pointer is not None else None
        target = resolve(walk, child, resolver, line)
        inner_pointer = child_pointer if target.uri is None else target.pointer
        joined = _join(condition, child_condition)
        if not suffix or suffix == "[]":  # same level (composition) or an array's item
            if stack.intersection(target.chain):
                continue
            first = target.first_shown(walk.expanded)
            if first is not None:
                _link(walk, path, first, whole=suffix == "[]")
                continue
            walk.segments.setdefault(path + suffix, (*base, suffix) if suffix else base)
            _expand(
                walk,
                target,
                path + suffix,
                depth,
                inner_pointer,
                joined,
                definition,
                stack.union(target.chain),
                _anchor_for(walk, path),
            )
            continue
        child_path = f"{path}{suffix}" if path else suffix.lstrip(".")
        if child_path in walk.by_path:
            # Listed through another branch (oneOf alternatives that share a key): the options
            # this branch adds below it are merged in, with this branch's condition.
            first = target.first_shown(walk.expanded)
            if first is not None:
                _link(walk, child_path, first, whole=False)
                continue
            _expand(
                walk,
                target,
                child_path,
                depth + 1,
                inner_pointer,
                joined,
                definition,
                frozenset(),
                walk.options[walk.by_path[child_path]].anchor,
            )
            continue
        walk.segments[child_path] = (*base, suffix[1:] if suffix.startswith(".") else suffix)
        # A leaf is shown in full wherever it is used; only a definition with options of its
        # own is shown once and linked to.
        has_children = next(_children(target.node), None) is not None
        same_as = (target.first_shown(walk.expanded) or "") if has_children else ""
        option = make_option(
            walk, child_path, target, required, depth, line, joined, same_as, definition
        )
        walk.by_path[child_path] = len(walk.options)
        walk.options.append(option)
        if not same_as:  # else: recursion, or a definition already shown in full, linked
            _expand(
                walk,
                target,
                child_path,
                depth + 1,
                inner_pointer,
                "",
                definition,
                frozenset(),
                option.anchor,
            )


def _options_cut(walk: Walk) -> None:
    too_many(
        walk,
        "options",
        1,
        f"more than {walk.max_options} options (limits.options): the rest are not shown",
        "split the schema, or raise `limits.options` in the config",
    )


def _expand(
    walk: Walk,
    target: Resolved,
    path: str,
    depth: int,
    pointer: Pointer | None,
    condition: str,
    definition: bool,
    stack: frozenset[str],
    anchor: str,
) -> None:
    """Walk a target's options at `path`; a definition its `$ref` chain leads to that is shown
    elsewhere already is linked to, and only what is written beside the `$ref` is walked."""
    nested = 1 if target.chain else 0
    if walk.nested_refs + nested > walk.ref_depth:
        line = walk.lines(pointer) if pointer is not None else None
        too_many(walk, "ref-depth", line, f"definitions nested more than {walk.ref_depth} deep "
                 f"through $refs (limits.ref_depth): what is below {path} is not shown",
                 "flatten the schema, or raise `limits.ref_depth` in the config")  # fmt: skip
        return
    inner = target.shown(walk.expanded)
    target.mark(walk.expanded, anchor)
    node = target.node
    if inner is not None:
        _link(walk, path, inner, whole=False)
        node, pointer = target.extra, None
    walk.nested_refs += nested
    try:
        walk_children(
            walk, node, target.resolver, path, depth, pointer, condition, definition, stack
        )
    finally:
        walk.nested_refs -= nested


def _anchor_for(walk: Walk, path: str) -> str:
    """The anchor of the option at `path`, or of the array that holds it, or of the root."""
    while path:
        if path in walk.by_path:
            return walk.options[walk.by_path[path]].anchor
        if not path.endswith("]"):
            break
        path = path[: path.rindex("[")]
    return ROOT_ANCHOR


def _link(walk: Walk, path: str, shown_at: str, whole: bool) -> None:
    """Point the option at `path` to where a definition it uses is shown in full."""
    index = walk.by_path.get(path.removesuffix("[]"))
    if index is None:
        return
    option = walk.options[index]
    if shown_at == option.anchor:
        return
    if whole and not option.same_as:
        walk.options[index] = dataclasses.replace(option, same_as=shown_at)
    elif shown_at not in option.shares:
        walk.options[index] = dataclasses.replace(option, shares=(*option.shares, shown_at))


def walk_definitions(walk: Walk, node: dict[str, Any], resolver: Any, prefix: str = "",
                     pointer: Pointer | None = ()) -> None:  # fmt: skip
    """Definitions no property led to, listed under `$defs.<name>` so nothing goes unshown;
    then those nested in subschemas, met on the way."""
    for keyword in ("$defs", "definitions"):
        for name, sub in as_dict(node.get(keyword)).items():
            if not isinstance(sub, dict):
                continue
            if len(walk.options) >= walk.max_options:
                _options_cut(walk)
                continue
            if identity(sub) in walk.expanded:
                continue
            path = f"{prefix}.{keyword}.{name}" if prefix else f"{keyword}.{name}"
            def_pointer = (*pointer, keyword, name) if pointer is not None else None
            line = walk.lines(def_pointer) if def_pointer is not None else None
            target = resolve(walk, sub, resolver, line)
            walk.segments[path] = ()
            option = make_option(walk, path, target, False, 0, line, definition=True)
            walk.by_path[path] = len(walk.options)
            walk.options.append(option)
            walk.expanded[identity(sub)] = option.anchor
            target.mark(walk.expanded, option.anchor)
            walk_children(walk, target.node, target.resolver, path, 1, def_pointer, "", True)
    while walk.pending:
        nested, nested_resolver, nested_path, nested_pointer = walk.pending.pop(0)
        walk_definitions(walk, nested, nested_resolver, nested_path, nested_pointer)


def _escape_pointer(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def build_example(node: Any, resolver: Any, walk: Walk, depth: int = 0, full: bool = True) -> Any:
    """An instance made of the schema's own examples and defaults, placeholders elsewhere."""
    target = resolve(walk, node, resolver, None)
    node, resolver = target.node, target.resolver
    if depth > 8:
        return None
    written = as_list(node.get("examples"))[:1] or [
        node[k] for k in ("example", "default") if k in node
    ]
    if written:
        walk.written_values += 1  # an example with none is made of placeholders: not shown
        return written[0]
    if "const" in node:
        return node["const"]
    enum = as_list(node.get("enum"))
    if enum:
        return enum[0]
    merged = dict(node)
    for branch in as_list(node.get("allOf")):
        sub = resolve(walk, branch, resolver, None).node
        merged.setdefault("properties", {})
        merged["properties"] = {**as_dict(sub.get("properties")), **as_dict(merged["properties"])}
        merged["required"] = [*as_list(merged.get("required")), *as_list(sub.get("required"))]
        merged.setdefault("type", sub.get("type"))
    for keyword in _COMPOSITIONS:
        branches = as_list(node.get(keyword))
        if branches and "properties" not in merged:
            return build_example(branches[0], resolver, walk, depth + 1, full)
    kinds = [k for k in types_of(merged) if k != "null"] or [
        "object" if "properties" in merged else "string"
    ]
    kind = kinds[0]
    if kind == "object":
        required = {str(r) for r in as_list(merged.get("required"))}
        result = {}
        for name, sub in as_dict(merged.get("properties")).items():
            resolved = resolve(walk, sub, resolver, None).node
            known = any(k in resolved for k in ("examples", "example", "default", "const"))
            if name in required or (full and (known or depth == 0)):
                value = build_example(
                    sub, resolver, walk, depth + 1, (full and name in required) or full
                )
                if value is not None:
                    result[name] = value
        return result
    if kind == "array":
        items = merged.get("items")
        count = int(merged.get("minItems") or 1)
        if isinstance(items, dict):
            value = build_example(items, resolver, walk, depth + 1, full)
            return [value] * min(max(count, 1), 3) if value is not None else []
        return []
    return _placeholder(kind, merged)


def _placeholder(kind: str, node: dict[str, Any]) -> Any:
    if kind in ("integer", "number"):
        low = node.get("minimum", node.get("exclusiveMinimum", 0))
        low = low if isinstance(low, int | float) and not isinstance(low, bool) else 0
        value = (
            low + 1
            if "exclusiveMinimum" in node and not isinstance(node["exclusiveMinimum"], bool)
            else low
        )
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return False
    formats = {
        "uri": "https://example.com",
        "url": "https://example.com",
        "email": "team@example.com",
        "date": "2026-01-31",
        "date-time": "2026-01-31T12:00:00Z",
        "hostname": "example.com",
        "ipv4": "192.0.2.1",
        "uuid": "123e4567-e89b-12d3-a456-426614174000",
    }
    if node.get("format") in formats:
        return formats[node["format"]]
    return "string" if "pattern" not in node else None


__all__ = ["Walk", "build_example", "make_option", "referencing", "resolve", "walk_children"]
