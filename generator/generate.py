"""The core: `generate(config) -> {path: text}`, knowing nothing of MkDocs."""

from __future__ import annotations

from pathlib import Path

from .collect import collect
from .config import Config
from .model import Model
from .render import render_pages


def generate(
    config: Config, model: Model | None = None, directory_urls: bool = True
) -> dict[str, str]:
    """Every generated page, `catalog.json` included, by path relative to the docs folder; the
    HTML tables' links made for MkDocs' `use_directory_urls` (its default, true). Pages whose
    data did not change are taken from the cache (`render_pages`), and the templates' bytecode."""
    model = model if model is not None else collect(config)
    return render_pages(
        model, directory_urls, kept=config.cache / "pages", compiled=config.cache / "templates"
    )


def write_pages(pages: dict[str, str], out: Path) -> list[Path]:
    """Write pages under `out`, leaving other files there alone; return what was written. A
    file already holding a page's bytes is left as it is (its time too): compared as bytes, as
    decoding every file there again costs more than the comparison."""
    written = []
    folders: set[Path] = set()
    for name, text in sorted(pages.items()):
        target = out / name
        if target.parent not in folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            folders.add(target.parent)
        data = text.encode("utf-8")
        try:
            same = target.stat().st_size == len(data) and target.read_bytes() == data
        except OSError:  # not there yet, or not a file: written, or failing as it is
            same = False
        if not same:
            target.write_bytes(data)
        written.append(target)
    return written
