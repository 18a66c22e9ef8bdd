"""A single click on a series shows its middle slice and key facts before it is opened (no widgets here).

``series_preview_job(ctx, imaging, info)`` (a job for the ``io`` lane) orders the
series' frames from the index's header cache (files changed since indexing are
read again, header only), decodes the middle slice alone and returns a
:class:`SeriesPreview`: a small windowed uint8 thumbnail, the slice count, size,
spacing, and the files that will be skipped and why. A series whose middle slice
cannot be decoded says so (``problem``) instead of showing a picture.
``medstation.ui.viewer.series_preview.SeriesPreviewPanel`` shows it under the series browser.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from medstation.access.roles import Permission
from medstation.imaging.catalog import series_load_inputs
from medstation.imaging.decode import decode_frames, rescale_into
from medstation.imaging.geometry import plan_stack
from medstation.imaging.headers import ImagingError, default_window, frame_from_cache, frame_headers, read_dicom
from medstation.imaging.windowing import auto_window

THUMB_PX = 160  # longest side of the thumbnail, screen pixels


@dataclass(frozen=True)
class SeriesPreview:
    """What a click on a series shows. ``thumbnail``: uint8 (y, x) middle slice after windowing, or None
    with ``problem`` saying why; ``spacing_mm``: (dz, dy, dx); ``skipped``: ((path, reason), ...)."""

    series_uid: str
    modality: str
    description: str
    n_files: int
    n_slices: int
    rows: int
    columns: int
    spacing_mm: tuple[float, float, float] | None
    thumbnail: np.ndarray | None
    skipped: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()
    problem: str = ""


def _frame_headers(paths, cache, skipped):
    headers = []
    for path in paths:
        cached = cache.get(path)
        if cached and cached.get("frames"):
            try:
                headers.extend(frame_from_cache(f, path) for f in cached["frames"])
                continue
            except (TypeError, ValueError):
                pass  # an older cache entry: read the header instead
        ds, reason = read_dicom(path, stop_before_pixels=True)
        if ds is None:
            skipped.append((path, reason))
            continue
        try:
            headers.extend(frame_headers(ds, path))
        except Exception as exc:  # not an image, or malformed values
            skipped.append((path, str(exc)[:160]))
    return headers


def _thumbnail(image: np.ndarray, window, size: int) -> np.ndarray:
    center, width = window or auto_window(image)
    low = center - width / 2.0
    scaled = np.clip((image - low) / max(float(width), 1e-6), 0.0, 1.0)
    step = max(1, int(np.ceil(max(image.shape) / size)))
    return np.ascontiguousarray((scaled[::step, ::step] * 255).astype(np.uint8))


def series_preview_job(ctx, imaging, info, size: int = THUMB_PX) -> SeriesPreview:
    """Job: the :class:`SeriesPreview` of ``info`` (a ``SeriesInfo`` from the browser); decodes one slice only."""
    imaging.session.require(Permission.view_imaging)
    uid = info.series_uid
    paths, cache = series_load_inputs(imaging.db, uid)
    facts = dict(series_uid=uid, modality=info.modality, description=info.description, n_files=len(paths),
                 rows=int(info.rows or 0), columns=int(info.columns or 0))
    skipped: list[tuple[str, str]] = []
    headers = _frame_headers(paths, cache, skipped)
    ctx.check()
    for header in [h for h in headers if h.series_uid != uid]:
        skipped.append((header.path, "belongs to another series"))
    headers = [h for h in headers if h.series_uid == uid]
    try:
        plan = plan_stack(headers)
    except ImagingError as exc:
        return SeriesPreview(**facts, n_slices=0, spacing_mm=None, thumbnail=None, skipped=tuple(skipped),
                             problem=f"the series cannot be opened: {exc}")
    skipped.extend(plan.skipped)
    middle = plan.frames[len(plan.frames) // 2]
    base = dict(facts, n_slices=len(plan.frames), rows=middle.rows, columns=middle.columns,
                spacing_mm=tuple(float(v) for v in plan.spacing), skipped=tuple(skipped), notes=tuple(plan.notes))
    ds, reason = read_dicom(middle.path)
    if ds is None:
        return SeriesPreview(**base, thumbnail=None, problem=f"the middle slice cannot be read: {reason}")
    try:
        stored = decode_frames(ds, middle.path, middle.n_frames)[middle.frame]
    except Exception as exc:  # codecs raise many types on damaged pixel data
        return SeriesPreview(**base, thumbnail=None,
                             problem=f"the middle slice cannot be decoded: {str(exc)[:160] or type(exc).__name__}")
    image = np.empty(stored.shape, np.float32)
    rescale_into(image, stored, middle.slope, middle.intercept)
    ctx.check()
    return SeriesPreview(**base, thumbnail=_thumbnail(image, default_window(ds), size))


def problems_summary(problems, limit: int = 3) -> str:
    """'N file(s) skipped: 3 not DICOM, 1 no pixel data' from [(path, reason), ...] ('' when none)."""
    if not problems:
        return ""
    counts = Counter(str(reason).split(":")[0].strip() for _path, reason in problems)
    parts = [f"{n} {reason}" for reason, n in counts.most_common(limit)]
    if len(counts) > limit:
        parts.append(f"{sum(n for _r, n in counts.most_common()[limit:])} other")
    return f"{len(problems)} file(s) skipped: " + ", ".join(parts)


def preview_facts(preview: SeriesPreview) -> str:
    """The key facts as plain lines (modality, slices, size, description, skipped files, problem)."""
    lines = [f"{preview.modality or '?'} · {preview.n_slices} slice(s) from {preview.n_files} file(s)"]
    size = f"{preview.columns}×{preview.rows} px"
    if preview.spacing_mm:
        dz, dy, dx = preview.spacing_mm
        size += f", {dx:.2f}×{dy:.2f} mm pixels, {dz:.2f} mm apart"
    lines += [size, preview.description or "(no description)"]
    if preview.skipped:
        lines.append(problems_summary(list(preview.skipped)))
    lines += list(preview.notes)
    if preview.problem:
        lines.append(f"Preview failed: {preview.problem}")
    lines.append("Double-click (or Enter) opens it.")
    return "\n".join(lines)
