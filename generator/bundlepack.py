"""Reproducible manifest bundles: the same source folder always packs to the same bytes."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

FIXED_MTIME = 1_700_000_000  # 2023-11-14: any constant will do; it only has to never change


def pack_bundle(source: Path) -> bytes:
    """Pack every file under `source` into a tar.gz with sorted members and fixed metadata."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            data = path.read_bytes()
            info = tarfile.TarInfo(path.relative_to(source).as_posix())
            info.size = len(data)
            info.mtime = FIXED_MTIME
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    packed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return packed.getvalue()
