"""A hostile site: every text field of the model that a template prints carries a payload.

The site is built from small inputs written here (schemas, CI templates, changelog fragments,
owners.yml, two git env repos with a bundle from a mirror, releases, a guide, the config's
title). Every field gets payloads that set `data-pwned` on `<html>` if they ever run: raw HTML
(`<img onerror>`, `<script>`, `<svg onload>`, `<details ontoggle>`), `</title>` breakers,
attribute breakers, `{: onclick}` attribute lists, `|` table breakers, `javascript:` links
(inline, reference definitions, in list items, across a newline), entities that decode to
markup, code spans and fences Python-Markdown reads otherwise. The site is built with MkDocs, and
with ProperDocs and Zensical where they are installed, and each build is loaded page by page in
Chromium: nothing may run, no element may carry an `on*` attribute, and no link may be
`javascript:`; a control page (a real inline script) proves scripts do run there.

A second test walks the model's dataclasses and fails when a text field has no hostile case,
so a field added later cannot be missed.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import (
    CHROMIUM_ARGS,
    GIT_IDENTITY,
    NEXUS,
    git,
    git_init,
    invoke,
    make_config,
    serve_folder,
    tarball,
    write,
)

from generator import model as model_module
from generator.collect import collect
from generator.config import load_config
from generator.model import Model
from generator.site import CONFIG_ENV, mkdocs_config_file
from generator.sources.kustomize.real import find_kustomize

TEMPLATES = Path(__file__).resolve().parents[1] / "generator" / "render" / "templates"

RUN = "document.documentElement.setAttribute('data-pwned','1')"
MARK = "pwned"  # every payload holds it: a field holds a payload when its value does

# one-line payloads, for names, labels, values
IMG = f'<img src=x onerror="{RUN}">'
SCRIPT = f"<script>{RUN}</script>"
TITLE = f"</title><script>{RUN}</script>"
SVG = f"<svg/onload={RUN.replace(' ', '')}>"
DETAILS = f"<details open ontoggle={RUN}>"
ATTR = f'" onmouseover="{RUN}" x="'
SQATTR = f"' onmouseover='{RUN}' x='"
ATTR_LIST = f'{{: onclick="{RUN}"}}'
MDLINK = f"[x](javascript:{RUN})"
ENTITY = f"&lt;img src=x onerror=&quot;{RUN}&quot;&gt;"
TABLE = f" | <img src=x onerror={RUN}> | "
ONE_LINE = (
    f"x{IMG}{SCRIPT}{TITLE}{SVG}{DETAILS}{ATTR}{SQATTR}{ATTR_LIST}{MDLINK}{ENTITY}{TABLE}"
    f"<a href=javascript:{RUN}>a</a>"
)
# without spaces: for what a reader splits on whitespace (merge request ids, paths)
NO_SPACE = f"<img/src=x/onerror={RUN.replace(' ', '')}>"
# short: for names that become a page's file name (a long one is too long for the file system)
NAME = f"</title><svg/onload={RUN.replace(' ', '')}>"
# without angle brackets: for what git strips them from (author names)
NO_ANGLE = f"{ATTR}{ATTR_LIST}{MDLINK}{ENTITY}|x|{SQATTR}"
# many lines: for Markdown fields
MARKDOWN = f"""Hostile {IMG} {SCRIPT} {SVG} {DETAILS} {ENTITY} {ATTR_LIST}

[inline](javascript:{RUN}) [ref][r1] <javascript:{RUN}> <a href="javascript:{RUN}">a</a>
[spaced]( javascript:{RUN} ) [upper](JAVASCRIPT:{RUN}) [data](data:text/html,{SCRIPT})
[tab](jav&#x09;ascript:{RUN}) ![image](javascript:{RUN})

[r1]: javascript:{RUN}

- in a list [ref2][r2]

  [r2]: javascript:{RUN}

- [newline](javascript:{RUN}
  )

`a code span

</code>{IMG}`

~~~
{IMG}
~~~~

{IMG}

````
~~~
{SCRIPT}
````

| a | b |
|---|---|
| {IMG} | {ATTR} |

Paragraph with attributes
{ATTR_LIST}

<div markdown="1" onclick="{RUN}">{IMG}</div>

<!-- {SCRIPT} -->

<style>html{{background:url(javascript:{RUN})}}</style>
<iframe srcdoc="{SCRIPT}"></iframe>
<form><button formaction="javascript:{RUN}">b</button></form>
<math><mi xlink:href="javascript:{RUN}">m</mi></math>

--8<-- "control.md"

{TITLE}
"""
CONTROL = f"# Control\n\n<script>{RUN}</script>\n"


def _p(text: str) -> str:
    """A one-line payload after a readable prefix."""
    return f"{text} {ONE_LINE}"


def _schema(default: str, enum_extra: str) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://tests.example/hostile.schema.json",
        "title": _p("Schema"),
        "description": MARKDOWN,
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {
                "type": "string",
                "description": MARKDOWN,
                "default": default,
                "enum": [default, enum_extra, _p("enum")],
                "examples": [_p("example"), {"k": _p("nested example")}],
                "x-pitfalls": [
                    {"severity": "warning", "text": MARKDOWN},
                    {"severity": _p("severity"), "text": MARKDOWN},
                ],
                "x-since": _p("since"),
            },
            "old": {
                "type": "string",
                "markdownDescription": MARKDOWN,
                "description": "plain",
                "deprecated": True,
                "x-deprecated-message": MARKDOWN,
                "pattern": _p("^pattern"),
                "format": _p("format"),
                "minLength": 1,
            },
            f"key {ONE_LINE}": {
                "type": "object",
                "title": _p("title of a property"),
                "properties": {f"nested {NO_SPACE}": {"type": "string", "const": _p("const")}},
            },
            "shape": {
                "description": MARKDOWN,
                "oneOf": [
                    {"type": "string", "title": _p("alt one")},
                    {"type": "integer", "description": _p("alt two")},
                ],
            },
            f"ref1 {ONE_LINE}": {"$ref": "#/$defs/shared"},
            f"ref2 {ONE_LINE}": {"$ref": "#/$defs/shared"},
            f"all {ONE_LINE}": {"allOf": [{"$ref": "#/$defs/shared"}, {"$ref": "#/$defs/more"}]},
            "remote": {"$ref": f"https://tests.example/x.json#{NO_SPACE}"},
            "deref": {"$ref": f"javascript:{RUN.replace(' ', '')}"},
        },
        "if": {"properties": {"name": {"const": _p("if")}}, "required": ["name"]},
        "then": {"properties": {"when": {"type": "string", "description": MARKDOWN}}},
        "$defs": {
            f"def {NO_SPACE}": {"type": "string", "description": MARKDOWN},
            "shared": {"type": "object", "properties": {f"s {ONE_LINE}": {"type": "string"}}},
            "more": {"type": "object", "properties": {f"m {ONE_LINE}": {"type": "string"}}},
        },
    }


def _gitlab_template(root: Path) -> None:
    spec = {
        "spec": {
            "inputs": {
                f"in-{NO_SPACE}": {
                    "type": "string",
                    "description": MARKDOWN,
                    "default": _p("default"),
                    "options": [_p("default"), _p("option")],
                    "regex": _p("^regex"),
                },
                "old": {"description": MARKDOWN, "deprecationMessage": MARKDOWN},
                "plain": {"type": _p("type"), "description": f"First. {ONE_LINE}"},
            }
        }
    }
    jobs = {f"job {ONE_LINE}": {"script": ["echo $[[ inputs.plain ]] $[[ inputs.old ]]"]}}
    name = f"deploy{NO_SPACE}"
    write(root / "templates" / f"{name}.yml", yaml.safe_dump(spec) + "---\n" + yaml.safe_dump(jobs))
    sidecar = {
        "summary": MARKDOWN,
        "inputs": {
            f"in-{NO_SPACE}": {
                "examples": [_p("example"), {"k": _p("nested")}],
                "pitfalls": [
                    {"severity": "danger", "text": MARKDOWN},
                    {"severity": _p("sev"), "text": MARKDOWN},
                ],
            }
        },
    }
    write(root / "templates" / f"{name}.docs.yml", yaml.safe_dump(sidecar))


def _github_templates(root: Path) -> None:
    action = {
        "name": _p("action name"),
        "description": MARKDOWN,
        "inputs": {
            f"in-{NO_SPACE}": {
                "description": MARKDOWN,
                "required": False,
                "default": _p("default"),
                "deprecationMessage": MARKDOWN,
            }
        },
        "outputs": {f"out-{NO_SPACE}": {"description": MARKDOWN}},
        "runs": {"using": _p("composite"), "steps": []},
    }
    write(root / "templates" / ".github" / "actions" / "act" / "action.yml", yaml.safe_dump(action))
    workflow = {
        "name": _p("workflow"),
        "on": {
            "workflow_call": {
                "inputs": {"plain": {"type": "string", "description": MARKDOWN}},
                "outputs": {f"out-{NO_SPACE}": {"description": MARKDOWN, "value": "x"}},
                "secrets": {f"secret-{NO_SPACE}": {"description": MARKDOWN, "required": True}},
            }
        },
        "jobs": {f"job-{NO_SPACE}": {"runs-on": "ubuntu-latest", "steps": []}},
    }
    write(root / "templates" / ".github" / "workflows" / "wf.yml", yaml.safe_dump(workflow))


def _fragment(path: Path, front: dict[str, Any], body: str) -> None:
    write(path, "---\n" + yaml.safe_dump(front, sort_keys=False) + "---\n" + body)


def _announcements(root: Path, template_id: str) -> None:
    folder = root / "changes"
    _fragment(
        folder / "2026-06-01-hostile.md",
        {
            "title": _p("Title"),
            "type": "security",
            "date": "2026-06-01",
            "release": _p("1.2.0"),
            "options": ["hostile:name", _p("hostile:missing")],
            "templates": [template_id],  # an unknown one leaves a dead link that fails the build
        },
        MARKDOWN,
    )
    _fragment(
        folder / "2026-06-02-types.md",
        {"title": _p("Typed"), "type": _p("type"), "date": "2026-06-02", "release": "1.2.0"},
        MARKDOWN,
    )
    _fragment(
        folder / f"2026-06-04-{NO_SPACE.replace('/', ' ')}.md",
        {"title": "Named", "type": "fix", "date": "2026-06-04", "release": "1.2.0"},
        MARKDOWN,
    )
    _fragment(
        folder / "2026-06-03-dates.md",
        {"title": _p("Dated"), "type": "fix", "date": _p("date"), "release": "1.2.0"},
        MARKDOWN,
    )


def _owners(root: Path) -> None:
    teams = {
        f"team-{NO_SPACE}": {
            "name": _p("Team"),
            "contact": f"javascript:{RUN.replace(' ', '')}",
            "chat": _p("#chat"),
            "oncall": f"javascript:{RUN.replace(' ', '')}",
        },
        "team-b": {
            "name": _p("Team B"),
            "contact": _p("mail"),
            "chat": MDLINK,
            "oncall": _p("https://oncall.example/"),
        },
    }
    write(root / "owners.yml", json.dumps({"teams": teams}))


def _workload(name: str, image: str, labels: dict[str, str], namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": labels,
        },
        "spec": {
            "replicas": 2,
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": _p("c"),
                            "image": image,
                            "resources": {"requests": {"cpu": "100m"}},
                        }
                    ]
                }
            },
        },
    }


def _commit(repo: Path, message: str, author: str) -> None:
    env = {**GIT_IDENTITY, "GIT_AUTHOR_NAME": author, "LC_ALL": "C", "PATH": "/usr/bin:/bin"}
    for args in (["add", "--all"], ["commit", "--quiet", "--message", message]):
        done = subprocess.run(
            ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr


def _env_repos(root: Path) -> None:
    team = f"team-{NO_SPACE}"
    for env, versions in (("dev", ["1.0.0", "1.1.0"]), ("prod", ["1.0.0"])):
        repo = git_init(root / "envs" / (env if env == "dev" else env + NO_SPACE))
        for number, version in enumerate(versions):
            docs = [
                _workload(
                    f"api-{number}",
                    f"corp/api:{version}",
                    {
                        "app.kubernetes.io/name": f"api {NAME}",
                        "app.kubernetes.io/version": _p("9.9.9"),
                        "app.kubernetes.io/part-of": _p("system"),
                        "team": team,
                    },
                    _p("ns"),
                ),
                _workload(
                    f"web-{NO_SPACE}",
                    f"corp/{NO_SPACE}:{version}{NO_SPACE}",
                    {"app.kubernetes.io/name": "web", "owner": _p("unknown owner")},
                    "web",
                ),
                {  # an Argo CD hook: listed as another object, not a service
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "metadata": {
                        "name": f"hook-{NO_SPACE}",
                        "namespace": _p("hookns"),
                        "annotations": {"argocd.argoproj.io/hook": "PreSync"},
                    },
                    "spec": {"template": {"spec": {"containers": [{"image": _p("img")}]}}},
                },
                {  # an Argo CD Application: what it deploys is a chart
                    "apiVersion": "argoproj.io/v1alpha1",
                    "kind": "Application",
                    "metadata": {"name": "chart-app", "labels": {"team": "team-b"}},
                    "spec": {
                        "source": {
                            "repoURL": f"javascript:{RUN.replace(' ', '')}",
                            "chart": _p("chart"),
                            "targetRevision": _p("1.0"),
                        }
                    },
                },
            ]
            docs.append(
                _workload(
                    "api-other",
                    f"corp/api:{version}-{NO_SPACE}",
                    {"app.kubernetes.io/name": f"api {NAME}", "team": team},
                    _p("ns"),
                )
            )
            docs.append(
                _workload(
                    "drifty",
                    f"corp/drifty:{version}",
                    {"app.kubernetes.io/name": f"drifty {NAME}"},
                    "d",
                )
            )
            write(repo / "manifests" / f"apps{NO_SPACE}.yaml", yaml.safe_dump_all(docs))
            url = NEXUS + "bun/1.0.0/bun-1.0.0.tar.gz"
            missing = NEXUS + f"gone/{NO_SPACE}/gone.tar.gz"
            write(
                repo / "environment.yml", yaml.safe_dump({"name": env, "bundles": [url, missing]})
            )
            kustom = repo / "overlays" / "o"
            write(
                kustom / "kustomization.yaml", yaml.safe_dump({"resources": [f"x{NO_SPACE}.yaml"]})
            )
            write(
                kustom / f"x{NO_SPACE}.yaml",
                yaml.safe_dump(_workload("k", "corp/k:1.0.0", {}, "k")),
            )
            _commit(
                repo,
                f"Deploy {ONE_LINE}\n\n{MARKDOWN}\n\nSee merge request grp/{NO_SPACE}!12\n",
                f"Author {NO_ANGLE}",
            )
    _overlay_repo(root / "envs" / "stage")
    git(root / "envs" / "stage", "branch", NO_SPACE)  # the config's `ref:` names it (git allows it)
    bundle = {
        "service": f"bundled {NAME}",
        "version": _p("1.0.0"),
        "commit": _p("abc1234"),
        "owner": _p("owner"),
        "repository": f"javascript:{RUN.replace(' ', '')}",
    }
    manifest = yaml.safe_dump(
        _workload(
            "bun",
            _p("corp/bun:1.0.0"),
            {"app.kubernetes.io/name": "bun", f"own{NO_SPACE}": "team-b"},
            _p("bns"),
        )
    )
    data = tarball(
        {"bundle.yml": yaml.safe_dump(bundle).encode(), "manifests/d.yaml": manifest.encode()}
    )
    (root / "mirror" / "bun" / "1.0.0").mkdir(parents=True)
    (root / "mirror" / "bun" / "1.0.0" / "bun-1.0.0.tar.gz").write_bytes(data)


def _overlay_repo(repo: Path) -> None:
    """A Kustomize env repo: an overlay in a hostile folder sets an image tag, names a Helm chart
    the built-in renderer cannot follow, and runs one service at two hostile versions, changed
    from one commit to the next."""
    git_init(repo)
    folder = repo / "apps" / f"o{NAME}"
    for number, version in enumerate((_p("2.0.0"), _p("2.1.0"))):
        docs = [
            _workload(
                f"stage-{n}",
                "corp/stage:1.0.0",
                {"app.kubernetes.io/name": "stage", "app.kubernetes.io/version": f"{version}-{n}",
                 "team": "team-b"},
                "stage",
            )
            for n in range(2)
        ]  # fmt: skip
        write(folder / "w0.yaml", yaml.safe_dump_all(docs))
        kustomization = {
            "resources": ["w0.yaml"],
            "images": [{"name": "corp/stage", "newTag": f"2.{number}.0"}],
            "helmCharts": [{"name": _p("chart"), "repo": f"https://charts.example/{NO_SPACE}"}],
        }
        write(folder / "kustomization.yaml", yaml.safe_dump(kustomization))
        _commit(repo, f"Stage {number}", "Author")
    flux = {  # a Flux Kustomization of a hostile name deploying a folder: notes name it
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": f"ks{NAME}", "namespace": "flux-system"},
        "spec": {
            "path": f"./deployed{NAME}",
            "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
        },
    }
    write(repo / "clusters" / "ks.yaml", yaml.safe_dump(flux))
    write(
        repo / f"deployed{NAME}" / "w.yaml",
        yaml.safe_dump(_workload("flux-app", "corp/f:1.0.0", {}, "f")),
    )
    _commit(repo, "Flux", "Author")


def hostile_site(root: Path) -> Path:
    """The hostile inputs under `root`; returns the config."""
    write(
        root / "schemas" / "hostile.schema.json", json.dumps(_schema(_p("default"), "b"), indent=1)
    )
    # the release before: another default and enum, so the schema changes carry values
    old = _schema(_p("old default"), _p("removed enum"))
    old["properties"][f"gone {ONE_LINE}"] = {"type": "string", "description": "gone"}
    write(root / "releases" / "1.1.0" / "hostile.schema.json", json.dumps(old, indent=1))
    other = {
        "$schema": f"https://tests.example/{NO_SPACE}",
        "title": "Other",
        "properties": {"x": {"type": ["string", _p("type")], "description": "x"}},
    }
    write(root / "schemas" / f"o{NO_SPACE.replace('/', ' ')}.schema.json", json.dumps(other))
    write(root / "releases" / "1.0.0" / "hostile.schema.json", json.dumps(old, indent=1))
    _gitlab_template(root)
    _github_templates(root)
    _announcements(root, f"deploy{NO_SPACE}")
    _owners(root)
    _env_repos(root)
    guide = f"# Guide {ONE_LINE}\n\nA hand-written page: only its title is in the model.\n"
    write(root / "docs" / "guides" / "guide.md", guide)
    write(root / "docs" / "control.md", CONTROL)  # docs/ is the default mkdocs.yml's docs_dir
    return make_config(
        root,
        title=_p("Pipeline"),
        site_url=f"https://docs.example/{NO_SPACE}/",
        schemas="schemas/",
        templates=["templates/"],
        owners="owners.yml",
        announcements="changes/",
        environments=[
            {"name": "dev", "repo": "envs/dev", "web": f"javascript:{RUN.replace(' ', '')}"},
            {"name": "prod", "repo": f"envs/prod{NO_SPACE}", "web": _p("https://git.example/prod")},
            {"name": "stage", "repo": "envs/stage", "ref": NO_SPACE},
        ],
        bundles={"mirrors": {NEXUS: "mirror/"}},
        releases=[
            {"name": _p("1.0.0"), "date": _p("2026-01-01"), "schemas": "releases/1.0.0/"},
            {"name": _p("1.1.0"), "date": "2026-02-01", "schemas": "releases/1.1.0/"},
        ],
        owner_labels=["team", "owner", f"own{NO_SPACE}"],
    )


# --- every text field of the model has a hostile case ------------------------------------------

HOSTILE = "payload"  # the field carries a payload in the site above (checked on the model)
# text fields whose value no input can make hostile, and why
FIXED: dict[str, str] = {
    "Announcement.date": "validated as an ISO date (a hostile date is a finding, covered)",
    "Announcement.type": "one of a fixed list; any other becomes `change` (the finding: covered)",
    "Change.commit": "a commit id git made",
    "Change.date": "a date git made",
    "Change.environment": "an environment name: the config schema's pattern forbids markup",
    "Deployment.environment": "an environment name: the config schema's pattern forbids markup",
    "Deployment.kinds": "Kubernetes kinds the reader recognises: a fixed list",
    "Deployment.owner_source": "written by the reader: which label or file gave the owner",
    "Deployment.problem": "written by the reader: `unreadable`, `sha256 mismatch`",
    "Deployment.source": "`bundle` or `manifest`",
    "Environment.commit": "a commit id git made",
    "Environment.commit_date": "a date git made",
    "Environment.history_note": "written by the reader: why there is no history",
    "Environment.earlier": "a time the generator wrote (ISO 8601, UTC) when it read the repo",
    "Environment.unreadable_now": "the message of the `envrepo/unreadable` finding it replaces "
    "(whose payloads are covered); set only when an earlier run read the repo",
    "Environment.name": "the config schema's pattern forbids markup",
    "Environment.status": "`` or `unreadable`",
    "Environment.upstreams": "environment names: the config schema's pattern forbids markup",
    "Finding.hint": "written by the rules",
    "Finding.rule": "a rule id of the generator",
    "Option.composition": "`one of` or `any of`",
    "Pitfall.severity": "`warning` or `danger`; any other is dropped (a hostile one is given)",
    "SchemaChange.kind": "written by the release diff: added, removed, default changed...",
    "Template.kind": "`gitlab`, `github-action` or `github-workflow`",
    "WorkloadRef.kind": "Kubernetes kinds the reader recognises: a fixed list",
    "Rendering.renderer": "written by the reader: the renderer's name and version",
}
if find_kustomize("auto")[0] is None:  # then kustomize's own message never reaches a problem
    FIXED["Rendering.problem"] = "without kustomize, written by the built-in renderer"


def _model_classes() -> list[type]:
    seen: list[type] = []
    todo: list[type] = [Model]
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.append(cls)
        for f in dataclasses.fields(cls):
            for name in re.findall(r"[A-Z][A-Za-z]+", str(f.type)):
                target = getattr(model_module, name, None)
                if dataclasses.is_dataclass(target) and isinstance(target, type):
                    todo.append(target)
    return seen


def _text_fields() -> list[str]:
    """`Class.field` of every field of the model whose type holds text."""
    found = []
    for cls in _model_classes():
        hints = typing.get_type_hints(cls, vars(model_module))
        for f in dataclasses.fields(cls):
            shown = str(hints[f.name])
            if "str" in shown or "Any" in shown:
                found.append(f"{cls.__name__}.{f.name}")
    return sorted(found)


def _carrying(value: Any, into: dict[str, bool], path: str = "") -> None:
    """Mark in `into` every `Class.field` whose own (non-dataclass) value holds a payload."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            child = getattr(value, f.name)
            key = f"{type(value).__name__}.{f.name}"
            plain = not dataclasses.is_dataclass(child) and not (
                isinstance(child, tuple) and any(dataclasses.is_dataclass(c) for c in child)
            )
            into[key] = into.get(key, False) or (plain and MARK in repr(child))
            _carrying(child, into)
    elif isinstance(value, (tuple, list)):
        for item in value:
            _carrying(item, into)


@pytest.fixture(scope="module")
def hostile_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("hostile")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in GIT_IDENTITY.items():
            patch.setenv(name, value)
        hostile_site(root)
        yield root


def test_every_text_field_of_the_model_has_a_hostile_case(hostile_root: Path) -> None:
    fields = _text_fields()
    assert len(fields) > 80, fields
    model = collect(load_config(hostile_root / "pipeline-docs.yml"))
    carried: dict[str, bool] = {}
    _carrying(model, carried)
    templates = "\n".join(p.read_text("utf-8") for p in TEMPLATES.glob("*.j2"))
    missing, unproven = [], []
    for name in fields:
        if name in FIXED:
            # a fixed field must not be one the site could make hostile after all
            assert not carried.get(name), f"{name} carries a payload: move it out of FIXED"
            continue
        if name.split(".")[1] in ("line", "replicas"):
            continue
        if not carried.get(name):
            (unproven if name in carried else missing).append(name)
    # containers, numbers and flags are not text: what they hold is walked on its own
    containers = {
        n for n in missing + unproven
        if n.split(".")[1] in {"options", "inputs", "outputs", "secrets", "schemas", "templates",
                               "environments", "teams", "announcements", "releases", "findings",
                               "deployments", "history", "others", "renderings", "workloads",
                               "changes", "schema_changes", "root", "pitfalls", "example"}
        and n not in ("Announcement.options", "Announcement.templates", "Input.options")
    }  # fmt: skip
    left = sorted(set(missing + unproven) - containers)
    assert not left, (
        f"text fields with no hostile case in the site (add one, or a FIXED reason): {left}"
    )
    # the names of fixed fields are real fields, and the templates do print the text fields
    assert set(FIXED) <= set(fields), sorted(set(FIXED) - set(fields))
    assert "| md" in templates and "| text" in templates


# --- the built site in a browser ---------------------------------------------------------------

# The engines that build the site: MkDocs always (a dependency); ProperDocs (a MkDocs 1.x
# continuation; mkdocs-gen-files 0.6 requires it) and Zensical (by Material's team, reads
# mkdocs.yml) where installed. Each builds the same hostile inputs; every page gets the same checks.
ENGINES = ["mkdocs"] + [e for e in ("properdocs", "zensical") if importlib.util.find_spec(e)]


def _build_with_mkdocs(config: Path, work: Path) -> Path:
    site = work / "built"
    done = invoke("build", "--config", str(config), "--fail-on", "never", "--site-dir", str(site))
    assert done.exit_code == 0, done.stderr
    return site


def _build_with_properdocs(config: Path, work: Path) -> Path:
    """`properdocs build` on the mkdocs.yml that `build` makes in the cache: ProperDocs runs
    mkdocs-gen-files (its `mkdocs.*` imports are redirected), so the pages come from the same
    gen-files script."""
    mkdocs_yml = mkdocs_config_file(load_config(config))
    site = work / "built"
    done = subprocess.run(
        [sys.executable, "-m", "properdocs", "build", "--strict",
         "--config-file", str(mkdocs_yml), "--site-dir", str(site)],
        cwd=config.parent, env={**os.environ, CONFIG_ENV: str(config)},
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    return site


def _build_with_zensical(config: Path, work: Path) -> Path:
    """`zensical build` of a project made of `generate --out` and the hand-written pages, with
    the cache's mkdocs.yml less the gen-files plugin (Zensical runs no MkDocs plugin) and its
    docs and site folders in the project (Zensical 0.0.x cannot take an absolute docs_dir, nor
    a site_dir outside the project)."""
    mkdocs_yml = mkdocs_config_file(load_config(config))
    project = work / "zensical"
    docs = project / "docs"
    data = yaml.safe_load(mkdocs_yml.read_text("utf-8"))
    shutil.copytree(data["docs_dir"], docs)  # the hand-written pages
    done = invoke("generate", "--config", str(config), "--out", str(docs))
    assert done.exit_code == 0, done.stderr
    data["plugins"] = [p for p in data["plugins"] if not (isinstance(p, dict) and "gen-files" in p)]
    overrides = Path(data["theme"]["custom_dir"])
    shutil.copytree(overrides, project / "overrides")
    data.update(docs_dir="docs", site_dir="site")
    data["theme"]["custom_dir"] = "overrides"
    (project / "mkdocs.yml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    done_z = subprocess.run(
        [sys.executable, "-m", "zensical", "build", "--strict", "--config-file", "mkdocs.yml"],
        cwd=project, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done_z.returncode == 0, (done_z.stdout + done_z.stderr)[-4000:]
    return project / "site"


BUILDERS = {
    "mkdocs": _build_with_mkdocs,
    "properdocs": _build_with_properdocs,
    "zensical": _build_with_zensical,
}

# every element, those in open shadow roots too (Zensical's search box lives in one)
CHECK = """() => {
  const all = [];
  const walk = root => root.querySelectorAll('*').forEach(e => {
    all.push(e);
    if (e.shadowRoot) walk(e.shadowRoot);
  });
  walk(document);
  const on = all.filter(e => [...e.attributes].some(a => a.name.toLowerCase().startsWith('on')));
  const js = all.filter(e => ['href','src','action','formaction','data','xlink:href'].some(n => {
      const v = (e.getAttribute(n) || '').replace(/[\\s\\x00-\\x1f]/g, '').toLowerCase();
      return v.startsWith('javascript:') || v.startsWith('data:text/html');
    }) || e.hasAttribute('srcdoc'));
  const hover = all.filter(e => e.hasAttribute('onmouseover'));
  hover.forEach(e => e.dispatchEvent(new MouseEvent('mouseover', {bubbles: true})));
  const scripts = all.filter(e => e.tagName.toLowerCase() === 'script');
  return {pwned: document.documentElement.getAttribute('data-pwned'),
          on: on.map(e => e.outerHTML.slice(0, 200)), js: js.map(e => e.outerHTML.slice(0, 200)),
          scripts: scripts.filter(s => !s.src && s.textContent.includes('pwned'))
            .map(s => s.outerHTML.slice(0, 200))};
}"""


def _search(page: Any, engine: str) -> int:
    """Type a payload, then a word, into the home page's search box; return how many results
    the word found. Material's box (MkDocs, ProperDocs) is in the page; Zensical's opens from a
    button into a dialog in a shadow root, which Playwright's locators reach."""
    if engine == "zensical":
        page.locator(".md-search__button").click()
        box = page.locator("input[role=combobox]")
        item = page.locator("[role=listbox] [role=option]")
    else:
        page.evaluate("document.getElementById('__search').click()")  # opens the search box
        box = page.locator("input.md-search__input")
        item = page.locator(".md-search-result__item")
    # Material reads the query on `keyup`, which `fill` does not send: a key is pressed after it
    box.fill(ONE_LINE[:60])
    box.press("End")
    item.first.wait_for(timeout=15000)
    box.fill("Hostile")
    box.press("End")
    page.wait_for_timeout(500)
    return int(item.count())


@pytest.mark.browser
@pytest.mark.parametrize("engine", ENGINES)
def test_nothing_from_a_hostile_site_runs_in_a_browser(
    engine: str,
    chromium: str,
    hostile_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Built with each engine installed (MkDocs always; ProperDocs and Zensical where they are),
    every page and the search box loaded in Chromium."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    monkeypatch.chdir(hostile_root)
    site = BUILDERS[engine](hostile_root / "pipeline-docs.yml", tmp_path)
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    assert "control/index.html" in pages, pages
    assert len(pages) > 15, pages
    problems: dict[str, Any] = {}
    with serve_folder(site) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            local = base.rstrip("/")
            context.route(
                "**/*",
                lambda route: (
                    route.continue_() if route.request.url.startswith(local) else route.abort()
                ),
            )
            page = context.new_page()
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            for name in pages:
                page.goto(base + name.removesuffix("index.html"))
                page.wait_for_load_state("load")
                page.wait_for_timeout(30)  # an image's onerror may fire after load
                found = page.evaluate(CHECK)
                if name == "control/index.html":
                    assert found["pwned"] == "1", "scripts do not run here: the test proves nothing"
                    continue
                if name == "guides/guide/index.html":  # hand-written: its own Markdown is raw
                    page.goto("about:blank")
                    continue
                if found["pwned"] is not None or found["on"] or found["js"] or found["scripts"]:
                    problems[name] = found
            # the search box and its results, on the home page
            page.goto(base)
            page.wait_for_load_state("load")
            try:
                results = _search(page, engine)
            except PlaywrightTimeout as error:  # a page broken by a payload: say so, go on
                results = 0
                problems["search box"] = str(error).splitlines()[:3]
            found = page.evaluate(CHECK)
            if found["pwned"] is not None or found["on"] or found["js"]:
                problems["search"] = found
            assert not dialogs, dialogs
        finally:
            browser.close()
    assert not problems, json.dumps(problems, indent=1)[:6000]
    assert results > 0
