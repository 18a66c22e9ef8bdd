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
    done = subprocess.run([exe, str(path)], capture_output=True, text=True, timeout=timeout_s)
    lines = (done.stdout + "\n" + done.stderr).splitlines()
    return [line.strip() for line in lines if line.strip().startswith("Error")]


def _normalise(message: str) -> str:
    return _VALUE.sub("<v>", message)


def new_errors(source_errors: list[str], output_errors: list[str]) -> list[str]:
    """Errors of the output that the source did not have (compared with values normalised away)."""
    before = {_normalise(m) for m in source_errors}
    return [m for m in output_errors if _normalise(m) not in before]
