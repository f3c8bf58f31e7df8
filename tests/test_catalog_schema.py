"""catalog.json has a published, closed JSON Schema (generator/formats/catalog.schema.json): the
schema is valid and closed, the site publishes it beside catalog.json as the package holds it,
and the catalog.json of every test site validates against it."""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Iterator
from copy import deepcopy
from pathlib import Path
from typing import Any

import pytest
from catalogschema import SCHEMA, SCHEMA_FILE, assert_valid_catalog, catalog_errors, error_paths
from conftest import (
    CORPUS,
    GIT_IDENTITY,
    REPO,
    corpus_cases,
    deployment_yaml,
    git_commit,
    git_init,
    invoke,
    make_config,
    needs_corpus,
    write,
)
from jsonschema import Draft202012Validator
from overlayrepo import make_overlay_repo
from test_hostile_site import hostile_site
from test_kustomize import root_overlays

from generator.config import load_config
from generator.generate import generate
from generator.model import Environment, Rendering
from generator.render import paths
from generator.render.catalog import LATEST_CHANGES, catalog_schema, status_of
from generator.sources.envrepos import UNREADABLE

# keys the code writes only sometimes, or (the last two) keys of features that land beside the
# schema, optional so that catalogs made before them validate too; every other key of the schema
# is one the code always writes, so it is required
OPTIONAL = {
    "workload.note",  # only for an object that is not a service
    "environment.earlier",  # the earlier build's data shown for an unreadable repo
    "deployment.part_of",  # the app.kubernetes.io/part-of label, for the Backstage export
}
# the keywords of 2020-12 that hold a subschema, a list of them, or a map of them
_ONE = ("items", "additionalProperties", "not", "contains", "if", "then", "else")
_LIST = ("anyOf", "oneOf", "allOf", "prefixItems")
_MAP = ("properties", "patternProperties", "$defs", "dependentSchemas")


def _subschemas(node: Any, where: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema in the schema, with its JSON pointer."""
    if not isinstance(node, dict):
        return
    yield where, node
    for key in _ONE:
        if isinstance(node.get(key), dict):
            yield from _subschemas(node[key], f"{where}/{key}")
    for key in _LIST:
        for index, item in enumerate(node.get(key, [])):
            yield from _subschemas(item, f"{where}/{key}/{index}")
    for key in _MAP:
        for name, item in node.get(key, {}).items():
            yield from _subschemas(item, f"{where}/{key}/{name}")


def _objects() -> dict[str, dict[str, Any]]:
    """The schema's object schemas: the top one as `catalog`, each of `$defs` by its name, any
    other by its JSON pointer."""
    found = {}
    for pointer, node in _subschemas(SCHEMA):
        types = node.get("type")
        if types == "object" or (isinstance(types, list) and "object" in types):
            defined = re.fullmatch(r"#/\$defs/([^/]+)", pointer)
            found["catalog" if pointer == "#" else defined[1] if defined else pointer] = node
    return found


# --- the schema itself --------------------------------------------------------------------------


def test_the_schema_is_valid_2020_12_with_a_versioned_id_like_the_other_formats() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert re.fullmatch(r"https://pipeline-docs\.example/schemas/catalog/v\d+\.schema\.json",
                        SCHEMA["$id"]), SCHEMA["$id"]  # fmt: skip
    # the project's own formats share one base for their ids
    for other in ("config", "environment", "bundle"):
        text = (REPO / "generator" / "formats" / f"{other}.schema.json").read_text("utf-8")
        assert json.loads(text)["$id"].startswith("https://pipeline-docs.example/schemas/")
    assert SCHEMA["title"] and SCHEMA["description"]


def test_the_schema_is_closed_and_every_property_is_described() -> None:
    objects = _objects()
    assert set(objects) == {
        "catalog", "environment", "deployment", "workload", "defined_in", "last_change", "change",
        "service", "team", "team_contact", "totals", "overlay", "earlier", "finding",
        "#/properties/findings", "#/$defs/team/properties/totals",
    }  # fmt: skip
    for pointer, node in _subschemas(SCHEMA):
        types = node.get("type")
        if types == "object" or (isinstance(types, list) and "object" in types):
            assert node.get("additionalProperties") is False, f"{pointer} is open"
        for name, prop in node.get("properties", {}).items():
            assert prop.get("description"), f"{pointer}/properties/{name} has no description"
            assert prop.get("type") or prop.get("$ref") or prop.get("anyOf") or prop.get("enum"), (
                f"{pointer}/properties/{name} has no type"
            )
    # what is not required is a key the code writes only sometimes, named above with its reason
    optional = {
        f"{name}.{key}"
        for name, node in objects.items()
        for key in node.get("properties", {})
        if key not in node.get("required", [])
    }
    assert optional == OPTIONAL
    for name, node in objects.items():
        assert set(node.get("required", [])) <= set(node.get("properties", {})), name


def test_the_schema_lists_every_status_and_the_latest_changes_bound() -> None:
    statuses = SCHEMA["$defs"]["environment"]["properties"]["status"]["enum"]
    made = {
        status_of(Environment("x", "r")),
        status_of(Environment("x", "r", status=UNREADABLE)),
        status_of(Environment("x", "r", renderings=(Rendering("o", "built-in", "a gap"),))),
        status_of(Environment("x", "r", renderings=(
            Rendering("o", "built-in", "not rendered by kustomize: it failed"),
        ))),
    }  # fmt: skip
    assert made == {"read", "unreadable", "incomplete", "not rendered by kustomize"}
    assert set(statuses) == made | {"from an earlier build"}
    latest = SCHEMA["$defs"]["environment"]["properties"]["latest_changes"]
    assert latest["maxItems"] == LATEST_CHANGES


# --- it can fail --------------------------------------------------------------------------------


def _first(document: dict[str, Any], *keys: str) -> Any:
    node: Any = document
    for key in keys:
        node = node[0] if isinstance(node, list) else node
        node = node[key]
    return node[0] if isinstance(node, list) else node


def _mutations(document: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    """Ways to break a valid catalog: name -> (the path the error must name, the document)."""
    cases: dict[str, tuple[str, Any]] = {}

    def case(name: str, path: str, change: Any) -> None:
        broken = deepcopy(document)
        change(broken)
        cases[name] = (path, broken)

    def extra(node: dict[str, Any]) -> None:
        node["surprise"] = 1

    case("top level", "$", extra)
    case("environment", "$.environments[0]", lambda d: extra(d["environments"][0]))
    case("environment totals", "$.environments[0].totals",
         lambda d: extra(d["environments"][0]["totals"]))  # fmt: skip
    case("change", "$.environments[0].latest_changes[0]",
         lambda d: extra(d["environments"][0]["latest_changes"][0]))  # fmt: skip
    case("team", "$.teams[0]", lambda d: extra(d["teams"][0]))
    case("team totals", "$.teams[0].totals", lambda d: d["teams"][0]["totals"].update({"?": {}}))
    first_env = next(iter(document["teams"][0]["totals"]))
    case("team totals entry", f"$.teams[0].totals.{first_env}",
         lambda d: extra(d["teams"][0]["totals"][first_env]))  # fmt: skip
    case("service", "$.services[0]", lambda d: extra(d["services"][0]))
    case("service team", "$.services[0].team", lambda d: extra(d["services"][0]["team"]))
    case("deployment", "$.services[0].deployments[0]",
         lambda d: extra(d["services"][0]["deployments"][0]))  # fmt: skip
    case("defined_in", "$.services[0].deployments[0].defined_in",
         lambda d: extra(_first(d, "services", "deployments", "defined_in")))  # fmt: skip
    case("workload", "$.services[0].deployments[0].workloads[0]",
         lambda d: extra(_first(d, "services", "deployments", "workloads")))  # fmt: skip
    case("last_change", "$.services[0].deployments[0].last_change",
         lambda d: extra(_first(d, "services", "deployments", "last_change")))  # fmt: skip
    case("history entry", "$.services[0].history[0]",
         lambda d: extra(d["services"][0]["history"][0]))  # fmt: skip
    case("findings", "$.findings", lambda d: extra(d["findings"]))
    case("overlay", "$.environments[0].overlays[0]",
         lambda d: d["environments"][0]["overlays"].append({"path": "o", "renderer": "built-in",
                                                            "problem": None, "x": 1}))  # fmt: skip
    case("earlier", "$.environments[0].earlier",
         lambda d: d["environments"][0].update(earlier={"read": "2026-12-01T10:00:00Z",
                                                        "commit": None, "reason": "gone", "x": 1}))  # fmt: skip
    # wrong types and values
    case("a number for a version", "$.services[0].deployments[0].version",
         lambda d: d["services"][0]["deployments"][0].update(version=1))  # fmt: skip
    case("a text for replicas", "$.services[0].deployments[0].replicas",
         lambda d: d["services"][0]["deployments"][0].update(replicas="2"))  # fmt: skip
    case("an empty text where null is written", "$.services[0].deployments[0].note",
         lambda d: d["services"][0]["deployments"][0].update(note=""))  # fmt: skip
    case("a missing key", "$.services[0]", lambda d: d["services"][0].pop("history"))
    case("an unknown status", "$.environments[0].status",
         lambda d: d["environments"][0].update(status="fine"))  # fmt: skip
    case("an unknown drift", "$.services[0].deployments[0].drift",
         lambda d: d["services"][0]["deployments"][0].update(drift="late"))  # fmt: skip
    case("a short commit id", "$.environments[0].commit",
         lambda d: d["environments"][0].update(commit="e460569"))  # fmt: skip
    case("a date that is none", "$.services[0].history[0].date",
         lambda d: d["services"][0]["history"][0].update(date="last Tuesday"))  # fmt: skip
    case("an earlier read not in UTC", "$.environments[0].earlier.read",
         lambda d: d["environments"][0].update(earlier={"read": "2026-12-01T10:00:00+02:00",
                                                        "commit": None, "reason": "gone"}))  # fmt: skip
    case("a negative count", "$.findings.error", lambda d: d["findings"].update(error=-1))
    case("too many latest changes", "$.environments[0].latest_changes",
         lambda d: d["environments"][0]["latest_changes"].extend(
             d["environments"][0]["latest_changes"] * LATEST_CHANGES))  # fmt: skip
    return cases


def test_a_catalog_with_an_extra_key_or_a_wrong_type_fails(sample_pages: dict[str, str]) -> None:
    document = json.loads(sample_pages[paths.CATALOG_JSON])
    assert_valid_catalog(document)
    cases = _mutations(document)
    assert len(cases) > 25
    for name, (path, broken) in cases.items():
        errors = catalog_errors(broken)
        assert errors, f"{name}: the broken catalog validates"
        assert path in error_paths(broken), (name, errors)


def test_honest_freshness_validates_before_and_after_it_lands(
    sample_pages: dict[str, str],
) -> None:
    """`earlier` is optional (catalogs made before it validate) and may be null or say when."""
    document = json.loads(sample_pages[paths.CATALOG_JSON])
    assert all("earlier" not in env for env in document["environments"]) or all(
        "earlier" in env for env in document["environments"]
    )
    env = document["environments"][0]
    env.pop("earlier", None)
    assert_valid_catalog(document)
    env["earlier"] = None
    assert_valid_catalog(document)
    env |= {"status": "from an earlier build", "earlier": {
        "read": "2026-12-01T10:00:00Z", "commit": env["commit"], "reason": "repo unreadable now",
    }}  # fmt: skip
    assert_valid_catalog(document)
    env["earlier"]["commit"] = None
    assert_valid_catalog(document)


# --- every test site's catalog.json -------------------------------------------------------------


def test_the_sample_catalog_validates_and_the_schema_is_published_beside_it(
    sample_pages: dict[str, str],
) -> None:
    document = json.loads(sample_pages[paths.CATALOG_JSON])
    assert_valid_catalog(document, "the sample's catalog.json")
    assert document["services"] and document["teams"] and document["environments"]
    assert paths.CATALOG_SCHEMA == "catalog.schema.json"
    assert paths.page_url(paths.CATALOG_SCHEMA) == "catalog.schema.json"
    assert sample_pages[paths.CATALOG_SCHEMA] == catalog_schema()
    assert catalog_schema() == SCHEMA_FILE.read_text(encoding="utf-8")


def test_catalog_format_json_validates(shared_sample: Path) -> None:
    done = invoke("catalog", "--config", str(shared_sample), "--format", "json")
    assert done.exit_code == 0, done.stderr
    assert_valid_catalog(json.loads(done.stdout), "catalog --format json")


def test_generate_out_writes_the_schema_as_the_package_holds_it(
    shared_sample: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    done = invoke("generate", "--config", str(shared_sample), "--out", str(out))
    assert done.exit_code == 0, done.stderr
    assert (out / "catalog.schema.json").read_bytes() == SCHEMA_FILE.read_bytes()
    assert_valid_catalog(json.loads((out / "catalog.json").read_text("utf-8")))


def test_build_publishes_the_schema_beside_catalog_json(
    built_sample_site: tuple[Any, Path],
) -> None:
    done, site = built_sample_site
    assert done.returncode == 0, done.stderr[-3000:]
    assert (site / "catalog.schema.json").read_bytes() == SCHEMA_FILE.read_bytes()
    assert_valid_catalog(json.loads((site / "catalog.json").read_text("utf-8")))


@pytest.mark.parametrize("layout", ["environment", "overlay"])
def test_a_synthetic_organisation_catalog_validates(tmp_path: Path, layout: str) -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    import org as made  # the benchmark's organisation generator

    sizes = made.Sizes(services=12, environments=3, commits=60, options=20, templates=2,
                       fragments=3)  # fmt: skip
    org = made.make_org(tmp_path / "org", sizes, layout)
    document = json.loads(generate(load_config(org.config))[paths.CATALOG_JSON])
    assert_valid_catalog(document, f"the {layout} organisation's catalog.json")
    assert len(document["services"]) == 12
    assert any(s["history"] for s in document["services"])


def test_the_overlay_layout_catalog_validates(tmp_path: Path) -> None:
    """Overlays with tags in images:, patches and components, history, an unreadable repo and a
    folder that is no git repo: the nulls and statuses of every shape."""
    envs = ("dev", "staging", "prod")
    repo = make_overlay_repo(tmp_path / "repo", environments=envs, services=4, commits=40, seed=3)
    write(tmp_path / "plain" / "web.yaml", deployment_yaml("web", "registry.example/web:1.0.0"))
    config = make_config(tmp_path, kustomize="builtin", environments=[
        *({"name": env, "repo": "repo", "path": repo.overlays[env]} for env in envs),
        {"name": "gone", "repo": "repo", "ref": "no-such-branch"},
        {"name": "plain", "repo": "plain"},
    ])  # fmt: skip
    document = json.loads(generate(load_config(config))[paths.CATALOG_JSON])
    assert_valid_catalog(document, "the overlay layout's catalog.json")
    by_name = {e["name"]: e for e in document["environments"]}
    assert by_name["gone"]["status"] == "unreadable"
    assert by_name["plain"]["commit"] is None and by_name["plain"]["history"]
    assert any(e["overlays"] for e in document["environments"])
    assert any(d["version_file"] for s in document["services"] for d in s["deployments"])


def test_the_hostile_site_catalog_validates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)
    config = hostile_site(tmp_path / "hostile")
    document = json.loads(generate(load_config(config))[paths.CATALOG_JSON])
    assert_valid_catalog(document, "the hostile site's catalog.json")
    assert document["services"]


CORPUS_REPOS = corpus_cases(
    lambda: sorted(p.name for p in (CORPUS / "envrepos").iterdir() if p.is_dir())
)


@needs_corpus
@pytest.mark.parametrize("name", CORPUS_REPOS)
def test_a_corpus_repo_catalog_validates(tmp_path: Path, name: str) -> None:
    """The repo read whole as a folder, and each root overlay of it as an environment of a git
    repo (with the history of its one commit)."""
    repo = git_init(tmp_path / "repo")
    shutil.copytree(CORPUS / "envrepos" / name, repo, dirs_exist_ok=True)
    git_commit(repo, "Import the repo (#1)")
    overlays = [{
        "name": re.sub(r"[^A-Za-z0-9_.-]", "-", o).strip("-.") or "root", "repo": "repo", "path": o,
    } for o in root_overlays(repo)]  # fmt: skip
    whole = {"name": "whole", "repo": str((CORPUS / "envrepos" / name).resolve())}
    config = make_config(tmp_path, environments=[whole, *overlays])
    document = json.loads(generate(load_config(config))[paths.CATALOG_JSON])
    assert_valid_catalog(document, f"{name}'s catalog.json")
    assert document["services"], name
