"""The scale benchmark (benchmarks/scale.py) at a tiny size: it runs in both layouts and produces
every figure. Nothing here is timed: speed is the benchmark's to report, not a test's to judge."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from scale import COMMANDS, STAGES, per_doubling  # noqa: E402

SERVICES = 20
COMMITS = 200


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One benchmark run: 20 services, 3 environments, 200 commits, both layouts; no
    `--profile`, which is one more `generate` per layout."""
    folder = tmp_path_factory.mktemp("scale")
    out = folder / "figures.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "scale.py"), "--sizes", str(SERVICES),
         "--environments", "3", "--commits", str(COMMITS), "--options", "30",
         "--templates", "3", "--fragments", "6", "--layouts", "environment,overlay",
         "--work", str(folder / "work"), "--json", str(out)],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    document: dict[str, Any] = json.loads(out.read_text())
    document["stdout"] = done.stdout
    document["work"] = folder / "work"
    return document


def test_both_layouts_are_made_and_measured(figures: dict[str, Any]) -> None:
    results = figures["results"]
    assert [(r["layout"], r["services"]) for r in results] == [
        ("environment", SERVICES),
        ("overlay", SERVICES),
    ]
    bundles = figures["work"] / f"environment-{SERVICES}"
    assert len(list((bundles / "nexus").rglob("*.tar.gz"))) == results[0]["bundles"] >= SERVICES
    assert sorted(p.name for p in (bundles / "envs").iterdir()) == ["dev", "production", "qa"]
    # the first env repo holds the commits asked for, on top of its first one
    assert results[0]["commits"] > COMMITS
    assert (figures["work"] / f"overlay-{SERVICES}" / "envs" / "envs" / "dev").is_dir()
    assert results[1]["commits"] == COMMITS + 1


def test_every_figure_is_there(figures: dict[str, Any]) -> None:
    assert figures["machine"]["cpus"] >= 1
    assert figures["generator"]["path"]
    for result in figures["results"]:
        assert set(result["runs"]) == set(COMMANDS)
        for run in result["runs"].values():
            assert run["seconds"] > 0 and run["cpu_seconds"] > 0 and run["max_rss_mb"] > 0
        assert result["runs"]["build"]["exit_code"] == 0
        assert set(STAGES) <= set(result["stages"])
        assert all(result["stages"][name] > 0 for name in STAGES), result["stages"]
        assert set(result["ratios"]) == {"generate_to_read", "build_to_mkdocs"}
        assert all(value > 0 for value in result["ratios"].values())
        assert result["read_baseline_parts"]["documents"] > 0
        assert "profile" not in result  # not asked for


def test_the_org_is_sound(figures: dict[str, Any]) -> None:
    """No error in what `check` finds: the figures are of a working pipeline's inputs."""
    for result in figures["results"]:
        logs = figures["work"] / f"{result['layout']}-{SERVICES}" / "logs"
        findings = json.loads((logs / "findings.json").read_text())["findings"]
        assert [f for f in findings if f["severity"] == "error"] == []


def test_the_site_has_a_page_per_service(figures: dict[str, Any]) -> None:
    for result in figures["results"]:
        assert result["service_pages"] == SERVICES
        assert result["pages"] == result["trivial_pages"] > SERVICES  # the baseline's paths


def test_the_table_shows_each_figure_and_ratio(figures: dict[str, Any]) -> None:
    table = figures["stdout"]
    for label in (*COMMANDS, "generate / (a)", "build / (f)", "stage: search", "peak MB: build"):
        assert label in table
    assert "environment layout" in table and "overlay layout" in table


def test_growth_per_doubling() -> None:
    assert per_doubling(1.0, 2.0, 500, 1000) == pytest.approx(2.0)
    assert per_doubling(1.0, 4.0, 500, 2000) == pytest.approx(2.0)  # linear over two doublings
    assert per_doubling(1.0, 16.0, 500, 2000) == pytest.approx(4.0)  # quadratic


def test_the_one_merge_is_measured_then_taken_back(figures: dict[str, Any]) -> None:
    for result in figures["results"]:
        assert result["one_commit"]  # what it did, e.g. "promote cart from qa into production"
        for name in ("generate_commit", "build_commit"):
            assert result["runs"][name]["exit_code"] == 0
        root = figures["work"] / f"{result['layout']}-{SERVICES}"
        repos = json.loads((root / "org.json").read_text())["env_repos"]
        counts = [
            int(subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=repo, check=True,
                               capture_output=True, text=True).stdout)
            for repo in repos
        ]  # fmt: skip
        assert sum(counts) == result["commits"]  # the org as it was made
        for repo in repos:
            status = subprocess.run(["git", "status", "--porcelain"], cwd=repo, check=True,
                                    capture_output=True, text=True).stdout  # fmt: skip
            assert status == ""
