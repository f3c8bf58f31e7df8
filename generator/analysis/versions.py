"""Version precedence: semver by its rules, anything else not comparable here."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_SEMVER = re.compile(
    r"^v?(?P<major>\d+)(?:\.(?P<minor>\d+))?(?:\.(?P<patch>\d+))?"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)
_HASH = re.compile(r"^[0-9a-f]{7,64}$")

SemverKey = tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]


def semver_key(version: str) -> SemverKey | None:
    """A sort key by semver precedence (build metadata ignored), or None if not semver."""
    if _HASH.match(version) and not version.isdigit():
        return None
    match = _SEMVER.match(version.strip())
    if match is None:
        return None
    pre = match["pre"]
    identifiers: tuple[tuple[int, int | str], ...] = ()
    if pre:
        identifiers = tuple((0, int(p)) if p.isdigit() else (1, p) for p in pre.split("."))
    return (
        int(match["major"]),
        int(match["minor"] or 0),
        int(match["patch"] or 0),
        0 if pre else 1,  # a pre-release sorts before its release
        identifiers,
    )


def is_commit_hash(version: str) -> bool:
    return bool(_HASH.match(version)) and not version.isdigit()


def compare(a: str, b: str, first_seen: dict[str, str] | None = None) -> int | None:
    """-1, 0 or 1 as a is older, equal or newer than b; None when they cannot be compared."""
    if a == b:
        return 0
    ka, kb = semver_key(a), semver_key(b)
    if ka is not None and kb is not None:
        return (ka > kb) - (ka < kb)
    if first_seen and a in first_seen and b in first_seen:
        sa, sb = first_seen[a], first_seen[b]
        return (sa > sb) - (sa < sb)
    return None


def instant(date: str) -> str:
    """A date as UTC, so that dates written in other time zones compare as instants."""
    try:
        return datetime.fromisoformat(date).astimezone(UTC).isoformat()
    except ValueError:
        return date
