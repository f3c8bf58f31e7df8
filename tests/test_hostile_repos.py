"""Hostile env repos: nothing leaks, nothing hangs (issue 14).

An env repo is input like any other. A symbolic link in it that leads out of the repo is never
followed (its target is never read, never named); the repo's own git config is never obeyed
(textconv drivers, filters, fsmonitor, hooks, gpg); a repo git refuses, a broken one, a shallow
one or one that is missing is a finding or an environment shown unreadable, never a traceback;
no expression run on the repo's text takes more than its length on a long line.
"""

from __future__ import annotations

import json
import os
import random
import re
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import (
    GIT_IDENTITY,
    NEXUS,
    deployment_yaml,
    git,
    git_commit,
    git_init,
    invoke,
    make_config,
    write,
)

from generator.collect import collect
from generator.config import load_config
from generator.generate import generate
from generator.model import Environment, Finding, Model, Severity
from generator.sources.envrepos import BROKEN_HISTORY, NO_HISTORY, UNREADABLE
from generator.sources.gitrepo import RepoError, RepoView
from generator.sources.history import bundle_url_in

SECRET = "topsecret7f3a"  # in every file outside the repo: never on a page nor in a report
HANG_GUARD_SECONDS = 120  # a subprocess still running after this is hung (quadratic or blocked)


def bundle(service: str, version: str) -> str:
    return f"{NEXUS}{service}/{version}/{service}-{version}.tar.gz"


def secrets_outside(root: Path) -> Path:
    """A folder next to the repos, whose every file names SECRET."""
    folder = root / "outside"
    write(folder / "environment.yml", f"name: prod\nbundles:\n  - {bundle(SECRET, '6.6.6')}\n")
    write(folder / "deploy.yaml", deployment_yaml(SECRET, f"reg.example.com/{SECRET}:6.6.6"))
    write(folder / "CODEOWNERS", f"* @{SECRET}-team\n")
    write(folder / "kustomization.yaml", "resources: [deploy.yaml]\n")
    write(folder / "not-yaml.yaml", f"{SECRET}: [unclosed\n")
    return folder


def outputs(config: Path) -> str:
    """Everything a user sees: every page, and `check`'s report as text and as JSON."""
    pages = generate(load_config(config), None)
    text = invoke("check", "--config", str(config), "--fail-on", "never")
    as_json = invoke("check", "--config", str(config), "--format", "json", "--fail-on", "never")
    assert text.exit_code == 0 and as_json.exit_code == 0, text.stderr + as_json.stderr
    return "\n".join([*pages.values(), text.stdout, text.stderr, as_json.stdout, as_json.stderr])


def model_of(config: Path) -> Model:
    return collect(load_config(config))


def env_of(model: Model, name: str = "prod") -> Environment:
    return next(e for e in model.environments if e.name == name)


def rule(model: Model, rule_id: str) -> list[Finding]:
    return [f for f in model.findings if f.rule == rule_id]


def repo_line(config: Path, index: int = 0) -> int:
    """The line of `repo:` of the environment at `index` in a config make_config wrote."""
    lines = config.read_text(encoding="utf-8").splitlines()
    repos = [n for n, line in enumerate(lines, 1) if re.match(r"^\s*(- )?repo: ", line)]
    return repos[index]


# --- symbolic links out of the repo -------------------------------------------------------------


def _plain(repo: Path) -> None:
    """A deployment of our own, so that the environment has something to show."""
    write(repo / "apps" / "web.yaml", deployment_yaml("web", "reg.example.com/web:1.0.0"))


LINK_CASES: dict[str, tuple[dict[str, str], dict[str, str], list[str]]] = {
    # files written, links made (name in repo -> target, "@/x" meaning outside/x), links named
    "environment-file": ({}, {"environment.yml": "@/environment.yml"}, ["environment.yml"]),
    "manifest": ({}, {"apps/secret.yaml": "@/deploy.yaml"}, ["apps/secret.yaml"]),
    "codeowners": ({}, {"CODEOWNERS": "@/CODEOWNERS"}, ["CODEOWNERS"]),
    "github-codeowners": ({}, {".github/CODEOWNERS": "@/CODEOWNERS"}, [".github/CODEOWNERS"]),
    "not-yaml": ({}, {"apps/broken.yaml": "@/not-yaml.yaml"}, ["apps/broken.yaml"]),
    "folder": ({}, {"secrets": "@"}, ["secrets"]),
    "absolute": ({}, {"apps/abs.yaml": "@abs/deploy.yaml"}, ["apps/abs.yaml"]),
    "chain": (
        {},
        {"apps/first.yaml": "hop.yaml", "apps/hop.yaml": "@/deploy.yaml"},
        ["apps/first.yaml", "apps/hop.yaml"],
    ),
    "environment-manifests": (
        {
            "environment.yml": "name: prod\nbundles: []\nmanifests: manifests/\n",
            "manifests/web.yaml": deployment_yaml("web", "reg.example.com/web:1.0.0"),
        },
        {"manifests/app.yaml": "@/deploy.yaml"},
        ["manifests/app.yaml"],
    ),
    "kustomization-resource": (
        {"overlay/kustomization.yaml": "resources: [deploy.yaml, web.yaml]\n"},
        {"overlay/deploy.yaml": "@/deploy.yaml", "overlay/web.yaml": "../apps/web.yaml"},
        ["overlay/deploy.yaml"],
    ),
    "kustomization-itself": (
        {},
        {"overlay/kustomization.yaml": "@/kustomization.yaml"},
        ["overlay/kustomization.yaml"],
    ),
    "kustomization-base-folder": (
        {"overlay/kustomization.yaml": "resources: [../base]\n"},
        {"base": "@"},
        ["base"],
    ),
}


def _make_links(repo: Path, outside: Path, links: dict[str, str]) -> None:
    for name, target in links.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if target.startswith("@abs"):
            path.symlink_to(outside.resolve() / target.removeprefix("@abs/"))
        elif target.startswith("@"):
            where = outside / target.removeprefix("@").lstrip("/")
            path.symlink_to(os.path.relpath(where, path.parent))
        else:
            path.symlink_to(target)


def linked_repo(tmp_path: Path, case: str, as_git: bool) -> tuple[Path, Path]:
    outside = secrets_outside(tmp_path)
    repo = tmp_path / "envs" / "prod"
    if as_git:
        git_init(repo)
    _plain(repo)
    files, links, _ = LINK_CASES[case]
    for name, text in files.items():
        write(repo / name, text)
    _make_links(repo, outside, links)
    if as_git:
        git_commit(repo, "the repo, links and all")
    return repo, outside


@pytest.mark.parametrize("kustomize", ["builtin", "auto"])
@pytest.mark.parametrize("as_git", [False, True], ids=["folder", "git-work-tree"])
@pytest.mark.parametrize("case", sorted(LINK_CASES))
def test_a_link_out_of_the_repo_is_never_read_and_is_a_finding_naming_the_link(
    tmp_path: Path, case: str, as_git: bool, kustomize: str
) -> None:
    linked_repo(tmp_path, case, as_git)
    config = make_config(tmp_path, environments=[{"name": "prod", "repo": "envs/prod"}],
                         kustomize=kustomize)  # fmt: skip
    seen = outputs(config)
    assert SECRET not in seen
    assert str(tmp_path) not in seen and "../outside" not in seen  # nor where links lead
    model = model_of(config)
    found = rule(model, "envrepo/symlink-outside")
    assert sorted(f.file for f in found) == [f"prod:{name}" for name in LINK_CASES[case][2]]
    assert {f.severity for f in found} == {Severity.ERROR}
    assert all(f.file.removeprefix("prod:") in f.message for f in found)
    assert not [f for f in rule(model, "envrepo/unreadable-file") if "symbolic" in f.message]
    assert env_of(model).status == ""
    services = {d.service for d in env_of(model).deployments}
    assert "web" in services and SECRET not in services


@pytest.mark.parametrize("kustomize", ["builtin", "auto"])
def test_a_kustomize_path_out_of_the_repo_is_never_rendered(tmp_path: Path, kustomize: str) -> None:
    # no link: a plain `../` path that leaves the repo. kustomize on this machine would read it,
    # Argo CD and Flux (the repo checked out alone) would not: neither renderer may follow it
    secrets_outside(tmp_path)
    repo = tmp_path / "envs" / "prod"
    _plain(repo)
    write(repo / "apps" / "kustomization.yaml", "resources: [web.yaml]\n")
    write(repo / "overlay" / "kustomization.yaml", "resources: [../../../outside, ../apps]\n")
    config = make_config(tmp_path, environments=[{"name": "prod", "repo": "envs/prod"}],
                         kustomize=kustomize)  # fmt: skip
    assert SECRET not in outputs(config)
    model = model_of(config)
    [gap] = rule(model, "envrepo/kustomize-gap")
    assert gap.file == "prod:overlay/kustomization.yaml" and gap.line == 1
    assert "outside the repo" in gap.message
    [rendering] = env_of(model).renderings
    assert rendering.renderer == "built-in" and rendering.problem  # shown incomplete
    assert {d.service for d in env_of(model).deployments} == {"web"}


def test_listing_the_work_tree_follows_links_inside_it_and_never_one_out_of_it(
    tmp_path: Path,
) -> None:
    outside = secrets_outside(tmp_path)
    repo = tmp_path / "repo"
    write(repo / "base" / "web.yaml", "kind: Deployment\n")
    write(repo / ".git" / "config", "[core]\n")
    _make_links(repo, outside, {
        "out": "@", "out-file.yaml": "@/deploy.yaml", "dangling.yaml": "nowhere.yaml",
        "prod/base": "../base", "prod/web.yaml": "../base/web.yaml", "loop": ".",
        "prod/up": "..", "git-config.yaml": ".git/config", "dot-git": ".git",
    })  # fmt: skip
    os.mkfifo(repo / "fifo.yaml")
    view = RepoView(repo, None)
    files = view.files()
    assert "base/web.yaml" in files and "prod/web.yaml" in files and "prod/base/web.yaml" in files
    assert not [
        f for f in files if f.startswith(("out", "dangling", "fifo", "git-config", "dot-git"))
    ]
    assert not [f for f in files if "/.git/" in f"/{f}" or f.startswith(".git")]
    assert len(files) == len(set(files)) and len(files) < 200  # circles are walked once
    assert view.outside == {"out", "out-file.yaml", "git-config.yaml", "dot-git"}
    assert view.read("prod/base/web.yaml", 100) == b"kind: Deployment\n"
    for name in ("out/deploy.yaml", "out-file.yaml", "git-config.yaml", "dot-git/config"):
        assert not view.exists(name)
        with pytest.raises(RepoError) as raised:
            view.read(name, 1_000_000)
        assert str(tmp_path) not in str(raised.value) and SECRET not in str(raised.value)


def test_a_link_into_the_repos_own_git_folder_is_not_read(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "envs" / "prod")
    _plain(repo)
    git(repo, "remote", "add", "origin", f"https://{SECRET}:token@git.example.com/envs.git")
    (repo / "apps" / "config.yaml").symlink_to("../.git/config")
    git_commit(repo, "a link into .git")
    config = make_config(tmp_path, environments=[{"name": "prod", "repo": "envs/prod"}])
    assert SECRET not in outputs(config)
    found = rule(model_of(config), "envrepo/symlink-outside")
    assert [f.file for f in found] == ["prod:apps/config.yaml"]


def test_a_fifo_in_the_work_tree_blocks_nothing(tmp_path: Path) -> None:
    repo = tmp_path / "envs" / "prod"
    _plain(repo)
    write(repo / "overlay" / "kustomization.yaml", "resources: [../apps/web.yaml, pipe.yaml]\n")
    os.mkfifo(repo / "overlay" / "pipe.yaml")
    os.mkfifo(repo / "CODEOWNERS")
    os.mkfifo(repo / "apps" / "pipe.yaml")
    config = make_config(tmp_path, environments=[{"name": "prod", "repo": "envs/prod"}])
    done = subprocess.run(
        [sys.executable, "-m", "generator", "check", "--config", str(config), "--format", "json",
         "--fail-on", "never"],
        capture_output=True, text=True, timeout=HANG_GUARD_SECONDS, check=False,
        env={**os.environ, **GIT_IDENTITY},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert str(tmp_path) not in done.stdout + done.stderr


def test_at_a_ref_a_link_is_no_file_and_is_never_followed_on_disk(tmp_path: Path) -> None:
    outside = secrets_outside(tmp_path)
    repo = git_init(tmp_path / "envs" / "prod")
    _plain(repo)
    _make_links(repo, outside, {
        "environment.yml": "@/environment.yml", "apps/secret.yaml": "@/deploy.yaml",
        "apps/abs.yaml": "@abs/deploy.yaml", "apps/same.yaml": "web.yaml", "CODEOWNERS": "@/CODEOWNERS",
    })  # fmt: skip
    git_commit(repo, "links")
    config = make_config(
        tmp_path, environments=[{"name": "prod", "repo": "envs/prod", "ref": "main"}]
    )
    seen = outputs(config)
    assert SECRET not in seen and str(tmp_path) not in seen
    model = model_of(config)
    found = sorted(f.file for f in rule(model, "envrepo/symlink-outside"))
    assert found == ["prod:CODEOWNERS", "prod:environment.yml"]  # read, or asked for
    [web] = env_of(model).deployments
    assert (web.service, web.file) == ("web", "prod:apps/web.yaml")  # the inner link: no file


def test_a_manifest_that_becomes_a_link_out_of_the_repo_leaves_the_history_and_leaks_nothing(
    tmp_path: Path,
) -> None:
    outside = secrets_outside(tmp_path)
    repo = git_init(tmp_path / "envs" / "prod")
    write(repo / "apps" / "web.yaml", deployment_yaml("web", "reg.example.com/web:1.0.0"))
    write(repo / "apps" / "api.yaml", deployment_yaml("api", "reg.example.com/api:1.0.0"))
    git_commit(repo, "web and api")
    (repo / "apps" / "api.yaml").unlink()
    _make_links(repo, outside, {"apps/api.yaml": "@/deploy.yaml"})
    git_commit(repo, "api is a link now")
    write(repo / "apps" / "web.yaml", deployment_yaml("web", "reg.example.com/web:1.1.0"))
    git_commit(repo, "web 1.1.0")
    config = make_config(tmp_path, environments=[{"name": "prod", "repo": "envs/prod"}])
    assert SECRET not in outputs(config)
    history = [(c.service, c.from_version, c.to_version) for c in env_of(model_of(config)).history]
    assert history == [
        ("api", None, "1.0.0"), ("web", None, "1.0.0"), ("api", "1.0.0", None), ("web", "1.0.0", "1.1.0"),
    ]  # fmt: skip


# --- the repo's own git config is never obeyed ----------------------------------------------------


HOSTILE_SCRIPT = """#!/bin/sh
touch "{markers}/$(basename "$0")-$$"
echo "{secret} was run"
"""


def _hostile_config(repo: Path, markers: Path) -> None:
    """A .git/config that runs a script from every place git may run one, and hooks likewise."""
    markers.mkdir(exist_ok=True)
    script = markers.parent / "hostile.sh"
    script.write_text(HOSTILE_SCRIPT.format(markers=markers, secret=SECRET))
    script.chmod(0o755)
    hooks = repo / ".git" / "evil-hooks"
    hooks.mkdir()
    for hook in ("post-checkout", "reference-transaction", "pre-auto-gc", "post-index-change"):
        (hooks / hook).write_text(script.read_text())
        (hooks / hook).chmod(0o755)
    settings = {
        "diff.evil.textconv": str(script), "diff.evil.command": str(script),
        "diff.external": str(script), "core.fsmonitor": str(script),
        "filter.evil.smudge": str(script), "filter.evil.clean": str(script),
        "filter.evil.process": str(script), "filter.evil.required": "true",
        "core.hooksPath": str(hooks), "log.showSignature": "true", "gpg.program": str(script),
        "gpg.ssh.program": str(script), "core.pager": str(script), "pager.log": str(script),
        "uploadpack.packObjectsHook": str(script), "core.sshCommand": str(script),
    }  # fmt: skip
    for key, value in settings.items():
        git(repo, "config", key, value)


def _signed_commit(repo: Path, message: str) -> None:
    """A commit with a signature header: showing it would run gpg.program."""
    tree = git(repo, "write-tree").strip()
    parent = git(repo, "rev-parse", "HEAD").strip()
    body = (
        f"tree {tree}\nparent {parent}\nauthor A <a@example.com> 1767250800 +0100\n"
        "committer A <a@example.com> 1767250800 +0100\n"
        "gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n -----END PGP SIGNATURE-----\n"
        f"\n{message}\n"
    )
    path = repo / ".git" / "commit.txt"
    path.write_text(body)
    sha = git(repo, "hash-object", "-t", "commit", "-w", str(path)).strip()
    path.unlink()
    git(repo, "update-ref", "refs/heads/main", sha)


def _hostile_repos(tmp_path: Path) -> tuple[Path, Path]:
    """An env repo of our layout and one of Kustomize overlays, each with three deploys, the
    last one signed, and a hostile .git/config over a .gitattributes that uses its drivers."""
    markers = tmp_path / "markers"
    prod = git_init(tmp_path / "envs" / "prod")
    write(prod / ".gitattributes", "* diff=evil filter=evil export-subst ident\n")
    overlays = git_init(tmp_path / "envs" / "overlays")
    write(overlays / ".gitattributes", "* diff=evil filter=evil export-subst ident\n")
    write(overlays / "overlay" / "kustomization.yaml", "resources: [web.yaml]\n")
    for n, version in enumerate(("1.0.0", "1.1.0", "1.2.0")):
        write(prod / "environment.yml", f"name: prod\nbundles:\n  - {bundle('cart', version)}\n")
        write(
            overlays / "overlay" / "web.yaml",
            deployment_yaml("web", f"reg.example.com/web:{version}") + "# $Format:%H$\n",
        )
        if n < 2:
            git_commit(prod, f"cart {version}")
            git_commit(overlays, f"web {version}")
    for repo in (prod, overlays):
        git(repo, "add", "--all")
        _signed_commit(repo, "the last deploy, signed")
        git(repo, "reset", "--quiet", "--hard")
        _hostile_config(repo, markers)
    return markers, tmp_path


@pytest.mark.parametrize("kustomize", ["builtin", "auto"])
def test_the_repos_own_git_config_runs_nothing_and_history_is_still_right(
    tmp_path: Path, kustomize: str
) -> None:
    markers, _ = _hostile_repos(tmp_path)
    config = make_config(tmp_path, kustomize=kustomize, environments=[
        {"name": "prod", "repo": "envs/prod"},
        {"name": "dev", "repo": "envs/overlays", "path": "overlay"},
        {"name": "qa", "repo": "envs/overlays", "path": "overlay", "ref": "main"},
    ])  # fmt: skip
    for _ in range(2):  # cloned, then fetched
        seen = outputs(config)
        for service in ("cart", "web"):
            result = invoke("history", service, "--config", str(config))
            assert result.exit_code == 0, result.stderr
            seen += result.stdout
        model = model_of(config)
        assert sorted(os.listdir(markers)) == []
        assert SECRET not in seen
        for name, service in (("prod", "cart"), ("dev", "web"), ("qa", "web")):
            moves = [(c.service, c.from_version, c.to_version) for c in env_of(model, name).history]
            assert moves == [
                (service, None, "1.0.0"),
                (service, "1.0.0", "1.1.0"),
                (service, "1.1.0", "1.2.0"),
            ], name
        assert env_of(model, "qa").deployments[0].version == "1.2.0"
        assert not rule(model, "envrepo/unreadable")
    site = tmp_path / "site"
    result = invoke("build", "--config", str(config), "--site-dir", str(site), "--fail-on", "never")
    assert result.exit_code == 0, result.stderr
    assert sorted(os.listdir(markers)) == []
    assert (site / "catalog" / "environments" / "prod" / "index.html").is_file()


def test_a_hostile_config_would_have_run_had_git_obeyed_it(tmp_path: Path) -> None:
    """The test above proves something: plain git in these repos does run the scripts."""
    markers, _ = _hostile_repos(tmp_path)
    for repo in ("prod", "overlays"):
        subprocess.run(
            ["git", "log", "-p", "-2", "--format=%H"], cwd=tmp_path / "envs" / repo,
            capture_output=True, timeout=60, check=False, env={**os.environ, **GIT_IDENTITY},
        )  # fmt: skip
    assert [m for m in os.listdir(markers) if m.startswith("hostile.sh")]


# --- a repo git refuses, broken, shallow, missing, not git --------------------------------------


def _our_layout(repo: Path, versions: tuple[str, ...] = ("1.0.0", "1.1.0")) -> list[str]:
    git_init(repo)
    commits = []
    for version in versions:
        write(repo / "environment.yml", f"name: prod\nbundles:\n  - {bundle('cart', version)}\n")
        commits.append(git_commit(repo, f"cart {version}"))
    return commits


def test_a_repo_git_refuses_as_another_users_is_unreadable_with_gits_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _our_layout(tmp_path / "envs" / "prod")
    write(
        tmp_path / "envs" / "plain" / "web.yaml",
        deployment_yaml("web", "reg.example.com/web:1.0.0"),
    )
    config = make_config(tmp_path, environments=[
        {"name": "prod", "repo": "envs/prod"}, {"name": "plain", "repo": "envs/plain"},
    ])  # fmt: skip
    empty = tmp_path / "empty.gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))  # no safe.directory of this machine's
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_TEST_ASSUME_DIFFERENT_OWNER", "1")  # as if another user owned it
    model = model_of(config)
    assert env_of(model).status == UNREADABLE
    assert env_of(model, "plain").status == "" and env_of(model, "plain").deployments
    [finding] = rule(model, "envrepo/unreadable")
    assert (finding.file, finding.line) == ("pipeline-docs.yml", repo_line(config))
    assert "dubious ownership" in finding.message and "envs/prod" in finding.message
    seen = outputs(config)
    assert str(tmp_path) not in seen and "dubious ownership" in seen


def _loose_object(repo: Path, sha: str) -> Path:
    return repo / ".git" / "objects" / sha[:2] / sha[2:]


def _truncate_old_blob(repo: Path, commits: list[str]) -> None:
    blob = git(repo, "rev-parse", f"{commits[0]}:environment.yml").strip()
    path = _loose_object(repo, blob)
    path.chmod(stat.S_IWUSR | stat.S_IRUSR)
    path.write_bytes(path.read_bytes()[:10])


def _truncate_head_commit(repo: Path, commits: list[str]) -> None:
    path = _loose_object(repo, commits[-1])
    path.chmod(stat.S_IWUSR | stat.S_IRUSR)
    path.write_bytes(path.read_bytes()[:5])


BROKEN: dict[str, Any] = {
    "no-head": lambda repo, commits: (repo / ".git" / "HEAD").unlink(),
    "no-objects": lambda repo, commits: subprocess.run(["rm", "-rf", str(repo / ".git" / "objects")], check=True),
    "old-blob-truncated": _truncate_old_blob,
    "head-commit-truncated": _truncate_head_commit,
    "refs-garbage": lambda repo, commits: (repo / ".git" / "refs" / "heads" / "main").write_text("garbage\n"),
}  # fmt: skip


@pytest.mark.parametrize("broken", sorted(BROKEN))
def test_a_broken_git_repo_is_read_as_files_with_its_history_unknown_and_a_finding(
    tmp_path: Path, broken: str
) -> None:
    repo = tmp_path / "project" / "envs" / "prod"
    git_init(tmp_path / "project")  # the config's own repo around it: never read in its place
    commits = _our_layout(repo)
    BROKEN[broken](repo, commits)
    config = make_config(tmp_path / "project", environments=[{"name": "prod", "repo": "envs/prod"}])
    model = model_of(config)
    env = env_of(model)
    assert [d.version for d in env.deployments] == ["1.1.0"]  # the files, as they are on disk
    assert env.history == ()
    assert env.history_note == BROKEN_HISTORY
    [finding] = rule(model, "envrepo/unreadable")
    assert (finding.file, finding.line) == ("pipeline-docs.yml", repo_line(config))
    assert "history cannot be read" in finding.message
    seen = outputs(config)
    assert str(tmp_path) not in seen


@pytest.mark.parametrize("broken", ["no-head", "head-commit-truncated", "refs-garbage"])
def test_a_broken_git_repo_read_at_a_ref_is_unreadable(tmp_path: Path, broken: str) -> None:
    repo = tmp_path / "envs" / "prod"
    commits = _our_layout(repo)
    BROKEN[broken](repo, commits)
    config = make_config(
        tmp_path, environments=[{"name": "prod", "repo": "envs/prod", "ref": "main"}]
    )
    model = model_of(config)
    assert env_of(model).status == UNREADABLE
    [finding] = rule(model, "envrepo/unreadable")
    assert (finding.file, finding.line) == ("pipeline-docs.yml", repo_line(config))
    assert str(tmp_path) not in outputs(config)


def test_missing_and_not_git_and_no_commit_yet(tmp_path: Path) -> None:
    write(
        tmp_path / "envs" / "plain" / "web.yaml",
        deployment_yaml("web", "reg.example.com/web:1.0.0"),
    )
    git_init(tmp_path / "envs" / "fresh")
    write(
        tmp_path / "envs" / "fresh" / "web.yaml",
        deployment_yaml("web", "reg.example.com/web:2.0.0"),
    )
    config = make_config(tmp_path, environments=[
        {"name": "gone", "repo": "envs/gone"}, {"name": "plain", "repo": "envs/plain"},
        {"name": "fresh", "repo": "envs/fresh"}, {"name": "tagged", "repo": "envs/plain", "ref": "v1"},
    ])  # fmt: skip
    model = model_of(config)
    assert env_of(model, "gone").status == UNREADABLE
    assert env_of(model, "tagged").status == UNREADABLE
    for name in ("plain", "fresh"):
        env = env_of(model, name)
        assert (env.status, env.history_note) == ("", NO_HISTORY)
        assert [d.service for d in env.deployments] == ["web"]
    found = {(f.file, f.line): f.message for f in rule(model, "envrepo/unreadable")}
    assert set(found) == {
        ("pipeline-docs.yml", repo_line(config, 0)),
        ("pipeline-docs.yml", repo_line(config, 3)),
    }
    assert str(tmp_path) not in outputs(config)


def test_a_shallow_overlay_repo_says_its_history_is_partial_and_invents_no_deploys(
    tmp_path: Path,
) -> None:
    origin = git_init(tmp_path / "origin")
    for n in range(5):
        write(origin / "web.yaml", deployment_yaml("web", f"reg.example.com/web:1.{n}.0"))
        write(origin / "api.yaml", deployment_yaml("api", "reg.example.com/api:2.0.0"))
        git_commit(origin, f"web 1.{n}.0")
    git(tmp_path, "clone", "--quiet", "--depth", "2", f"file://{origin}", "shallow")
    config = make_config(tmp_path, environments=[{"name": "prod", "repo": "shallow"}])
    model = model_of(config)
    moves = [(c.service, c.from_version, c.to_version) for c in env_of(model).history]
    assert moves == [("web", "1.3.0", "1.4.0")]
    [partial] = rule(model, "history/partial")
    assert (partial.file, partial.line) == ("pipeline-docs.yml", repo_line(config))


def test_history_follows_the_repo_from_run_to_run(tmp_path: Path) -> None:
    """The clone in the cache is fetched again: new commits, a moved HEAD, a rewritten branch."""
    repo = tmp_path / "envs" / "prod"
    commits = _our_layout(repo)
    config = make_config(tmp_path, environments=[{"name": "prod", "repo": "envs/prod"}])
    assert [c.to_version for c in env_of(model_of(config)).history] == ["1.0.0", "1.1.0"]
    write(repo / "environment.yml", f"name: prod\nbundles:\n  - {bundle('cart', '1.2.0')}\n")
    git_commit(repo, "cart 1.2.0")
    assert [c.to_version for c in env_of(model_of(config)).history] == ["1.0.0", "1.1.0", "1.2.0"]
    git(repo, "checkout", "--quiet", "--detach", commits[0])
    env = env_of(model_of(config))
    assert [c.to_version for c in env.history] == ["1.0.0"]
    assert env.commit == commits[0]


# --- no expression takes the square of a long line ---------------------------------------------


LONG = 100_000


def _guarded(code: str) -> subprocess.CompletedProcess[str]:
    """Python code in a subprocess, killed (and the test failed) if it hangs."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
        timeout=HANG_GUARD_SECONDS, check=False, cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, **GIT_IDENTITY},
    )  # fmt: skip


def test_the_readers_expressions_take_a_long_hostile_line_in_its_length() -> None:
    done = _guarded(f"""
        from generator.sources.history import bundle_url_in, merge_request, _manifest_line, _NAME
        from generator.sources.gitops import substitute, _same_repo
        from generator.sources.envrepos import repo_label
        n = {LONG}
        assert bundle_url_in("http://" * (n // 7)) is None
        assert bundle_url_in("https://" * (n // 8) + "x.tar.gz") is not None
        assert bundle_url_in("http://a" + "/" * n + ".tar") is not None
        assert _manifest_line(" " * n + "x", "") is None
        assert _manifest_line("-" + " " * n, "") is None
        assert _NAME.match(" " * n + "-" + " " * n) is None
        assert merge_request("See merge request " + "a!" * (n // 2), "(#1)" + " " * n + "x") == ""
        assert merge_request("x", "See merge request " * (n // 18)) == ""
        value = "${{x:=" * (n // 5)
        assert substitute(value, {{"x": "1"}}) == value
        assert substitute("${{" + "a" * n, {{}}) == "${{" + "a" * n
        assert not _same_repo("http://" * (n // 7), {{"https://git.example.com/a.git"}})
        print("done")
    """)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "done"


def test_a_long_line_of_repeated_urls_in_an_env_repo_hangs_no_command(tmp_path: Path) -> None:
    """The line the review found: `http://` repeated over 100,000 characters, in environment.yml
    (read, then walked by the history in every diff), in a manifest and in a Flux object."""
    repo = git_init(tmp_path / "envs" / "prod")
    long = "http://" * (LONG // 7)
    write(repo / "environment.yml", f"name: prod\nbundles:\n  - {bundle('cart', '1.0.0')}\n")
    git_commit(repo, "cart")
    write(
        repo / "environment.yml",
        f"name: prod\nbundles:\n  - {bundle('cart', '1.0.0')}\n  - {long}\n",
    )
    git_commit(repo, "See merge request " + "http://" * 2000 + "!" * 2000)
    write(
        repo / "environment.yml", f"name: prod\nbundles:\n  - {bundle('cart', '1.1.0')}\n# {long}\n"
    )
    git_commit(repo, "cart 1.1.0 (#1)" + " " * 10_000 + "x")
    overlays = git_init(tmp_path / "envs" / "flux")
    write(overlays / "clusters" / "apps.yaml", yaml.safe_dump({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": "apps", "namespace": "flux-system"},
        "spec": {"sourceRef": {"kind": "GitRepository", "name": "flux-system"}, "path": "./apps",
                 "postBuild": {"substitute": {"x": "1"}}},
    }))  # fmt: skip
    deploy = yaml.safe_load(deployment_yaml("web", "reg.example.com/web:1.0.0"))
    deploy["metadata"]["annotations"] = {"a": "${x:=" * (LONG // 5), "b": long, "c": " " * LONG}
    write(overlays / "apps" / "web.yaml", yaml.safe_dump(deploy, width=10**9))
    write(overlays / "apps" / "web2.yaml", "  image:" + " " * LONG + "\n" + " " * LONG + "-\n")
    git_commit(overlays, "web")
    config = make_config(tmp_path, environments=[
        {"name": "prod", "repo": "envs/prod"}, {"name": "flux", "repo": "envs/flux", "path": "clusters"},
    ], bundles={"mirrors": {NEXUS: "nexus/"}})  # fmt: skip
    (tmp_path / "nexus").mkdir()
    for command in (["check"], ["catalog"], ["history", "cart"]):
        done = subprocess.run(
            [sys.executable, "-m", "generator", *command, "--config", str(config), "--format", "json"],
            capture_output=True, text=True, timeout=HANG_GUARD_SECONDS, check=False,
            env={**os.environ, **GIT_IDENTITY},
        )  # fmt: skip
        assert "Traceback" not in done.stderr, done.stderr[-2000:]
        assert done.returncode in (0, 1), done.stderr[-2000:]
        json.loads(done.stdout)
    model = model_of(config)
    assert [(c.service, c.to_version) for c in env_of(model).history][-1] == ("cart", "1.1.0")
    assert [d.service for d in env_of(model, "flux").deployments] == ["web"]


_OLD_BUNDLE_URL = re.compile(r"(https?://[^\s\"'#]+?\.(?:tar\.gz|tgz|tar))")  # what it replaced


def test_bundle_urls_are_found_as_the_expression_they_replace_found_them() -> None:
    pieces = ["http://", "https://", ".tar", ".gz", ".tgz", ".tar.gz", "a", "/", " ", "#", "'",
              '"', "x", "ht", "tp", ":", ".", "s://"]  # fmt: skip
    rng = random.Random(14)
    for _ in range(5000):
        line = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 14)))
        old = _OLD_BUNDLE_URL.search(line)
        assert bundle_url_in(line) == (old.group(1) if old else None), line
