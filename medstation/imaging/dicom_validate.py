"""Run dciodvfy (Debian ``dicom3tools``) on a file and compare its errors with the source's.

dciodvfy checks a file against its IOD (PS3.3) and the value rules (PS3.5) and
prints one ``Error - ...`` line per violation. A writer of DICOM (the
de-identifier, the DICOM-SEG exporter) must add no error its input did not have.
Messages are compared with values removed, so an error that merely carries a new
(pseudonymous) value is the same error.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

_VALUE = re.compile(r"<[^>]*>|\"[^\"]*\"|'[^']*'|\b\d+(\.\d+)*\b")


def dciodvfy_available() -> bool:
    return shutil.which("dciodvfy") is not None


def dciodvfy_errors(path: str | Path, *, timeout_s: float = 60.0) -> list[str]:
    """The ``Error`` lines dciodvfy prints for ``path`` (raises FileNotFoundError when dicom3tools is missing)."""
    exe = shutil.which("dciodvfy")
    if exe is None:
        raise FileNotFoundError("dciodvfy is not installed (Debian package dicom3tools)")
    # errors="replace": dciodvfy echoes values in the file's own bytes (a Latin-1 "Müller"), not UTF-8
    done = subprocess.run([exe, str(path)], capture_output=True, text=True, errors="replace", timeout=timeout_s)
    lines = (done.stdout + "\n" + done.stderr).splitlines()
    return [line.strip() for line in lines if line.strip().startswith("Error")]


def baseline_errors(path: str | Path, scratch_dir: str | Path) -> list[str] | None:
    """The source's errors to compare an output with; None when dciodvfy cannot read the source to the end.

    A source whose SOP Class/Instance UIDs are blank (anonymised, as the sample CT) is checked
    against no IOD at all ("Information Object Not found"); the de-identifier restores those
    UIDs from the file meta, so the fair baseline is the source with just that repair."""
    errors = dciodvfy_errors(path)
    if any("read failed" in e for e in errors):
        return None
    if not any("Information Object Not found" in e for e in errors):
        return errors
    import pydicom

    ds = pydicom.dcmread(path)
    meta = ds.file_meta
    if "MediaStorageSOPClassUID" not in meta or "SOPClassUID" not in ds:
        return errors  # a fragment: no class to restore, and the de-identifier does not add one
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    if not str(ds.get("SOPInstanceUID", "") or "").strip():
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    repaired = Path(scratch_dir) / f"baseline-{Path(path).name}"
    ds.save_as(repaired)
    try:
        return errors + dciodvfy_errors(repaired)
    finally:
        repaired.unlink(missing_ok=True)


def _normalise(message: str) -> str:
    return _VALUE.sub("<v>", message)


def new_errors(source_errors: list[str], output_errors: list[str]) -> list[str]:
    """Errors of the output that the source did not have (compared with values normalised away)."""
    before = {_normalise(m) for m in source_errors}
    return [m for m in output_errors if _normalise(m) not in before]
