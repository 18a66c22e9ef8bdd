"""Send DICOM objects (accepted segmentations as DICOM-SEG) back to a PACS, refusing what it cannot hold.

A SEG references its source series by UID. A series whose files carry blank UIDs (the bundled
sample CT, as its source published it) only has UIDs this workstation made up, which no PACS
holds: such a segmentation is refused with the reason instead of being sent to dangle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from sqlmodel import select

from medstation.imaging.pacs import dicomweb, dimse
from medstation.imaging.pacs.node import PacsError, PacsNode
from medstation.store.database import Database
from medstation.store.tables import Instance, Series

_IDENTITY = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID")


@dataclass
class SendReport:
    sent: list[str] = field(default_factory=list)  # SOP Instance UIDs
    files: list[str] = field(default_factory=list)

    def summary(self, node: PacsNode) -> str:
        return f"sent {len(self.sent)} objects to {node.describe()}"


def referenced_series(ds) -> list[str]:
    """Series UIDs a SEG (or any object with ReferencedSeriesSequence) points at."""
    return [str(item.get("SeriesInstanceUID", "")) for item in ds.get("ReferencedSeriesSequence", [])]


def _source_has_blank_uids(db: Database, series_uid: str) -> bool:
    """True when the indexed source series' files carry no UIDs of their own (ours were made up)."""
    with db.session() as s:
        row = s.exec(select(Instance.path).join(Series, Series.id == Instance.series_id)
                     .where(Series.series_uid == series_uid)).first()
    if row is None:
        return False
    try:
        src = pydicom.dcmread(row, stop_before_pixels=True, specific_tags=list(_IDENTITY))
    except Exception:
        return False
    return any(not str(src.get(k, "") or "").strip() for k in _IDENTITY[:3])


def check_sendable(db: Database, path: Path):
    """The dataset to send, or a :class:`PacsError` saying why it cannot be sent."""
    try:
        ds = pydicom.dcmread(path)
    except Exception as exc:
        raise PacsError(f"{path} is not a readable DICOM file ({type(exc).__name__}); nothing was sent") from exc
    blank = [k for k in _IDENTITY if not str(ds.get(k, "") or "").strip()]
    if blank:
        raise PacsError(f"{path} cannot be sent: its {', '.join(blank)} {'is' if len(blank) == 1 else 'are'} blank, "
                        f"and a PACS files every object by those UIDs")
    for series_uid in referenced_series(ds):
        if not series_uid.strip():
            raise PacsError(f"{path} cannot be sent: it references a source series with a blank UID")
        if _source_has_blank_uids(db, series_uid):
            raise PacsError(
                f"{path} cannot be sent: its source series was stored with blank Study/Series/SOP Instance UIDs "
                f"(as the sample CT ships), so the UIDs it references were made up on this workstation and no "
                f"PACS holds that series; segment a study retrieved from the PACS instead")
    return ds


def send_files(db: Database, node: PacsNode, paths: list[Path]) -> SendReport:
    """Check every file first (all or nothing), then STOW-RS (DICOMweb) or C-STORE (DIMSE) them."""
    if not paths:
        raise PacsError("no files to send")
    datasets = [check_sendable(db, Path(p)) for p in paths]
    if node.is_dicomweb:
        dicomweb.store(node, datasets)
    else:
        dimse.store_datasets(node, datasets)
    return SendReport(sent=[str(ds.SOPInstanceUID) for ds in datasets], files=[str(p) for p in paths])
