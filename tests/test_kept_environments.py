"""An environment read once is kept by its repo's commit (and work tree), and read again as soon
as anything it was read from changes: a commit, a file not committed yet, a re-uploaded tarball."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from conftest import NEXUS, copy_sample, git, git_commit, git_init, make_config, tarball, write

from generator import codec
from generator.collect import collect
from generator.config import load_config
from generator.model import Environment, Finding, Severity
from generator.sources import envrepos


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The environments read from their repos from here on, by name."""
    read = envrepos._read_view
    names: list[str] = []

    def counted(config: Any, env: Any, *rest: Any) -> Any:
        names.append(env.name)
        return read(config, env, *rest)

    monkeypatch.setattr(envrepos, "_read_view", counted)
    return names


def test_every_environment_of_the_sample_reads_back_as_it_was_dumped(sample_model: Any) -> None:
    for env in sample_model.environments:
        assert codec.load(Environment, codec.dump(env)) == env
    finding = Finding("a/b", Severity.WARNING, "f", 3, "m", "h")
    assert codec.load(Finding, codec.dump(finding)) == finding


@pytest.mark.parametrize(
    "data",
    [{"name": "dev"}, {"name": 3, "repo": "r"}, [], None],
    ids=["missing field", "wrong type", "a list", "nothing"],
)
def test_what_is_not_a_dumped_environment_is_refused(data: Any) -> None:
    with pytest.raises(ValueError):
        codec.load(Environment, data)


def test_an_unchanged_repo_is_not_read_again_and_gives_the_same_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(copy_sample(tmp_path / "project"))
    reads = _reads(monkeypatch)
    cold = collect(config)
    assert reads == ["dev", "staging", "production"]
    reads.clear()
    warm = collect(config)
    assert reads == []
    assert warm.environments == cold.environments and warm.findings == cold.findings


def test_a_commit_or_a_file_not_committed_makes_that_environment_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(copy_sample(tmp_path / "project"))
    collect(config)
    reads = _reads(monkeypatch)
    staging = tmp_path / "project" / ".cache" / "sample" / "envs" / "staging"
    owners = staging / "CODEOWNERS"
    owners.write_text(owners.read_text(encoding="utf-8") + "# edited, not committed\n")
    collect(config)
    assert reads == ["staging"]
    reads.clear()
    git_commit(staging, "Edit CODEOWNERS")
    model = collect(config)
    assert reads == ["staging"]  # the same files, another commit: its history has one more
    assert (
        next(e for e in model.environments if e.name == "staging").commit
        == git(staging, "rev-parse", "HEAD").strip()
    )


def _mirrored(tmp_path: Path, *, repo: bool) -> tuple[Path, Path]:
    """One environment listing one unpinned bundle of a mirror; its config and the tarball."""
    tar = tmp_path / "mirror" / "cart" / "2.0.0" / "cart-2.0.0.tar.gz"
    tar.parent.mkdir(parents=True)
    tar.write_bytes(tarball({"bundle.yml": b"service: cart\nversion: 2.0.0\n"}))
    env = tmp_path / "envs" / "dev"
    write(
        env / "environment.yml",
        f"name: dev\nbundles:\n  - url: {NEXUS}cart/2.0.0/cart-2.0.0.tar.gz\n",
    )
    if repo:
        git_init(env)
        git_commit(env, "Deploy cart")
    config = make_config(tmp_path, environments=[{"name": "dev", "repo": "envs/dev"}],
                         bundles={"mirrors": {NEXUS: "mirror/"}})  # fmt: skip
    return config, tar


def test_a_tarball_re_uploaded_to_the_mirror_makes_the_environment_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, tar = _mirrored(tmp_path, repo=True)
    reads = _reads(monkeypatch)
    first = collect(load_config(config))
    collect(load_config(config))
    assert reads == ["dev"]
    tar.write_bytes(tarball({"bundle.yml": b"service: cart\nversion: 2.0.1\n"}))
    stamp = tar.stat().st_mtime_ns + 1_000_000_000
    os.utime(tar, ns=(stamp, stamp))
    again = collect(load_config(config))
    assert reads == ["dev", "dev"]
    [before] = first.environments[0].deployments
    [after] = again.environments[0].deployments
    assert (before.version, after.version) == ("2.0.0", "2.0.1")


def test_a_folder_that_is_not_a_git_repo_is_read_every_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, _ = _mirrored(tmp_path, repo=False)
    reads = _reads(monkeypatch)
    collect(load_config(config))
    collect(load_config(config))
    assert reads == ["dev", "dev"]


def test_the_code_digest_covers_every_file_of_the_package_that_makes_a_site() -> None:
    from generator.cachekey import package_files

    names = {name.replace("\\", "/") for name, _ in package_files()}
    for part in ("/cachekey.py", "/render/templates/service.md.j2", "/render/assets/catalog.js",
                 "/render/assets/site.css", "/render/overrides/main.html",
                 "/formats/mkdocs.default.yml"):  # fmt: skip
        assert part in names, part
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_the_code_digest_changes_with_a_library_whose_output_is_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import markdown  # type: ignore[import-untyped]

    from generator import cachekey

    before = cachekey.code_digest()
    assert ("markdown", markdown.__version__) in cachekey.library_versions()
    cachekey.code_digest.cache_clear()
    monkeypatch.setattr(markdown, "__version__", "99.0")  # as an upgrade would
    try:
        assert cachekey.code_digest() != before
    finally:
        cachekey.code_digest.cache_clear()
        monkeypatch.undo()
        assert cachekey.code_digest() == before
