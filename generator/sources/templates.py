"""CI templates: GitLab CI/CD components (`spec: inputs:`), GitHub actions and reusable workflows.

Neither format has room for examples or pitfalls, so a sidecar `<template>.docs.yml` may add a
`summary` and, per input, `examples` and `pitfalls`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from ..ids import anchor, template_id
from ..model import Finding, Input, Output, Pitfall, Severity, Template
from ..yamlload import (
    Document,
    YamlError,
    as_dict,
    as_list,
    input_regex,
    load_documents,
    load_one,
    read_text,
)

TEMPLATE_SUFFIXES = (".yml", ".yaml")
SIDECAR_SUFFIXES = (".docs.yml", ".docs.yaml")
_GITLAB_USE = re.compile(r"\$\[\[\s*inputs\.([A-Za-z0-9_-]+)")
_GITHUB_USE = re.compile(r"\binputs\.([A-Za-z_][A-Za-z0-9_-]*)")
_GITLAB_KEYWORDS = {
    "default", "include", "stages", "variables", "workflow", "image", "services", "cache",
    "before_script", "after_script", "spec", "pages",
}  # fmt: skip


@dataclass(frozen=True)
class _Source:
    """One template file as read: where it is, its text and its YAML documents."""

    path: Path
    display: str
    text: str
    documents: list[Document]
    side: dict[str, Any]


def _is_github_workflow_file(relative: PurePosixPath) -> bool:
    return ".github" in relative.parts and "workflows" in relative.parts


def _is_github_file(relative: PurePosixPath) -> bool:
    """Under `.github/`: reusable workflows, and local actions (`.github/actions/x/action.yml`)."""
    return _is_github_workflow_file(relative) or (
        ".github" in relative.parts and relative.name in ("action.yml", "action.yaml")
    )


def template_files(root: Path) -> list[Path]:
    """Template files under `root` (or `root` itself): sidecars and hidden folders left out,
    but for GitHub's `.github/workflows`."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        return []
    found = []
    for path in sorted(root.rglob("*")):
        relative = PurePosixPath(path.relative_to(root).as_posix())
        hidden = [p for p in relative.parts[:-1] if p.startswith(".")]
        if not path.is_file() or path.suffix not in TEMPLATE_SUFFIXES:
            continue
        if path.name.endswith(SIDECAR_SUFFIXES) or path.name.startswith("."):
            continue
        if hidden and not _is_github_file(relative):
            continue
        found.append(path)
    return found


def _pitfalls(raw: Any) -> tuple[Pitfall, ...]:
    return tuple(
        Pitfall("danger" if item.get("severity") == "danger" else "warning", str(item["text"]))
        for item in as_list(raw)
        if isinstance(item, dict) and item.get("text")
    )


def _sidecar(path: Path, display: str) -> tuple[dict[str, Any], list[Finding]]:
    stem = path.name.rsplit(".", 1)[0]
    for suffix in SIDECAR_SUFFIXES:
        side = path.with_name(stem + suffix)
        if side.is_file():
            shown = str(PurePosixPath(display).with_name(side.name))
            try:
                document, findings = load_one(read_text(side, shown), shown)
            except YamlError as error:
                return {}, [error.finding]
            return as_dict(document.data if document else None), findings
    return {}, []


def _input(
    name: str, body: dict[str, Any], extra: dict[str, Any], line: int | None, github: bool
) -> Input:
    required = body.get("required") is True if github else "default" not in body
    return Input(
        name=name,
        anchor=anchor(name, "input-"),
        type=str(body.get("type") or "string"),
        required=required,
        default=body.get("default"),
        has_default="default" in body,
        description=str(body.get("description") or ""),
        options=tuple(as_list(body.get("options"))),
        regex=str(body.get("regex") or ""),
        deprecated_message=str(body.get("deprecationMessage") or ""),
        examples=tuple(as_list(extra.get("examples"))),
        pitfalls=_pitfalls(extra.get("pitfalls")),
        line=line,
        rules=bool(body.get("rules")),
    )


def _outputs(document: Document, base: tuple[str, ...], prefix: str) -> tuple[Output, ...]:
    raw = document.get(base)
    return tuple(
        Output(
            name=str(name),
            anchor=anchor(str(name), prefix),
            description=str(as_dict(body).get("description") or ""),
            required=as_dict(body).get("required") is True,
            line=document.line((*base, name)),
        )
        for name, body in as_dict(raw).items()
    )


def _read_gitlab(source: _Source) -> Template:
    first = source.documents[0] if source.documents else None
    spec = first if first is not None and "spec" in as_dict(first.data) else None
    extras = as_dict(source.side.get("inputs"))
    inputs = []
    if spec is not None:
        for name, body in as_dict(spec.get(("spec", "inputs"))).items():
            line = spec.line(("spec", "inputs", name))
            inputs.append(_input(str(name), as_dict(body), as_dict(extras.get(name)), line, False))
    body_docs = source.documents[1:] if spec is not None else source.documents
    jobs = sorted({
        str(key)
        for doc in body_docs
        for key, value in as_dict(doc.data).items()
        if isinstance(value, dict) and not str(key).startswith(".") and key not in _GITLAB_KEYWORDS
    })  # fmt: skip
    summary = source.side.get("summary") or (spec.get(("spec", "description")) if spec else "")
    return Template("", source.display, "gitlab", str(summary or ""), tuple(inputs), tuple(jobs))


def _read_github(source: _Source, workflow: bool) -> Template:
    document = source.documents[0]
    data = as_dict(document.data)
    extras = as_dict(source.side.get("inputs"))
    base: tuple[str, ...] = ("on", "workflow_call") if workflow else ()
    inputs = tuple(
        _input(str(name), as_dict(body), as_dict(extras.get(name)),
               document.line((*base, "inputs", name)), True)
        for name, body in as_dict(document.get((*base, "inputs"))).items()
    )  # fmt: skip
    summary = source.side.get("summary") or data.get("description") or data.get("name") or ""
    return Template(
        id="",
        file=source.display,
        kind="github-workflow" if workflow else "github-action",
        summary=str(summary),
        inputs=inputs,
        jobs=tuple(sorted(str(j) for j in as_dict(data.get("jobs")))) if workflow else (),
        outputs=_outputs(document, (*base, "outputs"), "output-"),
        secrets=_outputs(document, (*base, "secrets"), "secret-") if workflow else (),
        runs=str(as_dict(data.get("runs")).get("using") or ""),
    )


def _triggers(data: dict[str, Any]) -> set[str]:
    on = data.get("on")
    if isinstance(on, str):
        return {on}
    if isinstance(on, list):
        return {str(t) for t in on}
    return {str(t) for t in as_dict(on)}


def _used(template: Template, text: str) -> dict[str, list[int]]:
    """Each input name used in the template's body, with the lines it is used on."""
    uses: dict[str, list[int]] = {}
    if template.kind == "gitlab":
        for number, line in enumerate(text.splitlines(), start=1):
            for name in _GITLAB_USE.findall(line):
                uses.setdefault(name, []).append(number)
        return uses
    number, counted = 1, 0  # lines counted once, as the expressions come, not from the top
    for start, body in _expressions(text):
        for use in _GITHUB_USE.finditer(body):
            at = start + use.start()
            number += text.count("\n", counted, at)
            counted = at
            uses.setdefault(use.group(1).lower(), []).append(number)
    return uses


def _expressions(text: str) -> Iterator[tuple[int, str]]:
    """Each `${{ ... }}` of a text: where its body starts, and the body (up to the first `}}`).
    String search, not a lazy regex, which rescans to the end for every unclosed `${{`."""
    start = text.find("${{")
    while start != -1:
        end = text.find("}}", start + 3)
        if end == -1:
            return
        yield start + 3, text[start + 3 : end]
        start = text.find("${{", end + 2)


def _finding(rule: str, level: Severity, template: Template, line: int | None, message: str,
             hint: str) -> Finding:  # fmt: skip
    return Finding(rule, level, template.file, line, message, hint)


def _value_findings(template: Template, item: Input) -> list[Finding]:
    """A default must be one of the options and match the regex (GitLab refuses it otherwise)."""
    findings = []
    if item.has_default and item.options and item.default not in item.options:
        findings.append(_finding(
            "template/invalid-default", Severity.ERROR, template, item.line,
            f"default {item.default!r} of input {item.name!r} is not one of its options",
            "make the default one of `options`, or add it to them",
        ))  # fmt: skip
    if not item.regex:
        return findings
    pattern = input_regex(item.regex.strip("/"))  # RE2, as GitLab reads it: linear time
    if pattern is None:
        findings.append(_finding(
            "template/invalid-regex", Severity.ERROR, template, item.line,
            f"regex of input {item.name!r} does not compile (RE2 syntax, as GitLab reads it)",
            "fix the `regex`",
        ))  # fmt: skip
        return findings
    default = item.default if item.has_default and isinstance(item.default, str) else ""
    if default and pattern.search(default) is None:
        findings.append(_finding(
            "template/invalid-default", Severity.ERROR, template, item.line,
            f"default {item.default!r} of input {item.name!r} does not match its regex",
            "fix the default or the `regex`",
        ))  # fmt: skip
    return findings


def input_findings(template: Template, text: str) -> list[Finding]:
    """Inputs without description, used but undeclared, declared but unused, bad defaults."""
    findings: list[Finding] = []
    github = template.kind != "gitlab"
    declared = {(i.name.lower() if github else i.name): i for i in template.inputs}
    uses = _used(template, text)
    for item in template.inputs:
        if not item.description.strip():
            findings.append(_finding(
                "template/missing-description", Severity.ERROR, template, item.line,
                f"input {item.name!r} of {template.id} has no description",
                "add a `description` saying what the input does and when to set it",
            ))  # fmt: skip
        findings += _value_findings(template, item)
    for name, lines in sorted(uses.items()):
        if name not in declared:
            for line in lines:
                findings.append(_finding(
                    "template/undeclared-input", Severity.ERROR, template, line,
                    f"input {name!r} is used but not declared",
                    f"declare `{name}` among the inputs, or fix the name",
                ))  # fmt: skip
    # A JavaScript or Docker action reads its inputs in code, out of sight of this check.
    if template.kind == "github-action" and template.runs != "composite":
        return findings
    for key, item in declared.items():
        if key not in uses:
            findings.append(_finding(
                "template/unused-input", Severity.WARNING, template, item.line,
                f"input {item.name!r} is declared but never used",
                "use it in the template, or remove it so nobody sets it for nothing",
            ))  # fmt: skip
    return findings


def _component_name(tid: str) -> str:
    """How GitLab names a component: `templates/x.yml` and `templates/x/template.yml` are `x`."""
    name = tid.removesuffix("/template")
    return name.split("templates/", 1)[1] if "templates/" in f"{name}" else name


def read_template(path: Path, root: Path, display: str) -> tuple[Template | None, list[Finding]]:
    """One template file, or None (with findings) when it is no template or cannot be read."""
    try:
        text = read_text(path, display)
    except YamlError as error:
        return None, [error.finding]
    documents, findings = load_documents(text, display)
    if any(f.rule == "yaml/parse-error" for f in findings):
        return None, [
            replace(f, rule="template/invalid-yaml") if f.rule == "yaml/parse-error" else f
            for f in findings
        ]
    side, side_findings = _sidecar(path, display)
    source = _Source(path, display, text, documents, side)
    findings.extend(side_findings)
    first = as_dict(documents[0].data) if documents else {}
    relative = (
        PurePosixPath(path.relative_to(root).as_posix()) if path.is_relative_to(root) else None
    )
    if not documents:
        return None, findings
    if path.name in ("action.yml", "action.yaml"):
        template = _read_github(source, workflow=False)
    elif "workflow_call" in _triggers(first):
        template = _read_github(source, workflow=True)
    elif relative is not None and _is_github_workflow_file(relative):
        return None, findings  # a workflow of the repo itself, not one to call
    elif documents:
        template = _read_gitlab(source)
    else:
        return None, findings
    tid = template_id(path, root)
    if template.kind == "gitlab":
        name = _component_name(tid)
    elif template.kind == "github-action":  # the folder under the repo root; "" at the root
        name = relative.parent.as_posix().strip(".") if relative is not None else ""
    else:
        name = relative.as_posix() if relative is not None else path.name
    template = replace(template, id=tid, name=name)
    findings.extend(input_findings(template, text))
    return template, findings


def read_templates(roots: tuple[Path, ...], display: Any) -> tuple[list[Template], list[Finding]]:
    """Every template under the configured folders, by id."""
    templates: list[Template] = []
    findings: list[Finding] = []
    for root in roots:
        if not root.exists():
            findings.append(Finding(
                "config/missing-path", Severity.ERROR, display(root), None,
                "templates folder does not exist", "fix `templates:` in the config",
            ))  # fmt: skip
            continue
        base = root if root.is_dir() else root.parent
        for path in template_files(root):
            template, found = read_template(path, base, display(path))
            findings.extend(found)
            if template is None:
                continue
            first = next((t for t in templates if t.id == template.id), None)
            if first is not None:
                findings.append(Finding(
                    "template/duplicate-id", Severity.ERROR, template.file, 1,
                    f"template id {template.id!r} is already taken by {first.file}",
                    "rename one of the two files: a template's id is its path without extension",
                ))  # fmt: skip
                continue
            templates.append(template)
    return sorted(templates, key=lambda t: t.id), findings
