"""pipeline-docs.yml: read, validated against its own schema, every error naming its key."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from .yamlload import Document, load_file

DEFAULT_OWNER_LABELS = ("owner", "team", "a8r.io/owner", "app.kubernetes.io/part-of")
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
    """One environment of the promotion order."""

    name: str
    repo: str
    ref: str | None = None
    web: str | None = None
    path: str | None = None  # only this folder of the repo (an overlay, a cluster's folder)


@dataclass(frozen=True)
class ReleaseConfig:
    """An earlier release named in the config."""

    name: str
    ref: str | None = None
    schemas: str | None = None
    date: str | None = None


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
    bundle_cache: Path | None = None
    owners: Path | None = None
    owner_labels: tuple[str, ...] = DEFAULT_OWNER_LABELS
    announcements: Path | None = None
    releases: tuple[ReleaseConfig, ...] = ()
    validate: tuple[tuple[str, str], ...] = ()
    severities: tuple[tuple[str, str], ...] = ()
    ignores: tuple[Ignore, ...] = ()
    sample: Path | None = None
    cache: Path = field(default=Path(".cache"))
    site_url: str = ""
    lines: tuple[tuple[str, int], ...] = ()  # each key path, slash-joined, -> its line

    def line_of(self, *path: str | int) -> int | None:
        """The line of a key of the config (`"validate", pattern`), for findings about it."""
        return dict(self.lines).get("/".join(map(str, path)))

    @property
    def root(self) -> Path:
        return self.file.parent

    def display(self, path: Path | str) -> str:
        """A path as findings show it: relative to the config's folder where it can be."""
        path = Path(path)
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return path.as_posix()

    def severity_for(self, rule: str) -> str | None:
        return dict(self.severities).get(rule)


def _schema() -> dict[str, Any]:
    text = resources.files("generator").joinpath("formats/config.schema.json").read_text("utf-8")
    result: dict[str, Any] = json.loads(text)
    return result


def _key_path(parts: list[str | int]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


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
        if error.validator == "required":
            message = error.message.replace("is a required property", "is required")
        else:
            message = error.message
        problems.append(
            ConfigProblem(display, document.line(tuple(path)), _key_path(path), message)
        )
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
    problems.sort(key=lambda p: (p.line or 0, p.key))
    if problems:
        raise ConfigError(problems)
    config = _build(file, document.data)
    lines = tuple(sorted(("/".join(map(str, path)), line) for path, line in document.lines.items()))
    return replace(config, lines=lines)


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
    return Config(
        file=file,
        title=data["title"],
        schemas=resolve(data.get("schemas")),
        templates=tuple(root / t for t in templates),
        environments=tuple(
            EnvironmentConfig(e["name"], e["repo"], e.get("ref"), e.get("web"), e.get("path"))
            for e in data.get("environments", [])
        ),
        mirrors=tuple(
            (prefix, root / folder) for prefix, folder in bundles.get("mirrors", {}).items()
        ),
        bundle_cache=resolve(bundles.get("cache")) or cache / "bundles",
        owners=resolve(data.get("owners")),
        owner_labels=tuple(data.get("owner_labels", DEFAULT_OWNER_LABELS)),
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
    )
