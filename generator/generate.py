"""The core: `generate(config) -> {path: text}`, knowing nothing of MkDocs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from .collect import collect
from .config import Config
from .kept import BlobGone, KeptPages
from .model import Model
from .render import render_pages

# a file's page, as the last run into the folder wrote it: its kept key, size and mtime (ns)
Stated = tuple[str, int, int]


def generate(
    config: Config, model: Model | None = None, directory_urls: bool = True
) -> dict[str, str]:
    """Every generated page, `catalog.json` included, by path relative to the docs folder; the
    HTML tables' links made for MkDocs' `use_directory_urls` (its default, true). Pages whose
    data did not change are taken from the cache (`render_pages`), and the templates' bytecode."""
    model = model if model is not None else collect(config)
    return dict(render_pages(model, directory_urls, kept=config.cache / "pages",
                             compiled=config.cache / "templates"))  # fmt: skip


def generate_into(
    config: Config, model: Model, out: Path, known: Mapping[str, Stated]
) -> tuple[Mapping[str, str], list[Path], dict[str, str]]:
    """`generate`'s pages written under `out` (`write_pages`): a kept page that the file `known`
    says holds it already (by its key, size and mtime, as the last run wrote it) is read neither
    from the cache nor from the folder. The pages, the files written, and the kept pages' keys
    by the path of their file."""
    pages = render_pages(model, kept=config.cache / "pages",
                         compiled=config.cache / "templates", lazy=True)  # fmt: skip
    keys: dict[str, str] = {}
    try:
        return pages, write_pages(pages, out, known, keys), keys
    except BlobGone:  # its cache emptied meanwhile (another run's): every page read now
        pages = generate(config, model)
        return pages, write_pages(pages, out), {}


def write_pages(
    pages: Mapping[str, str], out: Path, known: Mapping[str, Stated] | None = None,
    keys: dict[str, str] | None = None,
) -> list[Path]:  # fmt: skip
    """Write pages under `out`, leaving other files there alone; return what was written. A
    file already holding a page's bytes is left as it is (its time too): compared as bytes, as
    decoding every file there again costs more than the comparison; or, for a kept page
    (`KeptPages`), known to hold it by `known` (by the file's path as written here) when the
    file's size and modification time are those the last run left. `keys`, when given, is told
    each kept page's key by the path of its file."""
    written = []
    folders: set[Path] = set()
    known = known or {}
    for name in sorted(pages):
        target = out / name
        if target.parent not in folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            folders.add(target.parent)
        key = pages.kept_key(name) if isinstance(pages, KeptPages) else None
        if key is not None and keys is not None:
            keys[str(target)] = key
        if key is not None and (stated := known.get(str(target))) is not None:
            try:
                info = target.stat()
            except OSError:
                info = None
            if info is not None and stated == (key, info.st_size, info.st_mtime_ns):
                written.append(target)
                continue
        data = pages[name].encode("utf-8")
        try:
            same = target.stat().st_size == len(data) and target.read_bytes() == data
        except OSError:  # not there yet, or not a file: written, or failing as it is
            same = False
        if not same:
            target.write_bytes(data)
        written.append(target)
    return written
