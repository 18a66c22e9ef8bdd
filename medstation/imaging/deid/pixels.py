"""Burned-in text: which images may carry it, and blanking rectangles of their pixels.

The header profile cannot clean pixels. An image is *flagged* when its
modality or SOP class commonly carries burned-in annotation (ultrasound,
secondary capture and screenshots, X-ray angiography/fluoroscopy, endoscopy
and other visible-light video, documents) or when BurnedInAnnotation is
present and not "NO". A flagged image is refused unless the person exporting
confirms it (they looked) or gives rectangles to blank (:func:`mask_rectangles`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RISKY_MODALITIES = {"US": "ultrasound", "XA": "X-ray angiography", "RF": "fluoroscopy", "ES": "endoscopy",
                    "OT": "'other' modality", "DOC": "document", "XC": "external camera photograph",
                    "GM": "general microscopy", "SM": "slide microscopy", "OP": "ophthalmic photograph"}
_SC_PREFIX = "1.2.840.10008.5.1.4.1.1.7"  # Secondary Capture family (single/multi-frame)
_RISKY_SOP_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.6.1": "ultrasound image",
    "1.2.840.10008.5.1.4.1.1.6.2": "enhanced ultrasound volume",
    "1.2.840.10008.5.1.4.1.1.3.1": "ultrasound multi-frame image",
    "1.2.840.10008.5.1.4.1.1.12.1": "X-ray angiographic image",
    "1.2.840.10008.5.1.4.1.1.12.2": "X-ray radiofluoroscopic image",
    "1.2.840.10008.5.1.4.1.1.104.1": "encapsulated PDF",
}


@dataclass(frozen=True)
class MaskRect:
    """A pixel rectangle to blank: ``x``, ``y`` = first column and row, ``width``, ``height`` in pixels."""

    x: int
    y: int
    width: int
    height: int

    @classmethod
    def parse(cls, text: str) -> MaskRect:
        """From ``"X,Y,W,H"`` (pixels); raises ValueError on anything else."""
        parts = [int(p) for p in text.split(",")]
        if len(parts) != 4 or parts[0] < 0 or parts[1] < 0 or parts[2] <= 0 or parts[3] <= 0:
            raise ValueError(f"a mask is X,Y,WIDTH,HEIGHT in pixels (non-negative, non-empty), not {text!r}")
        return cls(*parts)


def burned_in_reason(ds) -> str | None:
    """Why ``ds`` may carry burned-in text, or None when nothing suggests it."""
    flag = str(ds.get("BurnedInAnnotation", "") or "").strip().upper()
    if flag and flag != "NO":
        return f"BurnedInAnnotation is {flag!r}"
    modality = str(ds.get("Modality", "") or "").strip().upper()
    if modality in RISKY_MODALITIES:
        return f"{RISKY_MODALITIES[modality]} ({modality}) images commonly carry burned-in text"
    sop_class = str(ds.get("SOPClassUID", "") or "")
    if sop_class.startswith(_SC_PREFIX):
        return "secondary capture (screenshot or scanned image) commonly carries burned-in text"
    if sop_class in _RISKY_SOP_CLASSES:
        return f"{_RISKY_SOP_CLASSES[sop_class]} commonly carries burned-in text"
    image_type = [str(v).upper() for v in (ds.get("ImageType") or [])]
    if "SCREEN SAVE" in image_type:
        return "a screen save (ImageType) commonly carries burned-in text"
    return None


def mask_rectangles(ds, rects: list[MaskRect]) -> int:
    """Blank ``rects`` in every frame of ``ds`` (value 0) and store the pixels uncompressed. Returns pixels blanked.

    Compressed data is decoded first (pydicom's handlers; YBR becomes RGB), so the
    written file is Explicit VR Little Endian with the new pixels."""
    if "PixelData" not in ds or not rects:
        return 0
    if ds.file_meta.TransferSyntaxUID.is_compressed:
        ds.decompress()
    pixels = np.array(ds.pixel_array)  # (rows, cols[, samples]) or (frames, rows, cols[, samples])
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    stack = pixels if frames > 1 else pixels[np.newaxis]
    rows, cols = stack.shape[1], stack.shape[2]
    blanked = 0
    for r in rects:
        y0, y1, x0, x1 = min(r.y, rows), min(r.y + r.height, rows), min(r.x, cols), min(r.x + r.width, cols)
        stack[:, y0:y1, x0:x1, ...] = 0
        blanked += (y1 - y0) * (x1 - x0) * stack.shape[0]
    ds.set_pixel_data(stack if frames > 1 else stack[0], str(ds.PhotometricInterpretation), int(ds.BitsStored))
    return blanked
