"""Case keys and the fixed train/validation/test split.

A *case* is the unit that never crosses splits: one stored segmentation (all its
slices), one signed note, one imported image (all its labels), one block of
slices of an imported volume. Its key is a salted SHA-256 of where it came from,
so dataset files carry no patient id, name or DICOM UID, and the same case gets
the same key in every later snapshot.

The split is a pure function of the key (``split_of``): a case never moves
between train, validation and test when the dataset grows or is rebuilt.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

# Shares of the 100 hash buckets: 0–69 train, 70–84 val, 85–99 test.
SPLIT_BUCKETS = (("train", 70), ("val", 85), ("test", 100))
SPLIT_RULE = "bucket = int(sha256('split:' + case_key)[:8], 16) % 100: <70 train, <85 val, else test"


def installation_salt(home: Path) -> bytes:
    """A per-installation secret (``<home>/training_salt``), made once; keys cannot be re-derived from UIDs without it."""
    path = Path(home) / "training_salt"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(secrets.token_hex(32))
        tmp.replace(path)
    return bytes.fromhex(path.read_text().strip())


def case_key(salt: bytes, origin: str) -> str:
    """16 hex characters identifying a case; ``origin`` is e.g. ``segmentation:<series uid>:<row id>``."""
    return hmac.new(salt, origin.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def public_case_key(origin: str) -> str:
    """Key for cases of public imported sets (no salt: the origin is a public file path)."""
    return hashlib.sha256(origin.encode("utf-8")).hexdigest()[:16]


def split_of(key: str) -> str:
    """'train', 'val' or 'test' for a case key, by :data:`SPLIT_RULE`."""
    bucket = int(hashlib.sha256(f"split:{key}".encode()).hexdigest()[:8], 16) % 100
    for name, upper in SPLIT_BUCKETS:
        if bucket < upper:
            return name
    raise AssertionError("unreachable")
