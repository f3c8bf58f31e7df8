"""Work done in a forked copy of this process, on the second core, while this one goes on.

Rendering is pure Python, so threads would take turns; a forked child has the model and the
half-made site already (copy on write), renders its share and hands the pages back through a
pipe, as texts each behind its length (JSON would escape every page's quotes and newlines).
When a child cannot be had (no `fork` here, one core, other threads running, which a fork
would leave holding their locks) or it fails, `result` is None and the caller does
the work itself: the output is the same either way, only slower."""

from __future__ import annotations

import contextlib
import os
import signal
import struct
import threading
from collections.abc import Callable, Iterator

try:
    import fcntl
except ImportError:  # Windows, which has no fork either
    fcntl = None  # type: ignore[assignment]

from .jsontext import compact_json, parse_json
from .kept import dump_finding, load_finding
from .machine import cores
from .model import Finding

READ_CHUNK = 1 << 20
_LENGTH = struct.Struct("<Q")


def pack(texts: list[str]) -> bytes:
    """Texts as bytes: each one's UTF-8 behind its length."""
    parts = []
    for text in texts:
        data = text.encode("utf-8")
        parts += [_LENGTH.pack(len(data)), data]
    return b"".join(parts)


def unpack(data: bytes) -> list[str]:
    """The texts of `pack`; ValueError when `data` is not what it makes."""
    texts, at = [], 0
    while at < len(data):
        if at + _LENGTH.size > len(data):
            raise ValueError("a length cut short")
        (size,) = _LENGTH.unpack_from(data, at)
        at += _LENGTH.size
        if at + size > len(data):
            raise ValueError("a text cut short")
        texts.append(data[at : at + size].decode("utf-8"))
        at += size
    return texts


def can_fork() -> bool:
    """Whether a forked child is safe and worth having: a second core, and this process has one
    thread (a fork copies one thread only, and any lock another one holds stays held)."""
    return hasattr(os, "fork") and cores() >= 2 and threading.active_count() == 1


EARLY_BYTES = 1 << 20  # what the child can say early without waiting for this process
_early_fd: list[int] = []  # in a child: where `send_early` writes


def send_early(texts: list[str]) -> None:
    """In a forked child, texts this process can have before the child's work is done
    (`Job.early`); once at most, nothing outside a child."""
    if not _early_fd:
        return
    fd = _early_fd.pop()
    with os.fdopen(fd, "wb") as pipe:
        pipe.write(pack(texts))


class Job:
    """One child's work: `result()` waits for it, `early()` for what it said before."""

    def __init__(self, pid: int, read_fd: int, early_fd: int) -> None:
        self.pid = pid
        self.read_fd = read_fd
        self.early_fd = early_fd
        self.done = False

    def early(self) -> list[str] | None:
        """What the child sent by `send_early`, once it has; None when it sent nothing (it
        failed, or ended without)."""
        if self.early_fd < 0:
            return None
        chunks = []
        with os.fdopen(self.early_fd, "rb") as pipe:
            while chunk := pipe.read(READ_CHUNK):
                chunks.append(chunk)
        self.early_fd = -1
        try:
            return unpack(b"".join(chunks)) if chunks else None
        except ValueError:
            return None

    def result(self) -> list[str] | None:
        """The texts the work returned, or None when the child failed (its exit status not 0,
        or what it wrote cut short)."""
        if self.done:
            return None
        chunks = []
        with os.fdopen(self.read_fd, "rb") as pipe:
            while chunk := pipe.read(READ_CHUNK):
                chunks.append(chunk)
        self.done = True
        _, status = os.waitpid(self.pid, 0)
        if status != 0:
            return None
        try:
            return unpack(b"".join(chunks))
        except ValueError:  # UnicodeDecodeError too
            return None

    def stop(self) -> None:
        """The child killed and reaped, when this process gives up on it."""
        if self.done:
            return
        self.done = True
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.waitpid(self.pid, 0)
        with contextlib.suppress(OSError):
            os.close(self.read_fd)
        if self.early_fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.early_fd)
            self.early_fd = -1


@contextlib.contextmanager
def forked(work: Callable[[], list[str]]) -> Iterator[Job | None]:
    """`work` (returning texts) started in a forked child, or None when no child can be had.
    Leaving the block without `result()` (an exception here) kills the child."""
    if not can_fork():
        yield None
        return
    read_fd, write_fd = os.pipe()
    early_read, early_write = os.pipe()
    with contextlib.suppress(OSError, AttributeError):  # Linux: room for what it says early
        fcntl.fcntl(early_write, fcntl.F_SETPIPE_SZ, EARLY_BYTES)  # (else it waits for us)
    pid = os.fork()
    if pid == 0:  # the child: never returns to the caller's code
        code = 1
        try:
            os.close(read_fd)
            os.close(early_read)
            _early_fd.append(early_write)
            data = pack(work())
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(data)
            code = 0
        except BaseException:  # whatever it was, the parent does the work itself instead
            pass
        finally:
            os._exit(code)
    os.close(write_fd)
    os.close(early_write)
    job = Job(pid, read_fd, early_read)
    try:
        yield job
    finally:
        job.stop()


@contextlib.contextmanager
def findings_aside(
    work: Callable[[], list[Finding]], worth: bool
) -> Iterator[Callable[[], list[Finding]]]:
    """`work` done in a forked child (`forked`) while this process goes on, when it is `worth`
    one and one can be had; the function the block is given returns its findings, done here
    when there was no child or it failed: the findings are the same either way."""

    def child() -> list[str]:
        return [compact_json([dump_finding(f) for f in work()]).decode("utf-8")]

    with forked(child) if worth else contextlib.nullcontext() as job:

        def findings() -> list[Finding]:
            texts = job.result() if job is not None else None
            if texts is not None and len(texts) == 1:
                try:
                    return [load_finding(f) for f in parse_json(texts[0])]
                except (KeyError, TypeError, ValueError):
                    pass  # not what the child writes: done here
            return work()

        yield findings
