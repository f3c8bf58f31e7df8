"""The changelog as pages see it: releases newest first, announcements by type, schema changes,
and for each option and template the announcements that concern it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..analysis.versions import semver_key
from ..model import Announcement, Model, SchemaChange
from . import paths

TYPE_ORDER = ("security", "removal", "deprecation", "change", "feature", "fix")
UNRELEASED = "Unreleased"


@dataclass
class ReleaseView:
    """One release on the changelog page."""

    name: str
    date: str = ""
    announcements: dict[str, list[Announcement]] = field(default_factory=dict)  # by type
    changes: tuple[SchemaChange, ...] = ()
    since: str = ""  # the release the schema changes are counted from


def _order(name: str) -> tuple[int, Any]:
    key = semver_key(name)
    return (1, key) if key is not None else (2, name)  # unversioned ("Unreleased") on top


def releases(model: Model) -> list[ReleaseView]:
    """Releases newest first, each with its announcements by type and its schema changes."""
    views: dict[str, ReleaseView] = {r.name: ReleaseView(r.name, r.date) for r in model.releases}
    released = set(views)
    for item in model.announcements:
        name = item.release or UNRELEASED
        view = views.setdefault(name, ReleaseView(name))
        view.announcements.setdefault(item.type, []).append(item)
    upcoming = [name for name in views if name not in released]
    for diff in model.schema_changes:
        target = diff.after or (upcoming[0] if len(upcoming) == 1 else UNRELEASED)
        if diff.changes or diff.after:
            view = views.setdefault(target, ReleaseView(target))
            view.changes, view.since = diff.changes, diff.before
    for view in views.values():
        view.announcements = {
            t: view.announcements[t] for t in TYPE_ORDER if t in view.announcements
        }
    return sorted(views.values(), key=lambda v: _order(v.name), reverse=True)


def option_links(model: Model) -> dict[str, str]:
    """Option id -> `page#anchor`, for links from announcements and schema changes."""
    return {o.id: f"{paths.schema_page(s.id)}#{o.anchor}" for s in model.schemas for o in s.options}


def link_for_option(option_id: str, links: dict[str, str]) -> str:
    """The page of an option, or of the nearest option above it that the site shows."""
    candidate = option_id
    while candidate:
        if candidate in links:
            return links[candidate]
        schema, _, path = candidate.partition(":")
        cut = max(path.rfind("."), path.rfind("["))
        if cut <= 0:
            break
        candidate = f"{schema}:{path[:cut]}"
    return ""  # gone: a removed option has no page to link to


def notes_for_options(model: Model) -> dict[str, list[Announcement]]:
    """Option id -> the announcements that concern it (naming it, or an option above it)."""
    naming: dict[str, set[int]] = {}  # option id as a fragment names it -> fragments, by index
    for index, item in enumerate(model.announcements):
        for named in item.options:
            naming.setdefault(named, set()).add(index)
    notes: dict[str, list[Announcement]] = {}
    for schema in model.schemas:
        for option in schema.options:
            # the option and each option above it (`covers`), looked up: no scan of every fragment
            name, _, path = option.id.partition(":")
            above = [f"{name}:{path[:i]}" for i, c in enumerate(path) if c in ".["]
            found = set().union(*(naming.get(o, ()) for o in [option.id, *above]))
            if found:
                notes[option.id] = [model.announcements[i] for i in sorted(found)]
    return notes


def notes_for_templates(model: Model) -> dict[str, list[Announcement]]:
    """Template id -> the announcements that name it."""
    notes: dict[str, list[Announcement]] = {}
    for item in model.announcements:
        for template in item.templates:
            notes.setdefault(template, []).append(item)
    return notes
