"""A cold MkDocs build on two cores: a forked child converts and writes the second half of the
pages while this process does the first (`pagereuse` wraps MkDocs' two page steps; this is
what those wrappers ask when a build starts with few pages in the cache).

MkDocs makes every page in two passes: each page's Markdown is converted (its title then known,
which the nav of every page shows), then each page is written through the theme. Both
processes fork at the first page of the first pass and trade what they made through the page
cache, at the two points where the other half is needed:

1. the child converts its pages (the later ones, by source size 40%), keeps each in the
   cache (`pages-converted`, the HTML as a blob) and sends their entries; this process converts
   the first half the same way, reads the child's entries when it reaches the second half, and
   sends its own. Each process then takes the other's pages from the cache, as a warm build
   takes them: so both know every title, anchor and link.
2. each writes its own pages through the theme; the child sends what each of its pages gave
   the search index and logged, and exits without going on (no static files, no index, no
   sitemap: those stay here). This process takes the child's pages as written (`pages-written`
   keeps them, as if built here) and ends the build as always.

The site is the same, byte for byte, as a build in one process: the search entries come in
the pages' order, the warnings the child logged are logged here at the same page. When no
child can be had, or it fails at any point, this process makes what the child did not send,
from the cache where the child left it there: slower, never different.
"""

from __future__ import annotations

import contextlib
import os
import signal
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, BinaryIO

from . import forked
from .jsontext import compact_json, parse_json

if TYPE_CHECKING:
    from .pagereuse import PageReuse

MIN_PAGES = 200  # a smaller site is built in one process: a fork would not pay for itself
COLD = 0.5  # shared only when the cache holds converted pages for fewer than this share
# of the pages' source bytes, the child's (the later ones): less than half, as it also takes
# the parent's pages from the cache before writing its own (at 2,000 services, a half left the
# parent waiting 8 s for it, 0.4 about 0.3 s)
CHILD_SHARE = 0.4
MOST_MESSAGE = 1 << 31  # bytes one message between the two processes may hold
_LENGTH = struct.Struct("<Q")


def _send(pipe: BinaryIO, value: Any) -> bool:
    """`value` as JSON behind its length; False when the other process is gone."""
    data = compact_json(value, sort_keys=False)
    try:
        pipe.write(_LENGTH.pack(len(data)) + data)
        pipe.flush()
    except OSError:
        return False
    return True


def _receive(pipe: BinaryIO) -> Any:
    """The next message `_send` wrote, or None when the other process ended without one."""
    try:
        head = pipe.read(_LENGTH.size)
        if len(head) != _LENGTH.size:
            return None
        (size,) = _LENGTH.unpack(head)
        if size > MOST_MESSAGE:
            return None
        data = pipe.read(size)
        if len(data) != size:
            return None
        return parse_json(data)
    except (OSError, ValueError):
        return None


def _size(file: Any) -> int:
    try:
        return max(os.stat(file.abs_src_path).st_size, 1)
    except (OSError, TypeError):
        return 1


def _entries(message: Any) -> list[list[Any]]:
    """A message's rows `[path, key or None, entry, ...]`; none for what no process here sends."""
    if not isinstance(message, list):
        return []
    rows = [row for row in message if isinstance(row, list) and len(row) >= 3]
    return [r for r in rows if isinstance(r[0], str) and isinstance(r[2], dict)]


class Halves:
    """One build's pages shared with a forked child, as the module says; `state` is None when
    the build is made in one process ("unstarted" before the first page, "alone" once the child
    is given up), "parent" or "child" while the two share it."""

    def __init__(self, reuse: PageReuse) -> None:
        self.reuse = reuse
        self.state: str | None = "unstarted"
        self.firsts: list[str] = []  # the parent's pages, by path, in order
        self.seconds: set[str] = set()  # the child's pages
        self.last = ""  # the child's last page: it ends once that one is written
        self.pid = 0
        self.parent = os.getpid()  # in the child: the process it was forked from
        self.up: BinaryIO | None = None  # child -> parent
        self.down: BinaryIO | None = None  # parent -> child
        self.populated: set[str] = set()  # in the child: its pages, converted first
        self.traded = False  # in the parent: the first pass's entries traded
        self.written: dict[str, list[Any]] | None = None  # the child's pages, as it wrote them

    def _worth(self, pages: list[Any], files: Any, config: Any) -> bool:
        if len(pages) < MIN_PAGES or not forked.can_fork():
            return False
        if self.reuse.converted.count() >= COLD * len(pages):
            return False
        # two files for one path (`a.md` and `a/index.md`, a page and a static file): in one
        # process the last one written wins, in two the one written last by either
        written = [f.dest_uri for f in files]
        written += [*config.theme.static_templates, *config.extra_templates]
        return len(set(written)) == len(written)

    def start(self, files: Any, config: Any, populate: Callable[..., None]) -> None:
        """At the first page converted: share the pages with a child, or build in one process."""
        from mkdocs.structure.files import InclusionLevel

        pages = list(files.documentation_pages(inclusion=InclusionLevel.is_included))
        if not self._worth(pages, files, config):
            self.state = None
            return
        sizes = [_size(f) for f in pages]
        total, at, split = sum(sizes), 0, len(pages) - 1
        for index, size in enumerate(sizes):
            if at >= total * (1 - CHILD_SHARE):
                split = index
                break
            at += size
        split = min(max(split, 1), len(pages) - 1)
        self.firsts = [f.src_uri for f in pages[:split]]
        self.seconds = {f.src_uri for f in pages[split:]}
        self.last = pages[-1].src_uri
        up_read, up_write = os.pipe()
        down_read, down_write = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            for fd in (up_read, up_write, down_read, down_write):
                os.close(fd)
            self.state = None
            return
        if pid == 0:
            self.state = "child"  # from here on, never back into the caller's code but by
            try:  # the build's own loop, and never out of it (`end`)
                os.close(up_read)
                os.close(down_write)
                self.up, self.down = os.fdopen(up_write, "wb"), os.fdopen(down_read, "rb")
                self._child(pages[split:], files, config, populate)
            except BaseException:
                os._exit(1)
            return
        os.close(up_write)
        os.close(down_read)
        self.pid = pid
        self.up, self.down = os.fdopen(up_read, "rb"), os.fdopen(down_write, "wb")
        self.state = "parent"

    def _child(
        self, pages: list[Any], files: Any, config: Any, populate: Callable[..., None]
    ) -> None:
        """In the child: its pages converted and kept, their entries sent, the parent's taken;
        the child never returns to the code that made the build (`end`)."""
        from mkdocs.commands import build as steps
        from mkdocs.structure.pages import Page

        try:
            # what the parent shows (progress, warnings) is not shown twice
            quiet = os.open(os.devnull, os.O_WRONLY)
            os.dup2(quiet, 1)
            os.dup2(quiet, 2)
            os.environ["PIPELINE_DOCS_QUIET"] = "1"
            # the site's other files, the anchor check, the index and the sitemap are the
            # parent's: a child that reached them missed its last page, and ends
            files.copy_static_files = lambda *_, **__: None
            steps._build_theme_template = lambda *_, **__: None
            steps._build_extra_template = lambda *_, **__: None
            Page.validate_anchor_links = lambda *_, **__: os._exit(1)  # type: ignore[method-assign]
            for file in pages:
                if file.page is None:  # as MkDocs' loop makes a page not in the nav
                    Page(None, file, config)
                populate(file.page, config, files)
                self.populated.add(file.src_uri)
            assert self.up is not None and self.down is not None
            if not _send(self.up, self._converted(f.src_uri for f in pages)):
                os._exit(1)
            message = _receive(self.down)
            if message is None:  # the parent went on alone, or is gone
                os._exit(1)
            self._take_converted(message)
        except BaseException:
            os._exit(1)

    def _orphaned(self) -> None:
        """In the child: it ends when its parent is gone (killed), before writing anything."""
        if os.getppid() != self.parent:
            os._exit(1)

    def end(self) -> None:
        """Where the build's code would go on: a child ends there (it failed, or missed its
        last page); the parent reaps its child."""
        if self.state == "child":
            os._exit(1)
        self.stop()

    def _converted(self, paths: Any) -> list[list[Any]]:
        rows = []
        for path in paths:
            key = self.reuse.keys.get(path)
            entry = self.reuse.converted.get(key) if key is not None else None
            if entry is not None:
                rows.append([path, key, entry])
        return rows

    def _take_converted(self, message: Any) -> None:
        for _, key, entry in _entries(message):
            if isinstance(key, str):
                self.reuse.converted.put(entry, key)

    def populate(self, page: Any) -> bool:
        """Whether this page's conversion is done (by the child, before the loop reached it);
        in the parent, the child's conversions are taken when its first page comes."""
        path = page.file.src_uri
        if self.state == "child":
            self._orphaned()
            return path in self.populated
        if self.state == "parent" and not self.traded and path in self.seconds:
            self.traded = True
            assert self.up is not None and self.down is not None
            message = _receive(self.up)
            if message is None:
                self.stop()
                return False
            self._take_converted(message)
            if not _send(self.down, self._converted(self.firsts)):
                self.stop()
        return False

    def build_page(self, page: Any) -> bool:
        """Whether this page is written by the other process: in the parent, the child's (its
        search entries and warnings taken here); in the child, every page but its own."""
        path = page.file.src_uri
        if self.state == "child":
            self._orphaned()
            return path not in self.seconds
        if path not in self.seconds:
            return False
        if self.written is None:
            if self.state != "parent" or self.up is None:
                return False
            message = _receive(self.up)
            self.written = {row[0]: row for row in _entries(message)}
            self.stop()  # it has said all it will
        row = self.written.pop(path, None)
        if row is None:
            return False
        self.reuse.take_written(page, row[1], row[2], row[3] if len(row) > 3 else False)
        return True

    def built(self, page: Any) -> None:
        """After a page is written: in the child, once its last page is, what its pages gave is
        sent, and the child ends."""
        if self.state != "child" or page.file.src_uri != self.last:
            return
        assert self.up is not None
        made = self.reuse.made
        rows = [[path, *made[path]] for path in sorted(self.seconds) if path in made]
        sent = _send(self.up, rows)
        with contextlib.suppress(OSError):
            self.up.close()
        os._exit(0 if sent else 1)

    def stop(self) -> None:
        """The parent goes on alone: the child killed and reaped (when there was one)."""
        if self.state != "parent":
            return
        if self.pid:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.waitpid(self.pid, 0)
            self.pid = 0
        for pipe in (self.up, self.down):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        self.up = self.down = None
        self.state = "alone"
