"""Findings and reads kept in the cache as JSON between runs, under `cachekey` keys.

Whatever is kept is trusted as the cache folder is; an entry too large, not JSON, or not of the
shape this code writes reads back as None, and the caller reads its input again."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .cachekey import key_of
from .model import Finding, Severity

MOST_KEPT_BYTES = 64 * 1024 * 1024  # one kept entry that a run reads back


def dump_finding(finding: Finding) -> dict[str, Any]:
    return asdict(finding) | {"severity": finding.severity.value}


def load_finding(data: dict[str, Any]) -> Finding:
    """Raises KeyError, TypeError or ValueError for what no `dump_finding` wrote."""
    return Finding(**{**data, "severity": Severity(data["severity"])})


class Kept:
    """JSON entries in one folder of the cache, each under the key of its parts and `salt`."""

    def __init__(self, folder: Path | None, salt: str = "") -> None:
        self.folder = folder
        self.salt = salt

    def file(self, *parts: Any) -> Path | None:
        if self.folder is None:
            return None
        return self.folder / f"{key_of(self.salt, *parts)[:40]}.json"

    def get(self, *parts: Any) -> Any:
        """The entry kept for these parts, or None."""
        file = self.file(*parts)
        if file is None:
            return None
        try:
            if file.stat().st_size > MOST_KEPT_BYTES:
                return None
            return json.loads(file.read_bytes())
        except (OSError, ValueError):
            return None

    def put(self, data: Any, *parts: Any) -> None:
        """Keep `data` for these parts; a cache that cannot be written keeps nothing."""
        file = self.file(*parts)
        if file is None:
            return
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            partial = file.with_suffix(".partial")
            partial.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
            os.replace(partial, file)
        except OSError:
            pass
