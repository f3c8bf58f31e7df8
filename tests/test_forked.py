"""The catalog's pages rendered in a forked child: the same pages, in the same order, as one
process renders them; the kept pages it used still kept; a child that fails changes nothing."""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import copy_sample

from generator import forked
from generator.config import load_config
from generator.model import Finding, Model, Severity
from generator.render import pages as pages_module
from generator.render.pages import render_pages
from generator.validation import Validator

# the module, not the function the package names `collect`
collect_module = importlib.import_module("generator.collect")
WHEN = datetime(2026, 5, 1, 12, tzinfo=UTC)


@pytest.fixture
def forking(monkeypatch: pytest.MonkeyPatch) -> None:
    """A child even for the sample's few services, and on a machine of one core."""
    monkeypatch.setattr(pages_module, "PARALLEL_FROM", 0)
    monkeypatch.setattr(forked, "cores", lambda: 2)
    assert forked.can_fork(), f"other threads run, no fork would happen: {threading.enumerate()}"


def _one_process(model: Model, kept: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    with monkeypatch.context() as patch:
        patch.setattr(pages_module, "PARALLEL_FROM", 10**9)
        return render_pages(model, built_at=WHEN, kept=kept)


def _blobs(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def test_pack_round_trip() -> None:
    texts = ["", "a", "ünïcode ✓", 'line\nbreak "quoted" \x00', "x" * 100_000]
    assert forked.unpack(forked.pack(texts)) == texts
    assert forked.unpack(b"") == []


@pytest.mark.parametrize("cut", [1, 8, 12])
def test_unpack_refuses_what_is_cut_short(cut: int) -> None:
    data = forked.pack(["some text"])
    with pytest.raises(ValueError, match="cut short"):
        forked.unpack(data[:cut])


def test_a_child_returns_its_texts(forking: None) -> None:
    parent = os.getpid()
    with forked.forked(lambda: [str(os.getpid()), "done"]) as job:
        assert job is not None
        texts = job.result()
    assert texts is not None and texts[1] == "done"
    assert int(texts[0]) != parent  # it ran in another process
    assert job.result() is None  # waited for once


def test_a_failing_child_gives_none(forking: None) -> None:
    def fail() -> list[str]:
        raise RuntimeError("boom")

    with forked.forked(fail) as job:
        assert job is not None
        assert job.result() is None


def test_leaving_early_kills_the_child(forking: None) -> None:
    def forever() -> list[str]:
        while True:
            pass

    with pytest.raises(KeyboardInterrupt), forked.forked(forever) as job:
        assert job is not None
        pid = job.pid
        raise KeyboardInterrupt
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped: no such child any more


def test_no_fork_with_other_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forked, "cores", lambda: 2)
    monkeypatch.setattr(forked.threading, "active_count", lambda: 2)
    assert not forked.can_fork()
    with forked.forked(lambda: ["never"]) as job:
        assert job is None


def test_no_fork_on_one_core(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forked, "cores", lambda: 1)
    assert not forked.can_fork()


def test_pages_from_a_child_are_one_process_pages(
    sample_model: Model, tmp_path: Path, forking: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = _one_process(sample_model, tmp_path / "alone", monkeypatch)
    calls: list[int] = []
    real = pages_module._service_pages

    def counted(*args: object) -> None:
        calls.append(os.getpid())
        real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(pages_module, "_service_pages", counted)
    both = render_pages(sample_model, built_at=WHEN, kept=tmp_path / "both")
    assert calls == []  # the service pages were made in the child, not here
    assert list(both) == list(alone)  # the same order
    assert both == alone
    assert any(path.startswith("catalog/services/") for path in both)
    kept = _blobs(tmp_path / "both")
    assert kept.keys() == _blobs(tmp_path / "alone").keys()
    # the next run takes every kept page from the cache: the child said which it used, so
    # none was removed, and none is written again
    again = render_pages(sample_model, built_at=WHEN, kept=tmp_path / "both")
    assert again == alone
    assert _blobs(tmp_path / "both") == kept


def test_a_child_that_fails_leaves_the_work_to_this_process(
    sample_model: Model, tmp_path: Path, forking: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = _one_process(sample_model, tmp_path / "alone", monkeypatch)
    parent = os.getpid()
    real = pages_module._environment_pages

    def fails_in_child(*args: object) -> None:
        if os.getpid() != parent:
            os._exit(3)  # as a crash would: no result
        real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(pages_module, "_environment_pages", fails_in_child)
    assert render_pages(sample_model, built_at=WHEN, kept=tmp_path / "failed") == alone


def test_an_error_in_the_work_is_raised_here(
    sample_model: Model, tmp_path: Path, forking: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise ValueError("a template bug")

    monkeypatch.setattr(pages_module, "_service_pages", broken)
    with pytest.raises(ValueError, match="a template bug"):
        render_pages(sample_model, built_at=WHEN, kept=tmp_path / "kept")


def test_a_kept_page_the_child_left_unread_is_read_here_or_made_again(
    sample_model: Model, tmp_path: Path, forking: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = _one_process(sample_model, tmp_path / "alone", monkeypatch)
    kept = tmp_path / "kept"
    assert render_pages(sample_model, built_at=WHEN, kept=kept) == alone  # fills the cache
    told: list[list[str] | None] = []
    real_early, real_parts = pages_module._read_early, pages_module._parts_of
    removed: list[str] = []

    def removing(site: Any, early: list[str] | None) -> dict[str, tuple[str, str]]:
        told.append(early)
        if removed:  # as a cache cleaned meanwhile would
            (kept / removed[0][:2] / removed[0]).unlink()
        return real_early(site, early)

    def left_unread(texts: list[str], count: int) -> list[dict[str, str]] | None:
        parts = real_parts(texts, count)
        unread = json.loads(texts[0])["unread"]
        assert parts is not None and unread
        assert all(not text for part in parts for path, text in part.items() if path in unread)
        return parts

    monkeypatch.setattr(pages_module, "_read_early", removing)
    monkeypatch.setattr(pages_module, "_parts_of", left_unread)
    # the child said early which kept pages it left unread, the service pages among them
    assert render_pages(sample_model, built_at=WHEN, kept=kept) == alone
    assert told[-1] is not None
    unread = json.loads(told[-1][0])
    assert any(path.startswith("catalog/services/") for path in unread)
    removed.append(sorted(unread.values())[0])
    # one of them gone before this process reads it: the child's work is done here again
    assert render_pages(sample_model, built_at=WHEN, kept=kept) == alone
    assert render_pages(sample_model, built_at=WHEN, kept=kept) == alone  # kept again, read


def test_pages_the_child_makes_come_after_it_said_which_it_left_unread(
    sample_model: Model, tmp_path: Path, forking: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A version bump: the child makes the pages it changed after its early word, and the
    pages are one process's."""
    kept = tmp_path / "kept"
    render_pages(sample_model, built_at=WHEN, kept=kept)
    env = next(e for e in sample_model.environments if e.deployments)
    bumped = dataclasses.replace(env.deployments[0], version="9.9.9-bumped")
    model = dataclasses.replace(sample_model, environments=tuple(
        dataclasses.replace(e, deployments=(bumped, *e.deployments[1:])) if e is env else e
        for e in sample_model.environments
    ))  # fmt: skip
    alone = _one_process(model, tmp_path / "alone", monkeypatch)
    both = render_pages(model, built_at=WHEN, kept=kept)
    assert list(both) == list(alone) and both == alone
    assert any("9.9.9-bumped" in text for path, text in both.items()
               if path.startswith("catalog/services/"))  # fmt: skip


def test_validate_files_checked_in_a_child_find_what_this_process_finds(
    sample_config: Path, forking: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(sample_config)
    target = next((sample_config.parent / "examples" / "services").glob("*/.pipeline.yml"))
    target.write_text(target.read_text() + "no_such_option_here: 1\n", encoding="utf-8")
    with monkeypatch.context() as patch:
        patch.setattr(collect_module, "ASIDE_FROM", 10**9)
        alone = collect_module._collect(config).findings
    assert any("no_such_option_here" in f.message for f in alone)
    (config.cache / "checks.json").unlink(missing_ok=True)  # checked anew, in the child
    parent = os.getpid()
    checked: list[int] = []
    real = collect_module._validate_files

    def counted(*args: Any) -> list[Finding]:
        checked.append(os.getpid())
        return real(*args)

    monkeypatch.setattr(collect_module, "ASIDE_FROM", 0)
    monkeypatch.setattr(collect_module, "_validate_files", counted)
    assert collect_module._collect(config).findings == alone
    assert checked == []  # done in the child, whose calls this process does not see
    assert (config.cache / "checks.json").is_file()  # the child kept its checks

    def fails_in_child(*args: Any) -> list[Finding]:
        if os.getpid() != parent:
            os._exit(3)
        return counted(*args)

    monkeypatch.setattr(collect_module, "_validate_files", fails_in_child)
    assert collect_module._collect(config).findings == alone
    assert checked == [parent]  # the child failed: done here


def test_environment_yml_checked_in_a_child_finds_what_this_process_finds(
    tmp_path: Path, forking: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    envrepos = importlib.import_module("generator.sources.envrepos")
    parent = os.getpid()
    asked: list[int] = []
    real = Validator.check

    def marked(self: Validator, document: Any, schema_id: str, what: str = "") -> list[Finding]:
        found: list[Finding] = real(self, document, schema_id, what)
        if schema_id == "environment":
            asked.append(os.getpid())
            if os.getpid() != parent and failing:
                os._exit(3)  # as a crash would
            found.append(Finding("config/invalid", Severity.ERROR, document.file, 1, "marked"))
        return found

    monkeypatch.setattr(Validator, "check", marked)
    monkeypatch.setattr(envrepos, "ASIDE_FROM", 10**9)
    failing = False
    alone = collect_module._collect(load_config(copy_sample(tmp_path / "alone"))).findings
    assert [f for f in alone if f.message == "marked"]  # each environment's check found it
    assert set(asked) == {parent}
    monkeypatch.setattr(envrepos, "ASIDE_FROM", 0)
    for failing in (False, True):
        asked.clear()
        config = load_config(copy_sample(tmp_path / f"aside-{failing}"))
        assert collect_module._collect(config).findings == alone
        # done in the child, whose calls this process does not see; or here, after it failed
        assert asked == ([parent] * len(config.environments) if failing else [])


def _record(config: Any, out: Path, written: list[Path], keys: dict[str, str]) -> Any:
    from generator.runs import RunRecord

    record = RunRecord(config, out)
    record.save("inputs", [], written, (), [], keys)
    return RunRecord(config, out)  # as the next run reads it


def _texts(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != "build.json"}  # fmt: skip


def test_kept_pages_the_last_run_wrote_are_written_again_without_reading_them(
    sample_config: Path, tmp_path: Path, forking: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator.generate import generate, generate_into, write_pages
    from generator.kept import Blobs

    config = load_config(sample_config)
    model = collect_module.collect(config)
    expected = tmp_path / "expected"
    with monkeypatch.context() as patch:
        patch.setattr(pages_module, "PARALLEL_FROM", 10**9)
        write_pages(generate(config, model), expected)
    out = tmp_path / "out"
    # the first run makes every page (the child its own), and names each kept one by its key
    _, written, keys = generate_into(config, model, out, {})
    record = _record(config, out, written, keys)
    services = {key for path, key in keys.items()  # the service pages, not their list
                if "/catalog/services/" in path and not path.endswith("/index.md")}  # fmt: skip
    assert services
    assert _texts(out) == _texts(expected)
    gets: list[str] = []
    real_get = Blobs.get

    def counted(self: Blobs, key: str) -> bytes | None:
        gets.append(key)
        return real_get(self, key)

    monkeypatch.setattr(Blobs, "get", counted)
    page = next(Path(p) for p in keys if "/catalog/services/" in p)
    page.write_text(
        "edited by hand\n", encoding="utf-8"
    )  # its size and time no longer the record's
    pages, _, again = generate_into(config, model, out, record.known_pages())
    assert again == keys
    # of the service pages (the child's), that one alone read from the cache, to write it
    assert [key for key in gets if key in services] == [keys[str(page)]]
    assert _texts(out) == _texts(expected)
    assert pages[page.relative_to(out).as_posix()] == (expected / page.relative_to(out)).read_text(
        encoding="utf-8"
    )  # a kept page not read yet, read when asked for


def test_a_kept_page_gone_from_the_cache_before_it_is_written_is_made_again(
    sample_config: Path, tmp_path: Path, forking: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from generator.generate import generate_into
    from generator.kept import KeptPages

    generate_module = importlib.import_module("generator.generate")
    config = load_config(sample_config)
    model = collect_module.collect(config)
    out = tmp_path / "out"
    generate_into(config, model, out, {})
    expected = _texts(out)
    real = generate_module.render_pages
    lazy: list[bool] = []

    def emptied(*args: Any, **kwargs: Any) -> Any:
        pages = real(*args, **kwargs)
        lazy.append(isinstance(pages, KeptPages))
        if isinstance(pages, KeptPages):  # as another run cleaning the cache meanwhile would
            shutil.rmtree(config.cache / "pages")
        return pages

    monkeypatch.setattr(generate_module, "render_pages", emptied)
    shutil.rmtree(out)  # every page to be written, the kept ones read
    pages, _, keys = generate_into(config, model, out, {})
    assert lazy == [True, False]  # the kept pages gone: every page made again, one process's way
    assert keys == {} and not isinstance(pages, KeptPages)
    assert _texts(out) == expected
