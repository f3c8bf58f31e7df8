"""What a cache entry's key holds besides its input: the code that made it.

A cache of what a reader made of an input (a bundle read, an environment, a page) is right only
for the code that made it. Rather than a version number someone must remember to
raise, the key holds the digest of every file of the package, so any change to the generator
makes every such entry stale at once.
"""

from __future__ import annotations

import functools
import hashlib
import json
from importlib import resources
from typing import Any

_MOST_FILES = 2_000  # files hashed at most (the package has about a hundred and twenty)


@functools.cache
def code_digest() -> str:
    """The sha256 of every file of the generator package, by path: its modules, templates,
    assets (the script and style sheet a site is written with) and default configs."""
    digest = hashlib.sha256()
    for name, entry in package_files():
        digest.update(name.encode())
        digest.update(b"\0" + entry.read_bytes() + b"\0")
    return digest.hexdigest()


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
    text = json.dumps([code_digest(), *parts], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
