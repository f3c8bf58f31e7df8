"""The changelog's checks: fragments name what exists, and no schema change ships unannounced."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from ..model import Announcement, Finding, Model, ReleaseDiff, Schema, Severity
from .schemadiff import schema_diff


def release_diffs(model: Model) -> tuple[ReleaseDiff, ...]:
    """The schema changes from each release to the next, and from the latest to the work tree."""
    diffs = []
    steps = [(r.name, r.schemas) for r in model.releases] + [("", model.schemas)]
    for (before, old), (after, new) in itertools.pairwise(steps):
        diffs.append(ReleaseDiff(before, after, tuple(schema_diff(old, new))))
    return tuple(diffs)


def option_exists(option_id: str, schemas: tuple[Schema, ...], depth: int = 0) -> bool:
    """Whether a schema has this option, counting those below an option that is linked to a
    definition shown elsewhere (`deploy.probes.liveness.path` when `liveness` is `readiness`)."""
    schema_id, _, path = option_id.partition(":")
    for schema in schemas:
        if schema.id != schema_id:
            continue
        paths = {o.anchor: o.path for o in schema.options}
        for option in schema.options:
            if option.path == path:
                return True
            shown_at = paths.get(option.same_as) if option.same_as else None
            if shown_at and depth < 8 and path.startswith((f"{option.path}.", f"{option.path}[")):
                moved = f"{schema_id}:{shown_at}{path[len(option.path) :]}"
                if option_exists(moved, schemas, depth + 1):
                    return True
    return False


def reference_findings(model: Model) -> list[Finding]:
    """A fragment naming an option that exists neither now nor at the last release (a removal or
    a deprecation: nor in any earlier release, as it names what is gone), or a template that
    does not exist."""
    recent = [model.schemas, *(r.schemas for r in model.releases[-1:])]
    every = [model.schemas, *(r.schemas for r in reversed(model.releases))]
    templates = {t.id for t in model.templates}
    findings = []
    for item in model.announcements:
        for index, option in enumerate(item.options):
            known = every if item.type in ("removal", "deprecation") else recent
            if not any(option_exists(option, schemas) for schemas in known):
                findings.append(Finding(
                    "changelog/unknown-option", Severity.ERROR, item.file, _line(item.option_lines, index),
                    f"{item.title!r} names option {option!r}, which exists neither now nor in a release before",
                    "write the option id as `<schema>:<path>`, e.g. `service:deploy.replicas`",
                ))  # fmt: skip
        for index, template in enumerate(item.templates):
            if template not in templates:
                findings.append(Finding(
                    "changelog/unknown-template", Severity.ERROR, item.file,
                    _line(item.template_lines, index),
                    f"{item.title!r} names template {template!r}, which does not exist",
                    "use the template's id: its path under the templates folder, without extension",
                ))  # fmt: skip
    return findings


def _line(lines: tuple[int | None, ...], index: int) -> int | None:
    return lines[index] if index < len(lines) else None


def _announced(announcements: tuple[Announcement, ...]) -> Callable[[str], bool]:
    """Whether a fragment names an option or one above it (`schemadiff.covers`), asked of sets
    built once: an option's ancestors are looked up, not every fragment's options scanned."""
    named = {option for item in announcements for option in item.options}
    parts = {option.partition(":")[::2] for option in named}

    def announced(option: str) -> bool:
        if option in named:
            return True
        schema, _, path = option.partition(":")
        return any((schema, path[:i]) in parts for i, c in enumerate(path) if c in ".[")

    return announced


def _nearest(
    option: str, where: dict[str, tuple[str, int | None]], files: dict[str, str]
) -> tuple[str | None, int | None]:
    """For an option that is gone: the line of the nearest option above it that is still there,
    in the work tree's file of the same schema (never the cached copy of an old release)."""
    schema, _, path = option.partition(":")
    while path:
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
        if f"{schema}:{path}" in where:
            return where[f"{schema}:{path}"]
    return files.get(schema), None


def unannounced_findings(model: Model) -> list[Finding]:
    """Each schema change since the last release that no fragment mentions."""
    if not model.releases or not model.schema_changes:
        return []
    latest = model.schema_changes[-1]
    where = {o.id: (s.file, o.line) for s in model.schemas for o in s.options}
    files = {s.id: s.file for s in model.schemas}
    announced = _announced(model.announcements)
    findings = []
    for change in latest.changes:
        if announced(change.option):
            continue
        file, line = where.get(change.option) or _nearest(change.option, where, files)
        findings.append(Finding(
            "changelog/missing-announcement", Severity.ERROR if change.breaking else Severity.WARNING,
            file, line,
            f"{change.option}: {change.kind} since {latest.before} ({change.detail}), and no changelog "
            "fragment says so" + (": this change breaks existing configs" if change.breaking else ""),
            "add a fragment that names this option (pipeline-docs announce --option ...)",
        ))  # fmt: skip
    return findings
