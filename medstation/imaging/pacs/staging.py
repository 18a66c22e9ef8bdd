"""Where retrieved instances wait until their series is complete, and how they are written.

Layout under ``$MEDSTATION_HOME/pacs/``::

    .staging/<SeriesInstanceUID>/<SOPInstanceUID>.dcm   instances of a series still arriving
    <StudyInstanceUID>/<SeriesInstanceUID>/...          complete series, indexed

Every instance is written to ``<name>.part`` and renamed into place (``os.replace`` is atomic
on one file system), so a crash leaves either the whole file or a ``.part`` that the next run
overwrites. A series folder moves from staging to its study folder in one ``rename`` only when
it holds as many instances as the PACS announced, and only then is it indexed: the index never
sees half a series. A resumed retrieve finds the instances already staged and skips them.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from medstation.fileio import atomic_write
from medstation.imaging.pacs.node import PacsError

_UID_RE = re.compile(r"^[0-9.]{1,64}$")


def safe_uid(uid: str, what: str = "UID") -> str:
    """A UID fit for a folder or file name (digits and dots); anything else is refused, never sanitised."""
    uid = (uid or "").strip().rstrip("\0")
    if not _UID_RE.match(uid) or uid.startswith(".") or ".." in uid:
        raise PacsError(f"the PACS sent an invalid {what} {uid!r}; nothing was written for it")
    return uid


class SeriesStaging:
    """The staging folder of one series and its final place. Not thread-safe across series; one per series."""

    def __init__(self, root: Path, study_uid: str, series_uid: str) -> None:
        self.root = Path(root)
        self.study_uid = safe_uid(study_uid, "Study Instance UID")
        self.series_uid = safe_uid(series_uid, "Series Instance UID")
        self.folder = self.root / ".staging" / self.series_uid
        self.final = self.root / self.study_uid / self.series_uid

    def prepare(self) -> "SeriesStaging":
        self.folder.mkdir(parents=True, exist_ok=True)
        return self

    def staged_uids(self) -> set[str]:
        """SOP Instance UIDs already written whole (``.part`` leftovers do not count)."""
        if not self.folder.is_dir():
            return set()
        return {p.stem for p in self.folder.glob("*.dcm")}

    def write(self, sop_uid: str, data: bytes) -> Path:
        """Write one Part-10 file atomically; returns its staged path."""
        sop_uid = safe_uid(sop_uid, "SOP Instance UID")
        target = self.folder / f"{sop_uid}.dcm"
        return atomic_write(target, data, durable=False)  # the study is checked whole before it is used

    def discard_parts(self) -> None:
        for part in self.folder.glob("*.part"):
            part.unlink(missing_ok=True)

    def promote(self) -> Path:
        """Move the complete series into its study folder in one rename; returns the final folder."""
        self.discard_parts()
        self.final.parent.mkdir(parents=True, exist_ok=True)
        if self.final.exists():  # an earlier, complete copy of this series: the new one replaces it whole
            shutil.rmtree(self.final)
        os.replace(self.folder, self.final)
        return self.final


def is_complete(folder: Path, expected: int | None) -> bool:
    """A final series folder holds ``expected`` instances (unknown count: any folder that exists)."""
    if not folder.is_dir():
        return False
    n = sum(1 for _ in folder.glob("*.dcm"))
    return n > 0 if expected is None else n >= expected
