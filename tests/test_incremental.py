"""A rebuild after a merge: what did not change is taken from the cache, and the site is the one a
clean build makes, byte for byte (`build.json`, the build stamp, apart)."""

from __future__ import annotations

import filecmp
import importlib
import json
import os
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, copy_sample, invoke

from generator.bundlepack import pack_bundle
from generator.sources import history

# commits added to the sample's scripted history, on the day of its newest commit (2026-11-04)
BUMP = """
  - environment: production
    date: "2026-11-04T15:00:00+01:00"
    author: "Ann Author <ann@acme.example>"
    message: "Promote api-gateway 3.5.1"
    set: {api-gateway: "3.5.1"}
"""
NEW_SERVICE = """
  - environment: dev
    date: "2026-11-04T15:10:00+01:00"
    author: "Ann Author <ann@acme.example>"
    message: "Add the ledger service"
    set: {ledger: "1.0.0"}
"""
REMOVED_SERVICE = "".join(
    f"""
  - environment: {env}
    date: "2026-11-04T15:{20 + index}:00+01:00"
    author: "Ann Author <ann@acme.example>"
    message: "Retire cart"
    remove: [cart]
"""
    for index, env in enumerate(("production", "staging", "dev"))
)


def _build(config: Path) -> str:
    done = invoke("build", "--config", str(config), "--fail-on", "never")
    assert done.exit_code == 0, done.output
    return done.output


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _same_site(incremental: Path, clean: Path) -> None:
    """Every file of both, byte for byte, but `build.json`."""
    assert _files(incremental) == _files(clean)
    names = [n for n in _files(clean) if n != "build.json"]
    _, differ, errors = filecmp.cmpfiles(incremental, clean, names, shallow=False)
    assert (differ, errors) == ([], [])


def _unchanged(output: str) -> int:
    found = re.search(r"; (\d+) pages? unchanged, from the cache", output)
    return int(found[1]) if found else 0


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def _schema_edit(project: Path) -> None:
    schema = project / "schemas" / "service.schema.json"
    data = json.loads(schema.read_text(encoding="utf-8"))
    data["description"] = "The service's pipeline config, as of this change."
    schema.write_text(json.dumps(data, indent=2), encoding="utf-8")


def _history(text: str) -> Callable[[Path], None]:
    return lambda root: _append(root / "examples" / "history.yml", text)


def _new_service(project: Path) -> None:
    """A service no environment ran before: its bundle on the mirror, then a commit to dev."""
    source = project / "ledger-bundle"
    shutil.copytree(REPO / "examples" / "bundles" / "notifications" / "0.2.0", source)
    for path in source.rglob("*.y*ml"):
        text = path.read_text(encoding="utf-8").replace("notifications", "ledger")
        path.write_text(text.replace('"0.2.0"', '"1.0.0"'), encoding="utf-8")
    target = project / "examples" / "nexus" / "ledger" / "1.0.0" / "ledger-1.0.0.tar.gz"
    target.parent.mkdir(parents=True)
    target.write_bytes(pack_bundle(source))
    shutil.rmtree(source)
    _append(project / "examples" / "history.yml", NEW_SERVICE)


STEPS: list[tuple[str, Callable[[Path], None]]] = [
    ("a version bump", _history(BUMP)),
    ("a new service", _new_service),
    ("a removed service", _history(REMOVED_SERVICE)),
    ("a changed schema", _schema_edit),
]


def test_an_incremental_build_after_each_commit_is_the_clean_build_byte_for_byte(
    tmp_path: Path,
) -> None:
    project = tmp_path / "project"
    config = copy_sample(project)
    assert _unchanged(_build(config)) == 0  # a cold cache: every page made
    site = project / "site"
    for what, step in STEPS:
        step(project)
        output = _build(config)
        assert _unchanged(output) > 0, f"{what}: nothing reused\n{output}"
        incremental = tmp_path / "incremental"
        shutil.rmtree(incremental, ignore_errors=True)
        shutil.copytree(site, incremental)
        kept = tmp_path / "kept-cache"  # the clean build's cache set aside, then put back
        shutil.rmtree(kept, ignore_errors=True)
        shutil.move(project / ".cache", kept)
        shutil.rmtree(site)
        assert _unchanged(_build(config)) == 0, what
        _same_site(incremental, site)
        shutil.rmtree(project / ".cache")
        shutil.move(kept, project / ".cache")
    services = project / "site" / "catalog" / "services"
    assert (services / "ledger").is_dir() and not (services / "cart").exists()


def test_the_removed_service_and_the_new_one_show_in_the_incremental_build(
    tmp_path: Path,
) -> None:
    project = tmp_path / "project"
    config = copy_sample(project)
    _build(config)
    for _, step in STEPS[1:3]:
        step(project)
    assert _unchanged(_build(config)) > 0
    index = (project / "site" / "catalog" / "services" / "index.html").read_text("utf-8")
    assert "ledger" in index and "/cart/" not in index
    search = json.loads((project / "site" / "search" / "search_index.json").read_text("utf-8"))
    locations = {doc["location"].split("#")[0] for doc in search["docs"]}
    assert "catalog/services/ledger/" in locations
    assert "catalog/services/cart/" not in locations


def _walked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every commit the history walk reads from git from here on."""
    walk = history._walk
    seen: list[str] = []

    def counted(source: Any, revisions: str) -> Any:
        commits = walk(source, revisions)
        seen.extend(c.sha for c in commits)
        return commits

    monkeypatch.setattr(history, "_walk", counted)
    return seen


def test_a_second_generate_walks_no_commit_it_has_seen_and_one_more_walks_that_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    config = copy_sample(project)
    out = tmp_path / "out"
    walked = _walked(monkeypatch)
    assert invoke("generate", "--config", str(config), "--out", str(out)).exit_code == 0
    first = len(walked)
    assert first >= 40  # the sample's 47 commits, by environment
    walked.clear()
    assert invoke("generate", "--config", str(config), "--out", str(out)).exit_code == 0
    assert walked == []
    _append(project / "examples" / "history.yml", BUMP)
    assert invoke("generate", "--config", str(config), "--out", str(out)).exit_code == 0
    assert len(walked) == 1


def _generate(config: Path, out: Path) -> str:
    done = invoke("generate", "--config", str(config), "--out", str(out))
    assert done.exit_code == 0, done.output
    return done.output


def _stamps(out: Path) -> dict[str, int]:
    return {name: (out / name).stat().st_mtime_ns for name in _files(out)}


def test_a_generate_with_nothing_changed_writes_build_json_alone_and_reads_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = copy_sample(tmp_path / "project")
    out = tmp_path / "out"
    first = _generate(config, out)
    before = _stamps(out)
    reads = _walked(monkeypatch)

    def no_collect(*_: Any) -> Any:
        raise AssertionError("collect ran")

    monkeypatch.setattr(importlib.import_module("generator.cli"), "collect", no_collect)
    again = _generate(config, out)
    assert "wrote 1 file" in again and f"{len(before) - 1} others unchanged" in again
    after = _stamps(out)
    assert [n for n in before if before[n] != after[n] and n != "build.json"] == []
    assert json.loads((out / "build.json").read_text(encoding="utf-8"))["environments"]
    assert reads == []
    # the findings are reported again, as the first run reported them
    assert again.split("wrote")[0] == first.split("wrote")[0]


@pytest.mark.parametrize("change", ["an input", "an output", "a bundle"])
def test_a_change_to_an_input_or_to_the_output_makes_generate_run_again(
    tmp_path: Path, change: str
) -> None:
    project = tmp_path / "project"
    config = copy_sample(project)
    out = tmp_path / "out"
    _generate(config, out)
    page = out / "catalog" / "teams" / "index.md"
    expected = page.read_text(encoding="utf-8")
    if change == "an input":
        owners = project / "examples" / "owners.yml"
        owners.write_text(owners.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    elif change == "an output":
        page.unlink()
    else:
        tar = (
            project / "examples" / "nexus" / "payments-api" / "1.4.2" / "payments-api-1.4.2.tar.gz"
        )
        stamp = tar.stat().st_mtime_ns + 1_000_000_000
        os.utime(tar, ns=(stamp, stamp))
    output = _generate(config, out)
    assert "unchanged" not in output
    assert page.read_text(encoding="utf-8") == expected


def test_an_incremental_build_of_an_overlay_layout_after_a_tag_bump_is_the_clean_build(
    tmp_path: Path,
) -> None:
    """The Kustomize layout of the benchmark's organisation (small): the env repos are read
    from their work trees, rendered by kustomize, and one merge bumps an image tag."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    import org as made  # the benchmark's organisation generator
    import scale

    root = tmp_path / "org"
    sizes = made.Sizes(services=12, commits=60, options=20, templates=2, fragments=3)
    org = scale.prepare_org(root, sizes, "overlay")
    config = root / "pipeline-docs.yml"
    _build(config)
    scale.one_commit(org)
    assert _unchanged(_build(config)) > 0
    incremental = tmp_path / "incremental"
    shutil.copytree(root / "site", incremental)
    shutil.rmtree(root / ".cache")
    shutil.rmtree(root / "site")
    assert _unchanged(_build(config)) == 0
    _same_site(incremental, root / "site")
