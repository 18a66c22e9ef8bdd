"""Slice ordering and volume geometry from per-frame headers.

Slices are ordered by ImagePositionPatient projected on the slice normal
(row cosines × column cosines), never by file name or InstanceNumber. Frames
that repeat a position are time points (4D); they are split when every
position repeats equally often and refused otherwise.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pathlib import Path

import numpy as np

from medstation.imaging.headers import FrameHeader, ImagingError

# Two frames closer than this along the normal (mm) share a slice position.
POSITION_TOLERANCE_MM = 0.01


@dataclass
class StackPlan:
    """Frames in spatial order for one time point, plus the geometry of the resulting volume.

    ``spacing`` (dz, dy, dx) mm; ``origin`` patient mm (X, Y, Z) of frame 0's first pixel;
    ``direction`` columns = unit vectors of column (x), row (y) and slice (z) axes.
    """

    frames: list[FrameHeader]
    spacing: tuple[float, float, float]
    origin: tuple[float, float, float]
    direction: np.ndarray
    n_time_points: int = 1
    time_point: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _majority(values):
    return Counter(values).most_common(1)[0][0]


def _keep_consistent(frames: list[FrameHeader], skipped: list[tuple[str, str]]) -> list[FrameHeader]:
    """Drop duplicate frames and frames whose size or orientation differ from the majority (reported)."""
    seen, unique = set(), []
    for f in frames:
        key = (f.sop_uid, f.frame) if f.sop_uid else (f.path, f.frame)
        if key in seen:
            skipped.append((f.path, "duplicate of an image already in the series (same SOP Instance UID)"))
            continue
        seen.add(key)
        unique.append(f)
    shape = _majority((f.rows, f.columns) for f in unique)
    kept = []
    for f in unique:
        if (f.rows, f.columns) != shape:
            skipped.append((f.path, f"image is {f.rows}×{f.columns}; the series is {shape[0]}×{shape[1]}"))
        else:
            kept.append(f)
    with_geometry = [f for f in kept if f.position is not None and f.orientation is not None]
    if not with_geometry:
        return kept
    orient = _majority(tuple(round(v, 3) for v in f.orientation) for f in with_geometry)  # type: ignore[union-attr]
    out = []
    for f in kept:
        if f.position is None or f.orientation is None:
            skipped.append((f.path, "no ImagePositionPatient/ImageOrientationPatient while the rest of the series has them"))
        elif tuple(round(v, 3) for v in f.orientation) != orient:
            skipped.append((f.path, "orientation differs from the rest of the series (a localizer?)"))
        else:
            out.append(f)
    return out


def _plan_without_geometry(frames: list[FrameHeader], skipped, notes) -> StackPlan:
    frames = sorted(frames, key=lambda f: (f.instance_number if f.instance_number is not None else 0, f.path, f.frame))
    dy, dx = frames[0].pixel_spacing
    dz = frames[0].slice_thickness or 1.0
    notes.append("no ImagePositionPatient: slices ordered by InstanceNumber; distances along z are not reliable")
    return StackPlan(frames, (float(dz), float(dy), float(dx)), (0.0, 0.0, 0.0), np.eye(3), skipped=skipped, notes=notes)


def _drop_repeats(groups: list[list[FrameHeader]], skipped, notes) -> list[list[FrameHeader]]:
    """Most positions hold one image: the few that hold more are copies (a slice re-sent with a new UID), not
    time points. Keep one per position (lowest InstanceNumber, then path); list the others as skipped."""
    kept = []
    for group in groups:
        ordered = sorted(group, key=lambda f: (f.instance_number if f.instance_number is not None else 0, f.path, f.frame))
        kept.append(ordered[:1])
        for extra in ordered[1:]:
            skipped.append((extra.path, f"same slice position as {Path(ordered[0].path).name} (sent twice?): skipped"))
    n = sum(len(g) - 1 for g in groups)
    notes.append(f"{n} image(s) at an already-filled slice position skipped (duplicates?)")
    return kept


def _group_positions(frames: list[FrameHeader], normal: np.ndarray) -> list[list[FrameHeader]]:
    """Frames grouped by slice position along ``normal``, groups in increasing position."""
    ordered = sorted(frames, key=lambda f: float(np.dot(f.position, normal)))  # type: ignore[arg-type]
    groups: list[list[FrameHeader]] = []
    last = None
    for f in ordered:
        d = float(np.dot(f.position, normal))  # type: ignore[arg-type]
        if last is None or d - last > POSITION_TOLERANCE_MM:
            groups.append([])
        groups[-1].append(f)
        last = d
    return groups


def plan_stack(frames: list[FrameHeader], time_point: int | None = None) -> StackPlan:
    """Order ``frames`` into a volume. Raises :class:`ImagingError` when they cannot form one."""
    skipped: list[tuple[str, str]] = []
    notes: list[str] = []
    if not frames:
        raise ImagingError("no images to load")
    frames = _keep_consistent(frames, skipped)
    if not frames:
        raise ImagingError("no consistent images left in the series")
    if frames[0].position is None or frames[0].orientation is None:
        return _plan_without_geometry(frames, skipped, notes)

    row_dir = np.asarray(frames[0].orientation[:3], float)
    col_dir = np.asarray(frames[0].orientation[3:], float)
    row_dir /= np.linalg.norm(row_dir) or 1.0
    col_dir /= np.linalg.norm(col_dir) or 1.0
    normal = np.cross(row_dir, col_dir)
    if np.linalg.norm(normal) < 1e-6:
        raise ImagingError("ImageOrientationPatient row and column directions are parallel")
    normal /= np.linalg.norm(normal)

    groups = _group_positions(frames, normal)
    counts = Counter(len(g) for g in groups)
    if len(counts) > 1 and counts.get(1, 0) * 2 > len(groups):
        groups = _drop_repeats(groups, skipped, notes)
        counts = Counter(len(g) for g in groups)
    n_time = len(groups[0])
    if len(counts) > 1:
        raise ImagingError(
            f"the series repeats slice positions unevenly ({len(groups)} positions holding "
            f"{min(counts)} to {max(counts)} images each), so it cannot be split into time points"
        )
    chosen = 0 if time_point is None else int(time_point)
    if not 0 <= chosen < n_time:
        raise ImagingError(f"time point {chosen} requested but the series has {n_time}")
    if n_time > 1:
        notes.append(f"4D series: {len(groups)} positions × {n_time} time points; showing time point {chosen + 1}")
    stack = [
        sorted(g, key=lambda f: (f.temporal_index if f.temporal_index is not None else 0.0, f.instance_number or 0, f.path, f.frame))[chosen]
        for g in groups
    ]

    positions = np.array([f.position for f in stack], float)
    dy, dx = stack[0].pixel_spacing
    if len(stack) > 1:
        steps = np.linalg.norm(np.diff(positions, axis=0), axis=1)
        dz = float(np.median(steps))
        # The true slice axis (differs from the normal for gantry-tilted CT).
        z_dir = (positions[-1] - positions[0]) / np.linalg.norm(positions[-1] - positions[0])
        if steps.max() - steps.min() > max(0.1 * dz, 0.01):
            notes.append(f"non-uniform slice spacing ({steps.min():.2f}–{steps.max():.2f} mm; a gap?); volume uses {dz:.2f} mm")
        if float(np.dot(z_dir, normal)) < 0.999:
            notes.append("slices are sheared against the image plane (gantry tilt); geometry follows the positions")
    else:
        dz = float(stack[0].slice_thickness or 1.0)
        z_dir = normal
    direction = np.column_stack([row_dir, col_dir, z_dir])
    return StackPlan(
        frames=stack,
        spacing=(dz, float(dy), float(dx)),
        origin=tuple(float(v) for v in positions[0]),  # type: ignore[arg-type]
        direction=direction,
        n_time_points=n_time,
        time_point=chosen,
        skipped=skipped,
        notes=notes,
    )
