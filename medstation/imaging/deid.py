"""De-identified copy of a series (PS3.15 Basic Application Level Confidentiality Profile), as a job.

UIDs are replaced through one :class:`UidMapper` per export, so references
between the copied files (study, series, frame of reference, referenced SOP
instances) stay consistent. The mapping is never stored: keeping it would be a
re-identification key. Pixel data is copied unchanged; files that declare
burned-in annotation are reported, because this profile does not clean pixels.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from medstation.imaging.deid_profile import EMPTY, REMOVE, REPLACE_UID
from medstation.jobs import JobContext

METHOD = "DICOM PS3.15 Basic Application Level Confidentiality Profile (MedStation)"
DATE_TIME_VRS = ("DA", "DT", "TM")


class UidMapper:
    """Old UID -> new random UID, the same new UID every time an old one is seen."""

    def __init__(self) -> None:
        self._map: dict[str, str] = {}

    def __call__(self, uid: str) -> str:
        from pydicom.uid import generate_uid

        uid = str(uid).strip()
        if not uid:
            return uid
        if uid not in self._map:
            self._map[uid] = generate_uid()
        return self._map[uid]

    def __len__(self) -> int:
        return len(self._map)


def _is_standard_uid(uid: str) -> bool:
    """SOP classes, transfer syntaxes, coding schemes...: public constants that identify nobody."""
    from pydicom.uid import UID

    # A UID pydicom can name is a public constant; UID(x).name is x itself for any other UID.
    return UID(str(uid)).name != str(uid)


def _clean(dataset, uids: UidMapper) -> None:
    """Apply the profile to ``dataset`` and all nested sequence items, in place."""
    for elem in list(dataset):
        keyword, vr = elem.keyword, elem.VR
        group = elem.tag.group
        if elem.tag.is_private or (0x5000 <= group <= 0x50FF) or (0x6000 <= group <= 0x60FF and elem.tag.element in (0x3000, 0x4000)):
            del dataset[elem.tag]
        elif keyword in REMOVE:
            del dataset[elem.tag]
        elif keyword in EMPTY:
            if vr == "SQ":
                elem.value = []
            else:
                elem.value = ""
        elif vr == "SQ":
            for item in elem.value:
                _clean(item, uids)
        elif vr == "UI":
            if keyword in REPLACE_UID or not all(_is_standard_uid(v) for v in _values(elem.value)):
                new = [uids(v) if not _is_standard_uid(v) else v for v in _values(elem.value)]
                elem.value = new if elem.VM > 1 else (new[0] if new else "")
        elif vr == "PN":
            elem.value = ""
        elif vr in DATE_TIME_VRS:
            del dataset[elem.tag]


def _values(value) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, (str, bytes)):
        return [str(value)]
    return [str(v) for v in value]


def _fill_blank_identity(ds, path: str | Path | None) -> None:
    """Anonymised sources may carry blank UIDs; give the copy real ones (derived the way the index does)."""
    from medstation.imaging.headers import instance_identity

    sop, series, study = instance_identity(ds, path or "unknown")
    for keyword, value in (("SOPInstanceUID", sop), ("SeriesInstanceUID", series), ("StudyInstanceUID", study)):
        if not str(ds.get(keyword, "") or "").strip():
            setattr(ds, keyword, value)
    meta_class = getattr(getattr(ds, "file_meta", None), "MediaStorageSOPClassUID", "")
    if not str(ds.get("SOPClassUID", "") or "").strip() and meta_class:
        ds.SOPClassUID = meta_class


def deidentify_dataset(ds, uids: UidMapper, *, pseudonym: str = "ANONYMOUS", path: str | Path | None = None) -> list[str]:
    """De-identify ``ds`` (read from ``path``) in place, file meta included. Returns warnings for the user."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    warnings = []
    _fill_blank_identity(ds, path)
    if str(ds.get("BurnedInAnnotation", "")).upper() == "YES":
        warnings.append("declares burned-in annotation: pixel text is NOT removed by this profile")
    _clean(ds, uids)
    ds.PatientName = pseudonym
    ds.PatientID = pseudonym
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = METHOD
    code = Dataset()
    code.CodeValue = "113100"
    code.CodingSchemeDesignator = "DCM"
    code.CodeMeaning = "Basic Application Confidentiality Profile"
    ds.DeidentificationMethodCodeSequence = Sequence([code])
    ds.LongitudinalTemporalInformationModified = "REMOVED"
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        if "SOPInstanceUID" in ds:
            meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        for keyword in ("SourceApplicationEntityTitle", "SendingApplicationEntityTitle", "ReceivingApplicationEntityTitle",
                        "SourcePresentationAddress", "SendingPresentationAddress", "ReceivingPresentationAddress", "PrivateInformation",
                        "PrivateInformationCreatorUID"):
            if keyword in meta:
                delattr(meta, keyword)
    return warnings


@dataclass
class DeidReport:
    out_dir: str
    files: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def export_deidentified(
    ctx: JobContext, paths: Iterable[str | Path], out_dir: str | Path, *, pseudonym: str = "ANONYMOUS"
) -> DeidReport:
    """Write de-identified copies of ``paths`` into ``out_dir`` as ``IM00001.dcm``..., one UID map for all."""
    import pydicom

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path_list = [str(p) for p in paths]
    uids = UidMapper()
    report = DeidReport(out_dir=str(out))
    for number, path in enumerate(path_list, start=1):
        ctx.check()
        try:
            ds = pydicom.dcmread(path)
        except Exception as exc:
            report.skipped.append((path, f"unreadable ({exc.__class__.__name__})"))
            continue
        for warning in deidentify_dataset(ds, uids, pseudonym=pseudonym, path=path):
            report.warnings.append(f"{Path(path).name}: {warning}")
        target = out / f"IM{number:05d}.dcm"
        ds.save_as(target, enforce_file_format=False)
        report.files.append(str(target))
        ctx.report(number / max(1, len(path_list)), f"de-identified {number}/{len(path_list)}")
    return report
