"""Flattened tag listing of one DICOM file, for the tag browser (header only)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# Longest value text shown per element; the browser is for reading, not for dumping blobs.
MAX_VALUE_CHARS = 200


@dataclass(frozen=True)
class TagRow:
    """One element. ``depth`` = sequence nesting level (0 = top level); ``tag`` like ``(0010,0010)``."""

    depth: int
    tag: str
    keyword: str
    name: str
    vr: str
    value: str


def _value_text(elem) -> str:
    if elem.VR in ("OB", "OW", "OF", "OD", "OL", "OV", "UN") or elem.tag == 0x7FE00010:
        length = len(elem.value) if elem.value is not None else 0
        return f"<{length} bytes>"
    text = str(elem.value) if elem.value is not None else ""
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def _walk(dataset, depth: int, out: list[TagRow]) -> None:
    for elem in dataset:
        tag = f"({elem.tag.group:04X},{elem.tag.element:04X})"
        if elem.VR == "SQ":
            out.append(TagRow(depth, tag, elem.keyword, elem.name, "SQ", f"{len(elem.value)} item(s)"))
            for number, item in enumerate(elem.value, start=1):
                out.append(TagRow(depth + 1, "", "", f"Item {number}", "", ""))
                _walk(item, depth + 2, out)
        else:
            out.append(TagRow(depth, tag, elem.keyword, elem.name, str(elem.VR), _value_text(elem)))


def list_tags(path: str | Path) -> list[TagRow]:
    """File meta then dataset elements of ``path``, sequences expanded; pixel data summarised."""
    import pydicom

    ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
    rows: list[TagRow] = []
    if getattr(ds, "file_meta", None) is not None:
        _walk(ds.file_meta, 0, rows)
    _walk(ds, 0, rows)
    return rows
