"""What a cache entry's key holds besides its input: the code that made it.

A cache of what a reader made of an input (a bundle read, an environment, a page) is right only
for the code that made it. Rather than a version number someone must remember to
raise, the key holds the digest of every file of the package, so any change to the generator
makes every such entry stale at once.
"""

from __future__ import annotations

import functools
import hashlib
import os
import stat
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import jinja2
import markdown  # type: ignore[import-untyped]  # no type stubs installed
import nh3
import orjson
import pymdownx  # type: ignore[import-untyped]  # no type stubs installed
import yaml

from .jsontext import compact_json

_MOST_FILES = 2_000  # files hashed at most (the package has about a hundred and twenty)


@functools.cache
def code_digest() -> str:
    """The sha256 of every file of the generator package, by path: its modules, templates,
    assets (the script and style sheet a site is written with) and default configs; and of the
    versions of the libraries whose output is kept (`library_versions`)."""
    digest = hashlib.sha256()
    for name, entry in package_files():
        digest.update(name.encode())
        digest.update(b"\0" + entry.read_bytes() + b"\0")
    digest.update(repr(library_versions()).encode())
    return digest.hexdigest()


def library_versions() -> list[tuple[str, str]]:
    """The versions of the libraries that make what the cache keeps: the templates' engine, the
    Markdown of descriptions and its sanitiser, YAML, JSON and the schema checks. An upgrade of
    one makes the kept pages and checks stale, as a change of the generator's own code does."""
    found = [(m.__name__, str(getattr(m, "__version__", ""))) for m in
             (jinja2, markdown, nh3, orjson, pymdownx, yaml)]  # fmt: skip
    for name in ("jsonschema", "referencing"):  # no __version__ of their own
        try:
            found.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            found.append((name, ""))
    return found


def package_files() -> list[tuple[str, Any]]:
    """Every file of the package (compiled bytecode apart), by its path in it, sorted."""
    root = resources.files("generator")
    pending, seen = [root], 0
    files = []
    while pending and seen < _MOST_FILES:
        folder = pending.pop()
        for entry in folder.iterdir():
            seen += 1
            if entry.is_dir():
                if entry.name != "__pycache__":
                    pending.append(entry)
            elif not entry.name.endswith((".pyc", ".pyo")):  # the templates and assets too
                files.append((str(entry).removeprefix(str(root)), entry))
    return sorted(files, key=lambda pair: pair[0])


def key_of(*parts: Any) -> str:
    """A cache key (hex) of the code and these JSON-able parts."""
    return digest_of(compact_json([code_digest(), *parts], str))


def digest_of(data: bytes) -> str:
    """A cache key (hex) of the code and these bytes (a context's JSON, already made)."""
    digest = hashlib.sha256(code_digest().encode())
    digest.update(b"\0")
    digest.update(data)
    return digest.hexdigest()


def stated_files(paths: list[Path], most: int) -> list[Any] | None:
    """Each file under `paths` as [path, size, modification time], sorted, for a key that
    changes when one of them does; a path that is not there is a row too (its appearing is a
    change). None past `most` rows."""
    rows: list[Any] = []
    pending = [str(p) for p in paths]
    while pending:
        path = pending.pop()
        if len(rows) > most:
            return None
        try:
            info = os.stat(path)
        except OSError:
            rows.append([path, None, None])
            continue
        if not stat.S_ISDIR(info.st_mode):
            rows.append([path, info.st_size, info.st_mtime_ns])
            continue
        try:
            with os.scandir(path) as entries:
                for entry in entries:
                    if entry.is_dir():
                        pending.append(entry.path)
                    else:
                        try:
                            found = entry.stat()
                            rows.append([entry.path, found.st_size, found.st_mtime_ns])
                        except OSError:
                            rows.append([entry.path, None, None])
        except OSError:
            rows.append([path, "unlistable", None])
    return None if len(rows) > most else sorted(rows, key=lambda row: row[0])
