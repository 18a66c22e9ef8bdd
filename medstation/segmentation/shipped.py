"""Segmentation graphs exported at build time, so a bundle segments with ONNX Runtime and no torch.

Layout, the same as an ONNX export cache (:func:`medstation.segmentation.backends.onnx_dir`), under the
read-only resources: ``resources/models/segmentation/onnx/<checkpoint sha256>/`` holds
``encoder.onnx``, ``decoder-<HEAD_GRAPH_VERSION>.onnx`` and ``engine.json``::

    {"engine": "litemedsam", "checkpoint_sha256": "...", "input_size": 256,
     "files": {"encoder.onnx": "<sha256>", "decoder-folded3.onnx": "<sha256>"}, "agreement": {...}}

``installer/export_segmentation.py`` writes them (and checks them against torch). A graph is used
only while its file checksums match the record, so a damaged bundle never segments silently wrong.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

SHIPPED_ROOT = Path("models") / "segmentation"
RECORD = "engine.json"


def shipped_cache_dir() -> Path:
    from medstation.config import resources_dir

    return resources_dir() / SHIPPED_ROOT


def graph_names() -> tuple[str, str]:
    from medstation.segmentation.decoder_head import HEAD_GRAPH_VERSION

    return "encoder.onnx", f"decoder-{HEAD_GRAPH_VERSION}.onnx"


def has_graphs(cache_dir: Path, sha256: str) -> bool:
    """Both graphs of checkpoint ``sha256`` are in ``cache_dir`` (an export cache or the shipped folder)."""
    folder = Path(cache_dir) / "onnx" / sha256
    return all((folder / name).is_file() for name in graph_names())


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@lru_cache(maxsize=4)
def _verified(folder: Path, stamp: tuple) -> dict | None:
    """The record when every graph matches its checksum; cached per ``stamp`` (names, sizes, mtimes)."""
    try:
        record = json.loads((folder / RECORD).read_text())
    except (OSError, ValueError):
        return None
    files = record.get("files") or {}
    if set(files) != set(graph_names()) or record.get("checkpoint_sha256") != folder.name:
        return None  # another head graph version, or a record copied into the wrong folder
    if any(not (folder / n).is_file() or _file_sha256(folder / n) != sha for n, sha in files.items()):
        return None
    return record


def shipped_engine(name: str) -> dict | None:
    """The verified record of engine ``name``'s shipped graphs (``checkpoint_sha256`` names them), or None."""
    root = shipped_cache_dir() / "onnx"
    if not root.is_dir():
        return None
    for record_path in sorted(root.glob(f"*/{RECORD}")):
        folder = record_path.parent
        stamp = tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.iterdir()))
        record = _verified(folder, stamp)
        if record is not None and record.get("engine") == name:
            return record
    return None


def record_path(sha256: str) -> Path:
    return shipped_cache_dir() / "onnx" / sha256 / RECORD
