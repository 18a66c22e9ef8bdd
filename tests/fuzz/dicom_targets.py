"""DICOM fuzzing: seeds, a mutator and the code under test, shared by the CI test and the long run.

Seeds: pydicom's own test files and the pydicom-data store (both installed
packages; files under 300 kB) plus, outside CI, files of the shared series.
The target is what the app does with a file it is given: read the header for
the index, then load it as a series (decode, order, rescale). The contract:
either a volume comes back or an ``ImagingError`` with a message; ``read_header``
returns ``(ds, None)`` or ``(None, reason)``; nothing else escapes.
"""

from __future__ import annotations

import random
import struct
from pathlib import Path

SEED_LIMIT_BYTES = 300_000


def seed_files(extra_dirs: list[Path] | None = None, limit_per_dir: int = 20) -> list[Path]:
    """Seed DICOM files found on this machine, sorted (stable order = reproducible mutants)."""
    import pydicom

    roots = [Path(pydicom.__file__).parent / "data" / "test_files"]
    try:
        import data_store  # the pydicom-data package

        roots.append(Path(data_store.__file__).parent / "data")
    except ImportError:
        pass
    found = [p for root in roots for p in sorted(root.rglob("*.dcm")) if p.stat().st_size <= SEED_LIMIT_BYTES]
    for folder in extra_dirs or []:
        found += sorted(p for p in Path(folder).rglob("*.dcm") if p.stat().st_size <= SEED_LIMIT_BYTES)[:limit_per_dir]
    return found


_BOUNDARY = (b"\x00\x00\x00\x00", b"\xff\xff\xff\xff", b"\xfe\xff\x00\xe0", b"\xfe\xff\xdd\xe0", b"\x7f\xff\xff\xff",
             b"SQ", b"UN", b"OB", b"UT", b"\x10\x00\x10\x00", b"\xe0\x7f\x10\x00")


def mutate(data: bytes, rng: random.Random, n_ops: int | None = None) -> bytes:
    """1-4 random edits: byte flips, boundary values (lengths, delimiters, VRs), truncation, splices."""
    buf = bytearray(data)
    for _ in range(n_ops or rng.randint(1, 4)):
        if not buf:
            buf += rng.randbytes(rng.randint(1, 64))
            continue
        op = rng.randrange(7)
        pos = rng.randrange(len(buf))
        if op == 0:
            for _ in range(rng.randint(1, 16)):
                buf[rng.randrange(len(buf))] = rng.randrange(256)
        elif op == 1:
            token = rng.choice(_BOUNDARY)
            buf[pos:pos + len(token)] = token
        elif op == 2:
            del buf[rng.randrange(len(buf)):]
        elif op == 3:
            buf[pos:pos] = rng.randbytes(rng.randint(1, 32))
        elif op == 4:
            start = rng.randrange(len(buf))
            chunk = buf[start:start + rng.randint(1, 512)]
            buf[pos:pos] = chunk * rng.randint(1, 4)
        elif op == 5:  # a plausible but hostile 32-bit length right after a tag
            buf[pos:pos + 4] = struct.pack("<I", rng.choice((0xFFFFFFFF, 0x7FFFFFFF, len(buf) * 2, 1, 3)))
        else:
            del buf[pos:pos + rng.randint(1, 256)]
    return bytes(buf)


def exercise(path: Path) -> str:
    """Run the app's file handling on ``path``; returns "loaded" or "reported". Anything else raises."""
    from medstation.imaging.headers import ImagingError
    from medstation.imaging.indexer import read_header
    from medstation.imaging.loader import load_series
    from medstation.jobs import JobContext

    ds, reason = read_header(path)
    if (ds is None) == (reason is None):
        raise AssertionError(f"read_header returned ds={ds is not None} reason={reason!r}")
    try:
        volume = load_series(JobContext(), [path], workers=1)
    except ImagingError as exc:
        if not str(exc):
            raise AssertionError("ImagingError without a message") from exc
        return "reported"
    if volume.pixels.ndim != 3:
        raise AssertionError(f"volume of {volume.pixels.ndim} dimensions")
    return "loaded"
