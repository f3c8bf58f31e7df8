"""Every input goes through one loader: safe, bounded, with lines kept for messages."""

from __future__ import annotations

import textwrap
from pathlib import Path

from generator.model import Severity
from generator.yamlload import (
    json_lines,
    load_data_file,
    load_documents,
    load_file,
    load_json,
    load_one,
)


def yaml_text(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def test_a_duplicate_key_is_a_finding_with_its_line() -> None:
    document, findings = load_one(
        yaml_text(
            """
            service: payments-api
            deploy:
              replicas: 2
              strategy: Recreate
              replicas: 3
            """
        ),
        "svc.yml",
    )
    assert [(f.rule, f.severity, f.file, f.line) for f in findings] == [
        ("yaml/duplicate-key", Severity.ERROR, "svc.yml", 5)
    ]
    assert "'replicas'" in findings[0].message
    assert document is not None
    assert document.data["deploy"]["replicas"] == 3


def test_a_parse_error_gives_the_line_where_the_parser_stopped() -> None:
    document, findings = load_one(
        yaml_text(
            """
            name: dev
            bundles:
              - url: https://nexus.test/a-1.0.tar.gz
                sha256: [abc
            manifests: manifests/
            """
        ),
        "environment.yml",
    )
    assert document is None
    [finding] = findings
    assert finding.rule == "yaml/parse-error"
    assert finding.file == "environment.yml"
    assert finding.line in (4, 5)
    assert finding.message.startswith("cannot parse:")


def test_a_tab_indented_file_is_a_parse_error_not_an_exception() -> None:
    document, findings = load_one("a:\n\tb: 1\n", "tabs.yml")
    assert document is None
    assert [(f.rule, f.line) for f in findings] == [("yaml/parse-error", 2)]


def test_a_json_parse_error_gives_its_line() -> None:
    document, findings = load_json('{\n  "type": "object",\n  "properties": {,}\n}\n', "x.json")
    assert document is None
    assert [(f.rule, f.line) for f in findings] == [("yaml/parse-error", 3)]


def test_gitlab_reference_tags_load_as_lists() -> None:
    document, findings = load_one(
        yaml_text(
            """
            .setup:
              script:
                - echo setup
            test:
              script:
                - !reference [.setup, script]
                - make test
            """
        ),
        ".gitlab-ci.yml",
    )
    assert findings == []
    assert document is not None
    assert document.data["test"]["script"] == [[".setup", "script"], "make test"]


def test_a_billion_laughs_document_is_refused_with_a_finding() -> None:
    lines = ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        refs = ", ".join([f"*lol{level - 1}"] * 9)
        lines.append(f"lol{level}: &lol{level} [{refs}]")
    document, findings = load_one("\n".join(lines) + "\n", "laughs.yml")
    assert document is None
    assert [(f.rule, f.severity, f.file) for f in findings] == [
        ("yaml/too-large", Severity.ERROR, "laughs.yml")
    ]
    assert findings[0].line is not None


def test_a_few_aliases_are_fine() -> None:
    document, findings = load_one(
        "base: &base {cpu: 100m}\nweb: *base\nworker: {<<: *base, memory: 1Gi}\n", "x.yml"
    )
    assert findings == []
    assert document is not None
    assert document.data["web"] == {"cpu": "100m"}
    assert document.data["worker"] == {"cpu": "100m", "memory": "1Gi"}


def test_a_version_keeps_its_source_text() -> None:
    document, _ = load_one(
        "version: 1.10\nbuild: 010\nrelease: 2.0\nname: x\nwhen: 2026-05-04\n", "bundle.yml"
    )
    assert document is not None
    assert document.text(("version",)) == "1.10"
    assert document.text(("build",)) == "010"
    assert document.text(("release",)) == "2.0"
    assert document.text(("name",)) == "x"
    assert document.text(("when",)) == "2026-05-04"
    assert document.data["version"] == 1.1  # the data is still YAML's
    assert document.text(("missing",)) is None


def test_lines_are_kept_for_keys_and_items() -> None:
    document, _ = load_one(
        yaml_text(
            """
            # a comment
            deploy:
              ports:
                - name: http
                  port: 8080
                - name: metrics
                  port: 9090
            """
        ),
        "svc.yml",
    )
    assert document is not None
    assert document.line(("deploy",)) == 2
    assert document.line(("deploy", "ports", 0)) == 4
    assert document.line(("deploy", "ports", 1, "port")) == 7
    # an unknown path falls back to its nearest known ancestor
    assert document.line(("deploy", "ports", 1, "nope", "deeper")) == 6


def test_every_document_of_a_stream_is_loaded_with_its_start_line() -> None:
    documents, findings = load_documents(
        "spec:\n  inputs:\n    stage: {default: test}\n---\njob:\n  script: [make]\n", "c.yml"
    )
    assert findings == []
    assert [d.start_line for d in documents] == [1, 5]
    assert documents[1].data == {"job": {"script": ["make"]}}


def test_json_lines_give_the_line_of_every_key() -> None:
    text = yaml_text(
        """
        {
          "type": "object",
          "properties": {
            "name": {"type": "string"},
            "ports": {
              "type": "array",
              "items": {
                "type": "integer"
              }
            }
          }
        }
        """
    )
    lines = json_lines(text)
    assert lines[("type",)] == 2
    assert lines[("properties",)] == 3
    assert lines[("properties", "name")] == 4
    assert lines[("properties", "name", "type")] == 4
    assert lines[("properties", "ports", "items", "type")] == 8


def test_json_lines_give_the_line_of_every_array_item() -> None:
    text = '{\n  "enum": [\n    "a",\n    "b"\n  ],\n  "examples": [\n    1,\n    true,\n    null\n  ]\n}\n'
    lines = json_lines(text)
    assert lines[("enum", 0)] == 3
    assert lines[("enum", 1)] == 4
    # numbers, booleans and null are array items too
    assert lines[("examples", 0)] == 7
    assert lines[("examples", 1)] == 8
    assert lines[("examples", 2)] == 9


def test_json_lines_are_not_fooled_by_punctuation_inside_strings() -> None:
    text = '{\n  "a": "x, {y}: [z]",\n  "b\\"c": 1,\n  "d": 2\n}\n'
    lines = json_lines(text)
    assert lines[("a",)] == 2
    assert lines[('b"c',)] == 3
    assert lines[("d",)] == 4


def test_a_json_file_is_read_with_lines_found_on_demand(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('{\n  "properties": {\n    "a": {"type": "string"}\n  }\n}\n')
    document, findings = load_data_file(path, "s.json")
    assert findings == []
    assert document is not None
    assert document.line(("properties", "a", "type")) == 3


def test_a_file_that_is_not_utf8_is_a_finding(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    document, findings = load_file(path, "latin1.yml")
    assert document is None
    assert [f.rule for f in findings] == ["yaml/unreadable"]


def test_unknown_tags_and_non_string_keys_do_not_raise() -> None:
    document, findings = load_one(
        "a: !Ref Something\n? [1, 2]\n: complex\n1: int key\nb: !!binary aGVsbG8=\n", "cfn.yml"
    )
    assert findings == []
    assert document is not None
    assert document.data["a"] == "Something"
    assert document.data["1"] == "int key"  # keys are strings, as written
    assert document.data["[1, 2]"] == "complex"
