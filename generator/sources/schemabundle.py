"""A pipeline schema as the site publishes it for service repos: one JSON document.

Every file of the schemas folder a schema refers to with `$ref` (a relative path, or the `$id`
of a file of the folder; with or without a fragment) is brought into the schema's `$defs`
(`definitions` before 2019-09) once, and each ref to it rewritten to point there; refs within a
document stay. A `$ref` URL that names no file of the folder stays as written and is never
fetched; a ref that cannot be brought in stays too, with a `schema/unbundled-ref` finding.
Each file is brought in at most once, so refs between files in a cycle end, and the walk over
the documents counts against `limits.options`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from ..limits import Limits, cut
from ..model import Finding, Severity
from .schemas import LoadedSchema, validation_steps

RULE = "schema/unbundled-ref"
_VALUES = frozenset({"const", "enum", "default", "examples"})  # data, not schemas: kept as is
# keywords whose value maps names to subschemas: a name there is never a keyword
_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas",
                   "dependencies"})  # fmt: skip
_OLD = ("draft-03", "draft-04", "draft-06", "draft-07")  # `definitions`, not `$defs`
_ID_BEFORE_06 = ("draft-03", "draft-04")  # whose id keyword is `id`
_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
_HINT = (
    "point the $ref at a file of the schemas folder, at a place in it that exists, or at a URL; "
    "service repos that validate against the published schema cannot resolve it"
)


class _TooBig(Exception):
    """The documents took more steps to walk than the budget allows."""


def published_schemas(
    loaded: list[LoadedSchema], limits: Limits
) -> tuple[tuple[tuple[str, str], ...], list[Finding]]:
    """Each schema of the folder as published, `(id, JSON text)` by id, and a finding for each
    ref left as written (once, though several schemas bring in its file)."""
    published = []
    findings: set[Finding] = set()
    for schema in sorted(loaded, key=lambda s: s.id):
        data, found = bundle(schema, loaded, limits)
        findings.update(found)
        published.append((schema.id, as_json(data)))
    return tuple(published), sorted(findings, key=Finding.sort_key)


def as_json(data: Any) -> str:
    """The published text: sorted keys, indented, nothing that changes from run to run."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False, default=str) + "\n"


def bundle(
    root: LoadedSchema, folder: list[LoadedSchema], limits: Limits
) -> tuple[Any, list[Finding]]:
    """`root` with the files of `folder` its refs lead to (and theirs) in its definitions."""
    if not isinstance(root.document.data, dict):
        return root.document.data, []
    job = _Bundle(root, _by_uri(folder), validation_steps(limits), limits.name_chars)
    try:
        return job.run(), job.findings
    except _TooBig:
        return root.document.data, [Finding(
            "limits/too-many", Severity.WARNING, root.display, 1,
            f"schema {cut(root.id, limits.name_chars)} and the files it refers to take more than "
            f"{job.steps} steps (50 x limits.options) to bundle: it is published as it is, its "
            "refs to other files left",
            "split the schema, or raise `limits.options` if it is really that big",
        )]  # fmt: skip


def _draft_of(data: Any) -> str:
    marker = data.get("$schema") if isinstance(data, dict) else None
    return marker if isinstance(marker, str) else ""


def _dialect(data: Any) -> str:
    """The JSON Schema version a document is read in, its `$schema` without scheme and `#`
    (none: 2020-12, as the project validates a schema that names none)."""
    marker = _draft_of(data) or "https://json-schema.org/draft/2020-12/schema"
    return marker.split("://", 1)[-1].rstrip("#")


def _id_keyword(data: Any) -> str:
    return "id" if any(d in _draft_of(data) for d in _ID_BEFORE_06) else "$id"


def _defs_keyword(data: dict[str, Any]) -> str:
    draft = _draft_of(data)
    if any(d in draft for d in _OLD):
        return "definitions"
    if draft or "$defs" in data or "definitions" not in data:
        return "$defs"
    return "definitions"  # no `$schema`: whichever the schema already uses


def _own_id(node: dict[str, Any], keyword: str) -> str | None:
    """A subschema's `$id` when it names a resource (not a plain-name fragment of draft-07)."""
    value = node.get(keyword)
    return value if isinstance(value, str) and value and not value.startswith("#") else None


def top_base(schema: LoadedSchema) -> str:
    """The URI the refs of a file's root resolve against: its `$id`, else where it is."""
    data = schema.document.data
    own = _own_id(data, _id_keyword(data)) if isinstance(data, dict) else None
    return (_joined(schema.uri, own) if own else None) or schema.uri


def _joined(base: str, ref: str) -> str | None:
    """`ref` resolved against `base`, without its fragment; None when it is no URI reference."""
    try:
        return urldefrag(base + ref if ref.startswith("#") else urljoin(base, ref))[0]
    except ValueError:  # `http://[::1` and the like
        return None


def _by_uri(folder: list[LoadedSchema]) -> dict[str, LoadedSchema]:
    """The files of the folder by the URIs a ref may name them by: where each is, its `$id`."""
    found: dict[str, LoadedSchema] = {}
    for schema in folder:
        found.setdefault(schema.uri, schema)
    for schema in folder:
        found.setdefault(top_base(schema), schema)
    return found


def _pointer_target(data: Any, fragment: str) -> bool:
    """Whether a JSON pointer fragment (URI-encoded, `/a/b`) names something in `data`."""
    node = data
    for raw in fragment.split("/")[1:]:
        part = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True


@dataclass
class _Bundle:
    """One schema being bundled: the files it brought in, under which key, and the findings."""

    root: LoadedSchema
    files: dict[str, LoadedSchema]
    steps: int
    name_chars: int
    findings: list[Finding] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)  # a brought-in file's URI -> its key
    queue: list[LoadedSchema] = field(default_factory=list)
    left: int = 0

    def __post_init__(self) -> None:
        data = self.root.document.data
        self.defs = _defs_keyword(data)
        self.left = self.steps
        existing = data.get(self.defs)
        self.taken = set(existing) if isinstance(existing, dict) else set()
        self.can_add = existing is None or isinstance(existing, dict)

    def run(self) -> dict[str, Any]:
        result: dict[str, Any] = self._copy(self.root, None)
        added: dict[str, Any] = {}
        done = 0
        while done < len(self.queue):  # each file is queued once: at most every file of the folder
            item = self.queue[done]
            done += 1
            key = self.keys[item.uri]
            copied = self._copy(item, key)
            if isinstance(copied, dict):  # a part of this document now, not a resource of its own
                for keyword in ("$schema", _id_keyword(copied)):
                    copied.pop(keyword, None)
            added[key] = copied
        if added:
            result[self.defs] = {**result.get(self.defs, {}), **added}
        return result

    def _copy(self, item: LoadedSchema, key: str | None) -> Any:
        """A copy of a file's document with its refs rewritten, walked without recursion."""
        data = item.document.data
        if not isinstance(data, dict | list):
            return data  # `true`, `false`
        id_keyword = _id_keyword(data)
        copied = _shell(data)
        # (what is copied, its copy, where, the URI its refs resolve against, whether that is a
        # resource inside the file, whether it maps names to subschemas)
        todo: list[tuple[Any, Any, tuple[str | int, ...], str, bool, bool]] = [
            (data, copied, (), top_base(item), False, False)
        ]
        while todo:
            self.left -= 1
            if self.left < 0:
                raise _TooBig
            source, target, pointer, base, nested, names = todo.pop()
            schema = isinstance(source, dict) and not names  # a subschema, whose keys are keywords
            own = _own_id(source, id_keyword) if schema and pointer else None
            if own is not None and (inner := _joined(base, own)) is not None:
                base, nested = inner, True  # a resource of its own inside the file
            entries = source.items() if isinstance(source, dict) else enumerate(source)
            for name, value in entries:
                here = (*pointer, name)
                if schema and name == "$ref" and isinstance(value, str):
                    target[name] = self._ref(value, item, key, base, nested, here)
                elif isinstance(value, dict | list) and not (schema and _is_value(name)):
                    target[name] = _shell(value)
                    todo.append((value, target[name], here, base, nested, schema and name in _MAPS))
                else:
                    target[name] = value
        return copied

    def _ref(self, ref: str, item: LoadedSchema, key: str | None, base: str, nested: bool,
             pointer: tuple[str | int, ...]) -> str:  # fmt: skip
        """A ref as it reads in the bundled document (as written when it cannot be rewritten)."""
        try:
            scheme = urlsplit(ref).scheme
            resolved = base + ref if ref.startswith("#") else urljoin(base, ref)
        except ValueError:
            return self._left(item, pointer, ref, "is not a URI reference")
        uri, fragment = urldefrag(resolved)
        pointed = not fragment or fragment.startswith("/")
        if uri == base and nested:
            return ref  # within a resource inside the file, which keeps its shape
        if uri == base and key is None:  # within the schema itself: by its name too
            return ref if ref.startswith("#") else f"#{fragment}"
        if uri == base:  # within a file brought in: now under its key
            return f"#/{self.defs}/{key}{fragment}" if pointed else f"#{fragment}"
        found = self.files.get(uri)
        if found is None:
            if scheme in ("http", "https"):
                return ref  # a URL: left for whoever validates, never fetched here
            return self._left(item, pointer, ref, "names no file of the schemas folder")
        if pointed and not _pointer_target(found.document.data, fragment):
            return self._left(item, pointer, ref, f"points to nothing in {found.display}")
        if nested:
            return self._left(item, pointer, ref, "is inside a subschema with an `$id` of its own, "
                              "where a ref to the bundled document cannot be written")  # fmt: skip
        if found is self.root:
            return f"#{fragment}"
        if _dialect(found.document.data) != _dialect(self.root.document.data):
            # its keywords would be read by the schema's version: left for a registry to resolve
            return self._left(item, pointer, ref, f"names {found.display}, written in another "
                              "JSON Schema version than the schema")  # fmt: skip
        if not self.can_add:
            return self._left(item, pointer, ref, f"needs `{self.defs}` of the schema, which is "
                              "not an object")  # fmt: skip
        under = self._key(found)  # brought in either way: an anchor of it is the schema's now
        return f"#/{self.defs}/{under}{fragment}" if pointed else f"#{fragment}"

    def _key(self, found: LoadedSchema) -> str:
        """The key a file is brought in under: its schema id made safe for a pointer, unique."""
        if found.uri in self.keys:
            return self.keys[found.uri]
        stem = "".join(c if c in _KEY_CHARS else "_" for c in found.id) or "schema"
        name, number = stem, 1
        while name in self.taken:  # at most one more try than there are keys
            number += 1
            name = f"{stem}-{number}"
        self.taken.add(name)
        self.keys[found.uri] = name
        self.queue.append(found)
        return name

    def _left(self, item: LoadedSchema, pointer: tuple[str | int, ...], ref: str, why: str) -> str:
        self.findings.append(Finding(
            RULE, Severity.WARNING, item.display, item.document.line(pointer),
            f"$ref {cut(ref, self.name_chars)!r} {why}: it is left as written in the published "
            "schema", _HINT,
        ))  # fmt: skip
        return ref


def _is_value(keyword: str | int) -> bool:
    """Whether a subschema's keyword holds data (an enum, a vendor keyword), not subschemas."""
    return isinstance(keyword, str) and (keyword in _VALUES or keyword.startswith("x-"))


def _shell(value: Any) -> Any:
    return {} if isinstance(value, dict) else [None] * len(value)
