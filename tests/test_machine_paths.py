"""No absolute path of the machine that ran the build reaches a page or a report: files of env
repos are `<environment>:<path in repo>`, repos outside the config's folder are relative to it."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import invoke, make_config, write
from overlayrepo import make_overlay_repo

from generator.config import load_config
from generator.generate import generate
from generator.report import REPORTERS


@pytest.fixture
def outside(tmp_path: Path) -> tuple[Path, Path]:
    """A project whose env repos all live outside its folder: an overlay repo with a history, a
    plain folder, a repo that does not exist, and an overlay kustomize refuses."""
    envs = tmp_path / "elsewhere"
    made = make_overlay_repo(envs / "overlays", environments=("dev", "prod"), services=2, commits=6)
    write(envs / "plain" / "web.yaml", """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, labels: {owner: team-web}}
        spec: {template: {spec: {containers: [{name: web, image: "reg.example.com/web:1.0.0"}]}}}
        """)  # fmt: skip
    write(envs / "broken" / "kustomization.yaml", """
        resources: [web.yaml]
        configMapGenerator:
          - {name: settings, files: [missing.properties]}
        """)  # fmt: skip
    write(envs / "broken" / "web.yaml", (envs / "plain" / "web.yaml").read_text())
    project = tmp_path / "project"
    project.mkdir()
    config = make_config(project, environments=[
        {"name": "dev", "repo": str(made.root), "path": "envs/dev", "web": "https://git.example.com/p/envs"},
        {"name": "prod", "repo": str(made.root), "path": "envs/prod", "ref": "main"},
        {"name": "plain", "repo": str(envs / "plain")},
        {"name": "broken", "repo": str(envs / "broken")},
        {"name": "gone", "repo": str(envs / "no-such-repo")},
    ])  # fmt: skip
    return config, tmp_path


def _leaks(text: str, root: Path) -> list[str]:
    return [line for line in text.splitlines() if str(root) in line]


def test_no_page_names_a_path_of_this_machine(outside: tuple[Path, Path]) -> None:
    config, root = outside
    pages = generate(load_config(config), None)
    assert "catalog/environments/broken.md" in pages
    leaks = {name: _leaks(text, root) for name, text in pages.items() if _leaks(text, root)}
    assert leaks == {}
    assert ">dev:envs/dev/" in pages["catalog/services/svc-0.md"]  # where the version is set
    assert "https://git.example.com/p/envs/-/blob/" in pages["catalog/services/svc-0.md"]


@pytest.mark.parametrize("fmt", sorted(REPORTERS))
def test_no_report_names_a_path_of_this_machine(outside: tuple[Path, Path], fmt: str) -> None:
    config, root = outside
    report = root / f"report.{fmt}"
    result = invoke("check", "--config", str(config), "--format", fmt, "--output", str(report),
                    "--fail-on", "never")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert _leaks(report.read_text(encoding="utf-8"), root) == []
    assert _leaks(result.stdout + result.stderr, root) == []
    assert "gone" in report.read_text(encoding="utf-8")  # the unreadable repo is reported


def test_the_built_site_names_no_path_of_this_machine(outside: tuple[Path, Path]) -> None:
    config, root = outside
    site = root / "project" / "site"
    result = invoke("build", "--config", str(config), "--site-dir", str(site), "--fail-on", "never")
    assert result.exit_code == 0, result.stderr
    leaks = {}
    for path in site.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".json", ".xml", ".md", ".txt"):
            found = _leaks(path.read_text(encoding="utf-8", errors="replace"), root)
            if found:
                leaks[path.relative_to(site).as_posix()] = found[:2]
    assert leaks == {}
