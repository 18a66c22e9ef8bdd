"""Load a series from files into a :class:`~medstation.imaging.volume.Volume` (a job).

Pipeline: read every file once in a thread pool (pydicom; header + raw pixel
bytes), build per-frame headers, plan the stack (:mod:`.geometry`), then decode
frames in the thread pool straight into one preallocated float32 array with the
rescale applied. The slice nearest the middle is decoded first and streamed
with ``ctx.partial`` so the viewer can show something at once.

Bad input never raises out of here file by file: every unusable file is listed
in ``volume.meta["skipped"]`` as ``(path, reason)``. Only "nothing usable at
all" or "ambiguous series" raise :class:`ImagingError` with a plain message.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import numpy as np

from medstation.imaging.decode import DEFER_SIZE, NativePixels, decode_frames, rescale_into
from medstation.imaging.geometry import StackPlan, plan_stack
from medstation.imaging.headers import (
    FrameHeader,
    ImagingError,
    default_window,
    frame_from_cache,
    frame_headers,
    overlay_meta,
    read_dicom,
)
from medstation.imaging.volume import Volume
from medstation.jobs import JobContext

PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


def default_workers() -> int:
    return max(2, min(8, 2 * (os.cpu_count() or 2)))


def read_dataset(path: str):
    """``(dataset, None)`` or ``(None, reason)`` — never raises for bad files; large elements deferred."""
    ds, reason = read_dicom(path, defer_size=DEFER_SIZE)
    if ds is not None and not any(k in ds for k in PIXEL_KEYWORDS):
        return None, "no pixel data (not an image, or a header-only file)"
    return ds, reason


def _read_with_headers(path: str, cached: dict | None = None):
    """``(dataset, frame headers, None)`` or ``(None, [], reason)``; runs in a worker thread.

    With a valid index entry (``cached``: frames + native pixel location), nothing is parsed:
    the "dataset" is a :class:`NativePixels` locator.
    """
    if cached and cached.get("pixel") and cached.get("frames"):
        try:
            return NativePixels(**cached["pixel"]), [frame_from_cache(f, path) for f in cached["frames"]], None
        except (TypeError, ValueError):
            pass  # an older or damaged cache entry: read the file instead
    ds, reason = read_dataset(path)
    if ds is None:
        return None, [], reason
    try:
        return ds, frame_headers(ds, path), None
    except ImagingError as exc:
        return None, [], str(exc)
    except Exception as exc:  # malformed values in otherwise parseable files
        return None, [], f"unusable image header ({exc.__class__.__name__}: {str(exc)[:160]})"


def _cancel_pending(futures) -> None:
    for fut in futures:
        fut.cancel()


def _stream_early_preview(ctx: JobContext, ds, path: str, header: FrameHeader) -> None:
    """Stream the first file read as ``{"kind": "preview", "index": None}`` (its place in the stack is not
    known yet), so something is on screen while the other headers are still being read."""
    try:
        frame = decode_frames(ds, path, header.n_frames)[header.frame]
    except Exception:
        return  # the real decode reports the problem
    image = np.empty(frame.shape, np.float32)
    rescale_into(image, frame, header.slope, header.intercept)
    ctx.partial({"kind": "preview", "index": None, "n_slices": None, "image": image, "spacing_rc": header.pixel_spacing})


def _read_all(ctx: JobContext, paths: Sequence[str], workers: int, cache: dict[str, dict]):
    """Read all files in parallel. Returns ({path: dataset}, [headers...] in path order, skipped)."""
    datasets, headers_by_path, skipped = {}, {}, []
    with ThreadPoolExecutor(workers) as pool:
        futures = {pool.submit(_read_with_headers, p, cache.get(p)): p for p in paths}
        try:
            for done_count, fut in enumerate(as_completed(futures), start=1):
                ctx.check()
                path = futures[fut]
                ds, headers, reason = fut.result()
                if ds is None:
                    skipped.append((path, reason))
                else:
                    datasets[path], headers_by_path[path] = ds, headers
                    # A file known to the index (a NativePixels locator) costs nothing to "read": the stack's
                    # order is known at once and its middle slice is streamed next. Only a parsed file, with
                    # the other headers still being read, earns an early look (at whichever slice it is).
                    if len(datasets) == 1 and len(paths) > 1 and not isinstance(ds, NativePixels):
                        _stream_early_preview(ctx, ds, path, headers[0])
                if done_count % 16 == 0 or done_count == len(paths):
                    ctx.report(0.4 * done_count / max(1, len(paths)), f"reading {done_count}/{len(paths)} files")
        except BaseException:
            _cancel_pending(futures)
            raise
    headers = [h for p in paths if p in headers_by_path for h in headers_by_path[p]]
    return datasets, headers, skipped


def _decode_into(out: np.ndarray, ds, path: str, targets: list[tuple[int, FrameHeader]]) -> None:
    frames = decode_frames(ds, path, targets[0][1].n_frames)
    for index, header in targets:
        frame = frames[header.frame]
        if frame.shape != out.shape[1:]:
            raise ValueError(f"decoded frame is {frame.shape}, expected {out.shape[1:]}")
        rescale_into(out[index], frame, header.slope, header.intercept)


def _decode_plan(ctx: JobContext, plan: StackPlan, datasets: dict, workers: int):
    """Decode ``plan`` into a (z, y, x) float32 array. Returns (pixels, failed [(path, reason)])."""
    first = plan.frames[0]
    shape = (len(plan.frames), first.rows, first.columns)
    try:
        pixels = np.empty(shape, np.float32)
    except MemoryError:  # e.g. a NumberOfFrames far beyond the pixel data: say so instead of dying
        raise ImagingError(f"not enough memory for {shape[0]} × {shape[1]} × {shape[2]} voxels "
                           f"({np.prod(shape, dtype=np.float64) * 4 / 2**30:.1f} GiB as float32)") from None
    by_path: dict[str, list[tuple[int, FrameHeader]]] = defaultdict(list)
    for index, header in enumerate(plan.frames):
        by_path[header.path].append((index, header))
    failed: list[tuple[str, str]] = []

    def work(path: str):
        try:
            _decode_into(pixels, datasets[path], path, by_path[path])
            return None
        except Exception as exc:
            syntax = getattr(getattr(datasets[path], "file_meta", None), "TransferSyntaxUID", None)
            name = getattr(syntax, "name", "") or str(syntax or "unknown")
            return (path, f"pixel data cannot be decoded ({name}): {str(exc)[:160]}")

    middle = plan.frames[len(plan.frames) // 2].path
    error = work(middle)
    if error:
        failed.append(error)
    else:
        mid_index = by_path[middle][0][0]
        ctx.partial(
            {"kind": "preview", "index": mid_index, "n_slices": len(plan.frames), "image": pixels[mid_index].copy(),
             "spacing_rc": (plan.spacing[1], plan.spacing[2])}
        )
    rest = [p for p in by_path if p != middle]
    with ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(work, p) for p in rest]
        try:
            for finished, fut in enumerate(as_completed(futures), start=1):
                ctx.check()
                if fut.result():
                    failed.append(fut.result())
                if finished % 16 == 0 or finished == len(rest):
                    ctx.report(0.45 + 0.55 * finished / max(1, len(rest)), f"decoding {finished}/{len(rest)}")
        except BaseException:
            _cancel_pending(futures)
            raise
    return pixels, failed


def _pick_series(headers: list[FrameHeader], series_uid: str | None, skipped: list) -> list[FrameHeader]:
    if not headers:
        return headers
    wanted = series_uid or Counter(h.series_uid for h in headers).most_common(1)[0][0]
    kept = [h for h in headers if h.series_uid == wanted]
    for path in sorted({h.path for h in headers if h.series_uid != wanted}):
        skipped.append((path, "belongs to another series"))
    return kept


def load_series(
    ctx: JobContext,
    paths: Iterable[str | Path],
    *,
    series_uid: str | None = None,
    time_point: int | None = None,
    workers: int | None = None,
    cache: dict[str, dict] | None = None,
) -> Volume:
    """Read, order and decode ``paths`` into a :class:`Volume` (z, y, x) float32 in modality units.

    ``series_uid`` picks one series when the files hold several (default: the
    one with most images); ``time_point`` picks a phase of a 4D series
    (default 0; ``meta["n_time_points"]`` tells how many there are).
    ``cache`` maps a path to its still-valid ``Instance.header_cache`` (from the index; the caller
    checked size and mtime): such files are decoded from the stored pixel offset without parsing.
    Streams ``{"kind": "preview", "index", "n_slices", "image", "spacing_rc"}`` via ``ctx.partial``: the middle
    slice of the ordered stack; before it, when files must be parsed, the first file read (``index`` None:
    position not known yet). Files the index knows stream the middle slice only.
    """
    workers = workers or default_workers()
    path_list = [str(p) for p in paths]
    if not path_list:
        raise ImagingError("no files given")
    ctx.report(0.0, f"reading {len(path_list)} files")
    cache = cache or {}
    datasets, headers, skipped = _read_all(ctx, path_list, workers, cache)
    headers = _pick_series(headers, series_uid, skipped)
    if not headers:
        reasons = "; ".join(f"{Path(p).name}: {r}" for p, r in skipped[:5])
        raise ImagingError(f"no loadable images among {len(path_list)} file(s) ({reasons})")

    while True:
        plan = plan_stack(headers, time_point)
        ctx.check()
        pixels, failed = _decode_plan(ctx, plan, datasets, workers)
        if not failed:
            break
        skipped.extend(failed)
        bad = {p for p, _ in failed}
        headers = [h for h in headers if h.path not in bad]
        if not headers:
            raise ImagingError(f"no decodable images ({failed[0][1]})")
    skipped.extend(plan.skipped)

    first_path = plan.frames[0].path
    first_ds = datasets[first_path]
    if isinstance(first_ds, NativePixels):
        entry = cache[first_path]
        meta = dict(entry.get("meta", {}))
        window = tuple(entry["window"]) if entry.get("window") else None
        syntax = entry.get("transfer_syntax", "")
    else:
        meta = overlay_meta(first_ds)
        window = default_window(first_ds)
        syntax = str(getattr(getattr(first_ds, "file_meta", None), "TransferSyntaxUID", "") or "")
    meta.update(
        skipped=skipped,
        notes=plan.notes,
        n_time_points=plan.n_time_points,
        time_point=plan.time_point,
        transfer_syntax=syntax,
    )
    # geometry known (else the direction is an identity placeholder and the viewer draws no orientation letters)
    meta["oriented"] = plan.frames[0].position is not None and plan.frames[0].orientation is not None
    ctx.report(1.0, f"loaded {len(plan.frames)} slices")
    return Volume(
        pixels=pixels,
        spacing=plan.spacing,
        origin=plan.origin,
        direction=plan.direction,
        modality=plan.frames[0].modality,
        series_uid=plan.frames[0].series_uid,
        study_uid=plan.frames[0].study_uid,
        sop_uids=[f.sop_uid for f in plan.frames],
        source_paths=[f.path for f in plan.frames],
        window=window,  # type: ignore[arg-type]
        meta=meta,
    )
