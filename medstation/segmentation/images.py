"""Read 2D inputs for the command line and evaluation: PNG/JPEG (gray or RGB) and single DICOM files.

Returns the image the engine should see, in original pixels: (H, W) float32 or
(H, W, 3) uint8 for RGB. DICOM is rescaled to modality units and, for CT,
windowed (the file's own window, else soft tissue) — like the viewer shows it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medstation.segmentation import preprocess


def is_dicom(path: Path) -> bool:
    try:
        with Path(path).open("rb") as handle:
            head = handle.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:132] == b"DICM"


def read_image(path: str | Path) -> np.ndarray:
    """Image as the engine wants it; raises ``ValueError`` with the reason when unreadable."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no such image: {path}")
    if is_dicom(path) or path.suffix.lower() in (".dcm", ".dicom"):
        return _read_dicom(path)
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.load()
            if img.mode in ("RGB", "RGBA", "P", "CMYK", "YCbCr"):
                return np.asarray(img.convert("RGB"))
            if img.mode in ("I;16", "I;16B", "I", "F"):
                return np.asarray(img, dtype=np.float32)
            return np.asarray(img.convert("L"), dtype=np.float32)
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"cannot read image {path.name}: {exc}") from exc


def _read_dicom(path: Path) -> np.ndarray:
    import pydicom

    try:
        ds = pydicom.dcmread(str(path))
        pixels = ds.pixel_array
    except Exception as exc:
        raise ValueError(f"cannot read DICOM {path.name}: {exc}") from exc
    if getattr(ds, "PhotometricInterpretation", "") in ("RGB", "YBR_FULL", "YBR_FULL_422"):
        if pixels.ndim == 4:
            pixels = pixels[0]
        return np.asarray(pixels[..., :3], np.uint8) if pixels.dtype == np.uint8 else pixels.astype(np.float32)
    if pixels.ndim == 3:  # multi-frame gray: the first frame
        pixels = pixels[0]
    values = pixels.astype(np.float32) * float(getattr(ds, "RescaleSlope", 1) or 1) + float(
        getattr(ds, "RescaleIntercept", 0) or 0
    )
    window = None
    if "WindowCenter" in ds and "WindowWidth" in ds:
        center, width = ds.WindowCenter, ds.WindowWidth
        center = float(center[0] if isinstance(center, pydicom.multival.MultiValue) else center)
        width = float(width[0] if isinstance(width, pydicom.multival.MultiValue) else width)
        window = (center, width)
    return preprocess.slice_for_model(values, str(getattr(ds, "Modality", "")), window,
                                      str(getattr(ds, "PhotometricInterpretation", "")))


def read_mask(path: str | Path) -> np.ndarray:
    """A ground-truth mask file → bool (H, W): grey > 127 (JPEG masks are not exactly binary)."""
    from PIL import Image

    with Image.open(path) as img:
        return np.asarray(img.convert("L")) > 127


def write_mask_png(mask: np.ndarray, path: str | Path) -> Path:
    """Bool (H, W) → 8-bit PNG with 0 and 255."""
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.where(np.asarray(mask, bool), 255, 0).astype(np.uint8), mode="L").save(path)
    return path
