"""What enters a dataset: plain, de-identified items, before any file is written.

A :class:`SegItem` is one 2-D (image, mask) pair of a case; a :class:`NoteItem` is
one (transcript, note) pair. Both carry the case key (see ``splits``), never a
patient id, name or UID. ``origin`` says where the case came from and is kept in
the database only (for the provenance ledger), never in dataset files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class SegItem:
    """One labelled 2-D image.

    ``image``: float32 (H, W) in [0, 1] (CT already windowed) or uint8 (H, W, 3) RGB;
    ``mask``: bool (H, W) on the same grid. ``ai_mask``: the model's unedited output
    when the case is a corrected clinic mask (for the agreement filter), else None.
    """

    case_key: str
    source: str
    modality: str
    label: str
    image: np.ndarray
    mask: np.ndarray
    origin: str = ""
    ai_mask: np.ndarray | None = None
    validated_by: str = ""
    validated_at: str = ""
    pixel_mm: float | None = None  # in-plane pixel size when known (NSD tolerance in mm), else None


@dataclass(frozen=True)
class NoteItem:
    """One (transcript, reference note) pair; ``draft`` is the AI draft when the note was signed in the app."""

    case_key: str
    source: str
    template: str
    transcript: str
    note: str
    origin: str = ""
    draft: str = ""
    validated_by: str = ""
    validated_at: str = ""
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Exclusion:
    """A case or item left out of a snapshot, and why (shown to the admin in the report)."""

    case_key: str
    item: str
    reason: str

    def to_json(self) -> dict:
        return {"case_key": self.case_key, "item": self.item, "reason": self.reason}
