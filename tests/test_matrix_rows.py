"""The catalog's matrix and its heat map, row by row: a row is made of what it shows alone and
kept by that, so a new version in one environment renders that service's row again and takes
every other row from the cache; the page is the one rendered without a cache."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from generator import kept
from generator.model import Model
from generator.render import jinja, paths
from generator.render.pages import render_pages

WHEN = datetime(2026, 5, 1, 12, tzinfo=UTC)


def _rows_put(monkeypatch: pytest.MonkeyPatch, start: bytes = b"<tr>") -> list[bytes]:
    """The rows each later render keeps that begin with `start` (a matrix row's HTML begins
    with `<tr>`, a heat map row's SVG with its group)."""
    put: list[bytes] = []
    original = kept.Kept.put

    def recording(self: kept.Kept, data: Any, *parts: Any) -> None:
        if isinstance(data, str) and data.startswith(start.decode()):
            put.append(data.encode())
        original(self, data, *parts)

    monkeypatch.setattr(kept.Kept, "put", recording)
    return put


def _bumped(model: Model) -> tuple[Model, str]:
    """The model with the first deployment of the first environment at another version."""
    env = next(e for e in model.environments if e.deployments)
    first = env.deployments[0]
    moved = dataclasses.replace(first, version="99.0.0-bumped", versions=())
    changed = dataclasses.replace(env, deployments=(moved, *env.deployments[1:]))
    environments = tuple(changed if e is env else e for e in model.environments)
    return dataclasses.replace(model, environments=environments), first.service


def test_only_the_changed_row_is_rendered_again(
    sample_model: Model, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "pages"
    first = render_pages(sample_model, built_at=WHEN, kept=cache)
    put = _rows_put(monkeypatch)
    again = render_pages(sample_model, built_at=WHEN, kept=cache)
    assert put == []  # every row taken from the cache
    assert again[paths.CATALOG] == first[paths.CATALOG]

    bumped, service = _bumped(sample_model)
    after = render_pages(bumped, built_at=WHEN, kept=cache)
    assert len(put) == 1
    assert service.encode() in put[0] and b"99.0.0-bumped" in put[0]
    fresh: dict[str, Any] = render_pages(bumped, built_at=WHEN)
    assert after[paths.CATALOG] == fresh[paths.CATALOG] != first[paths.CATALOG]
    rows = [line for line in after[paths.CATALOG].splitlines() if line.startswith("<tr> <td")]
    assert len(rows) == len(_services(sample_model))  # one row a service, as the matrix has


def _services(model: Model) -> set[str]:
    return {d.service for e in model.environments for d in e.deployments}


def test_only_the_changed_heatmap_row_is_drawn_again(
    sample_model: Model, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "pages"
    first = render_pages(sample_model, built_at=WHEN, kept=cache)
    put = _rows_put(monkeypatch, b'<g class="pd-row"')
    render_pages(sample_model, built_at=WHEN, kept=cache)
    assert put == []

    bumped, service = _bumped(sample_model)
    after = render_pages(bumped, built_at=WHEN, kept=cache)
    assert len(put) == 1
    assert f'data-service="{service}"'.encode() in put[0] and b"99.0.0-bumped" in put[0]
    fresh = render_pages(bumped, built_at=WHEN)
    heatmap = [line for line in after[paths.CATALOG].splitlines() if "pd-heatmap" in line]
    assert len(heatmap) == 1 and heatmap[0].count('<g class="pd-row"') == len(
        _services(sample_model)
    )
    assert after[paths.CATALOG] == fresh[paths.CATALOG] != first[paths.CATALOG]


def test_descriptions_of_pages_made_each_run_are_converted_once(
    sample_model: Model, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page rendered every run (the changelog, the pitfalls) takes each description's HTML
    from the cache the second time; the pages are those rendered without a cache."""
    alone = render_pages(sample_model, built_at=WHEN)
    converted: list[str] = []
    real = jinja._converted_html

    def counted(source: str, tags: frozenset[str]) -> str:
        converted.append(source)
        return real(source, tags)

    monkeypatch.setattr(jinja, "_converted_html", counted)
    assert render_pages(sample_model, built_at=WHEN, kept=tmp_path) == alone
    assert converted  # the sample's changelog and pitfalls have Markdown
    first = len(converted)
    assert render_pages(sample_model, built_at=WHEN, kept=tmp_path) == alone
    assert len(converted) == first  # none converted again
    saved = (tmp_path / "rows.json").stat().st_mtime_ns
    assert render_pages(sample_model, built_at=WHEN, kept=tmp_path) == alone
    assert (tmp_path / "rows.json").stat().st_mtime_ns == saved  # all of it used: not rewritten
