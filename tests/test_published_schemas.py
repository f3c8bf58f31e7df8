"""The pipeline's schemas as the site publishes them for service repos (issue 20): each one JSON
document whose refs to other files of the schemas folder are brought into its definitions, and
`validate --schema URL` that fetches one.

The oracle is jsonschema itself over the folder: a registry holding every file of it (under its
path in the folder and its `$id`). The published document, validated with an empty registry
that retrieves nothing, must say of each instance what the folder says."""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import referencing
import referencing.exceptions
from conftest import CORPUS, invoke, make_config, needs_corpus, run_cli, serve_folder, serving
from referencing.jsonschema import DRAFT202012

from generator.limits import Limits
from generator.model import Finding, Model
from generator.render import paths
from generator.render.pages import render_pages
from generator.rules import RULES
from generator.sources.schemabundle import RULE, as_json, published_schemas
from generator.sources.schemas import load_schemas

D2020 = "https://json-schema.org/draft/2020-12/schema"
D07 = "http://json-schema.org/draft-07/schema#"
SCHEMASTORE = CORPUS / "schemas" / "schemastore"


# --- the oracle and the published document, side by side ---------------------------------------


def folder_registry(folder: Path) -> referencing.Registry[Any]:
    """Every schema file of the folder, by its path relative to the folder and by its `$id`."""
    pairs = []
    for path in sorted(folder.rglob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        resource = referencing.Resource.from_contents(data, default_specification=DRAFT202012)
        pairs.append((path.relative_to(folder).as_posix(), resource))
        own = data.get("$id") if isinstance(data, dict) else None
        if isinstance(own, str) and own and not own.startswith("#"):
            pairs.append((own.rstrip("#"), resource))
    return referencing.Registry().with_resources(pairs)


def validator(schema: Any, registry: referencing.Registry[Any] | None = None) -> Any:
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema, registry=registry if registry is not None else referencing.Registry())


def verdict(check: Any, instance: Any) -> list[tuple[str, str, str]] | str:
    """What a validator says of an instance: its errors, or that a ref it met does not resolve."""
    try:
        errors = list(check.iter_errors(instance))
    except referencing.exceptions.Unresolvable:
        return "unresolvable"
    return sorted((json.dumps(list(e.absolute_path)), str(e.validator), e.message) for e in errors)


def publish(folder: Path, limits: Limits | None = None) -> tuple[dict[str, Any], list[Finding]]:
    """The folder's schemas as published, parsed, by id; and the findings."""
    loaded, found = load_schemas(folder, lambda p: p.relative_to(folder).as_posix())
    assert found == []
    published, findings = published_schemas(loaded, limits or Limits())
    return {sid: json.loads(text) for sid, text in published}, findings


def refs_in(document: Any) -> set[str]:
    """Every `$ref` string of a document."""
    found, todo = set(), [document]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                found.add(node["$ref"])
            todo += node.values()
        elif isinstance(node, list):
            todo += node
    return found


def local_refs(document: Any) -> set[str]:
    """Refs that name a file (neither within the document nor a URL)."""
    return {r for r in refs_in(document) if not r.startswith(("#", "http://", "https://"))}


def write_schemas(folder: Path, files: dict[str, Any]) -> Path:
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return folder


def line_of(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


# --- small folders with refs between files ------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Case:
    files: dict[str, Any]
    root: str  # the schema id bundled
    valid: Any
    invalid: Any
    unresolvable: Any = None  # an instance that reaches a ref nothing resolves, if any


CASES = {
    "a fragment of another file": Case(
        {
            "root.json": {"$schema": D2020, "type": "object", "required": ["size"],
                          "properties": {"size": {"$ref": "common.json#/$defs/size"}}},
            "common.json": {"$defs": {"size": {"type": "integer", "minimum": 1},
                                      "unused": {"type": "string"}}},
        },
        "root", {"size": 3}, {"size": 0},
    ),
    "another file, whole": Case(
        {
            "root.json": {"$schema": D2020, "properties": {"port": {"$ref": "port.json"}}},
            "port.json": {"type": "integer", "maximum": 65535},
        },
        "root", {"port": 80}, {"port": 70000},
    ),
    "refs within the file brought in": Case(
        {
            "root.json": {"properties": {"size": {"$ref": "common.json#/$defs/size"}}},
            "common.json": {"$defs": {"size": {"$ref": "#/$defs/positive"},
                                      "positive": {"type": "integer", "minimum": 1}}},
        },
        "root", {"size": 2}, {"size": -1},
    ),
    "a cycle between two files": Case(
        {
            "tree.json": {"type": "object", "properties": {
                "name": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": "node.json"}}}},
            "node.json": {"type": "object", "additionalProperties": False, "properties": {
                "leaf": {"type": "boolean"}, "tree": {"$ref": "tree.json"}}},
        },
        "tree",
        {"name": "a", "children": [{"leaf": True, "tree": {"name": "b", "children": []}}]},
        {"children": [{"tree": {"name": 3, "children": [{"colour": "blue"}]}}]},
    ),
    "a file of a subfolder, by $id": Case(
        {
            "svc.json": {"$schema": D2020, "$id": "https://acme.example/schemas/svc.json",
                         "properties": {"cpu": {"$ref": "defs/res.json#/$defs/cpu"}}},
            "defs/res.json": {"$schema": D2020, "$id": "https://acme.example/schemas/defs/res.json",
                              "$defs": {"cpu": {"type": "string", "pattern": "^[0-9]+m$"}}},
        },
        "svc", {"cpu": "500m"}, {"cpu": "half"},
    ),
    "draft-07 definitions": Case(
        {
            "root.json": {"$schema": D07, "definitions": {"name": {"type": "string"}},
                          "properties": {"name": {"$ref": "#/definitions/name"},
                                         "tags": {"$ref": "tags.json#/definitions/tags"}}},
            "tags.json": {"$schema": D07, "definitions": {
                "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2}}},
        },
        "root", {"name": "x", "tags": ["a"]}, {"name": "x", "tags": ["a", "b", "c"]},
    ),
    "a key already taken in $defs": Case(
        {
            "root.json": {"$defs": {"common": {"type": "string"}}, "properties": {
                "a": {"$ref": "#/$defs/common"}, "b": {"$ref": "common.json#/$defs/n"}}},
            "common.json": {"$defs": {"n": {"type": "integer"}}},
        },
        "root", {"a": "x", "b": 1}, {"a": "x", "b": "y"},
    ),
    "the schema itself by its file name": Case(
        {"root.json": {"$defs": {"x": {"type": "integer"}},
                       "properties": {"a": {"$ref": "root.json#/$defs/x"}}}},
        "root", {"a": 1}, {"a": "no"},
    ),
    "an anchor in another file": Case(
        {
            "root.json": {"$schema": D2020, "properties": {"n": {"$ref": "common.json#count"}}},
            "common.json": {"$defs": {"n": {"$anchor": "count", "type": "integer"}}},
        },
        "root", {"n": 1}, {"n": 1.5},
    ),
    "a missing file": Case(
        {"root.json": {"properties": {"a": {"type": "integer"}, "b": {"$ref": "missing.json"}}}},
        "root", {"a": 1}, {"a": "x"}, unresolvable={"b": 1},
    ),
    "a ref URL": Case(
        {"root.json": {"properties": {"a": {"type": "integer"},
                                      "remote": {"$ref": "https://schemas.example.com/x.json"}}}},
        "root", {"a": 1}, {"a": "x"}, unresolvable={"remote": 1},
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_published_schema_validates_as_the_folder_does(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    folder = write_schemas(tmp_path / "schemas", case.files)
    published, findings = publish(folder)
    registry = folder_registry(folder)
    root_file = next(n for n in case.files if Path(n).stem == case.root)
    oracle = validator(case.files[root_file], registry)
    bundled = validator(published[case.root])  # a registry of nothing: no file, no network
    assert verdict(oracle, case.valid) == verdict(bundled, case.valid) == []
    wrong = verdict(oracle, case.invalid)
    assert wrong and wrong != "unresolvable"
    assert verdict(bundled, case.invalid) == wrong
    if case.unresolvable is not None:
        assert verdict(oracle, case.unresolvable) == "unresolvable"
        assert verdict(bundled, case.unresolvable) == "unresolvable"
    # every schema of the folder is published, none with a ref to a file left but those reported
    assert set(published) == {Path(n).stem for n in case.files}
    reported = {m for f in findings for m in re.findall(r"\$ref '([^']*)'", f.message)}
    for sid, document in published.items():
        assert local_refs(document) <= reported, sid


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_published_schema_is_valid_against_its_metaschema(name: str, tmp_path: Path) -> None:
    published, _ = publish(write_schemas(tmp_path / "schemas", CASES[name].files))
    for document in published.values():
        jsonschema.validators.validator_for(document, default=jsonschema.Draft202012Validator)(
            document
        ).check_schema(document)


@pytest.mark.parametrize(
    ("root", "other"),
    [(D2020, D07), (D07, D2020)],
    ids=["2020-12 to draft-07", "draft-07 to 2020-12"],
)
def test_a_file_of_another_json_schema_version_is_not_brought_in(
    root: str, other: str, tmp_path: Path
) -> None:
    """Brought under the schema's `$defs`, its keywords would be read in the schema's version
    (draft-07's `items: [...]` is no 2020-12 keyword; 2020-12's `prefixItems` none of draft-07):
    the ref is left, with a finding, and the published schema stays valid."""
    pair = (
        {"$schema": other, "type": "array", "items": [{"type": "integer"}], "additionalItems": False}
        if other == D07 else {"$schema": other, "type": "array", "prefixItems": [{"type": "integer"}]}
    )  # fmt: skip
    folder = write_schemas(tmp_path / "schemas", {
        "root.json": {"$schema": root, "properties": {"pair": {"$ref": "pair.json"}}},
        "pair.json": pair,
    })  # fmt: skip
    published, findings = publish(folder)
    [finding] = findings
    assert "written in another JSON Schema version" in finding.message
    assert published["root"]["properties"]["pair"] == {"$ref": "pair.json"}
    document = published["root"]
    jsonschema.validators.validator_for(document)(document).check_schema(document)


def test_a_missing_file_is_a_finding_with_its_line_and_the_schema_is_still_published(
    tmp_path: Path,
) -> None:
    folder = write_schemas(tmp_path / "schemas", CASES["a missing file"].files)
    published, findings = publish(folder)
    [finding] = findings
    assert (finding.rule, finding.file) == (RULE, "root.json")
    assert finding.line == line_of(folder / "root.json", '"$ref": "missing.json"')
    assert "names no file of the schemas folder" in finding.message and finding.hint
    assert published["root"]["properties"]["b"] == {"$ref": "missing.json"}
    assert RULE in RULES


def test_a_pointer_to_nothing_in_another_file_is_a_finding(tmp_path: Path) -> None:
    folder = write_schemas(tmp_path / "schemas", {
        "root.json": {"properties": {"a": {"$ref": "common.json#/$defs/gone"}}},
        "common.json": {"$defs": {"n": {"type": "integer"}}},
    })  # fmt: skip
    published, findings = publish(folder)
    assert [(f.rule, f.file) for f in findings] == [(RULE, "root.json")]
    assert "points to nothing in common.json" in findings[0].message
    assert published["root"]["properties"]["a"] == {"$ref": "common.json#/$defs/gone"}


def test_a_ref_url_is_left_as_written_and_is_no_finding(tmp_path: Path) -> None:
    folder = write_schemas(tmp_path / "schemas", CASES["a ref URL"].files)
    published, findings = publish(folder)
    assert findings == []
    assert published["root"]["properties"]["remote"] == {
        "$ref": "https://schemas.example.com/x.json"
    }


def test_files_are_brought_in_once_under_their_id_in_the_definitions_the_schema_uses(
    tmp_path: Path,
) -> None:
    folder = write_schemas(tmp_path / "a", CASES["draft-07 definitions"].files)
    root = publish(folder)[0]["root"]
    assert "$defs" not in root and set(root["definitions"]) == {"name", "tags"}
    assert "$schema" not in root["definitions"]["tags"]  # a part of the document now
    assert root["properties"]["tags"] == {"$ref": "#/definitions/tags/definitions/tags"}
    taken = publish(write_schemas(tmp_path / "b", CASES["a key already taken in $defs"].files))[0]
    assert set(taken["root"]["$defs"]) == {"common", "common-2"}
    assert taken["root"]["properties"]["b"] == {"$ref": "#/$defs/common-2/$defs/n"}
    cycle = publish(write_schemas(tmp_path / "c", CASES["a cycle between two files"].files))[0]
    assert set(cycle["tree"]["$defs"]) == {"node"}  # and the tree, back from node, is the root
    assert cycle["tree"]["$defs"]["node"]["properties"]["tree"] == {"$ref": "#"}
    assert cycle["node"]["$defs"]["tree"]["properties"]["children"]["items"] == {"$ref": "#"}


def test_values_are_not_taken_for_refs_and_a_property_named_like_a_keyword_is(
    tmp_path: Path,
) -> None:
    folder = write_schemas(tmp_path / "schemas", {
        "root.json": {"properties": {
            "enum": {"$ref": "common.json#/$defs/n"},
            "fixed": {"const": {"$ref": "common.json"}},
            "picked": {"enum": [{"$ref": "common.json"}]},
        }},
        "common.json": {"$defs": {"n": {"type": "integer"}}},
    })  # fmt: skip
    root = publish(folder)[0]["root"]
    assert root["properties"]["enum"] == {"$ref": "#/$defs/common/$defs/n"}
    assert root["properties"]["fixed"] == {"const": {"$ref": "common.json"}}
    assert root["properties"]["picked"] == {"enum": [{"$ref": "common.json"}]}


def test_odd_refs_and_ids_are_findings_or_left_never_a_crash(tmp_path: Path) -> None:
    folder = write_schemas(tmp_path / "schemas", {
        "root.json": {"$id": "http://[::1", "properties": {
            "yes": {"$ref": "yes.json"},
            "broken": {"$ref": "http://[nope"},
            "inner": {"$id": "http://[::2", "$ref": "yes.json"},
        }},
        "yes.json": True,
        "flat.json": {"$defs": [1, 2], "properties": {"a": {"$ref": "yes.json"}}},
    })  # fmt: skip
    published, findings = publish(folder)
    assert published["root"]["$defs"]["yes"] is True
    assert published["root"]["properties"]["yes"] == {"$ref": "#/$defs/yes"}
    assert published["flat"]["$defs"] == [1, 2]  # not an object: nothing can be put there
    assert published["flat"]["properties"]["a"] == {"$ref": "yes.json"}
    messages = {(f.file, f.message.split(": it is left")[0]) for f in findings}
    assert ("root.json", "$ref 'http://[nope' is not a URI reference") in messages
    assert ("flat.json", "$ref 'yes.json' needs `$defs` of the schema, which is not an object") in (
        messages
    )
    assert {f.rule for f in findings} == {RULE}


def test_a_yaml_schema_is_published_as_json(tmp_path: Path) -> None:
    folder = tmp_path / "schemas"
    write_schemas(folder, {"common.json": {"$defs": {"n": {"type": "integer"}}}})
    (folder / "svc.schema.yaml").write_text(
        "type: object\nproperties:\n  count:\n    $ref: common.json#/$defs/n\n", encoding="utf-8"
    )
    published, findings = publish(folder)
    assert findings == []
    check = validator(published["svc"])
    assert verdict(check, {"count": 2}) == [] and verdict(check, {"count": "two"}) != []


def test_bundling_that_passes_its_budget_is_a_finding_and_publishes_the_schema_as_is(
    tmp_path: Path,
) -> None:
    folder = write_schemas(tmp_path / "schemas", CASES["a cycle between two files"].files)
    published, findings = publish(folder, Limits(options=0))
    assert {f.rule for f in findings} == {"limits/too-many"}
    assert published["tree"] == CASES["a cycle between two files"].files["tree.json"]


def test_the_published_text_is_deterministic_and_sorted(tmp_path: Path) -> None:
    folder = write_schemas(tmp_path / "schemas", CASES["a cycle between two files"].files)
    loaded, _ = load_schemas(folder, lambda p: p.name)
    first, _ = published_schemas(loaded, Limits())
    again, _ = published_schemas(list(reversed(loaded)), Limits())
    assert first == again
    for _, text in first:
        assert text == as_json(json.loads(text))
        assert text == json.dumps(json.loads(text), sort_keys=True, indent=2) + "\n"


# --- the sample and the real schemas -----------------------------------------------------------


def test_each_sample_schema_is_in_the_pages_with_no_ref_to_another_file(
    sample_pages: dict[str, str], sample_model: Model, shared_sample: Path
) -> None:
    folder = shared_sample.parent / "schemas"
    registry = folder_registry(folder)
    assert {sid for sid, _ in sample_model.published_schemas} == {
        s.id for s in sample_model.schemas
    }
    for schema in sample_model.schemas:
        document = json.loads(sample_pages[paths.published_schema(schema.id)])
        assert local_refs(document) == set(), schema.id
        source = json.loads((shared_sample.parent / schema.file).read_text(encoding="utf-8"))
        assert document["$id"] == source["$id"]
        examples = [schema.example] if schema.has_example else []
        for instance in [*examples, {}, {"name": 3}, [], "x"]:
            assert verdict(validator(document), instance) == verdict(
                validator(source, registry), instance
            ), (schema.id, instance)
    service = json.loads(sample_pages[paths.published_schema("service")])
    assert set(service["$defs"]) >= {"common"}
    assert not any(f.rule == RULE for f in sample_model.findings)


def test_a_schema_page_links_to_its_published_file(
    sample_pages: dict[str, str], sample_model: Model
) -> None:
    page = sample_pages[paths.schema_page("service")]
    assert "[Download the schema](../../schemas/service.json)" in page
    assert "`pipeline-docs validate FILE --schema <site URL>/schemas/service.json`" in page
    with_url = dataclasses.replace(sample_model, site_url="https://docs.example.com/")
    page = render_pages(with_url)[paths.schema_page("service")]
    assert "--schema https://docs.example.com/schemas/service.json`" in page


def test_the_built_site_serves_the_published_schemas(
    built_sample_site: tuple[Any, Path], sample_pages: dict[str, str]
) -> None:
    done, site = built_sample_site
    assert done.returncode == 0, done.stderr[-3000:]
    for sid in ("service", "common", "environment", "bundle"):
        path = paths.published_schema(sid)
        assert (site / path).read_text(encoding="utf-8") == sample_pages[path]
    html = (site / "reference" / "schemas" / "service" / "index.html").read_text(encoding="utf-8")
    link = re.search(r'href="([^"]*schemas/service\.json)"', html)
    assert link is not None
    target = (site / "reference" / "schemas" / "service" / link.group(1)).resolve()
    assert target == (site / "schemas" / "service.json").resolve()


@needs_corpus
def test_schemastore_schemas_with_refs_to_other_files_are_published_whole() -> None:
    published, findings = publish(SCHEMASTORE)
    registry = folder_registry(SCHEMASTORE)
    # those that refer to another file of the folder bring it in
    brought = {sid: set(doc.get("definitions", {})) for sid, doc in published.items()}
    assert {"base"} <= brought["jekyll"] and {"uv"} <= brought["pep-723"]
    assert {"compilerdefaults"} <= brought["compilerconfig"]
    assert {"schema-org-thing"} <= brought["schema-org-contact-point"]
    # jsonld.json is not in the corpus: a finding (once, though two schemas bring its referrer in)
    [missing] = findings
    assert (missing.rule, missing.file) == (RULE, "schema-org-thing.json")
    assert "'jsonld.json'" in missing.message
    for sid, document in published.items():
        assert local_refs(document) <= {"jsonld.json"}, sid
    pairs = {
        "jekyll": ({"timezone": "Europe/Berlin"}, {"timezone": "Mars/Olympus_Mons"}),
        "pep-723": ({"tool": {"uv": {"managed": True}}}, {"tool": {"uv": {"managed": "yes"}}}),
    }
    for sid, (good, bad) in pairs.items():
        source = json.loads((SCHEMASTORE / f"{sid}.json").read_text(encoding="utf-8"))
        oracle, bundled = validator(source, registry), validator(published[sid])
        assert verdict(oracle, good) == verdict(bundled, good) == [], sid
        wrong = verdict(oracle, bad)
        assert wrong and wrong != "unresolvable" and verdict(bundled, bad) == wrong, sid
    for sid in ("drone", "compilerconfig", "catalog-info", "jekyll", "pep-723"):
        source = json.loads((SCHEMASTORE / f"{sid}.json").read_text(encoding="utf-8"))
        oracle, bundled = validator(source, registry), validator(published[sid])
        for instance in ({}, [], "x", 1, None, {"kind": "pipeline", "type": "kubernetes"}):
            assert verdict(bundled, instance) == verdict(oracle, instance), (sid, instance)


# --- `validate --schema URL` ------------------------------------------------------------------


@pytest.fixture
def site(tmp_path: Path, sample_pages: dict[str, str]) -> Path:
    """The sample's generated site, as a folder a web server serves."""
    root = tmp_path / "site"
    for name, text in sample_pages.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_sample: Path) -> Path:
    """A service repo's work tree (no pipeline-docs.yml), the current folder: its config, and
    one with an option no schema documents."""
    repo = tmp_path / "payments-api"
    repo.mkdir()
    good = (
        shared_sample.parent / "examples" / "services" / "payments-api" / ".pipeline.yml"
    ).read_text()
    (repo / ".pipeline.yml").write_text(good, encoding="utf-8")
    (repo / "bad.yml").write_text(good + "colour: blue\n", encoding="utf-8")
    monkeypatch.chdir(repo)
    return repo


def test_validate_against_a_published_url_passes_a_good_file_and_fails_a_bad_one(
    site: Path, service: Path
) -> None:
    with serve_folder(site) as base:
        url = f"{base}schemas/service.json"
        good = invoke("validate", ".pipeline.yml", "--schema", url)
        bad = invoke("validate", "bad.yml", "--schema", url)
    assert good.exit_code == 0, good.output
    assert "validated 1 file against service" in good.stderr
    assert bad.exit_code == 1
    assert "colour is not an option of schema service" in bad.stdout
    assert len(list((service / ".cache" / "pipeline-docs" / "schemas").iterdir())) == 1


def test_a_copy_kept_from_the_last_fetch_stands_in_when_the_server_is_gone(
    site: Path, service: Path
) -> None:
    with serve_folder(site) as base:
        url = f"{base}schemas/service.json"
        first = [invoke("validate", name, "--schema", url) for name in (".pipeline.yml", "bad.yml")]
    # the server is stopped: nothing answers on its port
    again = [invoke("validate", name, "--schema", url) for name in (".pipeline.yml", "bad.yml")]
    assert [r.exit_code for r in first] == [r.exit_code for r in again] == [0, 1]
    assert again[1].stdout == first[1].stdout
    assert "validating against the copy kept" in again[0].stderr
    assert "validating against the copy kept" not in first[0].stderr


def test_a_fresh_answer_wins_over_the_kept_copy(site: Path, service: Path) -> None:
    # the published URL names the latest schema: each run asks (a bundle URL names a version)
    with serve_folder(site) as base:
        url = f"{base}schemas/service.json"
        assert invoke("validate", "bad.yml", "--schema", url).exit_code == 1
        schema = json.loads((site / "schemas" / "service.json").read_text(encoding="utf-8"))
        schema["properties"]["colour"] = {"type": "string", "description": "Its colour."}
        (site / "schemas" / "service.json").write_text(json.dumps(schema), encoding="utf-8")
        assert invoke("validate", "bad.yml", "--schema", url).exit_code == 0


def test_a_url_that_is_not_there_exits_2_with_one_line(site: Path, service: Path) -> None:
    with serve_folder(site) as base:
        url = f"{base}schemas/nothing.json"
        done = run_cli("validate", ".pipeline.yml", "--schema", url, cwd=service)
        # a 404 is the server's answer: a kept copy of the same URL does not hide it
        (site / "schemas" / "gone.json").write_text((site / "schemas" / "service.json").read_text())
        gone = f"{base}schemas/gone.json"
        assert invoke("validate", ".pipeline.yml", "--schema", gone).exit_code == 0
        (site / "schemas" / "gone.json").unlink()
        after = invoke("validate", ".pipeline.yml", "--schema", gone)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"cannot fetch the schema at {url}: HTTP 404 File not found"
    ]
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert after.exit_code == 2 and "HTTP 404" in after.stderr


@contextlib.contextmanager
def answering(
    body: bytes, headers: dict[str, str] | None = None, delay: float = 0
) -> Iterator[str]:
    """A server on 127.0.0.1 that answers every GET with `body` (after `delay` seconds)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(delay)
            self.send_response(200)
            for name, value in (headers or {"Content-Length": str(len(body))}).items():
                self.send_header(name, value)
            self.end_headers()
            with contextlib.suppress(OSError):
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serving(Handler, daemon_threads=True) as base:
        yield f"{base}schemas/service.json"


def test_an_over_size_answer_exits_2(service: Path) -> None:
    declared = 17 * 1024 * 1024  # over the default `limits.file_bytes` of 16 MiB
    with answering(b"{}", {"Content-Length": str(declared)}) as url:
        done = invoke("validate", ".pipeline.yml", "--schema", url)
    assert done.exit_code == 2
    assert (
        done.stderr
        == f"the schema at {url} is over the limit of 16777216 bytes (`limits.file_bytes`): not read\n"
    )
    # no length said: counted as it comes, against the config's limit
    make_config(service, limits={"file_bytes": 1000})
    with answering(b"{" + b" " * 5000 + b"}", {"Connection": "close"}) as url:
        done = invoke("validate", ".pipeline.yml", "--schema", url)
    assert done.exit_code == 2
    assert "over the limit of 1000 bytes (`limits.file_bytes`)" in done.stderr
    assert not (service / ".cache" / "schemas").exists() or not any(
        (service / ".cache" / "schemas").iterdir()
    )


def test_an_answer_that_is_not_json_exits_2_and_is_not_kept(service: Path) -> None:
    with answering(b"<html>Sign in</html>") as url:
        done = invoke("validate", ".pipeline.yml", "--schema", url)
    assert done.exit_code == 2
    assert done.stderr.startswith(f"the schema at {url} is not JSON: ")
    assert len(done.stderr.splitlines()) == 1
    assert not (service / ".cache" / "pipeline-docs" / "schemas").exists()


def test_a_server_too_slow_exits_2(service: Path) -> None:
    make_config(service, limits={"download_seconds": 1, "connect_seconds": 0.5})
    with answering(b"{}", delay=3) as url:
        started = time.monotonic()
        done = invoke("validate", ".pipeline.yml", "--schema", url)
    assert done.exit_code == 2
    assert (
        done.stderr == f"the schema at {url} did not come within 1 s (`limits.download_seconds`)\n"
    )
    assert time.monotonic() - started < 3


def test_ref_urls_inside_a_fetched_schema_are_never_fetched(service: Path, tmp_path: Path) -> None:
    asked: list[str] = []
    schema = {"type": "object", "properties": {"remote": {"$ref": "REMOTE"}, "name": {
        "type": "string", "description": "The name."}}}  # fmt: skip

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            body = json.dumps(schema).replace("REMOTE", f"{base}other.json").encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serving(Handler) as base:  # the handler names `base`, set before any request
        (service / "remote.yml").write_text("remote: 1\n", encoding="utf-8")
        done = invoke("validate", "remote.yml", "--schema", f"{base}schemas/x.json")
    assert asked == ["/schemas/x.json"]
    assert done.exit_code == 1 and "Unresolvable" in done.stdout


def test_a_file_url_and_a_plain_path_still_name_a_schema_file(
    service: Path, shared_sample: Path
) -> None:
    schema = shared_sample.parent / "schemas" / "service.schema.json"
    assert invoke("validate", ".pipeline.yml", "--schema", schema.as_uri()).exit_code == 0
    assert invoke("validate", "bad.yml", "--schema", str(schema)).exit_code == 1


def test_the_help_says_where_fetched_schemas_are_kept() -> None:
    done = invoke("validate", "--help")
    assert ".cache/pipeline-docs/" in " ".join(done.output.split())


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_server_that_is_not_there_and_no_copy_exits_2(service: Path) -> None:
    url = f"http://127.0.0.1:{_unused_port()}/schemas/service.json"
    done = invoke("validate", ".pipeline.yml", "--schema", url)
    assert done.exit_code == 2
    assert done.stderr.startswith(f"cannot fetch the schema at {url}: ")
    assert len(done.stderr.splitlines()) == 1
