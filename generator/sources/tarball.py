"""Tarballs read in memory by a small streaming reader: no header or member is read before its
declared size has been checked against `limits:`; links, devices and paths out of the bundle
are refused one by one; a gzip bomb costs no more than the unpacked budget."""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

from ..limits import Limits
from ..model import Finding, Severity

CHUNK = 64 * 1024
DEFAULTS = Limits()

BLOCK = 512
_REGULAR = (b"0", b"\0", b"7")
_ZERO_BLOCK = bytes(BLOCK)
_NO_DATA = (b"1", b"2", b"3", b"4", b"5", b"6")  # tar reads no data after these headers
_OTHER_KINDS = {b"1": "a hard link", b"2": "a symbolic link", b"3": "a character device",
                b"4": "a block device", b"6": "a FIFO"}  # fmt: skip
_BROKEN = (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError)  # what bad data raises


class _Stop(Exception):
    """The tarball cannot be read further: the finding to report, and what was read is kept."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule, self.message = rule, message


def _budget(limits: Limits) -> int:
    """What a tarball within every other limit can unpack to: its files, and for each member a
    header, a long name and a long link name (or a pax header) and padding; and the end."""
    return (
        limits.unpacked_bytes
        + limits.bundle_members * (2 * limits.tar_header_bytes + 6 * BLOCK)
        + 40 * BLOCK
    )


def _open_stream(data: bytes) -> io.BufferedIOBase:
    """The tarball's bytes, uncompressed as they are read (gzip, bzip2, xz, or plain)."""
    raw = io.BytesIO(data)
    if data[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if data[:3] == b"BZh":
        return bz2.BZ2File(raw, mode="rb")
    if data[:6] == b"\xfd7zXZ\x00":
        return lzma.LZMAFile(raw, mode="rb")
    return raw


class _Stream:
    """Reads forward through the uncompressed tarball, never more than `budget` bytes in all:
    a gzip bomb stops here, having cost no more than the budget."""

    def __init__(self, data: bytes, budget: int) -> None:
        self._file = _open_stream(data)
        self._budget = budget
        self.offset = 0

    def read(self, size: int) -> bytes:
        if self.offset + size > self._budget:
            raise _Stop("bundle/too-large", f"unpacks to more than {self._budget} bytes "
                        "(`limits.unpacked_bytes` and the header limits); the rest is not read")  # fmt: skip
        parts: list[bytes] = []
        want = size
        while want > 0:
            part = self._file.read(min(want, CHUNK))
            if not part:
                break
            parts.append(part)
            want -= len(part)
        data = b"".join(parts)
        self.offset += len(data)
        return data

    def exactly(self, size: int, what: str) -> bytes:
        data = self.read(size)
        if len(data) < size:
            raise _Stop("bundle/unreadable", f"the tarball ends inside {what}")
        return data

    def skip(self, size: int, what: str) -> None:
        while size > 0:
            step = min(size, CHUNK)
            self.exactly(step, what)
            size -= step

    def close(self) -> None:
        with contextlib.suppress(*_BROKEN):
            self._file.close()


def _padding(size: int) -> int:
    return -size % BLOCK


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "replace")


def _number(field: bytes) -> int:
    """A numeric header field: octal digits, or GNU's base-256 (first byte 0x80)."""
    if field[:1] == b"\x80":
        return int.from_bytes(field[1:], "big")
    digits = field.split(b"\0", 1)[0].strip(b" ")
    if not digits:
        return 0
    if not all(48 <= b <= 55 for b in digits):  # 0-7
        raise _Stop("bundle/unreadable", "a member header has a malformed number; the rest is "
                    "not read")  # fmt: skip
    return int(digits, 8)


@dataclass
class _Header:
    name: str
    kind: bytes
    size: int
    link: str


def _header(block: bytes, first: bool = False) -> _Header | None:
    """One 512-byte tar header, checksum verified. The first of a tarball may be all zeros (an
    empty tarball); when it is no header at all, None: the data is no tarball."""
    if first and block == _ZERO_BLOCK:
        return _Header("", b"", 0, "")
    try:
        stored = _number(block[148:156])
    except _Stop:
        if first:
            return None
        raise
    unsigned = sum(block[:148]) + 8 * 32 + sum(block[156:])
    signed = unsigned - sum(b for b in block[:148] + block[156:] if b > 127) * 2
    if stored not in (unsigned, signed):
        if first:
            return None
        raise _Stop("bundle/unreadable", "a member header has a wrong checksum; the rest is "
                    "not read")  # fmt: skip
    kind = block[156:157]
    name = _text(block[0:100])
    if block[257:263] == b"ustar\x00" and block[345:346] != b"\0":  # POSIX: a name prefix
        name = _text(block[345:500]) + "/" + name
    return _Header(name, kind, _number(block[124:136]), _text(block[157:257]))


def _pax(data: bytes) -> dict[str, str]:
    """The records of a pax header: `<length> <key>=<value>\\n` each."""
    records: dict[str, str] = {}
    position = 0
    while position < len(data) and data[position : position + 1] != b"\0":
        space = data.find(b" ", position, position + 24)
        length = data[position:space]
        if space == -1 or not length.isdigit() or int(length) <= space - position:
            raise _Stop("bundle/unreadable", "a pax header is malformed; the rest is not read")
        end = position + int(length)
        record = data[space + 1 : end]
        if end > len(data) or not record.endswith(b"\n") or b"=" not in record:
            raise _Stop("bundle/unreadable", "a pax header is malformed; the rest is not read")
        key, value = record[:-1].split(b"=", 1)
        records[key.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
        position = end
    return records


def _meta(stream: _Stream, header: _Header, limits: Limits) -> bytes:
    """The data of a long-name or pax header, refused before it is read when it is too large."""
    if header.size > limits.tar_header_bytes:
        kind = {b"L": "long name", b"K": "long link name"}.get(header.kind, "pax")
        raise _Stop("bundle/unsafe", f"a {kind} header declares {header.size} bytes, over the "
                    f"limit of {limits.tar_header_bytes} (`limits.tar_header_bytes`); the rest "
                    "is not read")  # fmt: skip
    data = stream.exactly(header.size, "a header")
    stream.skip(_padding(header.size), "a header")
    return data


def read_members(
    data: bytes, url: str, file: str, line: int | None, limits: Limits = DEFAULTS
) -> tuple[dict[str, bytes], list[Finding]]:
    """Regular files of a tarball, by normalised name; refuses anything unsafe or too big."""
    findings: list[Finding] = []
    members: dict[str, bytes] = {}

    def refuse(message: str, rule: str = "bundle/unsafe") -> None:
        hint = ("rebuild and upload the bundle again" if rule == "bundle/unreadable"
                else "rebuild the bundle from plain files")  # fmt: skip
        findings.append(Finding(rule, Severity.ERROR, file, line, f"bundle {url}: {message}", hint))

    stream = _Stream(data, _budget(limits))
    try:
        _walk(stream, limits, members, refuse)
    except _Stop as stop:
        refuse(stop.message, stop.rule)
    except _BROKEN as error:
        refuse(f"not a readable tarball: {error or type(error).__name__}", "bundle/unreadable")
    finally:
        stream.close()
    return members, findings


def _walk(
    stream: _Stream, limits: Limits, members: dict[str, bytes], refuse: Callable[[str], None]
) -> None:
    """Every member in turn: each header's declared sizes are checked before anything they
    announce is read; what is refused is skipped, counted against the budget."""
    pax_global: dict[str, str] = {}
    pending: dict[str, str] = {}  # from the long-name and pax headers before a member
    count = unpacked = 0
    first = True
    while True:
        block = stream.read(BLOCK)
        if first and (len(block) < BLOCK or _header(block, first=True) is None):
            raise _Stop("bundle/unreadable", "not a readable tarball"
                        + (": it is empty" if not block else ""))  # fmt: skip
        if not block or block == _ZERO_BLOCK:
            return  # the end (a tarball cut at a member's end is read as tar itself reads it)
        if len(block) < BLOCK:
            raise _Stop("bundle/unreadable", "the tarball ends inside a header")
        first = False
        header = _header(block)
        assert header is not None
        if header.kind in (b"L", b"K"):
            text = _meta(stream, header, limits).split(b"\0", 1)[0].decode("utf-8", "replace")
            pending["path" if header.kind == b"L" else "linkpath"] = text
            continue
        if header.kind in (b"x", b"g"):
            records = _pax(_meta(stream, header, limits))
            (pending if header.kind == b"x" else pax_global).update(records)
            continue
        values, pending = pax_global | pending, {}
        name, size = values.get("path", header.name), header.size
        if "size" in values:
            if not values["size"].isdigit():
                raise _Stop("bundle/unreadable", f"member {name!r} has a malformed pax size; "
                            "the rest is not read")  # fmt: skip
            size = int(values["size"])
        count += 1
        if count > limits.bundle_members:
            raise _Stop("bundle/too-large", f"more than {limits.bundle_members} members "
                        "(`limits.bundle_members`); the rest is not read")  # fmt: skip
        stored = 0 if header.kind in _NO_DATA else size
        problem = _problem(header.kind, name, size, values, limits, unpacked)
        if problem is not None:
            if problem:
                refuse(problem)
            stream.skip(stored + _padding(stored), f"member {name!r}")
            continue
        content = stream.exactly(size, f"member {name!r}")
        stream.skip(_padding(size), f"member {name!r}")
        unpacked += size
        normal = PurePosixPath(*[p for p in PurePosixPath(name).parts if p != "."]).as_posix()
        if normal != ".":
            members[normal] = content


def _problem(
    kind: bytes, name: str, size: int, values: dict[str, str], limits: Limits, unpacked: int
) -> str | None:
    """Why a member is not read (None: it is read; "": a folder, skipped without a word)."""
    if name.startswith("/") or ".." in PurePosixPath(name).parts:
        return f"member {name!r} has an absolute or parent path; skipped"
    if kind == b"5" or (kind in _REGULAR and name.endswith("/")):
        return ""
    if kind in _OTHER_KINDS:
        return f"member {name!r} is {_OTHER_KINDS[kind]}, a link or device; skipped"
    if kind not in _REGULAR or any(key.startswith("GNU.sparse") for key in values):
        return f"member {name!r} is not a regular file (type {kind!r}); skipped"
    if size > limits.member_bytes:
        return (f"member {name!r} is {size} bytes, over the limit of {limits.member_bytes} "
                "(`limits.member_bytes`); skipped")  # fmt: skip
    if unpacked + size > limits.unpacked_bytes:
        raise _Stop("bundle/too-large", f"its files unpack to more than {limits.unpacked_bytes} "
                    f"bytes (`limits.unpacked_bytes`) at member {name!r}; the rest is not read")  # fmt: skip
    return None


def is_tarball(data: bytes, limits: Limits = DEFAULTS) -> bool:
    """Whether the bytes open as a tarball whose first header is sound."""
    stream = _Stream(data, _budget(limits))
    try:
        block = stream.read(BLOCK)
        return len(block) == BLOCK and block != _ZERO_BLOCK and _header(block, True) is not None
    except (_Stop, *_BROKEN):
        return False
    finally:
        stream.close()
