"""The page templates' Jinja bytecode kept in the cache: a later process loads them without
compiling, the pages are the same, and the bytecode of other code is removed."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import pytest

from generator.cachekey import code_digest
from generator.limits import Limits
from generator.model import Model
from generator.render import jinja
from generator.render.pages import render_pages

WHEN = datetime(2026, 5, 1, 12, tzinfo=UTC)


def _fresh() -> jinja2.Environment:
    """An environment as a new process makes it (not the one this process keeps)."""
    env: jinja2.Environment = jinja._environment.__wrapped__(Limits())  # type: ignore[attr-defined]
    return env


@pytest.fixture
def uncached() -> Iterator[None]:
    """This process's environment made anew, as in a new process, and again after the test."""
    jinja._environment.cache_clear()
    yield
    jinja._environment.cache_clear()


def test_a_later_environment_loads_the_bytecode_without_compiling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _fresh()
    jinja.keep_compiled(first, tmp_path)
    names = first.list_templates()
    for name in names:
        first.get_template(name)
    kept = list((tmp_path / code_digest()[:32]).iterdir())
    assert len(kept) == len(names) > 10

    later = _fresh()
    jinja.keep_compiled(later, tmp_path)

    def no_compile(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("compiled although its bytecode was kept")

    monkeypatch.setattr(later, "compile", no_compile)
    for name in names:
        later.get_template(name)
    rendered = later.get_template("rules.md.j2").render(rules=[])
    assert rendered == first.get_template("rules.md.j2").render(rules=[])


def test_a_changed_template_is_compiled_again(tmp_path: Path) -> None:
    loader = jinja2.DictLoader({"page.j2": "one {{ x }}"})
    first = jinja2.Environment(loader=loader)
    jinja.keep_compiled(first, tmp_path)
    assert first.get_template("page.j2").render(x=1) == "one 1"
    loader.mapping["page.j2"] = "two {{ x }}"
    later = jinja2.Environment(loader=loader)
    jinja.keep_compiled(later, tmp_path)
    assert later.get_template("page.j2").render(x=1) == "two 1"


def test_the_bytecode_of_other_code_is_removed(tmp_path: Path) -> None:
    stale = tmp_path / ("0" * 32)
    stale.mkdir()
    (stale / "__jinja2_old.cache").write_bytes(b"old")
    jinja.keep_compiled(_fresh(), tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [code_digest()[:32]]


def test_a_cache_that_cannot_be_written_compiles_each_time(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    env = _fresh()
    jinja.keep_compiled(env, blocked)
    assert env.bytecode_cache is None
    assert env.get_template("rules.md.j2").render(rules=[])


def test_the_pages_are_the_same_from_kept_bytecode(
    sample_model: Model, tmp_path: Path, uncached: None
) -> None:
    plain = render_pages(sample_model, built_at=WHEN)
    jinja._environment.cache_clear()
    compiling = render_pages(sample_model, built_at=WHEN, compiled=tmp_path)
    assert any((tmp_path / code_digest()[:32]).iterdir())
    jinja._environment.cache_clear()
    from_bytecode = render_pages(sample_model, built_at=WHEN, compiled=tmp_path)
    assert plain == compiling == from_bytecode


def test_a_render_without_a_cache_folder_writes_into_none(tmp_path: Path) -> None:
    """The environment is shared by every render of the process: one without a cache folder,
    after one whose folder was removed since, writes nowhere and does not fail."""
    env = _fresh()
    jinja.keep_compiled(env, tmp_path / "first")
    shutil.rmtree(tmp_path / "first")
    assert env.get_template("rules.md.j2").render(rules=[])  # its folder gone: kept nowhere
    jinja.keep_compiled(env, None)
    assert env.bytecode_cache is None
    assert env.get_template("teams_index.md.j2") is not None
    assert not (tmp_path / "first").exists()
