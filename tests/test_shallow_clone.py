"""The changelog gate in a shallow clone (issue 17): CI clones without tags by default, so the
releases a `vX.Y.Z` tag names are missing; `check` and `schema-diff` say so instead of passing
in silence. Real git repos in tmp; a shallow one made by `git clone --depth 1 file://...`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import git, git_commit, git_init, invoke, make_config, write

from generator.collect import collect
from generator.config import load_config
from generator.model import Finding, Severity

SCHEMA_FILE = "schemas/service.schema.json"
GATE_RULES = ("changelog/shallow-clone", "changelog/no-earlier-release")


def service_schema(*required: str) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "description": "A service's pipeline config.",
        "type": "object",
        "required": ["service", *required],
        "properties": {
            "service": {"type": "string", "description": "Name of the service."},
            "team": {"type": "string", "description": "Team that owns the service."},
        },
    }


def write_schema(root: Path, schema: dict[str, Any]) -> None:
    path = root / SCHEMA_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(schema, indent=2) + "\n", encoding="utf-8")


def pipeline(root: Path, tag: str | None = "v1.0.0") -> Path:
    """A pipeline repo: release 1.0.0 committed (and tagged), then a commit that makes `team`
    required, which no fragment announces (a breaking change: the gate fails on it)."""
    git_init(root)
    write_schema(root, service_schema())
    (root / "changes").mkdir()
    (root / "changes" / ".keep").write_text("")
    (root / ".gitignore").write_text(".cache/\n")
    config = make_config(root, schemas="schemas/", announcements="changes/")
    git_commit(root, "release 1.0.0")
    if tag:
        git(root, "tag", tag)
    write_schema(root, service_schema("team"))
    git_commit(root, "team is required")
    return config


@pytest.fixture(scope="module")
def tagged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pipeline repo with its tag, in full; returns its config."""
    return pipeline(tmp_path_factory.mktemp("tagged") / "pipeline")


def shallow_clone(source: Path, dest: Path) -> Path:
    """`git clone --depth 1`, as CI clones: the tagged commit, and so the tag, are not fetched."""
    git(dest.parent, "clone", "--quiet", "--depth", "1", f"file://{source}", dest.name)
    assert git(dest, "rev-parse", "--is-shallow-repository").strip() == "true"
    assert git(dest, "tag", "--list") == ""
    return dest / "pipeline-docs.yml"


def findings_of(config: Path) -> tuple[Finding, ...]:
    return collect(load_config(config)).findings


def of_rules(findings: tuple[Finding, ...], *rules: str) -> list[Finding]:
    return [f for f in findings if f.rule in rules]


def test_a_full_clone_with_its_tag_runs_the_gate_and_says_nothing_of_releases(
    tagged: Path,
) -> None:
    findings = findings_of(tagged)
    [missing] = of_rules(findings, "changelog/missing-announcement")
    assert "service:team" in missing.message and "v1.0.0" in missing.message
    assert missing.severity is Severity.ERROR
    assert of_rules(findings, *GATE_RULES) == []


def test_a_shallow_clone_without_tags_warns_that_the_gate_is_off(
    tagged: Path, tmp_path: Path
) -> None:
    config = shallow_clone(tagged.parent, tmp_path / "pipeline")
    findings = findings_of(config)
    assert of_rules(findings, "changelog/missing-announcement") == []  # what the gate would miss
    [warning] = of_rules(findings, *GATE_RULES)
    assert (warning.rule, warning.severity, warning.file, warning.line) == (
        "changelog/shallow-clone",
        Severity.WARNING,
        "schemas",
        None,
    )
    assert "changelog gate is off" in warning.message and "shallow clone" in warning.message
    assert warning.hint is not None
    for fix in ("git fetch --unshallow --tags", "fetch-depth: 0", "GIT_DEPTH: 0"):
        assert fix in warning.hint


def test_check_reports_the_shallow_clone_and_fails_on_it_with_fail_on_warning(
    tagged: Path, tmp_path: Path
) -> None:
    config = shallow_clone(tagged.parent, tmp_path / "pipeline")
    passed = invoke("check", "--config", str(config), "--format", "json")
    assert passed.exit_code == 0, passed.stderr
    rules = [f["rule"] for f in json.loads(passed.stdout)["findings"]]
    assert rules == ["changelog/shallow-clone"]
    strict = invoke("check", "--config", str(config), "--fail-on", "warning")
    assert strict.exit_code == 1
    assert "changelog/shallow-clone" in strict.stdout


def test_the_hint_works_fetching_the_tags_turns_the_gate_back_on(
    tagged: Path, tmp_path: Path
) -> None:
    config = shallow_clone(tagged.parent, tmp_path / "pipeline")
    git(config.parent, "fetch", "--quiet", "--unshallow", "--tags")
    findings = findings_of(config)
    assert of_rules(findings, *GATE_RULES) == []
    assert [f.severity for f in of_rules(findings, "changelog/missing-announcement")] == [
        Severity.ERROR
    ]


def test_a_shallow_clone_that_fetched_the_tag_runs_the_gate(tagged: Path, tmp_path: Path) -> None:
    config = shallow_clone(tagged.parent, tmp_path / "pipeline")
    git(config.parent, "fetch", "--quiet", "--depth", "1", "origin", "tag", "v1.0.0")
    findings = findings_of(config)
    assert of_rules(findings, *GATE_RULES) == []
    assert len(of_rules(findings, "changelog/missing-announcement")) == 1


def test_a_shallow_clone_with_releases_in_the_config_needs_no_tags(
    tagged: Path, tmp_path: Path
) -> None:
    config = shallow_clone(tagged.parent, tmp_path / "pipeline")
    old = config.parent / "old" / "service.schema.json"
    old.parent.mkdir()
    old.write_text(json.dumps(service_schema()), encoding="utf-8")
    make_config(
        config.parent,
        schemas="schemas/",
        announcements="changes/",
        releases=[{"name": "1.0.0", "schemas": "old/"}],
    )
    findings = findings_of(config)
    assert of_rules(findings, *GATE_RULES) == []
    [missing] = of_rules(findings, "changelog/missing-announcement")
    assert "since 1.0.0" in missing.message


def test_a_full_clone_without_tags_notes_there_is_no_earlier_release(tmp_path: Path) -> None:
    config = pipeline(tmp_path / "pipeline", tag=None)
    [note] = of_rules(findings_of(config), *GATE_RULES)
    assert (note.rule, note.severity, note.file, note.line) == (
        "changelog/no-earlier-release",
        Severity.INFO,
        "schemas",
        None,
    )
    assert "no `vX.Y.Z` tag" in note.message and "checks nothing" in note.message
    assert note.hint is not None and "releases:" in note.hint


def test_schemas_in_no_git_repo_note_there_is_no_earlier_release(tmp_path: Path) -> None:
    write_schema(tmp_path, service_schema())
    config = make_config(tmp_path, schemas="schemas/")
    [note] = of_rules(findings_of(config), *GATE_RULES)
    assert (note.rule, note.severity) == ("changelog/no-earlier-release", Severity.INFO)
    assert "in no git repo" in note.message
    assert invoke("check", "--config", str(config)).exit_code == 0  # a note fails nothing


def test_a_config_without_schemas_has_nothing_to_compare_and_says_nothing(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    assert of_rules(findings_of(config), *GATE_RULES) == []


def test_schema_diff_in_a_shallow_clone_says_why_there_is_no_earlier_release(
    tagged: Path, tmp_path: Path
) -> None:
    config = shallow_clone(tagged.parent, tmp_path / "pipeline")
    result = invoke("schema-diff", "--config", str(config))
    assert result.exit_code == 2
    assert result.stderr.startswith("no earlier release: the changelog gate is off")
    assert "shallow clone" in result.stderr and "git fetch --unshallow --tags" in result.stderr


def test_schema_diff_without_tags_says_there_are_none(tmp_path: Path) -> None:
    config = pipeline(tmp_path / "pipeline", tag=None)
    result = invoke("schema-diff", "--config", str(config))
    assert result.exit_code == 2
    assert result.stderr.startswith("no earlier release: ")
    assert "no `vX.Y.Z` tag" in result.stderr and "shallow" not in result.stderr


def test_schema_diff_with_the_tag_compares_it_with_the_work_tree(tagged: Path) -> None:
    result = invoke("schema-diff", "--config", str(tagged), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert [c["option"] for c in json.loads(result.stdout)] == ["service:team"]


def test_an_env_repo_is_opened_once_within_fetching_once(tmp_path: Path) -> None:
    from generator.sources import gitrepo

    repo = tmp_path / "env"
    git_init(repo)
    write(repo / "environment.yml", "bundles: []\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "one")
    cache = tmp_path / "cache"
    with gitrepo.fetching_once():
        first = gitrepo.open_repo("env", None, tmp_path, cache)
        assert gitrepo.open_repo("env", None, tmp_path, cache) is first
        assert first.commit
    again = gitrepo.open_repo("env", None, tmp_path, cache)
    assert again is not first and again.commit == first.commit
    write(repo / "environment.yml", "bundles: [x]\n")
    git(repo, "commit", "-q", "-am", "two")
    # outside the block each call sees the repo as it is now
    assert gitrepo.open_repo("env", None, tmp_path, cache).commit != first.commit
