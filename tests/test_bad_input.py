"""A pipeline set up by someone else, then broken in every way the design lists: each break is a
finding with its file and line, the rest of the site is still written, and nothing crashes."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from conftest import (
    CORPUS,
    deployment_yaml,
    git,
    git_commit,
    git_init,
    make_config,
    needs_corpus,
    run_cli,
    write,
)

from generator.bundlepack import pack_bundle
from generator.collect import collect
from generator.config import load_config
from generator.model import Model, Severity

ARTIFACTS = "https://artifacts.corp.test/repository/manifests/"


def bundle_url(service: str, version: str) -> str:
    return f"{ARTIFACTS}{service}/{version}/{service}-{version}.tar.gz"


@dataclass
class Setup:
    root: Path
    config: Path
    live_commits: list[str]


def _publish(
    root: Path, service: str, version: str, facts: str | None, labels: dict[str, str]
) -> None:
    """Pack a bundle source with pack_bundle and put it in the mirror folder."""
    source = root / "bundle-sources" / service / version
    if facts is not None:
        write(source / "bundle.yml", facts)
    write(
        source / "k8s" / "deployment.yaml",
        deployment_yaml(service, f"registry.corp.test/{service}:{version}", labels),
    )
    target = root / "artifact-mirror" / service / version / f"{service}-{version}.tar.gz"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(pack_bundle(source))


def _environment_yml(name: str, urls: list[str]) -> str:
    return yaml.safe_dump({"name": name, "bundles": urls, "manifests": "raw/"}, sort_keys=False)


def make_setup(root: Path) -> Setup:
    """Own schema folder, two env repos (a folder and a git repo), own mirror and owners file."""
    write(
        root / "contracts" / "app.schema.yaml",
        """
        $schema: https://json-schema.org/draft/2020-12/schema
        title: App config
        description: The app.yaml of every service.
        type: object
        properties:
          replicas:
            type: integer
            description: How many pods run.
            default: 2
        """,
    )
    write(
        root / "people.yml",
        """
        teams:
          squad-a: {name: Squad A, contact: a@corp.test}
          squad-b: {name: Squad B, contact: b@corp.test}
        services:
          gamma: squad-a
        """,
    )
    _publish(root, "alpha", "1.9", "service: alpha\nversion: 1.9\nowner: squad-a\n", {})
    _publish(root, "alpha", "1.10", "service: alpha\nversion: 1.10\nowner: squad-a\n", {})
    _publish(root, "beta", "2.0.0", "service: beta\nversion: 2.0.0\n", {"team": "squad-b"})
    _publish(root, "gamma", "0.3.1", "service: gamma\nversion: 0.3.1\n", {})

    qa = root / "environments" / "qa"
    write(
        qa / "environment.yml",
        _environment_yml(
            "qa",
            [
                bundle_url("alpha", "1.10"),
                bundle_url("beta", "2.0.0"),
                bundle_url("gamma", "0.3.1"),
            ],
        ),
    )
    write(qa / "raw" / "cache.yaml", deployment_yaml("cache", "redis:7.2.4", {"team": "squad-b"}))

    live = git_init(root / "environments" / "live")
    write(live / "environment.yml", _environment_yml("live", [bundle_url("alpha", "1.9")]))
    (live / "raw").mkdir()
    first = git_commit(live, "Create live\n\nSee merge request ops/live!1")
    write(
        live / "environment.yml",
        _environment_yml("live", [bundle_url("alpha", "1.10"), bundle_url("beta", "2.0.0")]),
    )
    second = git_commit(live, "Deploy alpha 1.10 and beta 2.0.0\n\nSee merge request ops/live!2")
    # an uncommitted change: with `ref` set, the repo is read at the ref, not as on disk
    write(live / "environment.yml", _environment_yml("live", [bundle_url("alpha", "9.9.9")]))

    config = make_config(
        root,
        name="docs-config.yml",
        title="Corp delivery",
        schemas="contracts/",
        environments=[
            {"name": "qa", "repo": "environments/qa"},
            {"name": "live", "repo": "environments/live", "ref": "main"},
        ],
        bundles={"mirrors": {ARTIFACTS: "artifact-mirror/"}, "cache": "cache/bundles"},
        owners="people.yml",
    )
    return Setup(root, config, [first, second])


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    return make_setup(tmp_path / "corp")


def _catalog(out: Path) -> dict:
    return json.loads((out / "catalog.json").read_text(encoding="utf-8"))


def test_every_bundle_deployed_anywhere_is_in_the_catalog_with_owner_and_version(
    setup: Setup, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    done = run_cli("generate", "--config", str(setup.config), "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    catalog = _catalog(out)
    services = {s["name"]: s for s in catalog["services"]}
    versions = {
        (name, d["environment"]): d["version"]
        for name, s in services.items()
        for d in s["deployments"]
    }
    assert versions == {
        ("alpha", "qa"): "1.10",  # the version as written, not the float 1.1
        ("alpha", "live"): "1.10",
        ("beta", "qa"): "2.0.0",
        ("beta", "live"): "2.0.0",
        ("gamma", "qa"): "0.3.1",
        ("cache", "qa"): "7.2.4",
    }
    owners = {name: (s["owner"], s["owner_source"]) for name, s in services.items()}
    assert owners == {
        "alpha": ("squad-a", "bundle.yml"),
        "beta": ("squad-b", "label team"),
        "gamma": ("squad-a", "owners.yml"),
        "cache": ("squad-b", "label team"),
    }
    assert services["alpha"]["team"]["contact"] == "a@corp.test"
    live = next(e for e in catalog["environments"] if e["name"] == "live")
    assert live["commit"] == setup.live_commits[-1]
    assert catalog["findings"]["error"] == 0
    for page in ("index.md", "reference/schemas/app.md", "catalog/environments/live.md"):
        assert (out / page).is_file(), page


def test_the_clean_setup_passes_check(setup: Setup) -> None:
    model = collect(load_config(setup.config))
    # its bare workloads (no resources, probes or securityContext) are risks, not bad input
    risks = {f for f in model.findings if f.rule.startswith("risk/")}
    assert [f for f in model.findings if f.severity is not Severity.INFO and f not in risks] == []


# --- the bad-input acceptance -------------------------------------------------------------------


@dataclass
class Broken:
    setup: Setup
    out: Path
    generate: subprocess.CompletedProcess[str]
    check: subprocess.CompletedProcess[str]
    findings: list[dict]


def _line_of(path: Path, needle: str) -> int:
    return next(n for n, t in enumerate(path.read_text().splitlines(), 1) if needle in t)


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Broken:
    """The setup above, with one of each bad input added, run through the command line."""
    root = tmp_path_factory.mktemp("broken")
    setup = make_setup(root / "corp")
    corp = setup.root
    # 1. a malformed environment.yml
    write(
        corp / "environments" / "mangled" / "environment.yml",
        f"""
        name: mangled
        bundles:
          - url: {bundle_url("alpha", "1.10")}
            sha256: [not closed
        """,
    )
    # 2. bundle URLs that lead nowhere, 3. a bundle without bundle.yml
    _publish(corp, "delta", "4.0.0", None, {})
    write(
        corp / "environments" / "odd" / "environment.yml",
        f"""
        name: odd
        bundles:
          - ftp://files.corp.test/epsilon-1.0.0.tar.gz
          - {bundle_url("zeta", "5.5.5")}
          - {bundle_url("delta", "4.0.0")}
        """,
    )
    # 4. a schema that is neither JSON nor YAML
    write(corp / "contracts" / "broken.json", '{\n  "type": "object",\n  "properties": {,\n}\n')
    write(
        corp / "contracts" / "mangled.schema.yaml",
        "type: object\nproperties:\n  a: {type: string\n",
    )
    config = yaml.safe_load(setup.config.read_text())
    config["environments"] += [
        {"name": "mangled", "repo": "environments/mangled"},
        {"name": "odd", "repo": "environments/odd"},
    ]
    setup.config.write_text(yaml.safe_dump(config, sort_keys=False))

    out = root / "out"
    generate = run_cli("generate", "--config", str(setup.config), "--out", str(out), cwd=root)
    check = run_cli("check", "--config", str(setup.config), "--format", "json", cwd=root)
    findings = json.loads(check.stdout)["findings"]
    return Broken(setup, out, generate, check, findings)


def _one(broken: Broken, rule: str, file: str) -> dict:
    found = [f for f in broken.findings if f["rule"] == rule and f["file"] == file]
    assert len(found) == 1, broken.findings
    return found[0]


def test_nothing_crashes_and_no_traceback_is_printed(broken: Broken) -> None:
    assert broken.generate.returncode == 0
    assert "Traceback" not in broken.generate.stderr
    assert broken.check.returncode == 1  # errors reach the default --fail-on
    assert "Traceback" not in broken.check.stderr


def test_a_malformed_environment_yml_is_a_finding_with_its_line(broken: Broken) -> None:
    finding = _one(broken, "yaml/parse-error", "mangled:environment.yml")
    assert finding["severity"] == "error"
    assert finding["line"] in (4, 5)


def test_a_bundle_url_neither_mirrored_nor_http_is_a_finding_with_its_line(broken: Broken) -> None:
    file = "environments/odd/environment.yml"
    [finding] = [f for f in broken.findings if f["rule"] == "bundle/unknown-url"]
    assert finding["file"] == "odd:environment.yml"  # a file of an env repo: <environment>:<path>
    assert finding["line"] == _line_of(broken.setup.root / file, "ftp://")
    assert "ftp://files.corp.test/epsilon-1.0.0.tar.gz" in finding["message"]


def test_a_mirrored_url_whose_file_is_missing_is_a_finding_with_its_line(broken: Broken) -> None:
    file = "environments/odd/environment.yml"
    finding = _one(broken, "bundle/not-found", "odd:environment.yml")
    assert finding["line"] == _line_of(broken.setup.root / file, "zeta")
    assert "zeta-5.5.5.tar.gz" in finding["message"]


def test_a_bundle_without_bundle_yml_is_a_finding_and_its_facts_are_guessed(broken: Broken) -> None:
    file = "environments/odd/environment.yml"
    finding = _one(broken, "bundle/missing-bundle-yml", "odd:environment.yml")
    assert finding["line"] == _line_of(broken.setup.root / file, "delta")
    delta = next(s for s in _catalog(broken.out)["services"] if s["name"] == "delta")
    assert [(d["environment"], d["version"]) for d in delta["deployments"]] == [("odd", "4.0.0")]


def test_bundles_that_cannot_be_read_are_still_in_the_catalog(broken: Broken) -> None:
    services = {s["name"]: s for s in _catalog(broken.out)["services"]}
    for name, version in (("epsilon", "1.0.0"), ("zeta", "5.5.5")):
        [deployment] = services[name]["deployments"]
        assert (deployment["environment"], deployment["version"]) == ("odd", version)
        assert deployment["problem"] == "unreadable"


def test_a_schema_that_does_not_parse_is_a_finding_with_its_line(broken: Broken) -> None:
    json_finding = _one(broken, "yaml/parse-error", "contracts/broken.json")
    assert json_finding["line"] == 3
    yaml_finding = _one(broken, "yaml/parse-error", "contracts/mangled.schema.yaml")
    assert yaml_finding["line"] in (3, 4)


def test_every_finding_has_a_file_and_the_line_where_there_is_one(broken: Broken) -> None:
    for finding in broken.findings:
        assert finding["file"], finding
        if finding["rule"] in ("yaml/parse-error", "bundle/unknown-url", "bundle/not-found"):
            assert finding["line"] is not None, finding


def test_generate_still_writes_the_other_pages(broken: Broken) -> None:
    for page in (
        "index.md",
        "reference/schemas/app.md",
        "catalog/index.md",
        "catalog/environments/qa.md",
        "catalog/environments/live.md",
        "catalog/environments/mangled.md",
        "catalog/services/alpha.md",
        "health.md",
    ):
        assert (broken.out / page).is_file(), page
    assert not (broken.out / "reference" / "schemas" / "broken.md").exists()
    services = {s["name"]: s for s in _catalog(broken.out)["services"]}
    assert {(d["environment"], d["version"]) for d in services["alpha"]["deployments"]} == {
        ("qa", "1.10"),
        ("live", "1.10"),
    }
    # health.md has the totals, a page per rule area under health/ the findings
    areas = sorted((broken.out / "health").glob("*.md"))
    assert areas and "health/" in (broken.out / "health.md").read_text(encoding="utf-8")
    assert any("contracts/broken.json" in page.read_text(encoding="utf-8") for page in areas)


def test_the_env_repo_is_read_at_its_ref_not_as_on_disk(broken: Broken) -> None:
    services = {s["name"] for s in _catalog(broken.out)["services"]}
    assert "alpha" in services
    live = broken.setup.root / "environments" / "live"
    assert "9.9.9" in (live / "environment.yml").read_text()
    assert git(live, "status", "--porcelain").strip() == "M environment.yml"
    versions = {
        d["version"]
        for s in _catalog(broken.out)["services"]
        for d in s["deployments"]
        if d["environment"] == "live"
    }
    assert "9.9.9" not in versions


# --- env repos that are not ours ----------------------------------------------------------------


def test_a_helm_template_is_skipped_with_an_info_finding(tmp_path: Path) -> None:
    repo = tmp_path / "charts-repo"
    write(repo / "Chart.yaml", "apiVersion: v2\nname: web\nversion: 0.1.0\n")
    write(repo / "values.yaml", "x: 1\nimage: nginx:1.27.0\n")
    write(
        repo / "templates" / "deployment.yaml",
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {{ .Release.Name }}
        spec:
          replicas: {{ .Values.x }}
        """,
    )
    write(
        repo / "plain" / "api.yaml", deployment_yaml("api", "corp/api:3.1.4", {"owner": "team-api"})
    )
    config = make_config(tmp_path, environments=[{"name": "dev", "repo": "charts-repo"}])
    model = collect(load_config(config))
    skipped = [f for f in model.findings if f.rule == "envrepo/skipped-template"]
    assert [(f.severity, f.file) for f in skipped] == [
        (Severity.INFO, "dev:templates/deployment.yaml")
    ]
    assert [f for f in model.findings if f.severity is Severity.ERROR] == []
    [deployment] = model.environments[0].deployments
    assert (deployment.service, deployment.version, deployment.owner) == (
        "api",
        "3.1.4",
        "team-api",
    )


@needs_corpus
def test_a_real_world_repo_with_a_helm_chart_and_plain_manifests(tmp_path: Path) -> None:
    demo = (CORPUS / "envrepos" / "GoogleCloudPlatform__microservices-demo").resolve()
    config = make_config(tmp_path, environments=[{"name": "demo", "repo": str(demo)}])
    model: Model = collect(load_config(config))
    skipped = {f.file for f in model.findings if f.rule == "envrepo/skipped-template"}
    assert "demo:helm-chart/templates/frontend.yaml" in skipped
    assert all(file.startswith("demo:helm-chart/templates/") for file in skipped)
    services = {d.service: d for d in model.environments[0].deployments}
    for name in ("frontend", "cartservice", "checkoutservice", "paymentservice"):
        assert name in services
        assert services[name].kinds == ("Deployment",)
    # nobody labelled an owner there: that is a finding for each service, never a silent blank
    unowned = {f.message for f in model.findings if f.rule == "catalog/missing-owner"}
    assert any("frontend" in m for m in unowned)
