"""Data-quality checks applied to every item before it enters a snapshot.

Each check returns the reason an item is excluded, or None to keep it. Reasons are
sentences for the admin's report ("mask of 7 px is below the 20 px minimum").
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from medstation.segmentation import metrics
from medstation.training.datasets.items import NoteItem, SegItem


@dataclass(frozen=True)
class QualityRules:
    """Thresholds: ``min_mask_px`` foreground pixels per mask; ``min_agreement`` Dice of the AI mask
    against the corrected one (None: no filter); ``min_note_chars`` / ``min_transcript_chars`` for notes."""

    min_mask_px: int = 20
    min_agreement: float | None = None
    min_note_chars: int = 40
    min_transcript_chars: int = 80

    def to_json(self) -> dict:
        return {"min_mask_px": self.min_mask_px, "min_agreement": self.min_agreement,
                "min_note_chars": self.min_note_chars, "min_transcript_chars": self.min_transcript_chars}


def content_hash(item: SegItem) -> str:
    """SHA-256 of the image and mask pixels (duplicate detection; identical pairs are one example)."""
    digest = hashlib.sha256()
    digest.update(str(item.image.shape).encode())
    digest.update(np.ascontiguousarray(item.image).tobytes())
    digest.update(np.packbits(np.asarray(item.mask, bool)).tobytes())
    return digest.hexdigest()


class SegQualityCheck:
    """Stateful over one snapshot (it remembers content hashes to find duplicates)."""

    def __init__(self, rules: QualityRules) -> None:
        self.rules = rules
        self._seen: dict[str, str] = {}

    def reason_to_exclude(self, item: SegItem) -> str | None:
        image, mask = np.asarray(item.image), np.asarray(item.mask, bool)
        if image.ndim not in (2, 3) or image.size == 0:
            return f"image has unusable shape {image.shape}"
        if mask.shape != image.shape[:2]:
            return f"mask {mask.shape} does not match image {image.shape[:2]}"
        area = int(mask.sum())
        if area == 0:
            return "empty mask"
        if area < self.rules.min_mask_px:
            return f"mask of {area} px is below the {self.rules.min_mask_px} px minimum"
        if not np.isfinite(np.asarray(image, np.float32)).all():
            return "image holds non-finite values"
        if float(np.ptp(image)) == 0.0:
            return "image is blank (one value everywhere)"
        if self.rules.min_agreement is not None and item.ai_mask is not None:
            agreement = metrics.dice(item.ai_mask, mask)
            if agreement < self.rules.min_agreement:
                return f"AI/corrected agreement {agreement:.2f} is below the {self.rules.min_agreement:.2f} minimum"
        digest = content_hash(item)
        if digest in self._seen:
            return f"duplicate of case {self._seen[digest]}"
        self._seen[digest] = item.case_key
        return None


class NoteQualityCheck:
    def __init__(self, rules: QualityRules) -> None:
        self.rules = rules
        self._seen: dict[str, str] = {}

    def reason_to_exclude(self, item: NoteItem) -> str | None:
        transcript, note = item.transcript.strip(), item.note.strip()
        if not transcript:
            return "note without transcript"
        if not note:
            return "transcript without note"
        if len(transcript) < self.rules.min_transcript_chars:
            return f"transcript of {len(transcript)} characters is below the {self.rules.min_transcript_chars} minimum"
        if len(note) < self.rules.min_note_chars:
            return f"note of {len(note)} characters is below the {self.rules.min_note_chars} minimum"
        digest = hashlib.sha256((transcript + "\0" + note).encode()).hexdigest()
        if digest in self._seen:
            return f"duplicate of case {self._seen[digest]}"
        self._seen[digest] = item.case_key
        return None
