"""History of overlay repos in the catalog's terms: every row names a catalog service, its from
and to are what rendering each commit gives (tags in patch files, `images:` and components),
replica changes are rows, and a return to an earlier version is a rollback."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import git, invoke, make_config, write
from overlayrepo import OverlayRepo, make_overlay_repo

from generator.collect import collect
from generator.config import load_config
from generator.generate import generate
from generator.model import Model

ENVS = tuple(f"env{i:02d}" for i in range(11))


@pytest.fixture(scope="module")
def eleven(tmp_path_factory: pytest.TempPathFactory) -> tuple[OverlayRepo, Path]:
    root = tmp_path_factory.mktemp("eleven")
    made = make_overlay_repo(root / "repo", environments=ENVS, services=4, commits=50, seed=3)
    config = make_config(root, kustomize="builtin", environments=[
        {"name": env, "repo": "repo", "path": made.overlays[env]} for env in ENVS
    ])  # fmt: skip
    return made, config


@pytest.fixture(scope="module")
def model(eleven: tuple[OverlayRepo, Path]) -> Model:
    return collect(load_config(eleven[1]))


def test_the_fixture_sets_tags_in_every_place(eleven: tuple[OverlayRepo, Path]) -> None:
    made, _ = eleven
    assert {s.tag_in for s in made.state.values()} == {"images", "patch", "component"}
    assert {e.kind for e in made.history} >= {"deploy", "promote", "rollback", "scale"}


def test_every_history_row_names_a_catalog_service(model: Model) -> None:
    services = {d.service for env in model.environments for d in env.deployments}
    rows = [c for env in model.environments for c in env.history]
    assert len(rows) > 50
    assert {c.service for c in rows} == services


def test_the_newest_change_per_environment_is_what_the_catalog_shows(model: Model) -> None:
    for env in model.environments:
        newest = {c.service: c.to_version for c in env.history}
        assert newest == {d.service: d.version for d in env.deployments}, env.name


def test_each_change_of_the_fixture_is_a_row(
    eleven: tuple[OverlayRepo, Path], model: Model
) -> None:
    made, _ = eleven
    rows = {
        (c.commit, c.environment, c.service): c for env in model.environments for c in env.history
    }
    for event in made.history:
        row = rows[(event.commit, event.environment, event.service)]
        assert (row.from_version, row.to_version) == (event.from_version, event.to_version)
        assert (row.from_replicas, row.to_replicas) == (event.from_replicas, event.to_replicas)
        assert row.author == event.author
        assert row.merge_request == event.merge_request
        assert row.rollback == (event.kind == "rollback"), event


def test_rollbacks_and_replica_changes_reach_the_service_page(
    eleven: tuple[OverlayRepo, Path], model: Model
) -> None:
    made, config = eleven
    rollback = next(e for e in made.history if e.kind == "rollback")
    scale = next(e for e in made.history if e.kind == "scale")
    pages = generate(load_config(config), model)
    page = pages[f"catalog/services/{rollback.service}.md"]
    assert f"<code>{rollback.to_version}</code> <strong>rollback</strong>" in page
    page = pages[f"catalog/services/{scale.service}.md"]
    assert f"replicas {scale.from_replicas} → {scale.to_replicas}" in page


def test_a_second_walk_reads_only_the_new_commits(tmp_path: Path) -> None:
    made = make_overlay_repo(tmp_path / "repo", environments=("dev", "prod"), services=2, commits=8)
    config = make_config(tmp_path, kustomize="builtin", environments=[
        {"name": env, "repo": "repo", "path": made.overlays[env]} for env in ("dev", "prod")
    ])  # fmt: skip
    first = collect(load_config(config))
    patch = made.root / "envs" / "prod" / "kustomization.yaml"
    overlay = yaml.safe_load(patch.read_text())
    overlay["replicas"] = [{"name": "svc-0", "count": 9}, *overlay.get("replicas", [])]
    patch.write_text(yaml.safe_dump(overlay))
    git(made.root, "commit", "--quiet", "--all", "-m", "Scale svc-0 in prod")
    second = collect(load_config(config))
    before = [c for c in first.environments[1].history]
    after = [c for c in second.environments[1].history]
    assert after[: len(before)] == before
    [new] = after[len(before) :]
    assert (new.service, new.to_replicas, new.message) == ("svc-0", 9, "Scale svc-0 in prod")


def test_a_folder_without_git_says_its_history_is_unknown(tmp_path: Path) -> None:
    write(tmp_path / "repo" / "web.yaml", """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, labels: {owner: team-web}}
        spec: {template: {spec: {containers: [{name: web, image: "reg.example.com/web:1.0.0"}]}}}
        """)  # fmt: skip
    config = make_config(tmp_path, environments=[{"name": "prod", "repo": "repo"}])
    document = invoke("catalog", "--config", str(config), "--format", "json").stdout
    assert '"history": "unknown: not a git repository"' in document
    pages = generate(load_config(config), None)
    assert "When and by whom: unknown: not a git repository." in pages["catalog/services/web.md"]
    assert "unknown: not a git repository" in pages["catalog/environments/prod.md"]
