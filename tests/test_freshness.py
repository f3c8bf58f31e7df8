"""Honest freshness (issue 20): an env repo that cannot be read now is shown as the last run
that read it saw it, marked with when that was; without such a run it is *unreadable*. A page
works out when it is viewed whether the data it shows is older than `freshness.stale_after`
(the browser test, with the page's clock set past that age)."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import copy_sample, git, run_cli, serve_folder

from generator.config import ConfigError, load_config


def _without_sample(config: Path) -> None:
    """The config without `sample:`, so a run no longer makes the sample's env repos anew."""
    text = config.read_text(encoding="utf-8")
    config.write_text(re.sub(r"(?m)^sample:.*\n", "", text), encoding="utf-8")


def _catalog(site: Path) -> dict[str, Any]:
    return json.loads((site / "catalog.json").read_text(encoding="utf-8"))


def _environment(document: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [e for e in document["environments"] if e["name"] == name]
    return found


def _deployments(document: dict[str, Any], env: str) -> dict[str, str | None]:
    return {
        s["name"]: d["version"]
        for s in document["services"]
        for d in s["deployments"]
        if d["environment"] == env
    }


def _findings(config: Path) -> list[dict[str, Any]]:
    done = run_cli("check", "--config", str(config), "--format", "json", "--fail-on", "never")
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout)["findings"])


@pytest.fixture
def twice(tmp_path: Path) -> tuple[Path, Path, Path, datetime, datetime]:
    """The sample built once, then its staging repo gone and the site built again: the config,
    both sites, and the times before and after the first build."""
    config = copy_sample(tmp_path / "project")
    assert (
        run_cli("generate", "--config", str(config), "--out", str(tmp_path / "g")).returncode == 0
    )
    _without_sample(config)  # the sample's env repos made, and left as they are from here on
    staging = tmp_path / "project" / ".cache" / "sample" / "envs" / "staging"
    with (staging / "environment.yml").open("a", encoding="utf-8") as handle:
        handle.write("nobody_documented_this: true\n")  # a finding of the read itself
    git(staging, "commit", "--quiet", "-am", "An undocumented key")
    with config.open("a", encoding="utf-8") as handle:  # a warning: the site is built with it
        handle.write("checks:\n  config/unknown-option: warning\n")
    before = datetime.now(UTC).replace(microsecond=0)
    first = tmp_path / "first"
    done = run_cli("build", "--config", str(config), "--site-dir", str(first))
    assert done.returncode == 0, done.stderr
    after = datetime.now(UTC)
    shutil.rmtree(staging)
    second = tmp_path / "second"
    done = run_cli("build", "--config", str(config), "--site-dir", str(second))
    assert done.returncode == 0, done.stderr  # a warning now, not the error of an unreadable repo
    return config, first, second, before, after


def test_an_unreadable_repo_is_shown_as_the_earlier_build_read_it(
    twice: tuple[Path, Path, Path, datetime, datetime],
) -> None:
    config, first, second, before, after = twice
    was, now = _catalog(first), _catalog(second)
    staging = _environment(now, "staging")
    assert staging["status"] == "from an earlier build"
    read = datetime.strptime(staging["earlier"]["read"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before <= read <= after
    assert staging["earlier"]["commit"] == _environment(was, "staging")["commit"]
    assert "is not a folder" in staging["earlier"]["reason"]
    assert _deployments(now, "staging") == _deployments(was, "staging") != {}
    # the other environments are read as they are now
    for name in ("dev", "production"):
        assert (
            _environment(now, name)["status"] == "read"
            and _environment(now, name)["earlier"] is None
        )
    build = json.loads((second / "build.json").read_text(encoding="utf-8"))
    assert {e["name"]: e["read"] for e in build["environments"]} == {
        "dev": None, "staging": staging["earlier"]["read"], "production": None,
    }  # fmt: skip
    page = (second / "catalog" / "environments" / "staging" / "index.html").read_text("utf-8")
    shown = read.strftime("%Y-%m-%d %H:%M")
    assert f"From {shown} UTC, repo unreadable now" in page
    catalog_page = (second / "catalog" / "index.html").read_text("utf-8")
    assert f"from {shown} UTC, repo unreadable now" in catalog_page
    # each of its cells in the matrix, and each service page's row of it, says so too
    cells = re.findall(r'<td data-env="staging"[^>]*>(.*?)</td>', catalog_page)
    assert cells and all(f'pd-earlier">from {shown[:10]}<' in c for c in cells if "pd-cellbox" in c)
    service = (second / "catalog" / "services" / "payments-api" / "index.html").read_text("utf-8")
    assert f"from {shown} UTC, repo unreadable now" in service
    assert f"from {shown} UTC" not in (first / "catalog" / "index.html").read_text("utf-8")
    findings = _findings(config)
    marked = [f for f in findings if f["rule"] == "envrepo/earlier-build"]
    assert len(marked) == 1 and marked[0]["severity"] == "warning"
    assert f"shown as an earlier run read it ({shown} UTC, commit " in marked[0]["message"]
    assert not [f for f in findings if f["rule"] == "envrepo/unreadable"]
    # the earlier read's own findings are replayed as of then
    read = [
        f for f in findings
        if (f["file"] or "").startswith("staging:") and f["rule"] != "catalog/skipped-environment"
    ]  # fmt: skip
    assert read and all("(as an earlier run read it, " in f["message"] for f in read)
    assert any("nobody_documented_this" in f["message"] for f in read)
    exported = run_cli("catalog", "--config", str(config), "--format", "backstage")
    assert exported.returncode == 0, exported.stderr
    annotations = [
        d["metadata"].get("annotations", {})
        for d in yaml.safe_load_all(exported.stdout)
        if d["kind"] == "Component"
    ]
    read_at = {a.get("pipeline-docs/earlier-read.staging") for a in annotations} - {None}
    assert read_at == {staging["earlier"]["read"]}
    assert not any("pipeline-docs/earlier-read.dev" in a for a in annotations)
    table = run_cli("catalog", "--config", str(config))
    assert (
        table.returncode == 0 and f"staging: from {shown} UTC, repo unreadable now" in table.stdout
    )


def test_without_an_earlier_read_the_repo_is_unreadable(tmp_path: Path) -> None:
    config = copy_sample(tmp_path / "project")
    assert (
        run_cli("generate", "--config", str(config), "--out", str(tmp_path / "a")).returncode == 0
    )
    _without_sample(config)
    shutil.rmtree(tmp_path / "project" / ".cache" / "sample" / "envs" / "staging")
    shutil.rmtree(tmp_path / "project" / ".cache" / "environments-last")
    done = run_cli("generate", "--config", str(config), "--out", str(tmp_path / "b"))
    assert done.returncode == 0, done.stderr
    staging = _environment(_catalog(tmp_path / "b"), "staging")
    assert staging["status"] == "unreadable" and staging["earlier"] is None
    assert _deployments(_catalog(tmp_path / "b"), "staging") == {}
    rules = {f["rule"] for f in _findings(config)}
    assert "envrepo/unreadable" in rules and "envrepo/earlier-build" not in rules


def test_a_remote_repo_that_cannot_be_fetched_is_shown_from_the_earlier_build(
    tmp_path: Path,
) -> None:
    config = copy_sample(tmp_path / "project")
    assert (
        run_cli("generate", "--config", str(config), "--out", str(tmp_path / "x")).returncode == 0
    )
    _without_sample(config)
    origin = tmp_path / "origin-staging.git"
    local = tmp_path / "project" / ".cache" / "sample" / "envs" / "staging"
    git(tmp_path, "clone", "--quiet", "--bare", str(local), str(origin))
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("repo: .cache/sample/envs/staging", f"repo: {origin.as_uri()}"), "utf-8"
    )
    first = tmp_path / "first"
    assert run_cli("generate", "--config", str(config), "--out", str(first)).returncode == 0
    assert _environment(_catalog(first), "staging")["status"] == "read"
    shutil.rmtree(origin)  # the server is gone; the clone in the cache cannot be fetched
    second = tmp_path / "second"
    done = run_cli("generate", "--config", str(config), "--out", str(second))
    assert done.returncode == 0, done.stderr
    staging = _environment(_catalog(second), "staging")
    assert staging["status"] == "from an earlier build"
    assert _deployments(_catalog(second), "staging") == _deployments(_catalog(first), "staging")


def test_stale_after_is_read_from_the_config(tmp_path: Path) -> None:
    config = copy_sample(tmp_path / "project")
    text = config.read_text(encoding="utf-8")
    config.write_text(text + "freshness:\n  stale_after: 36h\n", encoding="utf-8")
    assert load_config(config).stale_after == 36 * 3600
    config.write_text(text + "freshness:\n  stale_after: 3w\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(config)
    assert "freshness" in str(error.value) and "stale_after" in str(error.value)
    out = tmp_path / "out"
    config.write_text(text + "freshness:\n  stale_after: 90m\n", encoding="utf-8")
    assert run_cli("generate", "--config", str(config), "--out", str(out)).returncode == 0
    assert json.loads((out / "build.json").read_text(encoding="utf-8"))["stale_after"] == 5400


@pytest.mark.browser
def test_a_page_read_after_the_age_warns_that_its_data_is_stale(
    browser: Any, twice: tuple[Path, Path, Path, datetime, datetime]
) -> None:
    from playwright.sync_api import expect

    _, _, second, _, _ = twice
    build = json.loads((second / "build.json").read_text(encoding="utf-8"))
    built = datetime.strptime(build["built"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    earlier = datetime.strptime(
        next(e["read"] for e in build["environments"] if e["read"]), "%Y-%m-%dT%H:%M:%SZ"
    ).replace(tzinfo=UTC)
    read_commit = next(e["commit"] for e in build["environments"] if e["read"])
    with serve_folder(second) as base:
        for url in (base, f"{base}catalog/", f"{base}catalog/environments/staging/"):
            fresh = browser.new_context().new_page()
            fresh.clock.set_fixed_time(built + timedelta(hours=1))
            fresh.goto(url)
            fresh.locator(".pd-built").wait_for(state="visible")
            expect(fresh.locator(".pd-stale")).to_have_count(0)
            fresh.context.close()
            late = browser.new_context().new_page()
            late.clock.set_fixed_time(earlier + timedelta(hours=25))  # past the default 24h
            late.goto(url)
            warning = late.locator(".pd-stale")
            warning.wait_for(state="visible")
            said = warning.inner_text()
            assert "Stale data" in said and "older than 24 hours" in said, url
            assert "staging (read 25 hours ago, repo unreadable now)" in said
            stamp = late.locator(".pd-built").inner_text()
            assert f"staging {read_commit[:7]} (from an earlier build, " in stamp
            late.context.close()
        # a day and a half after the build, every environment's data is stale
        page = browser.new_context().new_page()
        page.clock.set_fixed_time(built + timedelta(hours=36))
        page.goto(base)
        said = page.locator(".pd-stale").inner_text()
        assert "dev (read 36 hours ago)" in said and "production (read 36 hours ago)" in said
        page.context.close()


def test_the_last_reads_kept_are_those_of_the_configs_environments_now(tmp_path: Path) -> None:
    """Another version's last reads (their names hold its code digest) and those of an
    environment the config no longer names are removed; a partial file of a run still
    writing is left alone."""
    config = copy_sample(tmp_path / "project")
    last = tmp_path / "project" / ".cache" / "environments-last"
    done = run_cli("check", "--config", str(config), "--format", "json", "--fail-on", "never")
    assert done.returncode == 0, done.stderr
    ours = sorted(p.name for p in last.iterdir())
    assert ours and all(n.endswith((".json", ".read.json")) for n in ours)
    stale = [last / "0123456789abcdef0123456789abcdef.json",
             last / "0123456789abcdef0123456789abcdef.read.json"]  # fmt: skip
    writing = last / "fedcba9876543210fedcba9876543210.read.4242.partial"
    for file in [*stale, writing]:
        file.write_text("{}", encoding="utf-8")
    done = run_cli("check", "--config", str(config), "--format", "json", "--fail-on", "never")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in last.iterdir()) == sorted([*ours, writing.name])
