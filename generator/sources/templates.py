"""CI templates: GitLab CI/CD components (`spec: inputs:`), GitHub actions and reusable workflows."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..ids import anchor, template_id
from ..model import Finding, Input, Pitfall, Severity, Template
from ..yamlload import Document, YamlError, as_dict, as_list, load_documents, load_one, read_text

TEMPLATE_SUFFIXES = (".yml", ".yaml")
_INTERPOLATION = re.compile(r"\$\[\[\s*inputs\.([A-Za-z0-9_-]+)")


def template_files(root: Path) -> list[Path]:
    """Template files under `root` (or `root` itself), sidecars left out."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        return []
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file()
        and p.suffix in TEMPLATE_SUFFIXES
        and not p.name.endswith((".docs.yml", ".docs.yaml"))
        and not any(
            part.startswith(".") and part not in (".github",) for part in p.parts[len(root.parts) :]
        )
    )


def _pitfalls(raw: Any) -> tuple[Pitfall, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(
        Pitfall(
            "danger" if item.get("severity") == "danger" else "warning", str(item.get("text", ""))
        )
        for item in raw
        if isinstance(item, dict) and item.get("text")
    )


def _sidecar(path: Path, display: str) -> tuple[dict[str, Any], list[Finding]]:
    side = path.with_name(path.stem + ".docs.yml")
    if not side.is_file():
        return {}, []
    try:
        text = read_text(
            side, display.rsplit("/", 1)[0] + "/" + side.name if "/" in display else side.name
        )
    except YamlError as error:
        return {}, [error.finding]
    document, findings = load_one(text, side.name)
    data = document.data if document is not None and isinstance(document.data, dict) else {}
    return data, findings


def _gitlab_inputs(spec: Document, side: dict[str, Any]) -> tuple[list[Input], list[Finding]]:
    raw = spec.get(("spec", "inputs"))
    inputs: list[Input] = []
    extras = as_dict(side.get("inputs"))
    if not isinstance(raw, dict):
        return inputs, []
    for name, body in raw.items():
        body = as_dict(body)
        extra = as_dict(extras.get(name))
        options = as_list(body.get("options"))
        examples = as_list(extra.get("examples"))
        inputs.append(
            Input(
                name=str(name),
                anchor=anchor(str(name), "input-"),
                type=str(body.get("type", "string")),
                required="default" not in body,
                default=body.get("default"),
                has_default="default" in body,
                description=str(body.get("description") or ""),
                options=tuple(options),
                regex=str(body.get("regex") or ""),
                examples=tuple(examples),
                pitfalls=_pitfalls(extra.get("pitfalls")),
                line=spec.line(("spec", "inputs", name)),
            )
        )
    return inputs, []


def _read_gitlab(
    path: Path, display: str, documents: list[Document], side: dict[str, Any]
) -> tuple[Template | None, list[Finding]]:
    spec = (
        documents[0]
        if documents and isinstance(documents[0].data, dict) and "spec" in documents[0].data
        else None
    )
    inputs, findings = _gitlab_inputs(spec, side) if spec else ([], [])
    body_docs = documents[1:] if spec else documents
    jobs = sorted(
        {
            str(key)
            for doc in body_docs
            if isinstance(doc.data, dict)
            for key, value in doc.data.items()
            if isinstance(value, dict)
            and not str(key).startswith(".")
            and key not in _GITLAB_KEYWORDS
        }
    )
    summary = str(side.get("summary") or (spec.get(("spec", "description")) if spec else "") or "")
    return Template(
        template_id_placeholder(), display, "gitlab", summary, tuple(inputs), tuple(jobs)
    ), findings


_GITLAB_KEYWORDS = {
    "default",
    "include",
    "stages",
    "variables",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
    "spec",
}


def template_id_placeholder() -> str:
    return ""


def _read_github(
    document: Document, display: str, side: dict[str, Any]
) -> tuple[Template | None, list[Finding]]:
    data = document.data
    extras = as_dict(side.get("inputs"))
    trigger = data.get("on")  # the loader keeps `on` as written, not YAML 1.1's `true`
    base: tuple[str, ...]
    if isinstance(trigger, dict) and isinstance(trigger.get("workflow_call"), dict):
        kind, base = "github-workflow", ("on", "workflow_call", "inputs")
        raw = trigger["workflow_call"].get("inputs")
    else:
        kind, base = "github-action", ("inputs",)
        raw = data.get("inputs")
    inputs: list[Input] = []
    for name, body in as_dict(raw).items():
        body = as_dict(body)
        extra = as_dict(extras.get(name))
        examples = as_list(extra.get("examples"))
        required = body.get("required") is True
        inputs.append(
            Input(
                name=str(name),
                anchor=anchor(str(name), "input-"),
                type=str(body.get("type", "string")),
                required=required,
                default=body.get("default"),
                has_default="default" in body,
                description=str(body.get("description") or ""),
                options=tuple(body.get("options") or ())
                if isinstance(body.get("options"), list)
                else (),
                deprecated_message=str(body.get("deprecationMessage") or ""),
                examples=tuple(examples),
                pitfalls=_pitfalls(extra.get("pitfalls")),
                line=document.line((*base, name)),
            )
        )
    summary = str(side.get("summary") or data.get("description") or data.get("name") or "")
    return Template("", display, kind, summary, tuple(inputs)), []


def _is_github(path: Path, data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    if path.name in ("action.yml", "action.yaml"):
        return True
    return "jobs" in data and ("on" in data or True in data)


def read_template(path: Path, root: Path, display: str) -> tuple[Template | None, list[Finding]]:
    """One template file, or None (with findings) when it cannot be read."""
    try:
        text = read_text(path, display)
    except YamlError as error:
        return None, [error.finding]
    documents, findings = load_documents(text, display)
    if any(f.rule == "yaml/parse-error" for f in findings):
        return None, [
            Finding("template/invalid-yaml", Severity.ERROR, f.file, f.line, f.message, f.hint)
            if f.rule == "yaml/parse-error"
            else f
            for f in findings
        ]
    side, side_findings = _sidecar(path, display)
    findings.extend(side_findings)
    if documents and _is_github(path, documents[0].data):
        template, found = _read_github(documents[0], display, side)
    elif documents:
        template, found = _read_gitlab(path, display, documents, side)
    else:
        return None, findings
    findings.extend(found)
    if template is None:
        return None, findings
    tid = template_id(path, root)
    template = Template(
        tid, template.file, template.kind, template.summary, template.inputs, template.jobs
    )
    findings.extend(_input_findings(template, text))
    return template, findings


def _input_findings(template: Template, text: str) -> list[Finding]:
    findings = []
    for item in template.inputs:
        if not item.description.strip():
            findings.append(
                Finding(
                    "template/missing-description",
                    Severity.ERROR,
                    template.file,
                    item.line,
                    f"input {item.name!r} of {template.id} has no description",
                    "add a `description` saying what the input does",
                )
            )
    if template.kind == "gitlab":
        declared = {i.name for i in template.inputs}
        for number, line in enumerate(text.splitlines(), start=1):
            for name in _INTERPOLATION.findall(line):
                if name not in declared:
                    findings.append(
                        Finding(
                            "template/undeclared-input",
                            Severity.ERROR,
                            template.file,
                            number,
                            f"input {name!r} is used but not declared in spec:inputs",
                            f"declare `{name}` under `spec: inputs:` or fix the name",
                        )
                    )
    return findings


def read_templates(roots: tuple[Path, ...], display: Any) -> tuple[list[Template], list[Finding]]:
    """Every template under the configured folders."""
    templates: list[Template] = []
    findings: list[Finding] = []
    for root in roots:
        if not root.exists():
            findings.append(
                Finding(
                    "config/missing-path",
                    Severity.ERROR,
                    display(root),
                    None,
                    "templates folder does not exist",
                    "fix `templates:` in the config",
                )
            )
            continue
        base = root if root.is_dir() else root.parent
        for path in template_files(root):
            template, found = read_template(path, base, display(path))
            findings.extend(found)
            if template is not None:
                templates.append(template)
    return sorted(templates, key=lambda t: t.id), findings
