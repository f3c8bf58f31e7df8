"""The CI templates of a source: GitLab CI/CD components (`templates/` files with a `spec:`
header), GitHub actions (`action.yml` with `runs:`) and reusable workflows (`on:
workflow_call`), each under the folder of its project.

The config's `templates:` reads every YAML file under a folder it names (a file that is no
action nor workflow is read as a GitLab template), so a project's folder is named only when
every YAML file the reader would take there is a template; otherwise its templates are named
one by one (a component project's `templates/` folder as a whole)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from ..sources.templates import SIDECAR_SUFFIXES, TEMPLATE_SUFFIXES
from ..yamlload import as_dict, as_list
from .walk import Source

ACTION_FILES = ("action.yml", "action.yaml")


@dataclass(frozen=True)
class TemplateEntry:
    """A folder or file for `templates:`, relative to its source's root."""

    source: Source
    path: str  # "" for the source's root
    count: int  # templates it holds
    kinds: tuple[str, ...]  # each template's: gitlab, github-action or github-workflow


def _parts(name: str) -> tuple[str, ...]:
    return PurePosixPath(name).parts


def _is_workflow_file(name: str) -> bool:
    parts = _parts(name)
    return len(parts) >= 3 and parts[-3:-1] == (".github", "workflows")


def _triggers(data: Any) -> set[str]:
    on = as_dict(data).get("on")
    if isinstance(on, str):
        return {on}
    return {str(t) for t in (as_list(on) or list(as_dict(on)))}


def template_kind(source: Source, name: str) -> str | None:
    """What a YAML file is as a CI template, or None when it is none."""
    parts = _parts(name)
    if parts[-1] in ACTION_FILES:
        return "github-action" if isinstance(as_dict(source.data(name)).get("runs"), dict) else None
    if _is_workflow_file(name):
        return "github-workflow" if "workflow_call" in _triggers(source.data(name)) else None
    if "templates" in parts[:-1]:
        text = source.text(name) or ""
        header = as_dict(source.data(name)) if "spec:" in text else {}
        spec = header.get("spec")  # a header document of its own: `spec:` alone
        if list(header) == ["spec"] and isinstance(spec, dict):
            return "gitlab" if "inputs" in spec or "\n---" in text else None
    return None


def _project(name: str, kind: str, actions: set[str]) -> str:
    """The folder of a template's project: above `templates/`, above `.github/`, or the
    outermost folder with an action.yml of its own above an action's."""
    parts = _parts(name)
    if kind == "gitlab":
        at = len(parts) - 2 - parts[:-1][::-1].index("templates")
        return "/".join(parts[:at])
    if kind == "github-workflow" or ".github" in parts:
        return "/".join(parts[: parts.index(".github")])
    folder = "/".join(parts[:-1])
    for depth in range(len(parts) - 1):
        above = "/".join(parts[:depth])
        if above in actions:
            return above
    return folder


def _read_by_reader(source: Source, folder: str) -> list[str]:
    """The files `templates:` would read under a folder (as sources/templates.py lists them)."""
    prefix = f"{folder}/" if folder else ""
    found = []
    for name in source.files:
        if not name.startswith(prefix) or not name.endswith(TEMPLATE_SUFFIXES):
            continue
        parts = _parts(name[len(prefix) :])
        hidden = [p for p in parts[:-1] if p.startswith(".")]
        github = ".github" in parts and (_is_workflow_file(name) or parts[-1] in ACTION_FILES)
        if parts[-1].endswith(SIDECAR_SUFFIXES) or parts[-1].startswith("."):
            continue
        if hidden and not github:
            continue
        found.append(name)
    return found


def template_entries(source: Source) -> list[TemplateEntry]:
    """What `templates:` should name for the templates of a source."""
    kinds = {
        name: kind
        for name in source.files
        if name.endswith(TEMPLATE_SUFFIXES) and (kind := template_kind(source, name))
    }
    actions = {"/".join(_parts(n)[:-1]) for n, k in kinds.items() if k == "github-action"}
    projects: dict[str, list[str]] = {}
    for name, kind in kinds.items():
        projects.setdefault(_project(name, kind, actions), []).append(name)
    entries = []
    for project, names in sorted(projects.items()):
        gitlab_folders = {
            "/".join(_parts(n)[: len(_parts(n)) - 1 - _parts(n)[:-1][::-1].index("templates")])
            for n in names
            if kinds[n] == "gitlab"
        }
        # a component project's templates/ holds its hidden job templates too: all are read
        read = _read_by_reader(source, project)
        usable = {
            n for n in read if n in kinds or any(n.startswith(f"{g}/") for g in gitlab_folders)
        }
        skipped_workflows = {n for n in read if _is_workflow_file(n) and n not in kinds}
        if set(read) <= usable | skipped_workflows:
            entries.append(_entry(source, project, names, kinds))
            continue
        for folder in sorted(gitlab_folders):
            inside = [n for n in names if n.startswith(f"{folder}/")]
            entries.append(_entry(source, folder, inside, kinds))
        for name in sorted(n for n in names if kinds[n] != "gitlab"):
            entries.append(_entry(source, name, [name], kinds))
    return entries


def _entry(source: Source, path: str, names: list[str], kinds: dict[str, str]) -> TemplateEntry:
    return TemplateEntry(source, path, len(names), tuple(sorted(kinds[n] for n in names)))
