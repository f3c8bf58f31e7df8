"""The command line's small things (#17): `--since` dates, one count line and marked rows in the
read-only commands, counts in the singular for one, `path:line` in the text report, the
placeholder body of `announce`, and config errors that say what is expected."""

from __future__ import annotations

import copy
import gc
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import git, git_init, invoke, make_config, write
from test_changelog import ANNOUNCE, project
from test_history import two_environments  # noqa: F401  (a fixture, shared)

from generator.config import ConfigError, _schema, expected, load_config
from generator.model import Finding, Model, Severity
from generator.report import plural, tally, text_report
from generator.sources.announcements import PLACEHOLDER, read_announcement, write_fragment

# --- history --since ----------------------------------------------------------------------------


@pytest.fixture
def dated(two_environments: Path) -> Path:  # noqa: F811  (the fixture, imported)
    """cart in staging on 2026-03-01 and 03-10, in prod on 03-02 and 03-20, all at 09:00+01:00:
    test_history's fixture."""
    return two_environments


def _since(config: Path, *since: str) -> list[tuple[str, str]]:
    result = invoke("history", "cart", "--config", str(config), "--format", "json", *since)
    assert result.exit_code == 0, result.stderr
    return [(c["environment"], c["date"]) for c in json.loads(result.stdout)]


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "10.03.2026", "2026-03-1"])
def test_since_that_is_no_date_exits_2_saying_so(dated: Path, value: str) -> None:
    result = invoke("history", "cart", "--config", str(dated), "--since", value)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"'--since': cannot read '{value}' as a date (YYYY-MM-DD)" in result.stderr


def test_since_a_date_keeps_the_changes_of_that_day_and_later(dated: Path) -> None:
    # staging changed on 2026-03-01 and 03-10, prod on 03-02 and 03-20, all at 09:00+01:00
    assert _since(dated, "--since", "2026-03-10") == [
        ("prod", "2026-03-20T09:00:00+01:00"),
        ("staging", "2026-03-10T09:00:00+01:00"),
    ]
    assert _since(dated, "--since", "2026-03-21") == []


def test_since_a_time_compares_instants_not_text(dated: Path) -> None:
    # 09:00+01:00 is 08:00Z: after 09:30+02:00 (07:30Z), which as text comes later
    assert ("staging", "2026-03-10T09:00:00+01:00") in _since(
        dated, "--since", "2026-03-10T09:30:00+02:00"
    )
    assert _since(dated, "--since", "2026-03-10T08:30:00Z") == [
        ("prod", "2026-03-20T09:00:00+01:00")
    ]


def test_since_a_time_without_offset_exits_2_asking_for_one(dated: Path) -> None:
    result = invoke("history", "cart", "--config", str(dated), "--since", "2026-03-10T09:00")
    assert result.exit_code == 2
    assert "has no UTC offset" in result.stderr


def test_announce_date_that_is_no_date_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    config = project(tmp_path)
    before = sorted((tmp_path / "changes").iterdir())
    result = invoke("announce", "--config", str(config), "--title", "T", "--type", "fix",
                    "--date", "tomorrow")  # fmt: skip
    assert result.exit_code == 2
    assert "cannot read 'tomorrow' as a date (YYYY-MM-DD)" in result.stderr
    assert sorted((tmp_path / "changes").iterdir()) == before


# --- read-only commands: one count line, marked rows ------------------------------------------


def manifest(service: str, tag: str) -> str:
    """A Deployment no risk rule finds anything in."""
    return yaml.safe_dump({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": service, "labels": {"app.kubernetes.io/name": service, "team": "web"}},
        "spec": {"replicas": 2, "template": {"spec": {
            "securityContext": {"runAsNonRoot": True, "runAsUser": 1000},
            "containers": [{
                "name": service, "image": f"corp/{service}:{tag}",
                "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "1"}},
                "readinessProbe": {"httpGet": {"path": "/", "port": 8080}},
            }],
        }}},
    })  # fmt: skip


def env_repo(root: Path, name: str, *states: dict[str, str]) -> dict[str, str]:
    """`envs/<name>` running each state (service -> tag) in turn, one commit a day."""
    repo = git_init(root / "envs" / name)
    for day, state in enumerate(states, start=1):
        for service, tag in state.items():
            write(repo / f"{service}.yaml", manifest(service, tag))
        git(repo, "add", "--all")
        git(repo, "commit", "--quiet", "--message", f"Day {day}",
            "--date", f"2026-04-{day:02d}T10:00:00+00:00")  # fmt: skip
    return {"name": name, "repo": f"envs/{name}"}


@pytest.fixture
def drifting(tmp_path: Path) -> Path:
    """dev ran shop 1.0.0 then 1.2.0; staging runs 1.1.0, which dev never ran: one warning,
    at staging's shop.yaml. web runs 2.0.0 in both and has none."""
    return make_config(tmp_path, environments=[
        env_repo(tmp_path, "dev", {"shop": "1.0.0", "web": "2.0.0"}, {"shop": "1.2.0"}),
        env_repo(tmp_path, "staging", {"shop": "1.0.0", "web": "2.0.0"}, {"shop": "1.1.0"}),
    ])  # fmt: skip


def _with_unused_ignore(config: Path) -> Path:
    """One more warning, about the config itself: tied to no row."""
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["checks"] = {"ignore": [{"rule": "yaml/parse-error", "path": "nothing", "reason": "x"}]}
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    return config


def _rows(stdout: str) -> dict[str, list[str]]:
    """Table rows by their first cell, cells split where two spaces part them."""
    return {
        cells[0]: cells
        for line in stdout.splitlines()
        if (cells := [c.strip() for c in line.split("  ") if c.strip()])
    }


def _model(config: Path) -> Model:
    from generator.collect import collect

    return collect(load_config(config))


COMMANDS = (["catalog"], ["history", "shop"], ["diff", "dev", "staging"], ["diff", "staging"])
# what each says it did, in its last line on stderr
DONE = {
    "catalog": "catalog of 2 services in 2 environments",
    "history shop": "history of shop: 4 changes in 2 environments",
    "diff dev staging": "diff dev -> staging: 1 service would change",
    "diff staging": "diff staging against 1 upstream: from dev, 1 service would change",
}
TOOK = r" in [0-9]+(\.[0-9])? s"  # how long it took: `0.4 s`, `24 s`


def last_line(done: str, more: str = "") -> re.Pattern[str]:
    """A command's last line: what it did, how long it took, then `more` (the findings)."""
    return re.compile(re.escape(done) + TOOK + (re.escape(f"; {more}") if more else "") + "\n")


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_read_only_command_counts_the_findings_in_its_one_last_line(
    drifting: Path, command: list[str]
) -> None:
    result = invoke(*command, "--config", str(drifting))
    assert result.exit_code == 0, result.stderr
    done = DONE[" ".join(command)]
    assert last_line(done, "1 warning; --findings lists them").fullmatch(result.stderr)
    more = invoke(*command, "--config", str(_with_unused_ignore(drifting)))
    assert last_line(done, "2 warnings; --findings lists them").fullmatch(more.stderr)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_findings_lists_them_as_the_text_report(drifting: Path, command: list[str]) -> None:
    result = invoke(*command, "--config", str(drifting), "--findings")
    assert result.exit_code == 0, result.stderr
    report = text_report(_model(drifting).findings)
    assert result.stderr.startswith(report)
    assert last_line(DONE[" ".join(command)]).fullmatch(result.stderr[len(report) :])
    assert (
        "staging:shop.yaml:1: warning: shop 1.1.0 runs in staging but skipped dev" in result.stderr
    )


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_json_output_is_json_alone(drifting: Path, command: list[str]) -> None:
    result = invoke(*command, "--config", str(drifting), "--format", "json")
    assert result.exit_code == 0, result.stderr
    json.loads(result.stdout)
    done = DONE[" ".join(command)]
    assert last_line(done, "1 warning; --findings lists them").fullmatch(result.stderr)


def test_no_finding_the_last_line_says_what_was_done(tmp_path: Path) -> None:
    config = make_config(tmp_path, environments=[env_repo(tmp_path, "dev", {"web": "2.0.0"})])
    result = invoke("catalog", "--config", str(config))
    assert result.exit_code == 0
    assert last_line("catalog of 1 service in 1 environment").fullmatch(result.stderr)
    assert "FINDINGS" not in result.stdout


def test_the_catalog_counts_the_findings_of_each_service(drifting: Path) -> None:
    result = invoke("catalog", "--config", str(_with_unused_ignore(drifting)))
    rows = _rows(result.stdout)
    assert rows["SERVICE"] == ["SERVICE", "OWNER", "DEV", "STAGING", "FINDINGS"]
    assert rows["shop"][-1] == "1 warning"
    assert rows["web"][-1] == "2.0.0"  # no count: the unused ignore is about the config
    assert (
        "FINDINGS: what check finds where the service is deployed; --findings lists them"
        in result.stdout.splitlines()
    )
    only_dev = invoke("catalog", "--config", str(drifting), "--env", "dev")
    assert "FINDINGS" not in only_dev.stdout  # the finding is about staging
    assert last_line("catalog of 2 services in dev", "2 warnings; --findings lists them").fullmatch(
        only_dev.stderr
    )


def test_history_marks_the_change_that_made_what_runs_now(drifting: Path) -> None:
    result = invoke("history", "shop", "--config", str(drifting))
    lines = result.stdout.splitlines()
    assert lines[0].split()[-1] == "FINDINGS"
    assert [line.split()[1:4] for line in lines[1:-1]] == [
        ["staging", "1.0.0", "1.1.0"],  # the same day as dev's: by environment, newest first
        ["dev", "1.0.0", "1.2.0"],
        ["staging", "-", "1.0.0"],
        ["dev", "-", "1.0.0"],
    ]
    marked = [line.split()[1:4] for line in lines[1:-1] if line.endswith("  1 warning")]
    assert marked == [["staging", "1.0.0", "1.1.0"]]  # what staging runs now, the finding's
    assert lines[-1].startswith("FINDINGS: what check finds where the version this change made")


def test_diff_marks_the_services_with_findings(drifting: Path) -> None:
    result = invoke("diff", "dev", "staging", "--config", str(drifting))
    rows = _rows(result.stdout)
    assert rows["SERVICE"][-1] == "FINDINGS"
    assert rows["shop"] == ["shop", "upgraded", "1.1.0", "1.2.0", "1 warning"]
    assert "web" not in rows  # the same in both
    assert result.stdout.splitlines()[-1] == (
        "FINDINGS: what check finds where the service is deployed in dev or staging;"
        " --findings lists them"
    )


def test_the_sample_catalog_marks_a_bundle_finding_in_every_environment_that_runs_it(
    shared_sample: Path,
) -> None:
    # legacy-reports' bundle runs as root (one finding, in the bundle); staging also skipped dev
    result = invoke("catalog", "--config", str(shared_sample), "--env", "production")
    assert result.exit_code == 0, result.stderr
    rows = _rows(result.stdout)
    assert rows["legacy-reports"][-1].endswith("warnings")
    assert rows["auth-service"][-1] == "2.1.1"
    assert result.stderr.endswith("; --findings lists them\n") and result.stderr.count("\n") == 1


def test_schema_diff_counts_the_findings_too(tmp_path: Path) -> None:
    config = _with_unused_ignore(project(tmp_path))
    result = invoke("schema-diff", "--config", str(config))
    assert result.exit_code == 0, result.stderr
    assert "service:deploy.legacy  removed" in result.stdout
    done = "schema diff 1.10.0 -> work: 1 change (1 breaking)"
    assert last_line(done, "1 warning; --findings lists them").fullmatch(result.stderr)
    listed = invoke("schema-diff", "--config", str(config), "--findings")
    report = text_report(_model(config).findings)
    assert listed.stderr.startswith(report)
    assert last_line(done).fullmatch(listed.stderr[len(report) :])


# --- counts -------------------------------------------------------------------------------------


def _finding(severity: Severity, file: str | None = "a.yml", line: int | None = 3) -> Finding:
    return Finding("yaml/parse-error", severity, file, line, "bad", "fix it")


def test_a_count_of_one_is_in_the_singular() -> None:
    assert [plural(n, "file") for n in (0, 1, 2)] == ["0 files", "1 file", "2 files"]
    one_each = [_finding(Severity.ERROR), _finding(Severity.WARNING), _finding(Severity.INFO)]
    assert tally(one_each) == "1 error, 1 warning, 1 note"
    assert tally([_finding(Severity.WARNING)] * 3) == "3 warnings"
    assert tally([]) == ""


# --- path:line in the text report ---------------------------------------------------------------


def test_the_text_report_writes_path_colon_line() -> None:
    report = text_report([
        _finding(Severity.ERROR, "dir/a.yml", 12),
        _finding(Severity.WARNING, "dir/b.yml", None),
        _finding(Severity.INFO, None, None),
    ])  # fmt: skip
    assert report.splitlines() == [
        "dir/a.yml:12: error: bad  [yaml/parse-error]",
        "    hint: fix it",
        "dir/b.yml: warning: bad  [yaml/parse-error]",
        "    hint: fix it",
        "info: bad  [yaml/parse-error]",
        "    hint: fix it",
        "1 error, 1 warning, 1 note",
    ]


def test_a_path_cannot_fake_a_line_of_the_report() -> None:
    report = text_report([_finding(Severity.ERROR, "a.yml\n::error file=x::owned", 1)])
    assert (
        report.splitlines()[0] == "a.yml\\n::error file=x::owned:1: error: bad  [yaml/parse-error]"
    )


# --- the placeholder body of `announce` -------------------------------------------------------


def _placeholder_findings(path: Path) -> list[Finding]:
    announcement, findings = read_announcement(path, path.name)
    assert announcement is not None  # still read: the page may show it
    return [f for f in findings if f.rule == "changelog/placeholder"]


def test_a_fragment_announce_wrote_is_a_placeholder_error_at_its_body(tmp_path: Path) -> None:
    path = write_fragment(tmp_path, "T", "fix", (), (), "", "2026-12-01")
    [finding] = _placeholder_findings(path)
    line = path.read_text(encoding="utf-8").splitlines().index(PLACEHOLDER) + 1
    assert (finding.file, finding.line, finding.severity) == (path.name, line, Severity.ERROR)
    assert "write what changed" in finding.hint


def test_the_placeholder_rewrapped_is_still_the_placeholder(tmp_path: Path) -> None:
    rewrapped = PLACEHOLDER.replace(", and ", ",\n  and ")
    path = tmp_path / "f.md"
    path.write_text(f"---\ntitle: T\ntype: fix\ndate: 2026-12-01\n---\n\n\n  {rewrapped}\n")
    [finding] = _placeholder_findings(path)
    assert finding.line == 8  # the body's first line of text


@pytest.mark.parametrize(
    "body", [f"{PLACEHOLDER}\n\nThe probes now default to /healthz.", "What changed: the probes."]
)
def test_a_written_body_is_no_placeholder(tmp_path: Path, body: str) -> None:
    path = write(tmp_path / "f.md", "---\ntitle: T\ntype: fix\ndate: 2026-12-01\n---\n" + body)
    assert _placeholder_findings(path) == []


def test_check_fails_on_a_fragment_announce_just_wrote(tmp_path: Path) -> None:
    config = project(tmp_path)
    written = invoke("announce", "--config", str(config), *ANNOUNCE)
    assert written.exit_code == 0, written.stderr
    assert "`check` fails until then" in written.stderr
    result = invoke("check", "--config", str(config), "--format", "json")
    found = [
        f for f in json.loads(result.stdout)["findings"] if f["rule"] == "changelog/placeholder"
    ]
    assert [(f["file"], f["severity"]) for f in found] == [("changes/2026-12-01-t.md", "error")]
    assert result.exit_code == 1


# --- config errors say what is expected ---------------------------------------------------------

JSONSCHEMA_WORDS = ("is not of type", "is not valid under", "does not match", "is not one of",
                    "is too short", "should be non-empty", "is less than", "is a required property")  # fmt: skip


def _problems(tmp_path: Path, text: str) -> dict[str, str]:
    config = write(tmp_path / "pipeline-docs.yml", "title: T\n" + text)
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    return {p.key: p.message for p in caught.value.problems}


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("schemas: 42\n", "schemas",
         "expected a folder (a path relative to this file), got a number (42)"),
        ("owner_labels: [team, 7]\n", "owner_labels[1]",
         "expected a label or annotation name (a string), got a number (7)"),
        ("templates: {ci: 1}\n", "templates",
         "expected a folder or a file, or a list of folders and files (paths relative to this"
         ' file), got a mapping ({"ci": 1})'),
        ("checks: {catalog/skipped-environment: loud}\n", "checks.catalog/skipped-environment",
         "expected a severity: error, warning, info or off, got a string ('loud')"),
        ("titel: T\n", "titel", "unknown key; did you mean 'title'?"),
        ("environments:\n  - {name: dev, repo: d}\n  - {name: prod, repo: p, promotes_from: 3}\n",
         "environments[1].promotes_from",
         "expected an environment's name or a list of names ([] for none), got a number (3)"),
        ("environments:\n  - {name: dev}\n", "environments[0]",
         "'repo' is required: a folder, a local git repo or a git URL"),
        ("limits: {file_bytes: 0}\n", "limits.file_bytes",
         "expected a whole number above 0, got a number (0)"),
        ("bundles: {mirrors: {'https://x.test/b/': [1]}}\n", 'bundles.mirrors["https://x.test/b/"]',
         "expected a folder (a path relative to this file), got a list ([1])"),
        ("site_url: docs.example.com\n", "site_url",
         "expected an http(s) URL (https://docs.example.com/pipeline/), got a string"
         " ('docs.example.com')"),
    ],
)  # fmt: skip
def test_a_config_error_says_what_is_expected_at_its_key(
    tmp_path: Path, text: str, key: str, message: str
) -> None:
    assert _problems(tmp_path, text) == {key: message}


Key = tuple[str | int, ...]


def _keys(schema: dict[str, Any], path: Key = ()) -> Iterator[tuple[Key, dict[str, Any]]]:
    """Every key the config schema defines, at any depth, with its schema (an item of a list at
    index 0, a free key of a mapping as `k`)."""
    for name, sub in schema.get("properties", {}).items():
        yield (*path, name), sub
        yield from _keys(sub, (*path, name))
    if isinstance(schema.get("items"), dict):
        yield (*path, 0), schema["items"]
        yield from _keys(schema["items"], (*path, 0))
    if isinstance(schema.get("additionalProperties"), dict):
        free = "yaml/parse-error" if path == ("checks",) else "k"
        yield (*path, free), schema["additionalProperties"]


BASE = {
    "title": "T", "environments": [{"name": "dev", "repo": "envs/dev"}], "owner_labels": ["team"],
    "bundles": {"mirrors": {}, "allow": ["https://x.test/"]},
    "releases": [{"name": "r"}], "limits": {}, "validate": {}, "freshness": {}, "backstage": {},
    "checks": {"ignore": [{"rule": "yaml/parse-error", "reason": "x"}]},
}  # fmt: skip


@pytest.mark.parametrize(
    ("path", "schema"), list(_keys(_schema())), ids=lambda v: "/".join(map(str, v)) if isinstance(v, tuple) else ""
)  # fmt: skip
def test_every_key_of_the_config_says_what_it_expects(
    tmp_path: Path, path: tuple[str | int, ...], schema: dict[str, Any]
) -> None:
    data: Any = copy.deepcopy(BASE)
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = 42 if schema.get("type") == "object" else {"wrong": True}
    config = write(tmp_path / "pipeline-docs.yml", yaml.safe_dump(data))
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    [problem] = caught.value.problems
    key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    assert (problem.key, problem.line is not None) == (key, True)
    assert problem.message.startswith(f"expected {expected(schema)}, got "), problem
    assert not any(words in problem.message for words in JSONSCHEMA_WORDS), problem


# --- the cyclic collector -----------------------------------------------------------------------


def test_a_command_runs_with_the_cyclic_collectors_thresholds_raised(tmp_path: Path) -> None:
    from generator.cli import GC_THRESHOLDS

    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        result = invoke("schema-diff", "--help")
        assert result.exit_code == 0
        assert gc.get_threshold() == GC_THRESHOLDS
        assert GC_THRESHOLDS[0] >= 50_000
    finally:
        gc.set_threshold(*before)


def test_generate_reads_and_renders_without_the_cyclic_collector_and_restores_it(
    sample_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    cli = importlib.import_module("generator.cli")
    seen: list[bool] = []
    real = cli.collect

    def watched(config: Any) -> Model:
        seen.append(gc.isenabled())
        return real(config)

    monkeypatch.setattr(cli, "collect", watched)
    assert gc.isenabled()
    result = invoke("generate", "--config", str(sample_config), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert seen == [False]
    assert gc.isenabled()  # as it was: a process running more than the command keeps it
    gc.disable()
    try:  # and off when it was off
        result = invoke("generate", "--config", str(sample_config), "--out", str(tmp_path / "o2"))
        assert result.exit_code == 0, result.output
        assert not gc.isenabled()
    finally:
        gc.enable()
