"""Version precedence: semver by its rules, anything else not comparable here.

A version is never turned into a number wholesale: one longer than `limits.version_chars` (or
with a number of more than `MAX_NUMBER_DIGITS` digits) is not read as semver at all, only
compared as a string (equal or not; then by when it first appeared, as commit hashes are). So a
version of thousands of digits can neither hit Python's limit on converting long numbers
(`int()` of more than 4300 digits raises) nor cost more than a scan of its text."""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime

from ..limits import Limits

# ASCII digits only: `\d` would also take other scripts' digits, which no version uses
_SEMVER = re.compile(
    r"^v?(?P<major>\d+)(?:\.(?P<minor>\d+))?(?:\.(?P<patch>\d+))?"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$",
    re.ASCII,
)
_HASH = re.compile(r"^[0-9a-f]{7,64}$")
MAX_NUMBER_DIGITS = 64  # a longer number in a version is not a version number: a string

# the version limit in force: `collect` sets it from the config's `limits.version_chars`, so
# that every comparison of one run (drift, promotion, rollbacks in the history) agrees with what
# the `limits/cut` finding says; outside a run, the default
VERSION_CHARS: ContextVar[int] = ContextVar("version_chars", default=Limits().version_chars)

SemverKey = tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]


@contextlib.contextmanager
def version_limit(chars: int) -> Iterator[None]:
    """Compare versions under this limit inside the `with` block."""
    token = VERSION_CHARS.set(chars)
    try:
        yield
    finally:
        VERSION_CHARS.reset(token)


def over_limit(version: str) -> bool:
    """Whether a version is longer than the limit in force: shown cut, compared as a string."""
    return len(version) > VERSION_CHARS.get()


def _number(digits: str) -> int | None:
    """ASCII digits as a number, or None when there are too many to be a version's."""
    return int(digits) if len(digits) <= MAX_NUMBER_DIGITS else None


def semver_key(version: str) -> SemverKey | None:
    """A sort key by semver precedence (build metadata ignored), or None if not semver (or too
    long to be read as one: it is compared as a string)."""
    if over_limit(version) or is_commit_hash(version):
        return None
    match = _SEMVER.match(version.strip())
    if match is None:
        return None
    numbers = [_number(match[part] or "0") for part in ("major", "minor", "patch")]
    pre = match["pre"]
    identifiers: list[tuple[int, int | str]] = []
    for part in pre.split(".") if pre else ():
        if part.isascii() and part.isdigit():
            number = _number(part)
            if number is None:
                return None
            identifiers.append((0, number))
        else:
            identifiers.append((1, part))
    major, minor, patch = numbers
    if major is None or minor is None or patch is None:
        return None
    return (major, minor, patch, 0 if pre else 1, tuple(identifiers))  # pre-release sorts first


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


@functools.lru_cache(maxsize=1 << 17)  # each change's date, asked for by several stages
def instant(date: str) -> str:
    """A date as UTC, so that dates written in other time zones compare as instants."""
    try:
        return datetime.fromisoformat(date).astimezone(UTC).isoformat()
    except ValueError:
        return date
