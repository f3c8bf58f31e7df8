"""`pipeline-docs init`: given a pipeline's folders (or git URLs), a commented config, mkdocs.yml,
owners.yml and a starter guide come out, and `build` succeeds right after."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from conftest import (
    CORPUS,
    REPO,
    deployment_yaml,
    git_commit,
    git_init,
    invoke,
    needs_corpus,
    run_cli,
    write,
)

from generator.config import load_config
from generator.scaffold.promotion import guess_order, stage_rank
from generator.scaffold.schemas import is_case_file, is_schema, schema_folders
from generator.scaffold.walk import open_source

CONFIG_SCHEMA = REPO / "generator" / "formats" / "config.schema.json"


def copy_tree(source: Path, dest: Path) -> Path:
    """A copy of a corpus folder that the test may write to (the corpus is read-only)."""
    shutil.copytree(source, dest)
    for folder, _, files in os.walk(dest):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)
    return dest


def as_git_repo(folder: Path) -> Path:
    git_init(folder)
    git_commit(folder, "as found")
    return folder


def config_of(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((folder / "pipeline-docs.yml").read_text("utf-8"))
    return data


def environments(folder: Path) -> dict[str, dict[str, Any]]:
    return {env["name"]: env for env in config_of(folder)["environments"]}


def kustomize_repo(folder: Path, overlays: list[str], labels: dict[str, str] | None = None) -> Path:
    """An env repo of a base and one overlay per name, committed."""
    write(folder / "base" / "kustomization.yaml", "resources: [deployment.yaml]\n")
    write(folder / "base" / "deployment.yaml",
          deployment_yaml("shop", "registry.example.com/shop:1.0.0", labels))  # fmt: skip
    for name in overlays:
        write(folder / "overlays" / name / "kustomization.yaml", """
            resources: [../../base]
            images:
              - name: registry.example.com/shop
                newTag: 1.2.0
            """)  # fmt: skip
    return as_git_repo(folder)


# --- the acceptance test: the developers' corpus, then build -------------------------------


@pytest.fixture(scope="module")
def corpus_project(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    """An empty folder given copies of the corpus, `init` run on it, then `build` (once)."""
    root = tmp_path_factory.mktemp("init") / "acme"
    envrepos, templates, schemas = CORPUS / "envrepos", CORPUS / "templates", CORPUS / "schemas"
    as_git_repo(copy_tree(envrepos / "stefanprodan__podinfo", root / "podinfo"))
    as_git_repo(copy_tree(envrepos / "fluxcd__flux2-kustomize-helm-example", root / "fleet"))
    for kind in ("gitlab", "github-actions"):
        for project in sorted((templates / kind).iterdir()):
            copy_tree(project, root / "ci" / kind / project.name)
    copy_tree(schemas / "schemastore", root / "contracts" / "schemastore")
    copy_tree(schemas / "json-schema-test-suite", root / "contracts" / "json-schema-test-suite")
    init = run_cli("init", str(root), "--out", str(root), cwd=root)
    build = run_cli("build", "--config", str(root / "pipeline-docs.yml"), cwd=root)
    return root, init, build


@needs_corpus
def test_init_then_build_on_the_corpus_gives_catalog_reference_and_guide(
    corpus_project: tuple[Path, Any, Any],
) -> None:
    root, init, build = corpus_project
    assert init.returncode == 0, init.stderr
    assert build.returncode == 0, build.stderr[-5000:]
    site = root / "site"
    assert "podinfo" in (site / "catalog" / "index.html").read_text("utf-8")
    assert (site / "reference" / "schemas" / "cargo" / "index.html").is_file()
    assert (site / "reference" / "templates" / "index.html").is_file()
    guide = (site / "guides" / "onboarding" / "index.html").read_text("utf-8")
    assert "<code>dev</code>" in guide  # the environments in order, quoted from the data
    assert "<code>fleet-production</code>" in guide
    assert "Traceback" not in init.stderr + build.stderr


@needs_corpus
def test_init_names_podinfos_overlays_in_promotion_order(
    corpus_project: tuple[Path, Any, Any],
) -> None:
    root, init, _ = corpus_project
    assert init.returncode == 0, init.stderr
    podinfo = [e for e in config_of(root)["environments"] if e["repo"] == "podinfo"]
    overlays = [e for e in podinfo if e["path"].startswith("deploy/overlays/")]
    assert [e["path"] for e in overlays] == [
        "deploy/overlays/dev", "deploy/overlays/staging", "deploy/overlays/production",
    ]  # fmt: skip
    dev, staging, production = overlays
    assert dev["promotes_from"] == []
    assert staging["promotes_from"] == [dev["name"]]
    assert production["promotes_from"] == [staging["name"]]
    # the longest chain keeps its names; the other repo's clashing ones are prefixed
    assert [e["name"] for e in overlays] == ["dev", "staging", "production"]
    assert "production" not in production  # its name says so already
    fleet = {e["path"]: e for e in config_of(root)["environments"] if e["repo"] == "fleet"}
    assert set(fleet) == {"clusters/staging", "clusters/production"}  # Flux clusters
    assert fleet["clusters/production"]["promotes_from"] == ["fleet-staging"]
    assert fleet["clusters/production"]["production"] is True  # `fleet-production` is
    # an overlay without a stage word is a root of its own, and said to be a guess
    guessed = next(e for e in podinfo if e["path"] == "kustomize")
    assert guessed["promotes_from"] == []
    assert f"{guessed['name']}: its place in the promotion order is a guess" in init.stdout


@needs_corpus
def test_init_takes_schemastore_and_no_file_of_the_test_suite(
    corpus_project: tuple[Path, Any, Any],
) -> None:
    root, init, _ = corpus_project
    config = load_config(root / "pipeline-docs.yml")
    assert config.schemas is not None
    assert config.schemas.resolve() == (root / "contracts" / "schemastore").resolve()
    assert "json-schema-test-suite" not in json.dumps(config_of(root))  # but in a comment:
    assert "# Left out: contracts/json-schema-test-suite/ is a JSON-Schema test suite" in (
        root / "pipeline-docs.yml"
    ).read_text("utf-8")
    suite = {p.stem for p in (CORPUS / "schemas" / "json-schema-test-suite").rglob("*.json")}
    pages = {p.name for p in (root / "site" / "reference" / "schemas").iterdir()}
    assert not suite & pages - {p.stem for p in (CORPUS / "schemas" / "schemastore").iterdir()}
    assert "schemas: contracts/schemastore/ (44 schemas)" in init.stdout
    assert "left out: contracts/json-schema-test-suite/ (a JSON-Schema test suite" in init.stdout


@needs_corpus
def test_the_config_init_writes_validates_explains_and_lowers_error_rules(
    corpus_project: tuple[Path, Any, Any],
) -> None:
    root, init, _ = corpus_project
    text = (root / "pipeline-docs.yml").read_text("utf-8")
    data = config_of(root)
    jsonschema.validate(data, json.loads(CONFIG_SCHEMA.read_text("utf-8")))
    lines = text.splitlines()
    for index, line in enumerate(lines):  # every environment has its comment above it
        if line.startswith("  - name:"):
            assert lines[index - 1].lstrip().startswith("#"), line
    checks = data["checks"]
    assert checks["schema/missing-description"] == "warning"
    assert set(checks.values()) == {"warning"}  # lowered, never off
    line = next(x for x in lines if x.startswith("  schema/missing-description:"))
    assert "at error on the first run: fix them, then remove this line" in line
    assert "schema/missing-description:" in init.stdout.split("what to fix first:")[1]
    templates = data["templates"]
    assert "ci/gitlab/Kngfisher__OpenTofu/" in templates
    assert "ci/github-actions/actions__reusable-workflows/" in templates
    nav = yaml.safe_load((root / "mkdocs.yml").read_text("utf-8"))["nav"]
    assert {"Guides": ["guides/onboarding.md"]} in nav


# --- git URLs, refusals, unreadable paths --------------------------------------------------


def test_a_git_url_is_cloned_into_the_cache_and_named_as_the_repo(tmp_path: Path) -> None:
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"}
    write(tmp_path / "env-shop" / "schemas" / "service.schema.json", json.dumps(schema))
    repo = kustomize_repo(tmp_path / "env-shop", ["dev", "prod"], {"owner": "team-shop"})
    url = repo.as_uri()
    out = tmp_path / "project"
    result = invoke("init", url, "--out", str(out))
    assert result.exit_code == 0, result.stderr
    envs = environments(out)
    assert {e["repo"] for e in envs.values()} == {url}
    assert envs["dev"]["path"] == "overlays/dev" and envs["dev"]["promotes_from"] == []
    assert envs["prod"]["promotes_from"] == ["dev"]
    assert any((out / ".cache" / "repos").iterdir())
    assert "dev <- nothing" in result.stdout and "prod <- dev" in result.stdout
    # its schemas are read from the tree exported into the cache, and the comment says so
    assert config_of(out)["schemas"].startswith(".cache/init/trees/")
    assert f"exported from {url}" in (out / "pipeline-docs.yml").read_text("utf-8")
    assert yaml.safe_load((out / "owners.yml").read_text("utf-8"))["teams"] == {
        "team-shop": {"name": "team-shop"}
    }


def test_init_refuses_to_overwrite_a_file_unless_forced(tmp_path: Path) -> None:
    kustomize_repo(tmp_path / "envs", ["dev"])
    (tmp_path / "pipeline-docs.yml").write_text("title: mine\n", encoding="utf-8")
    refused = invoke("init", str(tmp_path / "envs"), "--out", str(tmp_path))
    assert refused.exit_code == 2
    assert "pipeline-docs.yml already exist" in refused.stderr
    assert "--force" in refused.stderr
    assert (tmp_path / "pipeline-docs.yml").read_text("utf-8") == "title: mine\n"
    assert not (tmp_path / "mkdocs.yml").exists()
    forced = invoke("init", str(tmp_path / "envs"), "--out", str(tmp_path), "--force")
    assert forced.exit_code == 0, forced.stderr
    assert config_of(tmp_path)["environments"][0]["name"] == "dev"


def test_without_arguments_init_looks_at_and_writes_into_the_current_folder(
    tmp_path: Path,
) -> None:
    kustomize_repo(tmp_path / "envs", ["dev", "qa"])
    done = run_cli("init", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert [e["name"] for e in config_of(tmp_path)["environments"]] == ["dev", "qa"]
    assert config_of(tmp_path)["environments"][0]["repo"] == "envs"
    for name in ("mkdocs.yml", "owners.yml", "docs/gen_pages.py", "docs/guides/onboarding.md"):
        assert (tmp_path / name).is_file(), name


def test_a_link_out_of_the_folder_given_is_not_followed(tmp_path: Path) -> None:
    kustomize_repo(tmp_path / "elsewhere", ["prod"])
    given = tmp_path / "given"
    kustomize_repo(given / "envs", ["dev"])
    (given / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    result = invoke("init", str(given), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.stderr
    assert [e["name"] for e in config_of(tmp_path / "out")["environments"]] == ["dev"]


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("missing-folder", "missing-folder does not exist"),
        ("a-file.txt", "a-file.txt is not a folder"),
        ("file:///nowhere/at/all.git", "file:///nowhere/at/all.git cannot be cloned"),
    ],
)
def test_a_path_or_url_init_cannot_read_exits_2_saying_so(
    tmp_path: Path, given: str, said: str
) -> None:
    (tmp_path / "a-file.txt").write_text("hello\n", encoding="utf-8")
    target = given if "://" in given else str(tmp_path / given)
    done = run_cli("init", target, "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 2
    assert said in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "out" / "pipeline-docs.yml").exists()


# --- owners --------------------------------------------------------------------------------


def test_owners_come_from_labels_and_codeowners_and_build_succeeds(tmp_path: Path) -> None:
    labelled = tmp_path / "env-dev"
    write(labelled / "apps" / "shop.yaml",
          deployment_yaml("shop", "registry.example.com/shop:1.0.0", {"team": "team-shop"}))  # fmt: skip
    write(
        labelled / "apps" / "cart.yaml", deployment_yaml("cart", "registry.example.com/cart:2.0.0")
    )
    write(labelled / ".github" / "CODEOWNERS", "# who reviews\n/apps/cart.yaml @acme/checkout\n")
    as_git_repo(labelled)
    unowned = tmp_path / "env-prod"
    write(
        unowned / "apps" / "lonely.yaml", deployment_yaml("lonely", "registry.example.com/l:1.0.0")
    )
    as_git_repo(unowned)
    result = invoke("init", str(tmp_path), "--out", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    owners = yaml.safe_load((tmp_path / "owners.yml").read_text("utf-8"))
    assert set(owners["teams"]) == {"team-shop", "@acme/checkout"}
    assert owners["teams"]["@acme/checkout"]["name"] == "checkout"
    assert owners["services"] == {}
    assert "#   lonely: team-id" in (tmp_path / "owners.yml").read_text("utf-8")
    assert "teams: @acme/checkout, team-shop" in result.stdout
    assert "owners not found for 1 services (lonely)" in result.stdout
    envs = environments(tmp_path)
    assert list(envs) == ["dev", "prod"]  # env-dev and env-prod, one environment each
    assert envs["prod"]["promotes_from"] == ["dev"]
    assert config_of(tmp_path)["checks"] == {"catalog/missing-owner": "warning"}
    build = run_cli("build", "--config", str(tmp_path / "pipeline-docs.yml"), cwd=tmp_path)
    assert build.returncode == 0, build.stderr[-5000:]
    team_page = tmp_path / "site" / "catalog" / "teams" / "team-shop" / "index.html"
    assert "shop" in team_page.read_text("utf-8")
    guide = (tmp_path / "site" / "guides" / "onboarding" / "index.html").read_text("utf-8")
    assert "<code>dev</code> → <code>prod</code>" in guide


# --- the promotion order, guessed from names ------------------------------------------------


def test_stage_words_are_read_from_the_parts_of_a_name() -> None:
    assert [stage_rank(n) for n in ("dev", "shop-develop", "qa-eu", "int", "pre-prod")] == [
        0, 0, 1, 1, 2,
    ]  # fmt: skip
    assert [stage_rank(n) for n in ("uat", "prod-us", "production", "products", "sandbox")] == [
        2, 3, 3, None, None,
    ]  # fmt: skip


def test_unknown_names_keep_their_order_as_roots_and_same_stages_share_upstreams() -> None:
    bases = ["sandbox", "prod-us", "qa", "dev", "prod-eu", "demo"]
    placed = guess_order(bases, ["repo"] * len(bases))
    order = [bases[p.index] for p in placed]
    assert order == ["dev", "qa", "prod-us", "prod-eu", "sandbox", "demo"]
    ups = {bases[p.index]: [bases[i] for i in p.promotes_from] for p in placed}
    assert ups == {"dev": [], "qa": ["dev"], "prod-us": ["qa"], "prod-eu": ["qa"],
                   "sandbox": [], "demo": []}  # fmt: skip
    assert [bases[p.index] for p in placed if p.guessed] == ["sandbox", "demo"]


def test_init_says_which_places_in_the_order_are_guesses(tmp_path: Path) -> None:
    kustomize_repo(tmp_path / "shop", ["blue", "staging", "dev", "products"])
    result = invoke("init", str(tmp_path / "shop"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.stderr
    envs = environments(tmp_path / "out")
    assert list(envs) == ["dev", "staging", "blue", "products"]
    assert envs["staging"]["promotes_from"] == ["dev"]
    assert envs["blue"]["promotes_from"] == [] and envs["products"]["promotes_from"] == []
    assert envs["products"]["production"] is False  # `prod...`, but no production stage
    text = (tmp_path / "out" / "pipeline-docs.yml").read_text("utf-8")
    assert "# GUESSED: 'blue' holds no stage word" in text
    fixes = result.stdout.split("what to fix first:")[1]
    assert "blue: its place in the promotion order is a guess" in fixes
    assert "products: its place in the promotion order is a guess" in fixes
    assert "dev:" not in fixes


# --- schemas: only folders of schemas --------------------------------------------------------


def test_a_test_suite_case_file_is_no_schema() -> None:
    case = [{"description": "minimum", "schema": {"minimum": 1}, "tests": []}]
    assert is_case_file(case) and not is_schema(case)
    assert is_schema({"$schema": "https://json-schema.org/draft/2020-12/schema"})
    assert is_schema({"type": "object", "properties": {"a": {"type": "string"}}})
    assert is_schema({"$ref": "https://example.com/other.json"})
    assert not is_schema({"service": "shop", "deploy": {"replicas": 2}})  # an instance


def test_the_folder_of_schemas_is_taken_and_the_others_are_said(tmp_path: Path) -> None:
    schema = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}
    for name in ("service", "environment", "bundle"):
        write(tmp_path / "schemas" / f"{name}.schema.json", json.dumps(schema))
    write(tmp_path / "vendor" / "extra.json", json.dumps(schema))
    write(tmp_path / "examples" / "one.schema.json", json.dumps(schema))
    write(tmp_path / "examples" / "service.json", json.dumps({"service": "shop"}))  # no schema
    suite = tmp_path / "suite"
    write(suite / "tests" / "draft7" / "minimum.json", json.dumps([
        {"description": "m", "schema": {"minimum": 1}, "tests": [{"data": 2, "valid": True}]}
    ]))  # fmt: skip
    write(suite / "remotes" / "integer.json", json.dumps({**schema, "type": "integer"}))
    found, suites = schema_folders(open_source(str(tmp_path), tmp_path / ".cache"))
    assert [(f.folder, f.count) for f in found] == [("schemas", 3), ("vendor", 1)]
    assert suites == ["suite"]  # its remotes/ are schemas, but fixtures of its cases
    result = invoke("init", str(tmp_path), "--out", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    assert config_of(tmp_path)["schemas"] == "schemas/"
    assert "also found, not used: " in result.stdout and "vendor/ (1)" in result.stdout
    config = (tmp_path / "pipeline-docs.yml").read_text("utf-8")
    assert "# Schemas were found in vendor/ too (1)" in config
    assert "# Left out: suite/ is a JSON-Schema test suite" in config
    assert "left out: suite/ (a JSON-Schema test suite" in result.stdout
