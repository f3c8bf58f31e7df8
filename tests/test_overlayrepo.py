"""The overlay repo generator of tests/overlayrepo.py, held against the real kustomize and git."""

from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import git
from overlayrepo import OverlayRepo, make_overlay_repo

ELEVEN = ("dev", "qa", "int", "test", "uat", "staging", "preprod", "perf", "canary", "prod", "dr")

needs_kubectl = pytest.mark.skipif(
    shutil.which("kubectl") is None, reason="kubectl with kustomize v5 not installed"
)


@pytest.fixture(scope="module")
def eleven(tmp_path_factory: pytest.TempPathFactory) -> OverlayRepo:
    """Eleven environments, the mixed layout, 60 commits."""
    root = tmp_path_factory.mktemp("overlays") / "envs"
    return make_overlay_repo(root, environments=ELEVEN, services=4, commits=60)


def kustomize(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["kubectl", "kustomize", str(folder)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def rendered(repo: OverlayRepo) -> dict[str, dict[tuple[str, str], dict[str, Any]]]:
    """`kubectl kustomize envs/<env>` of every environment: (kind, name) -> object."""

    def render(env: str) -> dict[tuple[str, str], dict[str, Any]]:
        done = kustomize(repo.overlay_dir(env))
        assert done.returncode == 0, f"kubectl kustomize envs/{env} failed: {done.stderr}"
        objects = [d for d in yaml.safe_load_all(done.stdout) if d]
        return {(d["kind"], d["metadata"]["name"]): d for d in objects}

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(repo.environments, pool.map(render, repo.environments), strict=True))


def assert_renders_as_expected(repo: OverlayRepo) -> None:
    output = rendered(repo)
    for env in repo.environments:
        for service in repo.services:
            expected = repo.state[env, service]
            name = repo.rendered_name(env, service)
            deployment = output[env]["Deployment", name]
            assert deployment["metadata"]["namespace"] == env
            assert deployment["spec"]["replicas"] == expected.replicas, (env, service)
            containers = deployment["spec"]["template"]["spec"]["containers"]
            assert [c["image"] for c in containers] == [expected.image], (env, service)
            assert ("Service", name) in output[env]


def overlay(repo: OverlayRepo, env: str) -> dict[str, Any]:
    text = (repo.overlay_dir(env) / "kustomization.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


@needs_kubectl
def test_every_overlay_renders_what_the_generator_wrote(eleven: OverlayRepo) -> None:
    assert_renders_as_expected(eleven)
    assert all(
        name.startswith(f"{env}-")
        for env in eleven.environments
        for name in (eleven.rendered_name(env, s) for s in eleven.services)
    )
    places = {state.tag_in for state in eleven.state.values()}
    assert places == {"images", "patch", "component"}
    keys = {key for env in eleven.environments for key in overlay(eleven, env)}
    assert {"patches", "patchesStrategicMerge", "components", "images", "replicas"} <= keys
    assert {state.replicas for state in eleven.state.values()} > {1}


@needs_kubectl
@pytest.mark.parametrize("layout", ["images", "patch", "component"])
def test_one_place_for_every_tag_no_prefix_name_labels(tmp_path: Path, layout: str) -> None:
    repo = make_overlay_repo(tmp_path / "envs", layout=layout, name_prefix=False, name_label=True)
    assert {state.tag_in for state in repo.state.values()} == {layout}
    assert_renders_as_expected(repo)
    deployment = yaml.safe_load_all((repo.root / "base" / "svc-0.yaml").read_text())
    labels = next(deployment)["spec"]["template"]["metadata"]["labels"]
    assert labels == {"app": "svc-0", "app.kubernetes.io/name": "svc-0"}
    assert "namePrefix" not in overlay(repo, "dev")


@needs_kubectl
def test_patches_name_the_base_deployment_not_the_prefixed_one(tmp_path: Path) -> None:
    """Why version.yml says `svc-0`: kustomize applies an overlay's patches before its prefix."""
    repo = make_overlay_repo(tmp_path / "envs", environments=["dev"], layout="patch", commits=0)
    patch = repo.overlay_dir("dev") / "version.yml"
    assert kustomize(repo.overlay_dir("dev")).returncode == 0
    patch.write_text(patch.read_text().replace("name: svc-0\n", "name: dev-svc-0\n", 1))
    done = kustomize(repo.overlay_dir("dev"))
    assert done.returncode != 0
    assert "no resource matches strategic merge patch" in done.stderr


def log(root: Path) -> list[list[str]]:
    """sha, author, email, ISO date, subject, body and changed paths of each commit, oldest first."""
    fields = "%x1e%H%x00%an%x00%ae%x00%aI%x00%s%x00%b%x00"
    out = git(root, "log", "--reverse", f"--format={fields}", "--name-only", "main")
    return [entry.split("\0") for entry in out.split("\x1e")[1:]]


def test_history_is_the_git_log(eleven: OverlayRepo) -> None:
    root, history = eleven.root, eleven.history
    assert git(root, "rev-list", "--count", "main").strip() == "61"
    assert git(root, "rev-list", "--merges", "main") == ""
    assert git(root, "status", "--porcelain") == ""  # the work tree is the last commit
    first, *commits = log(root)
    assert first[0] == eleven.initial_commit
    assert len(commits) == len(history) == 60
    for event, (sha, name, address, date, subject, body, paths) in zip(
        history, commits, strict=True
    ):
        assert (sha, name, address, date) == (event.commit, event.author, event.email, event.date)
        assert subject == event.subject
        assert paths.split() == [event.path]
        forge = event.merge_request
        if "!" in forge:
            assert f"See merge request {forge}" in body
        elif forge:
            assert subject.startswith(f"Merge pull request {forge} ") or subject.endswith(
                f"({forge})"
            )
    stamps = [int(s) for s in git(root, "log", "--reverse", "--format=%at", "main").split()]
    assert stamps == sorted(set(stamps))  # increasing, whatever the authors' zones


def test_history_has_authors_kinds_and_both_forges(eleven: OverlayRepo) -> None:
    history = eleven.history
    assert len({e.author for e in history}) >= 3
    assert {e.kind for e in history} == {"deploy", "promote", "rollback", "scale"}
    assert any(e.merge_request.startswith("platform/envs!") for e in history)
    assert any(e.merge_request.startswith("#") for e in history)
    assert any(e.subject.startswith("Merge pull request #") for e in history)


def test_events_chain_and_end_in_the_final_state(eleven: OverlayRepo) -> None:
    now: dict[tuple[str, str], str] = {}
    for event in eleven.history:  # the version before any event in a place is its first one
        now.setdefault((event.environment, event.service), event.from_version)
    for key, state in eleven.state.items():
        now.setdefault(key, state.version)
    for event in eleven.history:
        key = event.environment, event.service
        assert event.from_version == now[key]
        if event.kind == "promote":  # the version the environment before runs
            before = eleven.environments[eleven.environments.index(event.environment) - 1]
            assert event.to_version == now[before, event.service]
        if event.kind == "scale":
            assert event.to_version == event.from_version
            assert event.to_replicas != event.from_replicas
        else:
            assert event.to_version != event.from_version
        now[key] = event.to_version
    assert now == {key: state.version for key, state in eleven.state.items()}


def test_the_same_seed_gives_the_same_commits(tmp_path: Path) -> None:
    first = make_overlay_repo(tmp_path / "a", commits=30, seed=7)
    again = make_overlay_repo(tmp_path / "b", commits=30, seed=7)
    other = make_overlay_repo(tmp_path / "c", commits=30, seed=8)
    assert first.initial_commit == again.initial_commit
    assert [e.commit for e in first.history] == [e.commit for e in again.history]
    assert [e.commit for e in first.history] != [e.commit for e in other.history]


def test_five_thousand_commits(tmp_path: Path) -> None:
    repo = make_overlay_repo(tmp_path / "envs", services=10, commits=5000)
    assert len(repo.history) == 5000
    assert git(repo.root, "rev-list", "--count", "main").strip() == "5001"
    assert git(repo.root, "rev-parse", "main").strip() == repo.history[-1].commit


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="layout"):
        make_overlay_repo(tmp_path / "a", layout="helm")
    with pytest.raises(ValueError, match="DNS labels"):
        make_overlay_repo(tmp_path / "b", environments=["Prod"])
    with pytest.raises(ValueError, match="Name <email>"):
        make_overlay_repo(tmp_path / "c", authors=["nobody"])
