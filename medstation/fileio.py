"""Files written whole or not at all, and file digests: the one copy every layer uses.

A file that a later step trusts (a mask, a key header, a backup manifest, a staged
DICOM instance, a model) is written to a sibling ``<name>.<pid>.part``, flushed,
fsynced and renamed over the target (``os.replace`` is atomic on one file system),
so a crash leaves either the old file or the new one, never half of either. The
``.part`` name lets a folder's owner sweep leftovers (``*.part``).

This module imports nothing of MedStation's: every layer, the lowest (``store``) included,
may import it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

#: Bytes read per block while hashing; a cancellable job is checked between blocks.
HASH_BLOCK = 8 * 1024 * 1024


def file_sha256(path: str | Path, ctx: Any = None) -> str:
    """Hex SHA-256 of the file at ``path``; ``ctx.check()`` (a job context) runs between 8 MB blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as stream:
        while block := stream.read(HASH_BLOCK):
            if ctx is not None:
                ctx.check()
            digest.update(block)
    return digest.hexdigest()


def part_path(path: str | Path) -> Path:
    """The temporary sibling ``<name>.<pid>.part`` that :func:`atomic_writer` fills before the rename."""
    path = Path(path)
    return path.with_name(f"{path.name}.{os.getpid()}.part")


def fsync_dir(folder: str | Path) -> None:
    """Make a rename inside ``folder`` durable (POSIX); a no-op where directories cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_writer(path: str | Path, mode: str = "wb", *, encoding: str | None = None,
                  durable: bool = True) -> Iterator[IO]:
    """Open a ``.part`` sibling of ``path`` for writing; on a clean exit it replaces ``path``.

    ``durable``: fsync the file before the rename (and the folder after it), so the new
    content survives a power cut, not only a crash. On an exception the ``.part`` file
    is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = part_path(path)
    try:
        with open(tmp, mode, encoding=encoding if "b" not in mode else None) as handle:
            yield handle
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    if durable:
        fsync_dir(path.parent)


def atomic_write(path: str | Path, data: bytes | str, *, durable: bool = True) -> Path:
    """Write ``data`` (bytes, or text as UTF-8) to ``path`` whole or not at all; returns ``path``."""
    text = isinstance(data, str)
    with atomic_writer(path, "w" if text else "wb", encoding="utf-8" if text else None, durable=durable) as handle:
        handle.write(data)
    return Path(path)
