"""Findings and reads kept in the cache between runs, as one JSON file per kind.

A `Kept` file holds a header (the `cachekey` key of its salt: the code, and what the caller
says its entries depend on) and the entries by their parts. It is read once, on the first
`get`, and written once, by `save`, only when an entry was added or one went unused: it then
holds the entries this run used, so it never grows past what the inputs need now. Whatever is
kept is trusted as the cache folder is; a file too large, not JSON, of another salt, or an entry
not of the shape this code writes reads as nothing, and the caller reads its input again."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .cachekey import key_of
from .jsontext import compact_json, parse_json
from .model import Finding, Severity

MOST_KEPT_BYTES = 256 * 1024 * 1024  # one kept file that a run reads back


def dump_finding(finding: Finding) -> dict[str, Any]:
    return asdict(finding) | {"severity": finding.severity.value}


def load_finding(data: dict[str, Any]) -> Finding:
    """Raises KeyError, TypeError or ValueError for what no `dump_finding` wrote."""
    return Finding(**{**data, "severity": Severity(data["severity"])})


class Kept:
    """The entries of one kind (`folder/name.json`), for one salt."""

    def __init__(self, folder: Path | None, name: str, salt: str = "") -> None:
        self.file = folder / f"{name}.json" if folder is not None else None
        self.salt = key_of(salt)
        self._entries: dict[str, Any] | None = None
        self._used: set[str] = set()
        self._added = False

    def _all(self) -> dict[str, Any]:
        if self._entries is None:
            self._entries = {}
            try:
                if self.file is not None and self.file.stat().st_size <= MOST_KEPT_BYTES:
                    data = parse_json(self.file.read_bytes())
                    if isinstance(data, dict) and data.get("salt") == self.salt:
                        entries = data.get("entries")
                        self._entries = entries if isinstance(entries, dict) else {}
            except (OSError, ValueError):
                pass
        return self._entries

    def count(self) -> int:
        """How many entries there are (those read back, and those put since)."""
        return len(self._all()) if self.file is not None else 0

    @staticmethod
    def _key(parts: tuple[Any, ...]) -> str:
        return compact_json(parts, str).decode("utf-8")

    def get(self, *parts: Any) -> Any:
        """The entry kept for these parts, or None."""
        if self.file is None:
            return None
        key = self._key(parts)
        found = self._all().get(key)
        if found is not None:
            self._used.add(key)
        return found

    def keep(self, *parts: Any) -> None:
        """Count the entry for these parts as used (if there is one), without reading the file:
        a run that took the result it is part of from elsewhere still keeps it."""
        if self.file is not None:
            self._used.add(self._key(parts))

    def findings(self, find: Callable[[], list[Finding]], *parts: Any) -> list[Finding]:
        """The findings kept for these parts, or `find()`'s, kept for next time."""
        found = self.kept_findings(*parts)
        if found is None:
            found = find()
            self.put_findings(found, *parts)
        return found

    def kept_findings(self, *parts: Any) -> list[Finding] | None:
        """The findings kept for these parts; None when none are, or not as this code keeps them."""
        try:
            return [load_finding(f) for f in self.get(*parts)]
        except (KeyError, TypeError, ValueError):
            return None

    def put_findings(self, found: list[Finding], *parts: Any) -> None:
        self.put([dump_finding(f) for f in found], *parts)

    def put(self, data: Any, *parts: Any) -> None:
        if self.file is None:
            return
        key = self._key(parts)
        self._all()[key] = data
        self._used.add(key)
        self._added = True

    def save(self) -> None:
        """Write the entries this run used, if that changes the file; a cache that cannot be
        written keeps nothing."""
        if self.file is None or self._entries is None:
            return
        used = {k: v for k, v in self._entries.items() if k in self._used}
        if not self._added and len(used) == len(self._entries):
            return
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            partial = self.file.with_suffix(".partial")
            # in their order: an entry read back is as it was put (a search entry's keys)
            document = {"salt": self.salt, "entries": used}
            partial.write_bytes(compact_json(document, sort_keys=False))
            os.replace(partial, self.file)
        except OSError:
            pass


class Blobs:
    """Texts kept in the cache as files named by their key (`folder/ab/abcdef...`), beside a
    `Kept` file that names them: read when their key comes back, and those no run asked for
    since the last `save` removed by it."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.used: set[str] = set()

    def _path(self, key: str) -> Path | None:
        return self.folder / key[:2] / key if self.folder is not None else None

    def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            data = path.read_bytes() if path is not None else None
        except OSError:
            return None
        if data is not None:
            self.used.add(key)
        return data

    def has(self, key: str) -> bool:
        """Whether the blob is there (then kept, as `get` keeps it)."""
        path = self._path(key)
        if path is None or not path.is_file():
            return False
        self.used.add(key)
        return True

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if path is None:
            return
        self.used.add(key)
        try:
            if not path.is_file():
                path.parent.mkdir(parents=True, exist_ok=True)
                partial = path.with_suffix(".partial")
                partial.write_bytes(data)
                os.replace(partial, path)
        except OSError:
            pass  # a cache that cannot be written keeps nothing

    def save(self) -> None:
        """Remove every blob this run did not use."""
        if self.folder is None or not self.folder.is_dir():
            return
        for group in self.folder.iterdir():
            for blob in group.iterdir() if group.is_dir() else []:
                if blob.name not in self.used:
                    blob.unlink(missing_ok=True)


class BlobGone(Exception):
    """A kept page's blob went from the cache before its text was read (`KeptPages`)."""


class KeptPages(Mapping[str, str]):
    """Pages by path, in order, of which some are named by the key of their blob alone and read
    from `blobs` only when asked for: a writer that knows a file already holds a blob's text
    (`kept_key`) need not read either. Reading a blob that is gone raises `BlobGone`."""

    def __init__(self, texts: dict[str, str], unread: dict[str, str], keys: dict[str, str],
                 blobs: Blobs) -> None:  # fmt: skip
        self._texts = texts  # every path, in order (a kept page's text once read)
        self._kept = unread  # the kept pages not read yet: path -> key
        self._keys = keys  # every kept page's key (its text is the blob of that key)
        self._blobs = blobs

    def kept_key(self, path: str) -> str | None:
        """The key of the blob that is this page's text, for a page kept in the cache (read
        or made this run, or not read yet)."""
        return self._keys.get(path) or self._kept.get(path)

    def __getitem__(self, path: str) -> str:
        key = self._kept.get(path)
        if key is None:
            return self._texts[path]
        data = self._blobs.get(key)
        try:
            text = data.decode("utf-8") if data is not None else None
        except UnicodeDecodeError:
            text = None
        if text is None:
            raise BlobGone(path)
        self._texts[path] = text
        del self._kept[path]
        return text

    def __contains__(self, path: object) -> bool:
        return path in self._texts

    def __iter__(self) -> Iterator[str]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)
