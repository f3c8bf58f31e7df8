"""pipeline-docs.yml: read, validated against its own schema, every error naming its key."""

from __future__ import annotations

import difflib
import functools
import json
import os
import re
from collections import deque
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

import jsonschema

from .limits import Limits
from .rules import RULES
from .sources.gitrepo import RepoError, git, is_url, open_repo
from .yamlload import Document, load_file

DEFAULT_OWNER_LABELS = ("owner", "team", "a8r.io/owner", "app.kubernetes.io/part-of")
DEFAULT_SERVICE_LABEL = "app.kubernetes.io/name"
KUSTOMIZE_AUTO = "auto"  # the real kustomize (or kubectl kustomize) when on PATH, else built-in
SEVERITY_OFF = "off"


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with the config: the key at fault, where it is, and what is wrong."""

    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key}: {self.message}"


class ConfigError(Exception):
    """The config cannot be used; carries every problem found, not only the first."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class EnvironmentConfig:
    """One environment of the promotion graph."""

    name: str
    repo: str
    ref: str | None = None
    web: str | None = None
    path: str | None = None  # only this folder of the repo (an overlay, a cluster's folder)
    # its direct upstreams in the promotion graph, resolved: `promotes_from:` as a tuple, else
    # the previous environment of the list (none for the first); () for a root
    promotes_from: tuple[str, ...] = ()
    production: bool = False  # `production:`, else whether its name starts with `prod`


@dataclass(frozen=True)
class ReleaseConfig:
    """An earlier release named in the config."""

    name: str
    ref: str | None = None
    schemas: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class BackstageConfig:
    """`backstage:`: what the Backstage export needs that the inputs do not say."""

    lifecycle: str = "production"  # every Component's `spec.lifecycle`


@dataclass(frozen=True)
class Ignore:
    """A finding to ignore, by rule and path glob, with the reason why."""

    rule: str
    path: str
    reason: str


@dataclass(frozen=True)
class Config:
    """The validated config, paths resolved against the config's folder."""

    file: Path
    title: str
    schemas: Path | None = None
    templates: tuple[Path, ...] = ()
    environments: tuple[EnvironmentConfig, ...] = ()
    mirrors: tuple[tuple[str, Path], ...] = ()
    allow: tuple[str, ...] = ()  # more URL prefixes bundles may come from (`bundles.allow`)
    limits: Limits = field(default_factory=Limits)
    bundle_cache: Path | None = None
    owners: Path | None = None
    owner_labels: tuple[str, ...] = DEFAULT_OWNER_LABELS
    service_label: str = DEFAULT_SERVICE_LABEL  # the label that names a service
    kustomize: str | tuple[str, ...] = KUSTOMIZE_AUTO  # "auto", "builtin", or a command
    announcements: Path | None = None
    releases: tuple[ReleaseConfig, ...] = ()
    validate: tuple[tuple[str, str], ...] = ()
    severities: tuple[tuple[str, str], ...] = ()
    ignores: tuple[Ignore, ...] = ()
    sample: Path | None = None
    cache: Path = field(default=Path(".cache"))
    site_url: str = ""
    stale_after: int = 86_400  # seconds (`freshness.stale_after`): older data is marked stale
    backstage: BackstageConfig = field(default_factory=BackstageConfig)
    lines: tuple[tuple[str, int], ...] = ()  # each key path, slash-joined, -> its line

    def line_of(self, *path: str | int) -> int | None:
        """The line of a key of the config (`"validate", pattern`), for findings about it."""
        return dict(self.lines).get("/".join(map(str, path)))

    @property
    def root(self) -> Path:
        return self.file.parent

    def display(self, path: Path | str) -> str:
        """A path as findings show it: relative to the config's folder, with `..` for one
        outside it (no absolute path of the machine that ran the build), on another drive
        as it is."""
        return _shown(str(path), str(self.root), os.getcwd())  # a relative path: from here

    def severity_for(self, rule: str) -> str | None:
        return dict(self.severities).get(rule)


@functools.lru_cache(maxsize=65_536)  # asked for every finding and deployment: resolved once
def _shown(path: str, root: str, cwd: str) -> str:
    try:
        return Path(os.path.relpath(_resolved(path, cwd), _resolved_folder(root, cwd))).as_posix()
    except ValueError:
        return Path(path).as_posix()


def _resolved(path: str, cwd: str) -> str:
    """`path` resolved as `Path.resolve` would: a file that is no link resolved by its folder,
    kept once for all the files in it (thousands of `validate:` files share a few folders)."""
    plain = Path(path)
    if plain.name in ("", ".", "..") or os.path.islink(plain):
        return str(plain.resolve())
    return os.path.join(_resolved_folder(str(plain.parent), cwd), plain.name)


@functools.lru_cache(maxsize=4_096)
def _resolved_folder(folder: str, cwd: str) -> str:  # `cwd`: a relative folder is from there
    return str(Path(folder).resolve())


def _schema() -> dict[str, Any]:
    text = resources.files("generator").joinpath("formats/config.schema.json").read_text("utf-8")
    result: dict[str, Any] = json.loads(text)
    return result


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_/-]+")


def _key_path(parts: list[str | int]) -> str:
    """`environments[1].promotes_from`; a key that is a URL or a glob in quotes:
    `bundles.mirrors["https://x/"]`."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not _PLAIN_KEY.fullmatch(str(part)):
            out += f"[{json.dumps(str(part), ensure_ascii=False)}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


_TYPES = {"string": "a string", "integer": "a whole number", "number": "a number",
          "boolean": "true or false", "array": "a list", "object": "a mapping", "null": "null"}  # fmt: skip
_MANY = {"string": "strings", "integer": "whole numbers", "number": "numbers",
         "boolean": "booleans", "array": "lists", "object": "mappings"}  # fmt: skip
_SHOWN_CHARS = 60  # of a wrong value quoted in a message


def _either(words: list[str]) -> str:
    """`a`, `a or b`, `a, b or c`."""
    words = list(dict.fromkeys(words))
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _literal(value: Any) -> str:
    """A value as YAML writes it: `'auto'`, `false`, `null`, `3`."""
    return repr(value) if isinstance(value, str) else json.dumps(value)


def _bounds(schema: dict[str, Any]) -> str:
    words = [
        f"{label} {schema[key]}"
        for key, label in (("exclusiveMinimum", "above"), ("minimum", "at least"),
                           ("exclusiveMaximum", "below"), ("maximum", "at most"))
        if key in schema
    ]  # fmt: skip
    return f" {' and '.join(words)}" if words else ""


def expected(schema: dict[str, Any]) -> str:
    """What a value of this schema must be, in words: its `x-expected`, else what its keywords
    say (`a non-empty list of strings`, `'auto' or 'builtin'`, `a whole number above 0`)."""
    if isinstance(schema.get("x-expected"), str):
        return str(schema["x-expected"])
    for key in ("oneOf", "anyOf"):
        if isinstance(schema.get(key), list):
            return _either([expected(s) for s in schema[key] if isinstance(s, dict)])
    if isinstance(schema.get("enum"), list):
        return _either([_literal(value) for value in schema["enum"]])
    if "const" in schema:
        return _literal(schema["const"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return _either([expected({**schema, "type": k}) for k in kind])
    if kind == "string":
        words = "a non-empty string" if schema.get("minLength") else "a string"
        return words + (f" matching {schema['pattern']}" if "pattern" in schema else "")
    if kind == "array":
        return _list(schema)
    if kind in ("integer", "number"):
        return _TYPES[kind] + _bounds(schema)
    return _TYPES.get(str(kind), "a value of another shape")


def _list(schema: dict[str, Any]) -> str:
    listed = "a non-empty list" if schema.get("minItems") else "a list"
    items = schema.get("items")
    if not isinstance(items, dict) or not items:
        return listed
    if items.get("type") in _MANY and set(items) <= {"type", "minLength", "description"}:
        return f"{listed} of {'non-empty ' if items.get('minLength') else ''}{_MANY[items['type']]}"
    return f"{listed}, each {expected(items)}"


def _got(value: Any, text: str | None) -> str:
    """What a wrong value is, and the value as written, cut: `a number (42)`."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)  # null, true, false
    if isinstance(value, str):
        kind, shown = ("a string", repr(value)) if value else ("an empty string", "")
    elif isinstance(value, int | float):
        kind, shown = "a number", text or str(value)
    elif isinstance(value, list | dict):
        kind = ("a list" if isinstance(value, list) else "a mapping") if value else (
            "an empty list" if isinstance(value, list) else "an empty mapping")  # fmt: skip
        shown = json.dumps(value, default=str, ensure_ascii=False) if value else ""
    else:
        kind, shown = "a value", str(value)
    if len(shown) > _SHOWN_CHARS:
        shown = shown[: _SHOWN_CHARS - 1] + "…"
    return f"{kind} ({shown})" if shown else kind


def _message(error: jsonschema.ValidationError, document: Document) -> str:
    """What is expected at the key, and what is there instead; never jsonschema's own words."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "required" and isinstance(error.instance, dict):
        names = error.validator_value if isinstance(error.validator_value, list) else []
        missing = [n for n in names if n not in error.instance]
        wanted = schema.get("properties", {}).get(missing[0]) if missing else None
        needed = f": {expected(wanted)}" if isinstance(wanted, dict) else ""
        return f"{missing[0] if missing else 'a key'!r} is required{needed}"
    got = _got(error.instance, document.text(tuple(error.absolute_path)))
    return f"expected {expected(schema)}, got {got}"


def _problems(document: Document, display: str) -> list[ConfigProblem]:
    schema = _schema()
    validator = jsonschema.Draft202012Validator(schema)
    problems: list[ConfigProblem] = []
    for error in sorted(validator.iter_errors(document.data), key=lambda e: list(map(str, e.path))):
        path = list(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = sorted(error.schema.get("properties", {}))
            for extra in sorted(set(error.instance) - set(known)):
                close = difflib.get_close_matches(str(extra), known, n=1)
                hint = (
                    f"; did you mean {close[0]!r}?"
                    if close
                    else f"; known keys: {', '.join(known)}"
                )
                problems.append(
                    ConfigProblem(
                        display,
                        document.line((*path, extra)),
                        _key_path([*path, extra]),
                        f"unknown key{hint}",
                    )
                )
            continue
        problems.append(ConfigProblem(
            display, document.line(tuple(path)), _key_path(path), _message(error, document)
        ))  # fmt: skip
    return problems


def load_config(path: Path | str = "pipeline-docs.yml") -> Config:
    """Read and validate the config; raise ConfigError with every problem found."""
    file = Path(path).resolve()
    display = str(path)
    if not file.is_file():
        raise ConfigError([ConfigProblem(str(path), None, "(file)", "config file not found")])
    document, findings = load_file(file, display)
    problems = [
        ConfigProblem(display, f.line, "(syntax)" if "parse" in f.rule else "(file)", f.message)
        for f in findings
    ]
    if document is None or not isinstance(document.data, dict):
        problems.append(ConfigProblem(display, None, "(top level)", "expected a mapping of keys"))
        raise ConfigError(problems)
    problems.extend(_problems(document, display))
    seen: set[str] = set()
    for index, env in enumerate(document.data.get("environments") or []):
        name = env.get("name") if isinstance(env, dict) else None
        if isinstance(name, str) and name in seen:
            problems.append(ConfigProblem(display, document.line(("environments", index, "name")),
                                          f"environments[{index}].name", f"{name!r} is named twice"))  # fmt: skip
        elif isinstance(name, str):
            seen.add(name)
    problems.extend(_promotion_problems(document, display))
    problems.extend(_missing_env_paths(file.parent, document, display))
    problems.extend(_unknown_rules(document, display))
    problems.sort(key=lambda p: (p.line or 0, p.key))
    if problems:
        raise ConfigError(problems)
    config = _build(file, document.data)
    lines = tuple(sorted(("/".join(map(str, path)), line) for path, line in document.lines.items()))
    return replace(config, lines=lines)


def _named_upstreams(env: Any) -> list[tuple[int | None, str]]:
    """The names an environment's `promotes_from:` gives, each with its index in the list
    (None when it is one name), or [] when the key is absent or not of a usable shape."""
    value = env.get("promotes_from") if isinstance(env, dict) else None
    if isinstance(value, str):
        return [(None, value)]
    if isinstance(value, list):
        return [(index, name) for index, name in enumerate(value) if isinstance(name, str)]
    return []


def _upstreams(environments: list[Any]) -> list[tuple[str, ...]]:
    """Each environment's direct upstreams: its `promotes_from:` (one name or a list, in the
    order given, each once), else the previous environment of the list (none for the first)."""
    resolved: list[tuple[str, ...]] = []
    for index, env in enumerate(environments):
        if isinstance(env, dict) and "promotes_from" in env:
            names = dict.fromkeys(name for _, name in _named_upstreams(env))
            resolved.append(tuple(names))
        elif index and isinstance(previous := environments[index - 1], dict):
            name = previous.get("name")
            resolved.append((name,) if isinstance(name, str) else ())
        else:
            resolved.append(())
    return resolved


def _promotion_problems(document: Document, display: str) -> list[ConfigProblem]:
    """`promotes_from:` names that are no environment, an environment itself or one named
    twice, and every cycle of the promotion graph (each named once, by the environments in it,
    at the first `promotes_from:` of the cycle that points forward in the list)."""
    environments = document.data.get("environments")
    if not isinstance(environments, list):
        return []
    names = [env.get("name") if isinstance(env, dict) else None for env in environments]
    known = [name for name in names if isinstance(name, str)]
    problems: list[ConfigProblem] = []

    def problem(index: int, item: int | None, message: str) -> None:
        path: tuple[str | int, ...] = ("environments", index, "promotes_from")
        path += () if item is None else (item,)
        problems.append(ConfigProblem(display, document.line(path), _key_path(list(path)), message))

    for index, env in enumerate(environments):
        seen: set[str] = set()
        for item, upstream in _named_upstreams(env):
            if upstream == names[index]:
                problem(index, item, f"{upstream!r} cannot promote from itself")
            elif upstream not in known:
                close = difflib.get_close_matches(upstream, known, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
                problem(index, item, f"unknown environment {upstream!r}; {hint}")
            elif upstream in seen:
                problem(index, item, f"{upstream!r} is named twice")
            seen.add(upstream)
    # the graph of the names that exist, self-references left out (reported above)
    index_of = {n: i for i, n in reversed(list(enumerate(names))) if isinstance(n, str)}
    edges = {
        index: [index_of[u] for u in upstreams if u in index_of and index_of[u] != index]
        for index, upstreams in enumerate(_upstreams(environments))
    }
    for cycle in _cycles(edges):
        # an edge to a later environment is always written out (defaults point backwards)
        forward = [i for i in cycle if any(u > i for u in edges[i] if u in cycle)]
        at = min(forward or cycle)
        ring = " -> ".join(str(names[i]) for i in _ring(cycle, edges, at))
        problem(at, None, f"promotion cycle: {ring}")
    return problems


def _cycles(edges: dict[int, list[int]]) -> list[set[int]]:
    """The strongly connected components of more than one node (Tarjan), by smallest node."""
    counter = 0
    number: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[int] = []
    on_stack: set[int] = set()
    found: list[set[int]] = []

    def visit(node: int) -> None:  # recursion depth is bounded by the number of environments
        nonlocal counter
        number[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for successor in edges[node]:
            if successor not in number:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], number[successor])
        if low[node] == number[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(edges):
        if node not in number:
            visit(node)
    return sorted(found, key=min)


def _ring(cycle: set[int], edges: dict[int, list[int]], start: int) -> list[int]:
    """The shortest cycle through `start` inside the component, in the direction promotion
    flows: `start`, what it promotes to, ..., `start` (a breadth-first search along upstreams,
    read backwards)."""
    parent = {start: start}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for upstream in edges[node]:
            if upstream == start:  # start <- node <- parent[node] <- ... <- start
                walk = [start, node]
                while walk[-1] != start:
                    walk.append(parent[walk[-1]])
                return walk
            if upstream in cycle and upstream not in parent:
                parent[upstream] = node
                queue.append(upstream)
    return sorted(cycle)


def _missing_env_paths(root: Path, document: Document, display: str) -> list[ConfigProblem]:
    """A local environment's `path:` that is not a folder of its repo (on disk, or at its ref).

    A repo that cannot be opened, or a ref that names nothing, is left to the env repo reader,
    which reports it as unreadable; remote repos are only read once cloned."""
    problems = []
    for index, env in enumerate(document.data.get("environments") or []):
        if not isinstance(env, dict):
            continue
        repo, ref, path = env.get("repo"), env.get("ref"), env.get("path")
        if not (isinstance(repo, str) and isinstance(path, str)) or is_url(repo):
            continue
        if not isinstance(ref, str):
            ref = None
        inside = PurePosixPath(path.strip("/")).as_posix()
        if inside == ".":
            continue
        try:
            view = open_repo(repo, ref, root, root / ".cache")  # local: no clone, no cache
        except RepoError:
            continue
        if view.ref is None:
            target = view.root / inside
            kind = "tree" if target.is_dir() else ("blob" if target.exists() else "")
            where = repo
        else:
            try:
                kind = git(["cat-file", "-t", f"{view.ref}:{inside}"], view.root).strip()
            except RepoError:
                kind = ""
            where = f"{repo} at {ref}"
        if kind == "tree":
            continue
        what = "is a file, not a folder" if kind else "does not exist"
        problems.append(ConfigProblem(display, document.line(("environments", index, "path")),
                                      f"environments[{index}].path", f"{path} {what} in {where}"))  # fmt: skip
    return problems


def _rule_problem(rule: str) -> str:
    """What to say of a rule id that no rule has: the closest one, else the rules of its area."""
    close = difflib.get_close_matches(rule, sorted(RULES), n=1)
    if close:
        return f"unknown rule; did you mean {close[0]!r}?"
    area = sorted(r for r in RULES if r.split("/", 1)[0] == rule.split("/", 1)[0])
    if area:
        return f"unknown rule; the rules of {rule.split('/', 1)[0]}/ are {', '.join(area)}"
    return "unknown rule; every rule is listed on the site's page reference/rules.md"


def _unknown_rules(document: Document, display: str) -> list[ConfigProblem]:
    """Rule ids under `checks:` (a severity's key, an ignore's `rule`) that no rule has."""
    checks = document.data.get("checks")
    if not isinstance(checks, dict):
        return []
    named: list[tuple[tuple[str | int, ...], str, str]] = [
        (("checks", key), f"checks.{key}", key) for key in checks if key != "ignore"
    ]
    ignores = checks.get("ignore")
    for index, item in enumerate(ignores if isinstance(ignores, list) else []):
        rule = item.get("rule") if isinstance(item, dict) else None
        if isinstance(rule, str) and not any(c in rule for c in "*?["):
            named.append(
                (("checks", "ignore", index, "rule"), f"checks.ignore[{index}].rule", rule)
            )
    return [
        ConfigProblem(display, document.line(path), key, _rule_problem(rule))
        for path, key, rule in named
        if rule not in RULES
    ]


_UNIT_SECONDS = {"m": 60, "h": 3_600, "d": 86_400}


def _seconds(age: str) -> int:
    """`36h` in seconds; the config's schema has checked its form."""
    return int(age[:-1]) * _UNIT_SECONDS[age[-1]]


def _build(file: Path, data: dict[str, Any]) -> Config:
    root = file.parent

    def resolve(value: str | None) -> Path | None:
        return (root / value) if value else None

    templates = data.get("templates", [])
    if isinstance(templates, str):
        templates = [templates]
    bundles = data.get("bundles", {})
    checks = dict(data.get("checks", {}))
    ignores = tuple(
        Ignore(item["rule"], item.get("path", "*"), item["reason"])
        for item in checks.pop("ignore", [])
    )
    severities = tuple(
        (rule, SEVERITY_OFF if level is False else str(level))
        for rule, level in sorted(checks.items())
    )
    cache = root / data.get("cache", ".cache")
    envs = data.get("environments", [])
    return Config(
        file=file,
        title=data["title"],
        schemas=resolve(data.get("schemas")),
        templates=tuple(root / t for t in templates),
        environments=tuple(
            EnvironmentConfig(
                e["name"],
                e["repo"],
                e.get("ref"),
                e.get("web"),
                e.get("path"),
                upstreams,
                bool(e.get("production", str(e["name"]).lower().startswith("prod"))),
            )
            for e, upstreams in zip(envs, _upstreams(envs), strict=True)
        ),
        mirrors=tuple(
            (prefix, root / folder) for prefix, folder in bundles.get("mirrors", {}).items()
        ),
        allow=tuple(bundles.get("allow", ())),
        limits=Limits.from_config(data.get("limits", {})),
        bundle_cache=resolve(bundles.get("cache")) or cache / "bundles",
        owners=resolve(data.get("owners")),
        owner_labels=tuple(data.get("owner_labels", DEFAULT_OWNER_LABELS)),
        service_label=data.get("service_label", DEFAULT_SERVICE_LABEL),
        kustomize=(
            tuple(kustomize)
            if isinstance(kustomize := data.get("kustomize", KUSTOMIZE_AUTO), list)
            else kustomize
        ),
        announcements=resolve(data.get("announcements")),
        releases=tuple(
            ReleaseConfig(r["name"], r.get("ref"), r.get("schemas"), r.get("date"))
            for r in data.get("releases", [])
        ),
        validate=tuple(sorted(data.get("validate", {}).items())),
        severities=severities,
        ignores=ignores,
        sample=resolve(data.get("sample")),
        cache=cache,
        site_url=str(data.get("site_url") or ""),
        stale_after=_seconds(data.get("freshness", {}).get("stale_after", "24h")),
        backstage=BackstageConfig(data.get("backstage", {}).get("lifecycle", "production")),
    )
