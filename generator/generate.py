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
    """Write pages under `out`, leaving other files there alone; return what was written."""
    written = []
    for name, text in sorted(pages.items()):
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
        written.append(target)
    return written
