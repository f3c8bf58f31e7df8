"""What a cache entry's key holds besides its input: the code that made it.

A cache of what a reader made of an input (a bundle read, later a schema or a rendered overlay)
is right only for the code that made it. Rather than a version number someone must remember to
raise, the key holds the digest of every module of the package, so any change to the generator
makes every such entry stale at once.
"""

from __future__ import annotations

import functools
import hashlib
import json
from importlib import resources
from typing import Any

_MOST_FILES = 2_000  # modules hashed at most (the package has about a hundred)


@functools.cache
def code_digest() -> str:
    """The sha256 of every Python module of the generator package, by path."""
    digest = hashlib.sha256()
    root = resources.files("generator")
    pending, seen = [root], 0
    files = []
    while pending and seen < _MOST_FILES:
        folder = pending.pop()
        for entry in folder.iterdir():
            seen += 1
            if entry.is_dir() and entry.name != "__pycache__":
                pending.append(entry)
            elif entry.name.endswith((".py", ".j2")):
                files.append(entry)
    for entry in sorted(files, key=str):
        digest.update(str(entry).removeprefix(str(root)).encode())
        digest.update(b"\0" + entry.read_bytes() + b"\0")
    return digest.hexdigest()


def key_of(*parts: Any) -> str:
    """A cache key (hex) of the code and these JSON-able parts."""
    text = json.dumps([code_digest(), *parts], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
