"""The CI gate (issue 8): rules with their file and line, severities and ignores from the config,
the report formats, `validate`, `build --fail-on`, the pre-commit hooks and the rules page."""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from importlib import metadata
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from conftest import (
    CORPUS,
    GIT_IDENTITY,
    NEXUS,
    REPO,
    deployment_yaml,
    invoke,
    make_config,
    needs_corpus,
    run_cli,
    tarball,
    write,
)

from generator.analysis.links import dead_link_findings
from generator.cli import main
from generator.collect import collect
from generator.config import load_config
from generator.model import Finding, Severity
from generator.report import github_report, text_report
from generator.rules import RULES

SARIF_SCHEMA = CORPUS / "formats" / "sarif" / "sarif-schema-2.1.0.json"
CODEQUALITY_SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


# --- a pipeline whose schema the tests' config files are checked against ---------------------


def prop(kind: str, description: str, **more: Any) -> dict[str, Any]:
    return {"type": kind, "description": description, **more}


def service_schema() -> dict[str, Any]:
    """Nested objects, an array of objects, two options with the same definition, maps
    (`additionalProperties`, `patternProperties`), a free-form object and a deprecated option."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Service",
        "description": "A service's pipeline config.",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "service": prop("string", "Name of the service."),
            "deploy": prop(
                "object",
                "How the service is deployed.",
                additionalProperties=False,
                properties={
                    "replicas": prop("integer", "Number of pods.", minimum=1),
                    "ports": prop(
                        "array",
                        "Ports the service listens on.",
                        items=prop(
                            "object",
                            "A port.",
                            properties={
                                "name": prop("string", "Name of the port."),
                                "port": prop("integer", "Port number."),
                            },
                        ),
                    ),
                    "readiness": {"$ref": "#/$defs/probe", "description": "Readiness probe."},
                    "liveness": {"$ref": "#/$defs/probe", "description": "Liveness probe."},
                    "env": prop(
                        "object",
                        "Environment variables.",
                        additionalProperties=prop("string", "A variable."),
                    ),
                    "labels": prop(
                        "object",
                        "Labels.",
                        additionalProperties=False,
                        patternProperties={"^[a-z]+$": prop("string", "A label.")},
                    ),
                    "extra": prop("object", "Anything: passed on as it is."),
                    "healthcheck_path": prop(
                        "string",
                        "Readiness path.",
                        deprecated=True,
                        **{"x-deprecated-message": "Use `deploy.readiness.path` instead."},
                    ),
                },
            ),
        },
        "$defs": {
            "probe": prop(
                "object",
                "An HTTP probe.",
                properties={
                    "path": prop("string", "HTTP path."),
                    "port": prop("integer", "Port."),
                },
            ),
        },
    }


SERVICE_FILE = """\
service: orders
colour: blue
deploy:
  replicas: zero
  replica: 3
  ports:
    - name: http
      port: 8080
      protocol: TCP
  liveness:
    path: /healthz
    timeout: 3
  env:
    ANY_NAME: x
  labels:
    team: payments
  extra:
    whatever: {deep: [1, 2]}
  healthcheck_path: /ready
"""


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def pipeline(root: Path, **config: Any) -> Path:
    """A pipeline with the service schema and `validate:` mapping services' files to it."""
    schema = root / "schemas" / "service.schema.json"
    schema.parent.mkdir(parents=True, exist_ok=True)
    schema.write_text(json.dumps(service_schema(), indent=2) + "\n", encoding="utf-8")
    keys: dict[str, Any] = {
        "schemas": "schemas/",
        "validate": {"services/*/.pipeline.yml": "service"},
    }
    return make_config(root, **{**keys, **config})


def service_file(root: Path, name: str, text: str = SERVICE_FILE) -> Path:
    return write(root / "services" / name / ".pipeline.yml", text)


def findings_of(config: Path) -> tuple[Finding, ...]:
    return collect(load_config(config)).findings


def where(findings: tuple[Finding, ...] | list[Finding], rule: str) -> list[tuple[Any, ...]]:
    """(severity, file, line) of each finding of the rule."""
    return [(f.severity, f.file, f.line) for f in findings if f.rule == rule]


def check(config: Path, *args: str) -> Any:
    return invoke("check", "--config", str(config), *args)


# --- config/invalid, config/unknown-option, config/deprecated-option -------------------------


@pytest.fixture(scope="module")
def service_findings(tmp_path_factory: pytest.TempPathFactory) -> tuple[Finding, ...]:
    root = tmp_path_factory.mktemp("validated")
    service_file(root, "orders")
    return findings_of(pipeline(root))


def test_a_value_that_fails_the_schema_is_invalid_at_its_line(
    service_findings: tuple[Finding, ...],
) -> None:
    [invalid] = [f for f in service_findings if f.rule == "config/invalid"]
    assert (invalid.severity, invalid.file, invalid.line) == (
        Severity.ERROR,
        "services/orders/.pipeline.yml",
        line_of(SERVICE_FILE, "replicas: zero"),
    )
    assert invalid.message.startswith("deploy.replicas: ")
    assert "'zero'" in invalid.message


def test_keys_the_schema_does_not_define_are_undocumented_options(
    service_findings: tuple[Finding, ...],
) -> None:
    unknown = {
        f.message.split(" ")[0]: f for f in service_findings if f.rule == "config/unknown-option"
    }
    assert sorted(unknown) == [
        "colour",  # top level
        "deploy.liveness.timeout",  # below an option shown as the same definition as another
        "deploy.ports[0].protocol",  # in an array item
        "deploy.replica",  # in a nested object
    ]
    for path, needle in [
        ("colour", "colour:"),
        ("deploy.replica", "replica: 3"),
        ("deploy.ports[0].protocol", "protocol:"),
        ("deploy.liveness.timeout", "timeout:"),
    ]:
        finding = unknown[path]
        assert finding.severity is Severity.ERROR
        assert (finding.file, finding.line) == (
            "services/orders/.pipeline.yml",
            line_of(SERVICE_FILE, needle),
        )
        assert "schema service" in finding.message


def test_maps_and_free_form_objects_hold_any_key(service_findings: tuple[Finding, ...]) -> None:
    messages = " ".join(f.message for f in service_findings)
    for key in ("ANY_NAME", "team", "whatever", "deep"):
        assert key not in messages


def test_a_deprecated_option_in_use_is_a_warning_with_its_replacement(
    service_findings: tuple[Finding, ...],
) -> None:
    [deprecated] = [f for f in service_findings if f.rule == "config/deprecated-option"]
    assert (deprecated.severity, deprecated.file, deprecated.line) == (
        Severity.WARNING,
        "services/orders/.pipeline.yml",
        line_of(SERVICE_FILE, "healthcheck_path"),
    )
    assert "deploy.healthcheck_path" in deprecated.message
    assert "Use `deploy.readiness.path` instead." in deprecated.message
    assert deprecated.hint == "Use `deploy.readiness.path` instead."


def test_a_key_matching_pattern_properties_is_not_unknown_next_to_one_that_is(
    tmp_path: Path,
) -> None:
    text = "service: orders\ndeploy:\n  labels:\n    team: payments\n    Bad: y\n"
    service_file(tmp_path, "orders", text)
    unknown = where(findings_of(pipeline(tmp_path)), "config/unknown-option")
    assert unknown == [(Severity.ERROR, "services/orders/.pipeline.yml", line_of(text, "Bad:"))]


def test_options_composed_with_allof_are_not_unknown_under_unevaluated_properties(
    tmp_path: Path,
) -> None:
    config = pipeline(tmp_path)
    schema_file = tmp_path / "schemas" / "service.schema.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    deploy = schema["properties"]["deploy"]
    del deploy["additionalProperties"]
    deploy["unevaluatedProperties"] = False
    deploy["allOf"] = [{"$ref": "#/$defs/placement"}]
    schema["$defs"]["placement"] = prop(
        "object", "Where pods run.", properties={"region": prop("string", "Region.")}
    )
    schema_file.write_text(json.dumps(schema, indent=2), encoding="utf-8")
    text = "service: orders\ndeploy:\n  region: eu\n  bogus: 1\n"
    service_file(tmp_path, "orders", text)
    model = collect(load_config(config))
    assert "service:deploy.region" in {o.id for o in model.schemas[0].options}  # documented
    unknown = where(model.findings, "config/unknown-option")
    assert unknown == [(Severity.ERROR, "services/orders/.pipeline.yml", line_of(text, "bogus"))]


@pytest.fixture(scope="module")
def env_and_bundle_findings(tmp_path_factory: pytest.TempPathFactory) -> tuple[Finding, ...]:
    """An env repo whose environment.yml and whose bundle's bundle.yml break the built-in
    formats (the pipeline's schemas folder does not replace them)."""
    root = tmp_path_factory.mktemp("formats")
    write(root / "envs" / "dev" / "environment.yml", ENVIRONMENT_FILE)
    bundle = root / "nexus" / "cart" / "2.0.0" / "cart-2.0.0.tar.gz"
    bundle.parent.mkdir(parents=True)
    bundle.write_bytes(
        tarball(
            {
                "bundle.yml": BUNDLE_FILE.encode(),
                "manifests/deployment.yaml": deployment_yaml("cart", "cart:2.0.0").encode(),
            }
        )
    )
    config = pipeline(
        root,
        environments=[{"name": "dev", "repo": "envs/dev"}],
        bundles={"mirrors": {NEXUS: "nexus/"}},
    )
    return findings_of(config)


ENVIRONMENT_FILE = f"""\
name: Dev_1
colour: blue
bundles:
  - url: {NEXUS}cart/2.0.0/cart-2.0.0.tar.gz
"""
BUNDLE_FILE = 'service: cart\nversion: "2.0.0"\nowner: 5\ncolor: red\n'


def test_environment_yml_is_checked_against_its_format(
    env_and_bundle_findings: tuple[Finding, ...],
) -> None:
    file = "dev:environment.yml"
    [invalid] = [
        f for f in env_and_bundle_findings if f.rule == "config/invalid" and f.file == file
    ]
    assert (invalid.severity, invalid.line) == (Severity.ERROR, 1)
    assert "name: 'Dev_1' does not match" in invalid.message
    assert (Severity.ERROR, file, 2) in where(env_and_bundle_findings, "config/unknown-option")


def test_bundle_yml_is_checked_against_its_format(
    env_and_bundle_findings: tuple[Finding, ...],
) -> None:
    file = f"{NEXUS}cart/2.0.0/cart-2.0.0.tar.gz#bundle.yml"
    [invalid] = [
        f for f in env_and_bundle_findings if f.rule == "config/invalid" and f.file == file
    ]
    assert (invalid.severity, invalid.line) == (Severity.ERROR, line_of(BUNDLE_FILE, "owner"))
    assert "owner: 5 is not of type 'string'" in invalid.message
    unknown = [
        f for f in env_and_bundle_findings if f.rule == "config/unknown-option" and f.file == file
    ]
    assert [(f.line, f.message.split(" ")[1]) for f in unknown] == [(4, "color")]


# --- the other rules nothing else in tests/ shows failing -----------------------------------


def test_validate_mapping_files_to_an_unknown_schema_is_an_error(tmp_path: Path) -> None:
    config = pipeline(tmp_path, validate={"services/*/.pipeline.yml": "servcie"})
    [finding] = [f for f in findings_of(config) if f.rule == "config/unknown-schema"]
    assert (finding.severity, finding.file) == (Severity.ERROR, "pipeline-docs.yml")
    assert "'servcie'" in finding.message


def test_an_unknown_schema_in_validate_is_reported_at_its_line_in_the_config(
    tmp_path: Path,
) -> None:
    config = pipeline(tmp_path, validate={"services/*/.pipeline.yml": "servcie"})
    [finding] = [f for f in findings_of(config) if f.rule == "config/unknown-schema"]
    assert finding.line == line_of(config.read_text(encoding="utf-8"), "servcie")


@pytest.mark.parametrize("key", ["templates", "schemas", "announcements"])
def test_a_folder_the_config_names_that_does_not_exist_is_an_error(
    tmp_path: Path, key: str
) -> None:
    config = make_config(tmp_path, **{key: "nowhere/"})
    findings = [f for f in findings_of(config) if f.rule == "config/missing-path"]
    assert [(f.severity, f.file) for f in findings] == [(Severity.ERROR, "nowhere")]


def test_two_schemas_with_the_same_id_are_an_error_at_the_second(tmp_path: Path) -> None:
    config = pipeline(tmp_path)
    write(tmp_path / "schemas" / "service.yaml", "type: object\ndescription: Another.\n")
    assert where(findings_of(config), "schema/duplicate-id") == [
        (Severity.ERROR, "schemas/service.yaml", 1)
    ]


def test_a_missing_owners_file_is_an_error(tmp_path: Path) -> None:
    config = make_config(tmp_path, owners="owners.yml")
    assert where(findings_of(config), "owners/missing-file") == [
        (Severity.ERROR, "owners.yml", None)
    ]


def test_an_owners_file_of_the_wrong_shape_is_invalid(tmp_path: Path) -> None:
    text = "teams:\n  team-a:\n    name: A\n  team-b: just a name\n"
    write(tmp_path / "owners.yml", text)
    config = make_config(tmp_path, owners="owners.yml")
    assert where(findings_of(config), "owners/invalid") == [
        (Severity.ERROR, "owners.yml", line_of(text, "team-b"))
    ]
    write(tmp_path / "owners.yml", "- team-a\n- team-b\n")
    assert where(findings_of(config), "owners/invalid") == [(Severity.ERROR, "owners.yml", 1)]


def test_an_override_to_a_team_owners_yml_does_not_define_is_an_error(tmp_path: Path) -> None:
    text = "teams:\n  team-a: {name: A}\nservices:\n  cart: team-a\n  orders: team-z\n"
    write(tmp_path / "owners.yml", text)
    config = make_config(tmp_path, owners="owners.yml")
    [finding] = [f for f in findings_of(config) if f.rule == "owners/unknown-team"]
    assert (finding.severity, finding.file, finding.line) == (
        Severity.ERROR,
        "owners.yml",
        line_of(text, "orders:"),
    )
    assert "team-z" in finding.message


def test_a_manifest_that_is_not_text_is_an_unreadable_file(tmp_path: Path) -> None:
    write(
        tmp_path / "envs" / "dev" / "environment.yml",
        "name: dev\nbundles: []\nmanifests: manifests/\n",
    )
    (tmp_path / "envs" / "dev" / "manifests").mkdir()
    (tmp_path / "envs" / "dev" / "manifests" / "blob.yaml").write_bytes(b"kind: \xff\xfe\x00\x81\n")
    config = make_config(tmp_path, environments=[{"name": "dev", "repo": "envs/dev"}])
    [finding] = [f for f in findings_of(config) if f.rule == "envrepo/unreadable-file"]
    assert finding.severity is RULES["envrepo/unreadable-file"].severity
    assert finding.file is not None and finding.file.endswith("manifests/blob.yaml")


def test_a_bundle_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    url = f"{NEXUS}cart/2.0.0/cart-2.0.0.tar.gz"
    text = f"name: dev\nbundles:\n  - {url}\n"
    write(tmp_path / "envs" / "dev" / "environment.yml", text)
    data = tarball(
        {
            "bundle.yml": b'service: cart\nversion: "2.0.0"\n',
            "manifests/deployment.yaml": deployment_yaml("cart", "cart:2.0.0").encode(),
        }
    )
    (tmp_path / "nexus" / "cart" / "2.0.0").mkdir(parents=True)
    (tmp_path / "nexus" / "cart" / "2.0.0" / "cart-2.0.0.tar.gz").write_bytes(data)
    config = make_config(
        tmp_path,
        environments=[{"name": "dev", "repo": "envs/dev"}],
        bundles={"mirrors": {NEXUS: "nexus/"}},
        limits={"bundle_bytes": len(data) - 1},
    )
    assert where(findings_of(config), "bundle/too-large") == [
        (Severity.ERROR, "dev:environment.yml", line_of(text, url))
    ]


def test_a_sample_history_that_cannot_be_read_is_an_error(tmp_path: Path) -> None:
    config = make_config(tmp_path, sample="history.yml")
    [finding] = [f for f in findings_of(config) if f.rule == "sample/failed"]
    assert (finding.severity, finding.file) == (Severity.ERROR, "history.yml")


# --- severities and ignores from the config ----------------------------------------------------


def two_services(root: Path, checks: str = "") -> Path:
    """Two services with an undocumented option each (and one deprecated option); `checks`
    is written as YAML text, as a user would."""
    pipeline(root)
    service_file(root, "orders", "service: orders\ncolour: blue\n")
    service_file(root, "cart", "service: cart\ncolour: red\ndeploy:\n  healthcheck_path: /\n")
    config = root / "pipeline-docs.yml"
    if checks:
        config.write_text(config.read_text(encoding="utf-8") + checks, encoding="utf-8")
    return config


def test_checks_change_a_rule_severity(tmp_path: Path) -> None:
    config = two_services(
        tmp_path, "checks:\n  config/unknown-option: warning\n  config/deprecated-option: error\n"
    )
    findings = findings_of(config)
    assert {f.severity for f in findings if f.rule == "config/unknown-option"} == {Severity.WARNING}
    assert where(findings, "config/deprecated-option") == [
        (Severity.ERROR, "services/cart/.pipeline.yml", 4)
    ]
    assert check(config).exit_code == 1


def test_an_unquoted_off_turns_a_rule_off(tmp_path: Path) -> None:
    config = two_services(tmp_path, "checks:\n  config/unknown-option: off\n")
    findings = findings_of(config)
    assert where(findings, "config/unknown-option") == []
    assert where(findings, "config/deprecated-option")  # the others stay
    assert check(config).exit_code == 0


def test_an_ignore_drops_the_findings_of_its_rule_and_paths(tmp_path: Path) -> None:
    config = two_services(
        tmp_path,
        'checks:\n  ignore:\n    - rule: "config/*"\n'
        '      path: "services/orders/*"\n'
        "      reason: orders is migrating next sprint\n",
    )
    findings = findings_of(config)
    assert [f for f in findings if f.file == "services/orders/.pipeline.yml"] == []
    assert where(findings, "config/unknown-option") == [
        (Severity.ERROR, "services/cart/.pipeline.yml", 2)
    ]
    assert where(findings, "config/unused-ignore") == []


def test_an_ignore_without_a_reason_is_a_config_error(tmp_path: Path) -> None:
    config = two_services(tmp_path, "checks:\n  ignore:\n    - rule: config/unknown-option\n")
    result = check(config)
    assert result.exit_code == 2
    assert "checks.ignore[0]" in result.stderr and "reason" in result.stderr
    assert result.stdout == ""


def test_an_ignore_that_matches_nothing_is_a_warning(tmp_path: Path) -> None:
    config = two_services(
        tmp_path,
        "checks:\n  config/unknown-option: off\n"
        "  config/deprecated-option: off\n  ignore:\n"
        "    - rule: schema/missing-description\n"
        "      path: schemas/legacy/*\n"
        "      reason: vendored\n",
    )
    findings = findings_of(config)
    [unused] = [f for f in findings if f.rule == "config/unused-ignore"]
    assert (unused.severity, unused.file) == (Severity.WARNING, "pipeline-docs.yml")
    assert "schema/missing-description" in unused.message
    assert check(config).exit_code == 0
    assert check(config, "--fail-on", "warning").exit_code == 1


def test_an_unused_ignore_is_reported_at_its_line_in_the_config(tmp_path: Path) -> None:
    config = two_services(
        tmp_path,
        "checks:\n  ignore:\n    - rule: schema/missing-description\n      reason: vendored\n",
    )
    [unused] = [f for f in findings_of(config) if f.rule == "config/unused-ignore"]
    assert unused.line == line_of(config.read_text(encoding="utf-8"), "rule: schema/missing")


# --- report formats --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pipeline with errors, a warning and a note (a `$ref` to a URL), each on a line.

    Its schemas are in no git repo: the note that there is no earlier release (a folder, no
    line; tests/test_shallow_clone.py) is turned off, so the counts below stay the chosen ones."""
    root = tmp_path_factory.mktemp("reported")
    config = two_services(root, "checks:\n  changelog/no-earlier-release: off\n")
    schema_file = root / "schemas" / "service.schema.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    schema["properties"]["homepage"] = {
        "$ref": "https://schemas.example.com/url.json",
        "description": "Home page.",
    }
    schema_file.write_text(json.dumps(schema, indent=2), encoding="utf-8")
    return config


def report(config: Path, fmt: str) -> str:
    result = check(config, "--format", fmt)
    assert result.exit_code == 1, result.stderr
    return str(result.stdout)


def test_the_reported_pipeline_has_errors_warnings_and_notes(reported: Path) -> None:
    assert {f.severity for f in findings_of(reported)} == set(Severity)


def test_text_names_each_finding_by_path_and_line(reported: Path) -> None:
    lines = report(reported, "text").splitlines()
    findings = [line for line in lines if line and not line.startswith(" ")]
    assert [line.split(": ", 1)[0].rsplit(":", 1)[0] for line in findings[:-1]] == [
        "schemas/service.schema.json",
        "services/cart/.pipeline.yml",
        "services/cart/.pipeline.yml",
        "services/orders/.pipeline.yml",
    ]
    assert re.fullmatch(r"2 errors, 1 warning, 1 note", findings[-1])
    assert "services/orders/.pipeline.yml:2: error: colour is not an option" in findings[-2]
    assert "\x1b[" not in "\n".join(lines)


def run_on_a_terminal(args: list[str], env: dict[str, str]) -> str:
    """The command line with its stdout on a pseudo-terminal; what it printed there."""
    master, slave = pty.openpty()
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE")
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "generator", *args],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=subprocess.DEVNULL,
        env={**base, **GIT_IDENTITY, **env},
    )
    os.close(slave)
    chunks = []
    try:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # the terminal closed: the command ended
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
        process.wait(timeout=120)
    return b"".join(chunks).decode("utf-8", "replace")


def test_text_is_coloured_on_a_terminal_unless_no_color_is_set(reported: Path) -> None:
    args = ["check", "--config", str(reported)]
    assert "\x1b[31m" in run_on_a_terminal(args, {})
    forced = {"FORCE_COLOR": "1", "CLICOLOR_FORCE": "1", "NO_COLOR": "1"}
    output = run_on_a_terminal(args, forced)
    assert "colour is not an option" in output
    assert "\x1b[" not in output


def test_json_lists_every_finding(reported: Path) -> None:
    document = json.loads(report(reported, "json"))
    assert len(document["findings"]) == len(findings_of(reported))
    assert {
        k: v
        for k, v in document["findings"][-1].items()
        if k in ("rule", "severity", "file", "line")
    } == {
        "rule": "config/unknown-option",
        "severity": "error",
        "file": "services/orders/.pipeline.yml",
        "line": 2,
    }


def test_junit_has_one_failure_per_error_and_warning(reported: Path) -> None:
    root = ET.fromstring(report(reported, "junit"))
    [suite] = root.iter("testsuite")
    cases = suite.findall("testcase")
    failures = [case.find("failure") for case in cases if case.find("failure") is not None]
    assert int(suite.get("tests", "-1")) == len(cases) == 4
    assert int(suite.get("failures", "-1")) == len(failures) == 3
    assert int(suite.get("errors", "-1")) == 0
    assert sorted(f.get("type", "") for f in failures if f is not None) == [
        "error",
        "error",
        "warning",
    ]
    assert root.get("tests") == "4" and root.get("failures") == "3"


def test_junit_without_findings_is_one_passing_case(tmp_path: Path) -> None:
    root = ET.fromstring(check(make_config(tmp_path), "--format", "junit").stdout)
    [suite] = root.iter("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("1", "0")


def test_code_quality_issues_have_what_gitlab_needs(reported: Path) -> None:
    issues = json.loads(report(reported, "codequality"))
    assert isinstance(issues, list) and len(issues) == 4
    for issue in issues:
        assert isinstance(issue["description"], str) and issue["description"]
        assert issue["check_name"] in RULES
        assert re.fullmatch(r"[0-9a-f]{64}", issue["fingerprint"])
        assert issue["severity"] in CODEQUALITY_SEVERITIES
        assert isinstance(issue["location"]["path"], str) and issue["location"]["path"]
        assert isinstance(issue["location"]["lines"]["begin"], int)
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    again = json.loads(report(reported, "codequality"))
    assert [i["fingerprint"] for i in again] == [i["fingerprint"] for i in issues]
    by_rule = {i["check_name"]: i for i in issues}
    assert by_rule["config/deprecated-option"]["location"] == {
        "path": "services/cart/.pipeline.yml",
        "lines": {"begin": 4},
    }


def test_code_quality_fingerprints_differ_for_the_same_message_on_two_lines(
    tmp_path: Path,
) -> None:
    pipeline(tmp_path)
    service_file(
        tmp_path,
        "orders",
        "service: orders\ndeploy:\n  ports:\n"
        "    - name: http\n      name: web\n    - name: metrics\n      name: prom\n",
    )
    issues = json.loads(check(tmp_path / "pipeline-docs.yml", "--format", "codequality").stdout)
    duplicates = [i for i in issues if i["check_name"] == "yaml/duplicate-key"]
    assert [i["location"]["lines"]["begin"] for i in duplicates] == [5, 7]
    assert len({i["fingerprint"] for i in issues}) == len(issues)


def test_github_annotations_are_workflow_commands(reported: Path) -> None:
    lines = report(reported, "github").splitlines()
    assert len(lines) == 4
    command = re.compile(r"^::(error|warning|notice) file=[^,:]+,line=\d+,title=[^,:]+::.+$")
    for line in lines:
        assert command.match(line), line
    assert (
        "::error file=services/orders/.pipeline.yml,line=2,title=config/unknown-option::"
        "colour is not an option of schema service: it is undocumented" in lines
    )


def test_github_annotations_escape_what_github_requires() -> None:
    finding = Finding(
        "config/invalid", Severity.WARNING, "dir/a,b:c.yml", 3, "100% sure\r\nsecond line: a, b"
    )
    assert github_report([finding]) == (
        "::warning file=dir/a%2Cb%3Ac.yml,line=3,title=config/invalid::"
        "100%25 sure%0D%0Asecond line: a, b\n"
    )


def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema)


@needs_corpus
def test_sarif_is_valid_against_the_sarif_2_1_0_schema(reported: Path) -> None:
    log = json.loads(report(reported, "sarif"))
    errors = [e.message for e in sarif_validator().iter_errors(log)]
    assert errors == []
    [run] = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert len(run["results"]) == 4
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note")
    levels = sorted(r["level"] for r in run["results"])
    assert levels == ["error", "error", "note", "warning"]


@needs_corpus
def test_sarif_without_findings_is_valid_too(tmp_path: Path) -> None:
    result = check(make_config(tmp_path), "--format", "sarif")
    assert result.exit_code == 0
    log = json.loads(result.stdout)
    assert [e.message for e in sarif_validator().iter_errors(log)] == []
    assert log["runs"][0]["results"] == []


@pytest.mark.parametrize("fmt", ["sarif", "junit", "codequality"])
def test_output_writes_the_format_to_a_file_and_text_to_stdout(
    reported: Path, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / f"report.{fmt}"
    result = check(reported, "--format", fmt, "--output", str(out))
    assert result.exit_code == 1
    assert out.read_text(encoding="utf-8") == report(reported, fmt)
    assert result.stdout == text_report(findings_of(reported))


# --- validate ----------------------------------------------------------------------------------


def test_validate_a_service_config_with_the_pipelines_schemas(
    shared_sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(shared_sample.parent)
    orders = "examples/services/orders/.pipeline.yml"
    result = invoke("validate", orders, "--schema", "service", "--format", "json")
    assert result.exit_code == 0  # only deprecated options: warnings
    findings = json.loads(result.stdout)["findings"]
    assert {f["rule"] for f in findings} == {"config/deprecated-option"}
    assert {f["file"] for f in findings} == {orders}
    assert invoke("validate", orders, "--schema", "service", "--fail-on", "warning").exit_code == 1
    payments = "examples/services/payments-api/.pipeline.yml"
    both = invoke("validate", orders, payments, "--schema", "service", "--format", "json")
    assert both.exit_code == 0


def test_validate_exits_1_on_an_error(shared_sample: Path, tmp_path: Path) -> None:
    source = shared_sample.parent / "examples" / "services" / "payments-api" / ".pipeline.yml"
    text = source.read_text(encoding="utf-8").replace(
        "  replicas: 3\n", "  replicas: 3\n  replcas: 4\n"
    )
    broken = write(tmp_path / ".pipeline.yml", text)
    result = invoke(
        "validate",
        str(broken),
        "--schema",
        "service",
        "--config",
        str(shared_sample),
        "--format",
        "json",
    )
    assert result.exit_code == 1
    [finding] = json.loads(result.stdout)["findings"]
    assert (finding["rule"], finding["file"], finding["line"]) == (
        "config/unknown-option",
        str(broken),
        line_of(text, "replcas"),
    )


def test_validate_with_a_schema_file_needs_no_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(REPO / "schemas", tmp_path / "pipeline" / "schemas")
    text = (REPO / "examples" / "services" / "payments-api" / ".pipeline.yml").read_text("utf-8")
    write(tmp_path / "ok.yml", text)
    write(tmp_path / "bad.yml", text + "colour: red\n")
    monkeypatch.chdir(tmp_path)
    assert not (tmp_path / "pipeline-docs.yml").exists()
    schema = "pipeline/schemas/service.schema.json"
    ok = invoke("validate", "ok.yml", "--schema", schema)
    assert ok.exit_code == 0, ok.stdout
    bad = invoke("validate", "bad.yml", "--schema", schema, "--format", "json")
    assert bad.exit_code == 1
    assert [(f["rule"], f["line"]) for f in json.loads(bad.stdout)["findings"]] == [
        ("config/unknown-option", len(text.splitlines()) + 1)
    ]


def test_validate_against_an_unknown_schema_id_exits_2(shared_sample: Path, tmp_path: Path) -> None:
    write(tmp_path / "x.yml", "a: 1\n")
    result = invoke(
        "validate", str(tmp_path / "x.yml"), "--schema", "servcie", "--config", str(shared_sample)
    )
    assert result.exit_code == 2
    assert "unknown schema 'servcie'" in result.stderr
    assert "service" in result.stderr.split("known:")[1]
    assert result.stdout == ""


# --- docs/dead-link: links of the guides to pages and anchors the site lacks ---------------------

DEAD_LINKS = """
# Links

Read [an option that is not](../reference/schemas/service.md#no-such-option) first.

Then [a page that is not](../reference/no-such-page.md); `[a code span](nowhere.md)` is no link.

```markdown
[nor is a fenced block](nowhere.md)
```
"""


def guide(config: Path, text: str, name: str = "links.md") -> Path:
    """A hand-written guide beside the sample's own, in its docs/guides/."""
    return write(config.parent / "docs" / "guides" / name, text)


def test_check_reports_each_dead_link_of_a_guide_with_its_file_and_line(
    sample_config: Path,
) -> None:
    guide(sample_config, DEAD_LINKS)
    result = check(sample_config, "--format", "json")
    assert result.exit_code == 1
    dead = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "docs/dead-link"]
    assert [(f["severity"], f["file"], f["line"]) for f in dead] == [
        ("error", "docs/guides/links.md", 3),
        ("error", "docs/guides/links.md", 5),
    ]
    anchor, page = dead
    assert anchor["message"] == (
        "../reference/schemas/service.md#no-such-option: "
        "there is no anchor #no-such-option on reference/schemas/service.md"
    )
    assert page["message"] == (
        "../reference/no-such-page.md: reference/no-such-page.md is not a page of the site"
    )
    assert anchor["hint"] and page["hint"]


VALID_LINKS = """
# Valid links {#valid}

An [option](../reference/schemas/service.md#deploy.replicas), a template's
[input](../reference/templates/build.md#input-image), the [CI guide](ci.md#in-every-services-repository),
[this page](#valid), [the catalog](../catalog/index.md), [the home page](../index.md),
a [reference][rules], an image ![the catalog](../images/catalog.png), [the web](https://example.com/x.md)
and [mail](mailto:someone@example.com).

[rules]: ../reference/rules.md#docs-dead-link
"""


def test_a_guide_with_only_valid_links_has_no_finding(
    sample_config: Path, sample_pages: dict[str, str]
) -> None:
    assert 'id="deploy.replicas"' in sample_pages["reference/schemas/service.md"]
    guide(sample_config, VALID_LINKS)
    assert dead_link_findings(load_config(sample_config), sample_pages) == []


def test_anchors_are_those_the_sites_markdown_extensions_make(
    sample_config: Path, sample_pages: dict[str, str]
) -> None:
    guide(sample_config, "# Title {#custom}\n\nSee [the title](#custom).\n")
    assert dead_link_findings(load_config(sample_config), sample_pages) == []
    mkdocs_yml = sample_config.parent / "mkdocs.yml"
    # attr_list left out of mkdocs.yml: `build` adds it, and `check` renders as `build` does
    mkdocs_yml.write_text(mkdocs_yml.read_text().replace("  - attr_list\n", ""))
    assert dead_link_findings(load_config(sample_config), sample_pages) == []
    # the site's own slugs: pymdownx's unicode slugs keep the accent the default drops
    guide(sample_config, "# Über\n\nSee [the title](#über).\n")
    [finding] = dead_link_findings(load_config(sample_config), sample_pages)
    assert (finding.file, finding.line) == ("docs/guides/links.md", 3)
    assert finding.hint == "did you mean '#uber'?"
    text = mkdocs_yml.read_text().replace(
        "      permalink: true\n",
        "      permalink: true\n      slugify: !!python/object/apply:pymdownx.slugs.slugify {kwds: {case: lower}}\n",
    )
    mkdocs_yml.write_text(text)
    assert dead_link_findings(load_config(sample_config), sample_pages) == []


def test_a_link_to_a_folder_and_a_missing_image_are_dead_links_with_a_hint(
    sample_config: Path, sample_pages: dict[str, str]
) -> None:
    guide(sample_config, "# X\n\n[catalog](../catalog/)\n\n![shot](../images/catalogue.png)\n")
    findings = dead_link_findings(load_config(sample_config), sample_pages)
    assert [(f.line, f.message, f.hint) for f in findings] == [
        (
            3,
            "../catalog/: catalog/ is a folder, not a page",
            "link to its page: '../catalog/index.md'",
        ),
        (
            5,
            "../images/catalogue.png: images/catalogue.png is not a file of the site",
            "did you mean '../images/catalog.png'?",
        ),
    ]


def test_the_same_dead_link_twice_is_reported_at_each_line(
    sample_config: Path, sample_pages: dict[str, str]
) -> None:
    guide(sample_config, "# X\n\n[a](missing.md)\n\nand [b](missing.md) again\n")
    findings = dead_link_findings(load_config(sample_config), sample_pages)
    assert [f.line for f in findings] == [3, 5]


def test_a_generated_page_in_docs_is_no_guide(
    sample_config: Path, sample_pages: dict[str, str]
) -> None:
    # `generate --out docs` writes generated pages beside the guides: they are checked by MkDocs
    write(sample_config.parent / "docs" / "health.md", "# Health\n\n[gone](gone.md)\n")
    assert dead_link_findings(load_config(sample_config), sample_pages) == []


def test_a_dead_link_follows_the_checks_policy(sample_config: Path) -> None:
    guide(sample_config, DEAD_LINKS)
    text = sample_config.read_text(encoding="utf-8")
    sample_config.write_text(text + "checks:\n  docs/dead-link: warning\n", encoding="utf-8")
    assert check(sample_config).exit_code == 0
    assert check(sample_config, "--fail-on", "warning").exit_code == 1


def test_an_ignore_that_only_a_dead_link_uses_is_not_unused(sample_config: Path) -> None:
    guide(sample_config, DEAD_LINKS)
    text = sample_config.read_text(encoding="utf-8")
    sample_config.write_text(
        text + "checks:\n  ignore:\n"
        "    - rule: docs/dead-link\n      path: docs/guides/links.md\n      reason: being rewritten\n"
        "    - rule: docs/dead-link\n      path: docs/other.md\n      reason: matches nothing\n",
        encoding="utf-8",
    )
    result = check(sample_config, "--format", "json")
    assert result.exit_code == 0
    findings = json.loads(result.stdout)["findings"]
    assert [f for f in findings if f["rule"] == "docs/dead-link"] == []
    unused = [f["message"] for f in findings if f["rule"] == "config/unused-ignore"]
    assert unused == ["ignore of docs/dead-link on docs/other.md matches no finding"]


# --- build --fail-on -------------------------------------------------------------------------


def test_build_refuses_findings_that_reach_fail_on_and_builds_with_never(
    sample_config: Path,
) -> None:
    schema_file = sample_config.parent / "schemas" / "service.schema.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    schema["properties"]["undocumented"] = {"type": "string"}
    schema_file.write_text(json.dumps(schema, indent=2), encoding="utf-8")
    site = sample_config.parent / "built"
    args = ["build", "--config", str(sample_config), "--site-dir", str(site)]

    refused = run_cli(*args, cwd=sample_config.parent)
    assert refused.returncode == 1
    assert "schema/missing-description" in refused.stderr
    assert "not built" in refused.stderr
    assert not site.exists()

    built = run_cli(*args, "--fail-on", "never", cwd=sample_config.parent)
    assert built.returncode == 0, built.stderr
    page = site / "reference" / "schemas" / "service" / "index.html"
    assert "undocumented" in page.read_text(encoding="utf-8")


# --- pre-commit hooks and the rules page --------------------------------------------------------


def test_each_pre_commit_hook_runs_a_real_pipeline_docs_command() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert {h["id"] for h in hooks} == {"pipeline-docs-check", "pipeline-docs-validate"}
    scripts = {e.name: e.value for e in metadata.entry_points(group="console_scripts")}
    assert scripts["pipeline-docs"] == "generator.cli:entry"
    for hook in hooks:
        program, command = hook["entry"].split()
        assert program == "pipeline-docs"
        assert command in main.commands, hook["id"]
        re.compile(hook["files"])
        assert {"id", "name", "entry", "language"} <= set(hook)
        result = invoke(command, *hook.get("args", []), "--help")
        assert result.exit_code == 0, result.output


def test_the_pre_commit_hooks_pass_on_the_sample(
    shared_sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    monkeypatch.chdir(shared_sample.parent)
    validate = hooks["pipeline-docs-validate"]
    files = [
        "examples/services/orders/.pipeline.yml",
        "examples/services/payments-api/.pipeline.yml",
    ]
    assert all(re.search(validate["files"], name) for name in files)
    command = validate["entry"].split()[1:]
    # the hook's default is a service repo's schema file; the pipeline's own repo names the id
    assert validate["args"] == ["--schema", "pipeline-schemas/service.schema.json"]
    assert invoke(*command, "--schema", "service", *files).exit_code == 0
    gate = hooks["pipeline-docs-check"]
    assert gate["pass_filenames"] is False
    assert invoke(*gate["entry"].split()[1:]).exit_code == 0


def test_the_rules_page_lists_every_rule_with_its_default_severity(
    sample_pages: dict[str, str],
) -> None:
    page = sample_pages["reference/rules.md"]
    rows = re.findall(r"^\| <span id=\"[^\"]+\"></span>`([^`]+)` \| (\w+) \|", page, re.MULTILINE)
    assert dict(rows) == {rule.id: rule.severity.value for rule in RULES.values()}
    assert len(rows) == len(RULES)


def test_text_report_without_colour_has_no_escape_codes() -> None:
    finding = Finding("config/invalid", Severity.ERROR, "a.yml", 1, "bad")
    assert "\x1b[" not in text_report([finding], colour=False)
    assert "\x1b[31m" in text_report([finding], colour=True)
