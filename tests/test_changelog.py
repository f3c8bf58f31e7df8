"""The changelog (issue 7): fragments, releases and their schema diff, the changelog page, the
notes on reference pages, the Atom feed, and `announce`."""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import git, git_commit, git_init, invoke, make_config, option_section, write

from generator.analysis.schemadiff import schema_diff
from generator.collect import collect
from generator.config import load_config
from generator.generate import generate
from generator.model import Finding, Model, Severity
from generator.sources.announcements import read_announcement, read_announcements

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
SCHEMA_FILE = "schemas/service.schema.json"


# --- helpers: schemas, fragments and projects written by the tests ---------------------------


def prop(kind: str, description: str, **more: Any) -> dict[str, Any]:
    return {"type": kind, "description": description, **more}


def service_schema() -> dict[str, Any]:
    """The service schema of release 1.0.0 in these tests."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Service",
        "description": "A service's pipeline config.",
        "type": "object",
        "required": ["service"],
        "properties": {
            "service": prop("string", "Name of the service."),
            "team": prop("string", "Team that owns the service."),
            "deploy": prop(
                "object",
                "How the service is deployed.",
                properties={
                    "replicas": prop("integer", "Number of pods.", default=1),
                    "strategy": prop(
                        "string", "Rollout strategy.", enum=["RollingUpdate", "Recreate"]
                    ),
                    "region": prop("string", "Region.", enum=["eu", "us"]),
                    "timeout": prop("string", "Rollout timeout."),
                    "legacy": prop("string", "An option on its way out."),
                    "healthcheck": prop("string", "Readiness path."),
                },
            ),
        },
    }


def deploy(schema: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = schema["properties"]["deploy"]["properties"]
    return props


def write_schema(path: Path, schema: dict[str, Any]) -> str:
    text = json.dumps(schema, indent=2) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return text


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the first line holding `needle`."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def fragment(folder: Path, name: str, front: dict[str, Any], body: str = "What changed.") -> Path:
    text = "---\n" + yaml.safe_dump(front, sort_keys=False) + "---\n" + body + "\n"
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def model_of(config: Path) -> Model:
    return collect(load_config(config))


def pages_of(config: Path) -> dict[str, str]:
    loaded = load_config(config)
    return generate(loaded, collect(loaded))


def of_rule(findings: tuple[Finding, ...] | list[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule]


TEMPLATE = """\
spec:
  inputs:
    image:
      description: Image to build.
---
build:
  script:
    - docker build -t $[[ inputs.image ]] .
"""


def release_1_9(schema: dict[str, Any]) -> dict[str, Any]:
    """1.9.0 had no `deploy.strategy`, and one replica by default."""
    old = copy.deepcopy(schema)
    del deploy(old)["strategy"]
    return old


def current(schema: dict[str, Any]) -> dict[str, Any]:
    """Now: `deploy.legacy` removed, `deploy.replicas` defaults to 2 since 1.10.0."""
    new = copy.deepcopy(schema)
    del deploy(new)["legacy"]
    deploy(new)["replicas"]["default"] = 2
    return new


def project(root: Path, **config: Any) -> Path:
    """A pipeline with releases 1.9.0 and 1.10.0 as schema folders, a `build` template and
    six fragments over three releases; returns its config."""
    base = service_schema()
    with_default_2 = copy.deepcopy(base)
    deploy(with_default_2)["replicas"]["default"] = 2
    write_schema(root / "releases" / "1.9.0" / "service.schema.json", release_1_9(base))
    write_schema(root / "releases" / "1.10.0" / "service.schema.json", with_default_2)
    write_schema(root / SCHEMA_FILE, current(base))
    write(root / "templates" / "build.yml", TEMPLATE)
    changes = root / "changes"
    fragment(
        changes,
        "2025-12-01-older.md",
        {"title": "The oldest news", "type": "feature", "date": "2025-12-01", "release": "1.9.0"},
    )
    fragment(
        changes,
        "2026-01-10-first.md",
        {"title": "First release", "type": "feature", "date": "2026-01-10", "release": "1.9.0"},
    )
    fragment(
        changes,
        "2026-02-08-security.md",
        {
            "title": "Deploys are signed",
            "type": "security",
            "date": "2026-02-08",
            "release": "1.10.0",
            "options": ["service:deploy"],
        },
    )
    fragment(
        changes,
        "2026-02-09-replicas.md",
        {
            "title": "Two replicas by default",
            "type": "change",
            "date": "2026-02-09",
            "release": "1.10.0",
            "options": ["service:deploy.replicas"],
        },
    )
    fragment(
        changes,
        "2026-02-10-strategy.md",
        {
            "title": "Rollout strategies",
            "type": "feature",
            "date": "2026-02-10",
            "release": "1.10.0",
            "options": ["service:deploy.strategy"],
            "templates": ["build"],
        },
    )
    fragment(
        changes,
        "2026-03-01-legacy-removed.md",
        {
            "title": "deploy.legacy is gone",
            "type": "removal",
            "date": "2026-03-01",
            "release": "2.0.0",
            "options": ["service:deploy.legacy"],
        },
    )
    return make_config(
        root,
        schemas="schemas/",
        templates=["templates/"],
        announcements="changes/",
        releases=[
            {"name": "1.9.0", "date": "2026-01-10", "schemas": "releases/1.9.0/"},
            {"name": "1.10.0", "date": "2026-02-10", "schemas": "releases/1.10.0/"},
        ],
        **config,
    )


@pytest.fixture(scope="module")
def project_pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return pages_of(project(tmp_path_factory.mktemp("changelog") / "pipeline"))


# --- fragments -----------------------------------------------------------------------------


def test_a_valid_fragment_is_read_with_everything_it_says(tmp_path: Path) -> None:
    path = write(
        tmp_path / "changes" / "2026-06-01-probes.md",
        """
        ---
        title: Readiness and liveness probes
        type: feature
        date: 2026-06-01
        release: 1.10
        options:
          - service:deploy.probes
          - service:deploy.replicas
        templates: [build]
        ---
        Services can declare both health checks.

        More text.
        """,
    )
    announcement, findings = read_announcement(path, "changes/2026-06-01-probes.md")
    assert findings == []
    assert announcement is not None
    assert announcement.id == "2026-06-01-probes"
    assert announcement.file == "changes/2026-06-01-probes.md"
    assert announcement.title == "Readiness and liveness probes"
    assert announcement.type == "feature"
    assert announcement.date == "2026-06-01"
    assert announcement.release == "1.10"  # as written, not the float 1.1
    assert announcement.options == ("service:deploy.probes", "service:deploy.replicas")
    assert announcement.templates == ("build",)
    assert announcement.option_lines == (7, 8)
    assert announcement.body.startswith("Services can declare both health checks.")


def test_fragments_of_a_folder_are_read_newest_first(tmp_path: Path) -> None:
    for day in ("2026-01-05", "2026-03-01", "2026-02-11"):
        fragment(
            tmp_path, f"{day}-news.md", {"title": f"News of {day}", "type": "fix", "date": day}
        )
    (tmp_path / "README.txt").write_text("not a fragment\n")
    announcements, findings = read_announcements(tmp_path, lambda p: p.name)
    assert findings == []
    assert [a.date for a in announcements] == ["2026-03-01", "2026-02-11", "2026-01-05"]


INVALID = {
    "no front matter": ("title: x\ntype: feature\ndate: 2026-01-01\n", 1),
    "not a mapping": ("---\n- title\n- type\n---\nbody\n", 2),
    "missing title": ("---\ntype: feature\ndate: 2026-01-01\n---\nbody\n", None),
    "missing type": ("---\ntitle: x\ndate: 2026-01-01\n---\nbody\n", None),
    "missing date": ("---\ntitle: x\ntype: feature\n---\nbody\n", None),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_invalid_front_matter_is_an_error_at_the_fragment(tmp_path: Path, case: str) -> None:
    text, line = INVALID[case]
    path = tmp_path / "bad.md"
    path.write_text(text, encoding="utf-8")
    announcement, findings = read_announcement(path, "changes/bad.md")
    assert announcement is None
    [finding] = findings
    assert finding.rule == "changelog/invalid-front-matter"
    assert finding.severity is Severity.ERROR
    assert finding.file == "changes/bad.md"
    if line is not None:
        assert finding.line == line
    else:  # a missing key: the front matter, between the two `---`
        closing = text.splitlines().index("---", 1) + 1
        assert finding.line is not None and 1 <= finding.line <= closing
        assert case.split()[-1] in finding.message


def test_an_unknown_type_is_an_error_at_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "news.md",
        """
        ---
        title: Something new
        date: 2026-01-01
        type: improvement
        ---
        body
        """,
    )
    _, findings = read_announcement(path, "changes/news.md")
    [finding] = findings
    assert (finding.rule, finding.severity, finding.file, finding.line) == (
        "changelog/unknown-type",
        Severity.ERROR,
        "changes/news.md",
        4,
    )
    assert "improvement" in finding.message


def test_a_syntax_error_in_front_matter_is_reported_at_its_line_in_the_file(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path / "news.md",
        """
        ---
        title: Something new
        type: feature
        date: 2026-01-01
        options: [service:deploy
        ---
        body
        """,
    )
    announcement, findings = read_announcement(path, "changes/news.md")
    assert announcement is None
    [finding] = [f for f in findings if f.rule == "yaml/parse-error"]
    assert finding.file == "changes/news.md"
    assert finding.line is not None and 5 <= finding.line <= 6


def test_unknown_options_and_templates_are_errors_at_the_line_that_names_them(
    tmp_path: Path,
) -> None:
    config = project(tmp_path)
    path = write(
        tmp_path / "changes" / "2026-03-02-mixed.md",
        """
        ---
        title: Mixed bag
        type: change
        date: 2026-03-02
        options:
          - service:deploy.replicas
          - service:deploy.replcas
        templates:
          - build
          - biuld
        ---
        body
        """,
    )
    text = path.read_text(encoding="utf-8")
    findings = model_of(config).findings
    [option] = of_rule(findings, "changelog/unknown-option")
    assert (option.severity, option.file, option.line) == (
        Severity.ERROR,
        "changes/2026-03-02-mixed.md",
        line_of(text, "service:deploy.replcas"),
    )
    assert "service:deploy.replcas" in option.message
    [template] = of_rule(findings, "changelog/unknown-template")
    assert (template.severity, template.file, template.line) == (
        Severity.ERROR,
        "changes/2026-03-02-mixed.md",
        line_of(text, "biuld"),
    )
    assert "biuld" in template.message


def test_a_removal_may_name_an_option_that_existed_at_the_last_release(tmp_path: Path) -> None:
    model = model_of(project(tmp_path))
    assert "service:deploy.legacy" not in {o.id for s in model.schemas for o in s.options}
    assert [f for f in model.findings if f.rule.startswith("changelog/")] == []
    assert [f for f in model.findings if f.severity is Severity.ERROR] == []


def test_a_fragment_dated_with_words_is_invalid_and_the_feed_stays_valid(tmp_path: Path) -> None:
    config = project(tmp_path)
    path = fragment(
        tmp_path / "changes", "soon.md", {"title": "Coming", "type": "feature", "date": "next week"}
    )
    model = model_of(config)
    [finding] = [f for f in model.findings if f.file == "changes/soon.md"]
    assert finding.rule == "changelog/invalid-front-matter"
    assert finding.line == line_of(path.read_text(encoding="utf-8"), "date:")
    feed = ET.fromstring(generate(load_config(config), model)["feed.xml"])
    for updated in feed.iter(f"{ATOM}updated"):
        assert RFC3339.match(updated.text or ""), updated.text


# --- releases from a git repo with tags -------------------------------------------------------


def tagged_pipeline(root: Path, tags: tuple[str, ...] = ("v1.0.0",)) -> Path:
    """A git repo with the schemas and a config, the schema committed and tagged; returns the
    config. The work tree is then edited by the test: what is not released yet."""
    git_init(root)
    write_schema(root / SCHEMA_FILE, service_schema())
    (root / "changes").mkdir()
    (root / "changes" / ".keep").write_text("")
    (root / ".gitignore").write_text(".cache/\n")
    config = make_config(root, schemas="schemas/", announcements="changes/")
    git_commit(root, "release 1.0.0")
    for tag in tags:
        git(root, "tag", tag)
    return config


def edit_schema(config: Path, change: Any) -> str:
    path = config.parent / SCHEMA_FILE
    schema = json.loads(path.read_text(encoding="utf-8"))
    change(schema)
    return write_schema(path, schema)


def _made_required(schema: dict[str, Any]) -> None:
    schema["required"] = ["service", "team"]


def _new_optional_parent(schema: dict[str, Any]) -> None:
    schema["properties"]["notifications"] = prop(
        "object",
        "Where to notify.",
        required=["chat"],
        properties={"chat": prop("string", "Chat channel.")},
    )


def _new_required_top_level(schema: dict[str, Any]) -> None:
    schema["properties"]["language"] = prop("string", "Main language.")
    schema["required"] = ["service", "language"]


def _deprecate(schema: dict[str, Any]) -> None:
    deploy(schema)["healthcheck"].update(
        {"deprecated": True, "x-deprecated-message": "Use `deploy.probes` instead."}
    )


KINDS: dict[str, tuple[Any, set[tuple[str, str, bool]]]] = {
    "option added": (
        lambda s: deploy(s).update(labels=prop("object", "Labels.")),
        {("service:deploy.labels", "added", False)},
    ),
    "option removed": (
        lambda s: deploy(s).pop("legacy"),
        {("service:deploy.legacy", "removed", True)},
    ),
    "type changed": (
        lambda s: deploy(s)["timeout"].update(type="integer"),
        {("service:deploy.timeout", "type changed", True)},
    ),
    "default changed": (
        lambda s: deploy(s)["replicas"].update(default=2),
        {("service:deploy.replicas", "default changed", False)},
    ),
    "enum narrowed": (
        lambda s: deploy(s)["strategy"].update(enum=["RollingUpdate"]),
        {("service:deploy.strategy", "enum narrowed", True)},
    ),
    "enum widened": (
        lambda s: deploy(s)["region"].update(enum=["eu", "us", "ap"]),
        {("service:deploy.region", "enum widened", False)},
    ),
    "made required": (_made_required, {("service:team", "made required", True)}),
    "deprecated": (_deprecate, {("service:deploy.healthcheck", "deprecated", False)}),
    "required option under a new optional parent": (
        _new_optional_parent,
        {("service:notifications", "added", False), ("service:notifications.chat", "added", False)},
    ),
    "new required top-level option": (
        _new_required_top_level,
        {("service:language", "added", True)},
    ),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_schema_diff_classifies_each_kind_of_change(tmp_path: Path, kind: str) -> None:
    change, expected = KINDS[kind]
    config = tagged_pipeline(tmp_path / "pipeline")
    edit_schema(config, change)

    result = invoke("schema-diff", "--config", str(config), "--format", "json")
    assert result.exit_code == 0, result.stderr
    listed = {(c["option"], c["change"], c["breaking"]) for c in json.loads(result.stdout)}
    assert listed == expected

    model = model_of(config)
    assert [r.name for r in model.releases] == ["v1.0.0"]
    computed = schema_diff(model.releases[0].schemas, model.schemas)
    assert {(c.option, c.kind, c.breaking) for c in computed} == expected

    named = invoke("schema-diff", "v1.0.0", "work", "--config", str(config), "--format", "json")
    assert json.loads(named.stdout) == json.loads(result.stdout)


def test_release_tags_are_ordered_by_semver_not_by_name(tmp_path: Path) -> None:
    root = tmp_path / "pipeline"
    config = tagged_pipeline(root, tags=("v1.9.0",))
    edit_schema(config, lambda s: deploy(s)["replicas"].update(default=2))
    git_commit(root, "two replicas")
    git(root, "tag", "v1.10.0")
    edit_schema(config, lambda s: deploy(s)["replicas"].update(default=3))

    assert [r.name for r in model_of(config).releases] == ["v1.9.0", "v1.10.0"]
    result = invoke("schema-diff", "--config", str(config), "--format", "json")
    assert json.loads(result.stdout) == [
        {
            "option": "service:deploy.replicas",
            "change": "default changed",
            "breaking": False,
            "detail": "default 2 -> 3",
        }
    ]


def test_schema_diff_of_an_unknown_release_exits_2(tmp_path: Path) -> None:
    config = tagged_pipeline(tmp_path / "pipeline")
    result = invoke("schema-diff", "v0.1.0", "--config", str(config))
    assert result.exit_code == 2
    assert "v0.1.0" in result.stderr and "v1.0.0" in result.stderr


def check_json(config: Path) -> tuple[int, list[dict[str, Any]]]:
    result = invoke("check", "--config", str(config), "--format", "json")
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, json.loads(result.stdout)["findings"]


def test_a_breaking_change_without_fragment_fails_check_at_the_schema_line(tmp_path: Path) -> None:
    config = tagged_pipeline(tmp_path / "pipeline")
    text = edit_schema(config, lambda s: deploy(s)["timeout"].update(type="integer"))
    code, findings = check_json(config)
    assert code == 1
    [finding] = [f for f in findings if f["rule"] == "changelog/missing-announcement"]
    assert finding["severity"] == "error"
    assert finding["file"] == SCHEMA_FILE
    assert finding["line"] == line_of(text, '"timeout"')
    assert "service:deploy.timeout" in finding["message"] and "v1.0.0" in finding["message"]


def test_an_unannounced_removal_is_reported_in_the_schema_file_of_the_work_tree(
    tmp_path: Path,
) -> None:
    config = tagged_pipeline(tmp_path / "pipeline")
    edit_schema(config, lambda s: deploy(s).pop("legacy"))
    code, findings = check_json(config)
    assert code == 1
    [finding] = [f for f in findings if f["rule"] == "changelog/missing-announcement"]
    assert finding["severity"] == "error"
    assert "service:deploy.legacy" in finding["message"]
    # the file a user can open (and CI can annotate), not a copy in the cache
    assert finding["file"] == SCHEMA_FILE


def test_a_non_breaking_change_without_fragment_is_a_warning(tmp_path: Path) -> None:
    config = tagged_pipeline(tmp_path / "pipeline")
    text = edit_schema(config, lambda s: deploy(s).update(labels=prop("object", "Labels.")))
    code, findings = check_json(config)
    assert code == 0
    [finding] = [f for f in findings if f["rule"] == "changelog/missing-announcement"]
    assert finding["severity"] == "warning"
    assert (finding["file"], finding["line"]) == (SCHEMA_FILE, line_of(text, '"labels"'))


@pytest.mark.parametrize("named", ["service:deploy.timeout", "service:deploy"])
def test_a_fragment_naming_the_option_or_one_above_it_announces_the_change(
    tmp_path: Path, named: str
) -> None:
    config = tagged_pipeline(tmp_path / "pipeline")
    edit_schema(config, lambda s: deploy(s)["timeout"].update(type="integer"))
    fragment(
        config.parent / "changes",
        "2026-07-01-timeout.md",
        {
            "title": "Timeouts in seconds",
            "type": "change",
            "date": "2026-07-01",
            "options": [named],
        },
    )
    code, findings = check_json(config)
    assert code == 0
    assert [f for f in findings if f["rule"].startswith("changelog/")] == []


def test_service_deploy_covers_service_deploy_replicas(tmp_path: Path) -> None:
    config = tagged_pipeline(tmp_path / "pipeline")
    edit_schema(config, lambda s: deploy(s)["replicas"].update(default=2))
    assert of_rule(model_of(config).findings, "changelog/missing-announcement")
    fragment(
        config.parent / "changes",
        "2026-07-01-deploy.md",
        {
            "title": "Deploy defaults",
            "type": "change",
            "date": "2026-07-01",
            "options": ["service:deploy"],
        },
    )
    assert of_rule(model_of(config).findings, "changelog/missing-announcement") == []


def test_a_removal_fragment_announces_a_removed_option(tmp_path: Path) -> None:
    config = tagged_pipeline(tmp_path / "pipeline")
    edit_schema(config, lambda s: deploy(s).pop("legacy"))
    fragment(
        config.parent / "changes",
        "2026-07-01-legacy.md",
        {
            "title": "deploy.legacy removed",
            "type": "removal",
            "date": "2026-07-01",
            "options": ["service:deploy.legacy"],
        },
    )
    code, findings = check_json(config)
    assert code == 0
    assert [f for f in findings if f["rule"].startswith("changelog/")] == []


def test_releases_in_the_config_as_schema_folders(tmp_path: Path) -> None:
    config = project(tmp_path)
    model = model_of(config)
    assert [(r.name, r.date) for r in model.releases] == [
        ("1.9.0", "2026-01-10"),
        ("1.10.0", "2026-02-10"),
    ]
    steps = [
        (d.before, d.after, {(c.option, c.kind) for c in d.changes}) for d in model.schema_changes
    ]
    assert steps == [
        (
            "1.9.0",
            "1.10.0",
            {("service:deploy.strategy", "added"), ("service:deploy.replicas", "default changed")},
        ),
        ("1.10.0", "", {("service:deploy.legacy", "removed")}),
    ]
    result = invoke("schema-diff", "1.9.0", "1.10.0", "--config", str(config), "--format", "json")
    assert {c["option"] for c in json.loads(result.stdout)} == {
        "service:deploy.strategy",
        "service:deploy.replicas",
    }


def test_a_release_whose_schemas_cannot_be_read_is_an_error(tmp_path: Path) -> None:
    write_schema(tmp_path / SCHEMA_FILE, service_schema())
    config = make_config(
        tmp_path,
        schemas="schemas/",
        releases=[{"name": "0.9.0", "schemas": "gone/"}, {"name": "1.0.0", "ref": "v1.0.0"}],
    )
    findings = of_rule(model_of(config).findings, "changelog/unknown-release")
    assert [(f.severity, f.file) for f in findings] == [(Severity.ERROR, "pipeline-docs.yml")] * 2
    assert {f.message.split(":")[0] for f in findings} == {"release 0.9.0", "release 1.0.0"}
    assert [r.name for r in model_of(config).releases] == []


def test_an_unreadable_release_is_reported_at_its_line_in_the_config(tmp_path: Path) -> None:
    write_schema(tmp_path / SCHEMA_FILE, service_schema())
    config = make_config(
        tmp_path, schemas="schemas/", releases=[{"name": "0.9.0", "schemas": "gone/"}]
    )
    [finding] = of_rule(model_of(config).findings, "changelog/unknown-release")
    assert finding.line == line_of(config.read_text(encoding="utf-8"), "name: 0.9.0")


# --- pages ---------------------------------------------------------------------------------


def _headings(page: str, level: int) -> list[str]:
    return re.findall(rf"^{'#' * level} (.+?)(?: <small>.*?</small>)? {{ #", page, re.MULTILINE)


def _release_section(page: str, name: str) -> str:
    start = page.index(f"## {name}")
    following = page.find("\n## ", start + 1)
    return page[start:] if following < 0 else page[start:following]


def test_the_changelog_groups_by_release_newest_first_in_semver_order(
    project_pages: dict[str, str],
) -> None:
    page = project_pages["changelog/index.md"]
    assert _headings(page, 2) == ["2.0.0", "1.10.0", "1.9.0"]
    assert "## 1.10.0 <small>2026-02-10</small> { #release-1.10.0 }" in page


def test_within_a_release_entries_are_grouped_by_type(project_pages: dict[str, str]) -> None:
    section = _release_section(project_pages["changelog/index.md"], "1.10.0")
    entries = re.findall(r'<h3 id="([^"]+)" markdown>', section)
    assert entries == ["2026-02-08-security", "2026-02-09-replicas", "2026-02-10-strategy"]
    kinds = re.findall(r"^\*\*(\w+)\*\* · ", section, re.MULTILINE)
    assert kinds == ["security", "change", "feature"]


def test_each_entry_has_its_own_anchor_and_links_to_options_and_templates(
    project_pages: dict[str, str],
) -> None:
    page = project_pages["changelog/index.md"]
    anchors = re.findall(r'<h3 id="([^"]+)" markdown>', page)
    assert len(anchors) == len(set(anchors)) == 6
    entry = page[page.index('<h3 id="2026-02-10-strategy"') :]
    entry = entry[: entry.index("<h3", 1)] if "<h3" in entry[1:] else entry
    assert "[`service:deploy.strategy`](../reference/schemas/service.md#deploy.strategy)" in entry
    assert "[`build`](../reference/templates/build.md)" in entry


def test_schema_changes_since_the_previous_release_are_a_table(
    project_pages: dict[str, str],
) -> None:
    page = project_pages["changelog/index.md"]
    section = _release_section(page, "1.10.0")
    assert "### Schema changes since 1.9.0 { #changes-1.10.0 }" in section
    assert (
        "| [`service:deploy.strategy`](../reference/schemas/service.md#deploy.strategy) | added |"
        in section
    )
    assert (
        "| [`service:deploy.replicas`](../reference/schemas/service.md#deploy.replicas) | default changed |"
        in section
    )
    unreleased = _release_section(page, "2.0.0")
    assert "### Schema changes since 1.10.0" in unreleased
    # a removed option links its page in the last release that had it (issue 21)
    assert (
        "| [`service:deploy.legacy`](../reference/1.10.0/schemas/service.md#deploy.legacy) |"
        " removed **breaking** |"
    ) in unreleased


def test_an_option_page_shows_the_announcements_that_concern_it(
    project_pages: dict[str, str],
) -> None:
    section = option_section(project_pages["reference/schemas/service.md"], "deploy.replicas")
    assert '!!! info "Change in 1.10.0"' in section
    assert "[Two replicas by default](../../changelog/index.md#2026-02-09-replicas)" in section
    # `service:deploy` concerns every option below it
    assert '!!! warning "Security in 1.10.0"' in section
    assert "[Deploys are signed](../../changelog/index.md#2026-02-08-security)" in section
    untouched = option_section(project_pages["reference/schemas/service.md"], "service")
    assert "changelog/index.md" not in untouched


def test_a_template_page_shows_the_fragments_that_name_it(project_pages: dict[str, str]) -> None:
    page = project_pages["reference/templates/build.md"]
    assert '!!! info "Feature in 1.10.0"' in page
    assert "[Rollout strategies](../../changelog/index.md#2026-02-10-strategy)" in page
    assert "Two replicas by default" not in page


def test_the_home_page_shows_the_latest_entries(project_pages: dict[str, str]) -> None:
    home = project_pages["index.md"]
    news = home[home.index("## What's new") :]
    assert "[deploy.legacy is gone](changelog/index.md#2026-03-01-legacy-removed)" in news
    assert news.index("deploy.legacy is gone") < news.index("Rollout strategies")
    assert "First release" in news
    assert "The oldest news" not in news  # only the latest few


def test_the_sample_has_earlier_releases_and_a_populated_changelog(
    shared_sample: Path, sample_model: Model, sample_pages: dict[str, str]
) -> None:
    assert len(sample_model.releases) >= 2
    assert len(sample_model.announcements) >= 3
    assert any(diff.changes for diff in sample_model.schema_changes)
    page = sample_pages["changelog/index.md"]
    assert len(_headings(page, 2)) >= 3
    assert page.count("### Schema changes since") >= 2
    assert page.count('<h3 id="') >= len(sample_model.announcements)
    result = invoke("schema-diff", "--config", str(shared_sample), "--format", "json")
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)) >= 3
    feed = ET.fromstring(sample_pages["feed.xml"])
    assert len(feed.findall(f"{ATOM}entry")) == len(sample_model.announcements)


# --- the Atom feed -------------------------------------------------------------------------


def one(element: ET.Element, name: str) -> ET.Element:
    found = element.findall(f"{ATOM}{name}")
    assert len(found) == 1, f"{element.tag} has {len(found)} <{name}>"
    return found[0]


def assert_atom(text: str) -> ET.Element:
    """The Atom rules (RFC 4287) a feed reader relies on."""
    feed = ET.fromstring(text.encode("utf-8"))
    assert feed.tag == f"{ATOM}feed"
    assert (one(feed, "id").text or "").strip()
    assert (one(feed, "title").text or "").strip()
    assert RFC3339.match(one(feed, "updated").text or "")
    assert [link for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self"]
    entries = feed.findall(f"{ATOM}entry")
    ids = []
    for entry in entries:
        ids.append(one(entry, "id").text)
        assert (one(entry, "title").text or "").strip()
        assert RFC3339.match(one(entry, "updated").text or "")
    assert len(ids) == len(set(ids)), "entry ids are unique"
    updated = [one(e, "updated").text or "" for e in entries]
    assert updated == sorted(updated, reverse=True), "newest first"
    return feed


def test_the_sample_feed_is_well_formed_atom(sample_pages: dict[str, str]) -> None:
    feed = assert_atom(sample_pages["feed.xml"])
    assert one(feed, "updated").text == one(feed.findall(f"{ATOM}entry")[0], "updated").text


def test_the_feed_is_the_same_bytes_from_one_generation_to_the_next(tmp_path: Path) -> None:
    config = project(tmp_path / "pipeline")
    for out in ("one", "two"):
        result = invoke("generate", "--config", str(config), "--out", str(tmp_path / out))
        assert result.exit_code == 0, result.stderr
    first = (tmp_path / "one" / "feed.xml").read_bytes()
    assert first == (tmp_path / "two" / "feed.xml").read_bytes()
    feed = assert_atom(first.decode("utf-8"))
    assert len(feed.findall(f"{ATOM}entry")) == 6


def test_with_site_url_the_feed_ids_and_links_are_absolute(tmp_path: Path) -> None:
    config = project(tmp_path, site_url="https://docs.example.com/pipeline/")
    feed = assert_atom(pages_of(config)["feed.xml"])
    base = "https://docs.example.com/pipeline/"
    assert (one(feed, "id").text or "").startswith(base)
    hrefs = [link.get("href") or "" for link in feed.iter(f"{ATOM}link")]
    assert hrefs and all(h.startswith(base) for h in hrefs), hrefs
    self_link = next(link for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self")
    assert self_link.get("href") == base + "feed.xml"
    for entry in feed.findall(f"{ATOM}entry"):
        assert (one(entry, "id").text or "").startswith(base)
    strategy = next(
        e for e in feed.findall(f"{ATOM}entry") if one(e, "title").text == "Rollout strategies"
    )
    assert one(strategy, "link").get("href") == base + "changelog/#2026-02-10-strategy"


def test_a_hostile_title_is_escaped_in_the_feed_and_on_the_page(tmp_path: Path) -> None:
    config = project(tmp_path)
    title = "<script>alert(1)</script> & friends"
    fragment(
        tmp_path / "changes",
        "2026-03-05-hostile.md",
        {"title": title, "type": "fix", "date": "2026-03-05"},
    )
    pages = pages_of(config)
    assert "<script>" not in pages["feed.xml"]
    assert "&amp; friends" in pages["feed.xml"]
    feed = assert_atom(pages["feed.xml"])
    titles = [one(e, "title").text for e in feed.findall(f"{ATOM}entry")]
    assert titles[0] == title
    assert "<script>" not in pages["changelog/index.md"]
    assert "<script>" not in pages["index.md"]


def test_every_page_of_the_built_sample_links_the_feed_from_its_head(
    built_sample_site: tuple[Any, Path],
) -> None:
    done, site = built_sample_site
    assert done.returncode == 0, done.stderr
    assert_atom((site / "feed.xml").read_text(encoding="utf-8"))
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 20
    for page in pages:
        html = page.read_text(encoding="utf-8")
        head = html[: html.index("</head>")]
        found = re.search(
            r'<link rel="alternate" type="application/atom\+xml"[^>]*href="([^"]+)"', head
        )
        assert found, f"{page.relative_to(site)} does not link the feed"
        href = found.group(1)  # relative, or from the site's root on 404.html
        target = (site / href.lstrip("/") if href.startswith("/") else page.parent / href).resolve()
        assert target == (site / "feed.xml").resolve(), page.relative_to(site)


# --- announce ------------------------------------------------------------------------------


ANNOUNCE = (
    "--title",
    "T",
    "--type",
    "feature",
    "--option",
    "service:deploy.replicas",
    "--template",
    "build",
    "--release",
    "1.3.0",
    "--date",
    "2026-12-01",
)


def test_announce_writes_a_fragment_the_reader_accepts(tmp_path: Path) -> None:
    config = project(tmp_path)
    result = invoke("announce", "--config", str(config), *ANNOUNCE)
    assert result.exit_code == 0, result.stderr
    path = tmp_path / "changes" / "2026-12-01-t.md"
    assert "changes/2026-12-01-t.md" in result.stdout
    announcement, findings = read_announcement(path, "changes/2026-12-01-t.md")
    assert [f.rule for f in findings] == ["changelog/placeholder"]  # its body is still to write
    assert announcement is not None
    assert (announcement.title, announcement.type, announcement.date, announcement.release) == (
        "T",
        "feature",
        "2026-12-01",
        "1.3.0",
    )
    assert announcement.options == ("service:deploy.replicas",)
    assert announcement.templates == ("build",)
    model = model_of(config)
    assert [f.rule for f in model.findings if f.file == "changes/2026-12-01-t.md"] == [
        "changelog/placeholder"
    ]
    assert "2026-12-01-t" in {a.id for a in model.announcements}


def test_announce_without_title_or_type_and_no_terminal_exits_2(tmp_path: Path) -> None:
    config = project(tmp_path)
    before = sorted((tmp_path / "changes").iterdir())
    for args in (("--type", "feature"), ("--title", "T")):
        result = invoke("announce", "--config", str(config), *args)
        assert result.exit_code == 2
        assert "--title" in result.stderr
    assert sorted((tmp_path / "changes").iterdir()) == before


def test_announce_never_overwrites_a_fragment(tmp_path: Path) -> None:
    config = project(tmp_path)
    existing = write(tmp_path / "changes" / "2026-12-01-t.md", "---\ntitle: Mine\n---\nkeep me\n")
    first = invoke("announce", "--config", str(config), *ANNOUNCE)
    second = invoke("announce", "--config", str(config), *ANNOUNCE)
    assert first.exit_code == second.exit_code == 0
    assert existing.read_text(encoding="utf-8") == "---\ntitle: Mine\n---\nkeep me\n"
    written = sorted(p.name for p in (tmp_path / "changes").glob("2026-12-01-t*.md"))
    assert len(written) == 3
    assert first.stdout != second.stdout
