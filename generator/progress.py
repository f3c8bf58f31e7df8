"""Progress of long work (clones, downloads, history walks, the MkDocs build): one status line
on an interactive terminal, rewritten in place with `\\r` a few times a second at most, and
gone when the work is done; nothing when stderr is not a terminal, in CI, or when the user says
so (`PIPELINE_DOCS_QUIET`). Dimmed unless `NO_COLOR` is set."""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from collections.abc import Iterable, Iterator
from time import monotonic
from typing import TypeVar

INTERVAL = 0.25  # seconds between two updates of the line: at most 4 a second
TICK = 1.0  # seconds between two updates of the time spent on one step (a clone)
PREFIX = "pipeline-docs: "
T = TypeVar("T")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")  # a name's escapes shown, never obeyed


def shown() -> bool:
    """Progress shows on an interactive terminal, and not when CI (or the user) says otherwise."""
    return (
        sys.stderr.isatty()
        and not os.environ.get("CI")
        and not os.environ.get("PIPELINE_DOCS_QUIET")
    )


def _columns() -> int:
    """The terminal's width; 80 when it says none (a pseudo-terminal may say 0)."""
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns or 80
    except (OSError, ValueError, AttributeError):
        return 80


class _Line:
    """The status line on the terminal: how wide it is now, so the next one covers it."""

    width = 0
    lock = threading.Lock()


def _write(text: str) -> None:
    # control characters of a name or URL shown, not obeyed; one line shorter than the
    # terminal: a line that wraps cannot be rewritten with \r
    text = _CONTROL.sub("?", PREFIX + text)[: max(_columns() - 1, 10)]
    with _Line.lock:
        pad = " " * max(_Line.width - len(text), 0)
        dim = not os.environ.get("NO_COLOR")
        sys.stderr.write("\r" + (f"\x1b[2m{text}\x1b[0m" if dim else text) + pad)
        sys.stderr.flush()
        _Line.width = len(text)


def clear() -> None:
    """The status line wiped, before something else is printed on stderr."""
    with _Line.lock:
        if _Line.width:
            sys.stderr.write("\r" + " " * _Line.width + "\r")
            sys.stderr.flush()
            _Line.width = 0


def say(message: str) -> None:
    """A status line, in place of the one before, when progress shows."""
    if shown():
        _write(message)


def amount(number: int, unit: str) -> str:
    """`1,200 commits`, `1 page`; a unit of `byte` as KB, MB."""
    if unit == "byte":
        for size, name in ((1 << 30, "GB"), (1 << 20, "MB"), (1 << 10, "KB")):
            if number >= size:
                return f"{number / size:.1f} {name}"
        return f"{number} bytes"
    return f"{number:,} {unit}" + ("" if number == 1 else "s")


class Count:
    """A count shown as it grows, `walking history of prod: 1,200 commits`, at most every
    `INTERVAL`; `done()` wipes it. Nothing at all when progress does not show."""

    def __init__(self, what: str, unit: str, total: int | None = None) -> None:
        self.what, self.unit, self.total = what, unit, total
        self.number = 0
        self.on = shown()
        self.due = 0.0
        self.updates = 0  # how many times the line was written (for tests)
        if self.on:
            self._show()

    def add(self, number: int = 1) -> None:
        self.set(self.number + number)

    def set(self, number: int) -> None:
        self.number = number
        if self.on and monotonic() >= self.due:
            self._show()

    def _show(self) -> None:
        if self.total is None:
            _write(f"{self.what}: {amount(self.number, self.unit)}")
        else:
            _write(f"{self.what}: {self.number:,} of {amount(self.total, self.unit)}")
        self.updates += 1
        self.due = monotonic() + INTERVAL

    def done(self) -> None:
        if self.on:
            clear()
            self.on = False


def counted(items: Iterable[T], what: str, unit: str) -> Iterator[T]:
    """The items, counted on the status line as they come; wiped when they end."""
    tally = Count(what, unit)
    try:
        for item in items:
            tally.add()
            yield item
    finally:
        tally.done()


@contextlib.contextmanager
def working(what: str) -> Iterator[None]:
    """One step that gives no count (a clone): its name and the seconds spent on it, updated
    every `TICK`; wiped when it ends."""
    if not shown():
        yield
        return
    started = monotonic()
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(TICK):
            _write(f"{what} ({monotonic() - started:.0f} s)")

    _write(what)
    ticker = threading.Thread(target=tick, name="pipeline-docs-progress", daemon=True)
    ticker.start()
    try:
        yield
    finally:
        stop.set()
        ticker.join()
        clear()


def took(seconds: float) -> str:
    """How long a command took, for its last line: `0.4 s`, `24 s`, `3 min 5 s`."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"
