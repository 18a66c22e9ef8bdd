"""Corner texts of a slice view (patient, study, slice position, window). Pure string building, no Qt."""

from __future__ import annotations

from medstation.ui.viewer import planes


def _date(text: str) -> str:
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}" if len(text) == 8 and text.isdigit() else text


def has_orientation(volume) -> bool:
    """False when the loader found no ImageOrientationPatient/ImagePositionPatient (``meta["oriented"]``):
    the volume's direction is then an identity placeholder, and R/L/A/P/S/I letters would be invented.
    Volumes not made by the loader (no key) are taken as oriented."""
    return bool(volume.meta.get("oriented", True))


def no_orientation_letters() -> dict[str, str]:
    """Edge texts that clear the orientation letters."""
    return {"left": "", "right": "", "top": "", "bottom": ""}


def overlay_corners(volume, plane: str, index: int, window: tuple[float, float]) -> dict[str, str]:
    """{"tl", "tr", "bl", "br"} texts for ``plane`` at slice ``index`` of ``volume``."""
    meta = volume.meta
    name = meta.get("patient_name") or "(no name)"
    pid = meta.get("patient_id") or "no ID"
    born = _date(meta.get("birth_date", ""))
    tl = f"{name}\nID {pid}" + (f"\n{born} {meta.get('sex', '')}".rstrip() if born else "")
    tr = "\n".join(t for t in (_date(meta.get("study_date", "")), meta.get("study_description", ""), meta.get("series_description", "")) if t)
    n = planes.n_slices(plane, volume.shape)
    centre = [s / 2.0 for s in volume.shape]
    voxel = list(centre)
    voxel[planes.slice_axis(plane)] = index
    position = volume.voxel_to_patient(*voxel)
    normal = volume.direction[:, 2 - planes.slice_axis(plane)]  # direction columns are x, y, z
    dominant = int(abs(normal).argmax())
    where = f"{'XYZ'[dominant]} {position[dominant]:.1f} mm"
    bl = f"{plane.capitalize()} {index + 1}/{n}   {where}\nW {window[1]:.0f}  L {window[0]:.0f}"
    row_mm, col_mm = planes.spacing_rc(plane, volume.spacing)
    tp = int(meta.get("n_time_points", 1))
    br = f"{volume.modality}  {col_mm:.2f}×{row_mm:.2f} mm" + (f"\nTime point {meta.get('time_point', 0) + 1}/{tp}" if tp > 1 else "")
    return {"tl": tl, "tr": tr, "bl": bl, "br": br}
