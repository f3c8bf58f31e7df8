"""A cold build shared with a forked child (`generator.pagehalves`): the site is the one a build
in one process makes, byte for byte, whether the child does its half, fails before sending its
conversions, or fails before sending the pages it wrote; and the cache it leaves serves the
next build whole."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import copy_sample
from test_incremental import _build, _same_site, _unchanged

from generator import forked, pagehalves
from generator.pagehalves import Halves
from generator.pagereuse import PageReuse

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork on this system")


def _taken(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The pages this process took as the child wrote them, as they come."""
    taken: list[str] = []
    take = PageReuse.take_written

    def spy(self: PageReuse, page: Any, *rest: Any) -> None:
        taken.append(page.file.src_uri)
        take(self, page, *rest)

    monkeypatch.setattr(PageReuse, "take_written", spy)
    return taken


def _one_process_site(project: Path, config: Path, into: Path, monkeypatch: Any) -> None:
    """The site a cold build in one process makes, moved to `into`; cache and site cleared."""
    with monkeypatch.context() as alone:
        alone.setattr(forked, "can_fork", lambda: False)
        shutil.rmtree(project / ".cache", ignore_errors=True)
        shutil.rmtree(project / "site", ignore_errors=True)
        assert _unchanged(_build(config)) == 0
    shutil.move(project / "site", into)
    shutil.rmtree(project / ".cache")


@pytest.fixture
def shared(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sample's site counts as large enough to share, and this machine as having two cores."""
    monkeypatch.setattr(pagehalves, "MIN_PAGES", 2)
    monkeypatch.setattr(forked, "can_fork", lambda: True)


@pytest.mark.usefixtures("shared")
def test_a_cold_build_shared_with_a_child_is_the_one_process_build_and_its_cache_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    config = copy_sample(project)
    alone = tmp_path / "alone"
    _one_process_site(project, config, alone, monkeypatch)
    taken = _taken(monkeypatch)
    output = _build(config)
    assert _unchanged(output) == 0
    pages = len(list(alone.rglob("index.html")))
    # the child wrote the later pages, about half of the source bytes, and none twice
    assert 2 <= len(taken) < pages - 1 and len(set(taken)) == len(taken)
    assert taken[-1].endswith(".md")
    _same_site(project / "site", alone)
    # what both processes kept serves the next build: every page from the cache, none shared
    taken.clear()
    again = _build(config)
    assert _unchanged(again) >= pages - 1, again
    assert taken == []
    _same_site(project / "site", alone)


def _child_fails_at_start(self: Halves, *_: Any) -> None:
    os._exit(3)


def _child_fails_at_its_last_page(self: Halves, page: Any) -> None:
    if self.state == "child" and page.file.src_uri == self.last:
        os._exit(3)


@pytest.mark.usefixtures("shared")
@pytest.mark.parametrize(
    ("where", "failing"),
    [("_child", _child_fails_at_start), ("built", _child_fails_at_its_last_page)],
)
def test_a_child_that_fails_leaves_its_half_to_this_process_and_the_site_is_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, failing: Any
) -> None:
    project = tmp_path / "project"
    config = copy_sample(project)
    alone = tmp_path / "alone"
    _one_process_site(project, config, alone, monkeypatch)
    monkeypatch.setattr(Halves, where, failing)
    taken = _taken(monkeypatch)
    assert _unchanged(_build(config)) == 0
    assert taken == []  # nothing came from the child
    _same_site(project / "site", alone)
    assert _unchanged(_build(config)) >= len(list(alone.rglob("index.html"))) - 1


def test_a_small_site_or_a_warm_cache_is_built_in_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(forked, "can_fork", lambda: True)
    forks: list[int] = []
    start = Halves.start

    def counted(self: Halves, *args: Any) -> None:
        start(self, *args)
        forks.append(self.state == "parent")

    monkeypatch.setattr(Halves, "start", counted)
    project = tmp_path / "project"
    config = copy_sample(project)
    _build(config)  # the sample's 55 pages: fewer than MIN_PAGES
    monkeypatch.setattr(pagehalves, "MIN_PAGES", 2)
    _build(config)  # every page's conversion in the cache
    assert forks == [False, False]


def test_a_site_where_two_files_make_one_path_is_built_in_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`guides/ci.md` and a static `guides/ci/index.html` both make `guides/ci/index.html`: in
    one process the one MkDocs writes last wins (the page), in two it would be whichever
    process came last."""
    monkeypatch.setattr(pagehalves, "MIN_PAGES", 2)
    monkeypatch.setattr(forked, "can_fork", lambda: True)
    forks: list[bool] = []
    start = Halves.start

    def counted(self: Halves, *args: Any) -> None:
        start(self, *args)
        forks.append(self.state == "parent")

    monkeypatch.setattr(Halves, "start", counted)
    project = tmp_path / "project"
    config = copy_sample(project)
    static = project / "docs" / "guides" / "ci" / "index.html"
    static.parent.mkdir()
    static.write_text("<p>a static file</p>", encoding="utf-8")
    _build(config)
    assert forks == [False]
    written = (project / "site" / "guides" / "ci" / "index.html").read_text(encoding="utf-8")
    assert "a static file" not in written and "<h1" in written  # the page, written after
