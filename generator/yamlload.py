"""Safe, bounded YAML (and JSON) loading that keeps line numbers and source text.

Every reader goes through here, so the rules for bad input live in one place: files are size
bounded, alias expansion is bounded, duplicate keys and unknown tags become findings instead of
errors, and a parse error becomes a finding with its line.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import re2  # type: ignore[import-untyped]  # google-re2 ships no type hints
import yaml

from .model import Finding, Severity

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_INT_BITS = 4_000  # under Python's limit on printing an int (4,300 digits)
MAX_NODES = 2_000_000  # nodes built in one document
MAX_ALIAS_VISITS = 100_000  # nodes built again through aliases: stops "billion laughs" documents
MAX_DEPTH = 200  # mappings and lists inside each other: deeper is an attack, not a config

YamlPath = tuple[str | int, ...]
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a pattern RE2 refuses is the caller's finding, not a log line

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SCALAR_BUILDER = yaml.SafeLoader("")


@dataclass
class Document:
    """One YAML document: its data, the line of each key or item, and scalars' source text."""

    data: Any
    file: str
    start_line: int
    lines: dict[YamlPath, int] = field(default_factory=dict)
    texts: dict[YamlPath, str] = field(default_factory=dict)
    lazy_lines: Callable[[], dict[YamlPath, int]] | None = None

    def line(self, path: YamlPath) -> int:
        """The line of the nearest known ancestor of `path` (1-based)."""
        if self.lazy_lines is not None:
            self.lines, self.lazy_lines = self.lazy_lines(), None
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.start_line

    def text(self, path: YamlPath) -> str | None:
        """The scalar at `path` as written in the file (so `1.10` stays `1.10`)."""
        if path in self.texts:
            return self.texts[path]
        value = self.get(path)
        if value is None or isinstance(value, dict | list):
            return None
        return str(value)

    def get(self, path: YamlPath) -> Any:
        value = self.data
        for part in path:
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                return None
        return value


class YamlError(Exception):
    """A file that cannot be read as YAML; carries the finding that says so."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


class _Builder:
    """Turns a composed node graph into plain data, recording lines and findings."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.visits = 0
        self.alias_visits = 0
        self.built: set[int] = set()
        self.findings: list[Finding] = []
        self.lines: dict[YamlPath, int] = {}
        self.texts: dict[YamlPath, str] = {}

    def build(self, node: yaml.Node, path: YamlPath) -> Any:
        self.visits += 1
        if len(path) > MAX_DEPTH:
            raise YamlError(
                Finding(
                    "yaml/too-large",
                    Severity.ERROR,
                    self.file,
                    node.start_mark.line + 1,
                    f"document nested deeper than {MAX_DEPTH} levels",
                    "flatten the document",
                )
            )
        if not isinstance(node, yaml.ScalarNode):
            if id(node) in self.built:
                self.alias_visits += 1
            else:
                self.built.add(id(node))
        if self.visits > MAX_NODES or self.alias_visits > MAX_ALIAS_VISITS:
            raise YamlError(
                Finding(
                    "yaml/too-large",
                    Severity.ERROR,
                    self.file,
                    node.start_mark.line + 1,
                    "document expands to too many nodes (aliases nested too deep?)",
                    "split the document or remove nested aliases",
                )
            )
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self.lines[(*path, index)] = item.start_mark.line + 1
                items.append(self.build(item, (*path, index)))
            return items
        return self._scalar(node, path)

    def _scalar(self, node: yaml.Node, path: YamlPath) -> Any:
        tag = node.tag or ""
        if tag.startswith("tag:yaml.org,2002:") and tag != "tag:yaml.org,2002:str":
            try:
                value = _SCALAR_BUILDER.construct_object(node, deep=True)
            except (yaml.YAMLError, ValueError, OverflowError, IndexError):  # `!!float ""`
                value = node.value
            finally:  # the builder remembers what it made: forget it, or it grows forever
                _SCALAR_BUILDER.constructed_objects.clear()
                _SCALAR_BUILDER.recursive_objects.clear()
            if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
                value = node.value  # a number too long to print (`0x` and 5,000 digits): its text
            if not isinstance(value, str):
                self.texts[path] = node.value
            if isinstance(value, bytes | bytearray):
                return node.value
            if not isinstance(value, str | int | float | bool | type(None)):
                return str(value)  # timestamps: kept as written
            return value
        return node.value  # strings, and custom tags such as GitLab's !reference

    def _mapping(self, node: yaml.MappingNode, path: YamlPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merged = self.build(value_node, path)
                for part in merged if isinstance(merged, list) else [merged]:
                    if isinstance(part, dict):
                        for k, v in part.items():
                            result.setdefault(k, v)
                continue
            raw_key = self.build(key_node, (*path, "<key>"))
            key = (
                raw_key
                if isinstance(raw_key, str)
                else (key_node.value if isinstance(key_node, yaml.ScalarNode) else str(raw_key))
            )
            line = key_node.start_mark.line + 1
            if key in result:
                self.findings.append(
                    Finding(
                        "yaml/duplicate-key",
                        Severity.ERROR,
                        self.file,
                        line,
                        f"duplicate key {key!r}: the later value wins and the earlier is lost",
                        "remove one of the two keys",
                    )
                )
            self.lines[(*path, key)] = line
            result[key] = self.build(value_node, (*path, key))
        self.texts.pop((*path, "<key>"), None)
        return result


def parse_error_finding(file: str, error: Exception, rule: str = "yaml/parse-error") -> Finding:
    """A finding for a YAML or JSON syntax error, at the line the parser stopped."""
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    line = mark.line + 1 if mark is not None else getattr(error, "lineno", None)
    problem = getattr(error, "problem", None) or getattr(error, "msg", None) or str(error)
    return Finding(
        rule,
        Severity.ERROR,
        file,
        line,
        f"cannot parse: {problem}",
        "fix the syntax; the rest of the site is built without this file",
    )


def read_text(path: Path, display: str, limit: int = MAX_FILE_BYTES) -> str:
    """Read a text file with a size bound; raise YamlError with a finding otherwise."""
    try:
        size = path.stat().st_size
        if size > limit:
            raise YamlError(
                Finding(
                    "yaml/too-large",
                    Severity.ERROR,
                    display,
                    None,
                    f"file is {size} bytes, over the limit of {limit}",
                    "split the file",
                )
            )
        return path.read_text(encoding="utf-8").removeprefix("\ufeff")  # read as without a BOM
    except (OSError, UnicodeDecodeError) as error:
        raise YamlError(
            Finding("yaml/unreadable", Severity.ERROR, display, None, f"cannot read: {error}")
        ) from error


def iter_documents(text: str, file: str) -> Iterator[tuple[Document | None, list[Finding]]]:
    """Each document of a YAML stream; a syntax error ends the stream with a finding."""
    loader = _Loader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            builder = _Builder(file)
            try:
                data = builder.build(node, ())
            except YamlError as error:
                yield None, [error.finding]
                continue
            yield (
                Document(data, file, node.start_mark.line + 1, builder.lines, builder.texts),
                builder.findings,
            )
    except yaml.YAMLError as error:
        yield None, [parse_error_finding(file, error)]
    except RecursionError:
        yield None, [Finding("yaml/too-large", Severity.ERROR, file, None,
                             "document nested too deep to read", "flatten the document")]  # fmt: skip
    finally:
        loader.dispose()


def load_documents(text: str, file: str) -> tuple[list[Document], list[Finding]]:
    """All documents of a YAML stream, and the findings met on the way."""
    documents: list[Document] = []
    findings: list[Finding] = []
    for document, found in iter_documents(text, file):
        findings.extend(found)
        if document is not None and document.data is not None:
            documents.append(document)
    return documents, findings


def load_one(text: str, file: str) -> tuple[Document | None, list[Finding]]:
    """The first document of a YAML (or JSON) text, or None with findings."""
    documents, findings = load_documents(text, file)
    return (documents[0] if documents else None), findings


def load_file(path: Path, display: str) -> tuple[Document | None, list[Finding]]:
    """Read and load the first document of a file; never raises on bad input."""
    try:
        text = read_text(path, display)
    except YamlError as error:
        return None, [error.finding]
    return load_one(text, display)


_JSON_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[{}\[\],:\n]|-?\d[\d.eE+-]*|true|false|null')


def json_lines(text: str) -> dict[YamlPath, int]:
    """The line of every key and array item of a JSON text, by path (one regex scan)."""
    lines: dict[YamlPath, int] = {}
    stack: list[list[Any]] = []  # [path, kind, key-or-index, expecting-key]
    line = 1
    pending_key: str | None = None
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token == "\n":
            line += 1
            continue
        top = stack[-1] if stack else None
        if token in "{[":
            path: YamlPath = ()
            if top is not None:
                path = top[0] + ((pending_key,) if top[1] == "{" else (top[2],))
                if top[1] == "[":
                    lines.setdefault(path, line)
            stack.append([path, token, 0, True])
            pending_key = None
        elif token in "}]":
            if stack:
                stack.pop()
        elif token == ",":
            if top is not None:
                if top[1] == "[":
                    top[2] += 1
                else:
                    top[3] = True
        elif token == ":":
            if top is not None:
                top[3] = False
        elif top is not None and top[1] == "{" and top[3]:
            try:
                pending_key = json.loads(token)
            except ValueError:
                pending_key = token.strip('"')
            lines[(*top[0], pending_key)] = line
        elif top is not None and top[1] == "[":
            lines.setdefault((*top[0], top[2]), line)
    return lines


def load_json(text: str, file: str) -> tuple[Document | None, list[Finding]]:
    """A JSON text as a Document whose lines are found only when first asked for."""
    text = text.removeprefix("\ufeff")  # a byte order mark: json refuses it, editors write it
    try:
        data = json.loads(text)
    except ValueError as error:
        return None, [parse_error_finding(file, error)]
    except RecursionError:
        return None, [Finding("yaml/too-large", Severity.ERROR, file, None,
                              "document nested too deep to read", "flatten the document")]  # fmt: skip
    return Document(data, file, 1, lazy_lines=lambda: json_lines(text)), []


def load_data_file(path: Path, display: str) -> tuple[Document | None, list[Finding]]:
    """A .json file with the JSON parser, anything else as YAML."""
    try:
        text = read_text(path, display)
    except YamlError as error:
        return None, [error.finding]
    if path.suffix.lower() == ".json":
        return load_json(text, display)
    return load_one(text, display)


def as_dict(value: Any) -> dict[str, Any]:
    """`value` if it is a mapping, else an empty one: for reading untrusted data without checks."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """`value` if it is a list, else an empty one."""
    return value if isinstance(value, list) else []


@functools.lru_cache(maxsize=1024)
def input_regex(pattern: str) -> Any:
    """A regex written in an input (a patch target, a schema's `pattern`), compiled by RE2: it
    matches in time linear in the text, where Python's `re` can backtrack for ever (`(a+)+$`).
    None when RE2 does not accept it (look-arounds, back-references, too big)."""
    try:
        return re2.compile(pattern, options=_RE2_OPTIONS)
    except (re2.error, TypeError, ValueError):
        return None
