"""De-identified export as a job: read, check for burned-in text, de-identify, write, report.

Outputs are named only from pseudonymous UIDs, ``OUT/<new series UID>/<new SOP UID>.dcm``,
never from a DICOM value of the source. A file is refused (and listed with the reason) when
it cannot be read, when it is a DICOMDIR, or when it may carry burned-in text and the request
neither confirms it nor masks it (:mod:`.pixels`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from medstation.imaging.deid.deidentifier import Deidentifier
from medstation.imaging.deid.pixels import MaskRect, burned_in_reason, mask_rectangles
from medstation.imaging.deid.profile import DeidOption
from medstation.imaging.deid.pseudonyms import PseudonymMap
from medstation.jobs import JobContext
from medstation.store.database import Database

REPORT_SCHEMA_VERSION = 1
_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")
_DICOMDIR_CLASS = "1.2.840.10008.1.3.10"


@dataclass(frozen=True)
class DeidRequest:
    """What the person asked for: options, and the burned-in decision (confirm, or rectangles to blank)."""

    options: frozenset[DeidOption] = frozenset()
    confirm_burned_in: bool = False
    masks: tuple[MaskRect, ...] = ()


@dataclass(frozen=True)
class BurnedInDecision:
    """What was done with one flagged file: ``decision`` is ``confirmed`` or ``masked``."""

    source: str
    reason: str
    decision: str
    pixels_blanked: int = 0


@dataclass(frozen=True)
class DeidReport:
    """Outcome of one export. ``refused``: (source path, reason); ``changed``: (keyword, elements changed)."""

    out_dir: str
    files: tuple[str, ...]
    refused: tuple[tuple[str, str], ...]
    changed: tuple[tuple[str, int], ...]
    burned_in: tuple[BurnedInDecision, ...]
    options: tuple[str, ...]
    schema_version: int = REPORT_SCHEMA_VERSION

    @property
    def refused_for_burned_in(self) -> tuple[str, ...]:
        """Sources refused only because they may carry burned-in text (a confirmation or masks would pass them)."""
        return tuple(path for path, reason in self.refused if reason.startswith("burned-in"))

    @property
    def skipped(self) -> tuple[tuple[str, str], ...]:
        return self.refused

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(f"{Path(p).name}: {r}" for p, r in self.refused)

    def as_dict(self) -> dict:
        return {
            "schema_version": self.schema_version, "out_dir": self.out_dir, "files": list(self.files),
            "refused": [{"path": p, "reason": r} for p, r in self.refused],
            "attributes_changed": dict(self.changed), "options": list(self.options),
            "burned_in": [d.__dict__ for d in self.burned_in],
        }


@dataclass
class _Tally:
    files: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    changed: Counter = field(default_factory=Counter)
    burned_in: list[BurnedInDecision] = field(default_factory=list)


def _read(path: str):
    """(dataset, None) or (None, reason)."""
    import pydicom

    from pydicom.errors import InvalidDicomError

    try:
        try:
            ds = pydicom.dcmread(path)
        except InvalidDicomError:  # no preamble: accept it only if it reads as an instance
            ds = pydicom.dcmread(path, force=True)
            if "SOPInstanceUID" not in ds or "SOPClassUID" not in ds:
                return None, "unreadable as DICOM (no preamble and no SOP instance)"
    except Exception as exc:  # pydicom raises many types for hostile bytes; the reason is what matters
        return None, f"unreadable as DICOM ({exc.__class__.__name__})"
    sop_class = str(ds.get("SOPClassUID", "") or getattr(getattr(ds, "file_meta", None), "MediaStorageSOPClassUID", ""))
    if sop_class == _DICOMDIR_CLASS or "DirectoryRecordSequence" in ds:
        return None, "a DICOMDIR (a directory of files), not an instance"
    if _pixels_truncated(ds):
        return None, "truncated: the pixel data is shorter than Rows x Columns x frames declare"
    return ds, None


def _pixels_truncated(ds) -> bool:
    """Uncompressed pixel data shorter than its header declares (a cut-off transfer)."""
    meta = getattr(ds, "file_meta", None)
    syntax = getattr(meta, "TransferSyntaxUID", None)
    if "PixelData" not in ds or syntax is None or syntax.is_compressed:
        return False
    try:
        expected = (int(ds.Rows) * int(ds.Columns) * int(ds.get("NumberOfFrames", 1) or 1)
                    * int(ds.get("SamplesPerPixel", 1) or 1) * int(ds.BitsAllocated)) // 8
    except (AttributeError, TypeError, ValueError):
        return False
    return len(ds.PixelData) < expected


def export_deidentified(
    ctx: JobContext, db: Database, paths: Iterable[str | Path], out_dir: str | Path, request: DeidRequest = DeidRequest()
) -> DeidReport:
    """Write de-identified copies of ``paths`` (files) under ``out_dir``; the pseudonym map lives in ``db``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path_list = [str(p) for p in paths]
    deid = Deidentifier(PseudonymMap(db), request.options)
    tally = _Tally()
    for number, path in enumerate(path_list, start=1):
        ctx.check()
        ds, problem = _read(path)
        if ds is None:
            tally.refused.append((path, problem))
            continue
        reason = burned_in_reason(ds)
        blanked = 0
        if reason is not None:
            if request.masks:
                try:
                    blanked = mask_rectangles(ds, list(request.masks))
                except Exception as exc:  # undecodable pixels: refuse rather than export unmasked
                    tally.refused.append((path, f"burned-in text suspected and the pixels could not be masked ({exc})"))
                    continue
                if blanked == 0:  # every rectangle missed the image: exporting it would be exporting it unmasked
                    tally.refused.append((path, f"burned-in text suspected: {reason}; the masking rectangles all lie "
                                                f"outside this {ds.get('Columns')}×{ds.get('Rows')} image, so nothing "
                                                "was blanked"))
                    continue
                tally.burned_in.append(BurnedInDecision(path, reason, "masked", blanked))
            elif request.confirm_burned_in:
                tally.burned_in.append(BurnedInDecision(path, reason, "confirmed"))
            else:
                tally.refused.append((path, f"burned-in text suspected: {reason}; confirm or mask regions to export"))
                continue
        tally.changed.update(deid.deidentify(ds, path=path, pixels_cleaned=bool(blanked)))
        series, sop = str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID)
        if not (_UID.match(series) and _UID.match(sop)):  # never a path from a value we did not make
            tally.refused.append((path, "internal: pseudonymous UIDs are malformed"))
            continue
        target = out / series / f"{sop}.dcm"
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            ds.save_as(target, enforce_file_format=True)
        except Exception as exc:  # e.g. a value pydicom cannot encode; nothing half-written is reported as done
            target.unlink(missing_ok=True)
            tally.refused.append((path, f"could not be written ({exc.__class__.__name__}: {exc})"))
            continue
        tally.files.append(str(target))
        ctx.report(number / max(1, len(path_list)), f"de-identified {number}/{len(path_list)}")
    return DeidReport(
        out_dir=str(out), files=tuple(tally.files), refused=tuple(tally.refused),
        changed=tuple(sorted(tally.changed.items())), burned_in=tuple(tally.burned_in),
        options=tuple(o.value for o in DeidOption if o in request.options),
    )
