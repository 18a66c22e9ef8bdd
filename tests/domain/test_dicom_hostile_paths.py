"""No file name or path is ever built from a DICOM value.

Every string element of a series is set to ``../`` traversal or an absolute path
(unique per element and file, all naming one marker folder). The series then goes
through indexing, loading, mask acceptance, de-identified export and NIfTI /
DICOM-SEG export; afterwards nothing exists outside the data folder and the
chosen export targets, no path contains the marker, and the marker folder was never made.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pydicom
import pytest

from medstation.imaging.deid.export import DeidRequest, export_deidentified
from medstation.imaging.indexer import index_paths
from medstation.imaging.loader import load_series
from medstation.imaging.synthetic import SeriesSpec, write_series
from medstation.jobs import JobContext
from medstation.segmentation.records import SegmentRecord, save_decision

TEXT_VRS = {"AE", "AS", "CS", "DA", "DT", "LO", "LT", "PN", "SH", "ST", "TM", "UI", "UC", "UR", "UT"}
NUMERIC_STRING_VRS = {"DS", "IS"}
KEEP = {"PhotometricInterpretation"}  # describes the pixel bytes; without it nothing decodes, so nothing to export


def _poison(path: Path, marker: str, index: int, *, numeric: bool) -> int:
    """Set every string element of ``path`` to a hostile path; returns how many were set."""
    ds = pydicom.dcmread(path)
    count = 0

    def visit(dataset, trail):
        nonlocal count
        retyped = []
        for elem in dataset:
            if elem.VR == "SQ":
                for j, item in enumerate(elem.value):
                    visit(item, f"{trail}{elem.keyword}{j}.")
                continue
            if elem.keyword in KEEP or elem.VR not in TEXT_VRS | (NUMERIC_STRING_VRS if numeric else set()):
                continue
            style = count % 3
            name = f"{trail}{elem.keyword or elem.tag}{index}"
            value = (f"../../../{marker}/{name}", f"/tmp/{marker}/{name}", f"..\\..\\{marker}\\{name}")[style]
            if elem.VR in NUMERIC_STRING_VRS:  # pydicom will not hold text in a DS/IS: written as LO instead
                retyped.append((elem.tag, value[:64]))
            else:
                elem.value = value[:64] if elem.VR in ("UI", "CS", "AE", "SH", "LO", "PN") else value
            count += 1
        for tag, value in retyped:
            dataset.add_new(tag, "LO", value)

    visit(ds, "")
    ds.save_as(path, enforce_file_format=False)
    return count


def _tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


@pytest.mark.parametrize("numeric", [False, True], ids=["text-elements", "every-string-element"])
def test_hostile_strings_never_become_paths(tmp_path, db, settings, numeric):
    marker = f"medstation-evil-{uuid.uuid4().hex[:8]}"
    series_dir = tmp_path / "in" / "series"
    files = write_series(series_dir, SeriesSpec(n_slices=3, rows=8, columns=8))
    assert min(_poison(f, marker, i, numeric=numeric) for i, f in enumerate(files)) >= 15
    assert str(pydicom.dcmread(files[0]).SeriesInstanceUID).find(marker) >= 0
    out = tmp_path / "out"
    before = _tree(tmp_path)

    report = index_paths(JobContext(), db, [series_dir])
    assert report.scanned == 3
    exports = []
    try:
        volume = load_series(JobContext(), files, workers=1)
    except Exception as exc:  # numeric poison may make geometry unusable; that must be a clear report
        assert numeric and str(exc)
        volume = None
    assert numeric or volume is not None  # with valid numbers the whole pipeline must run
    if volume is not None:
        mask = np.zeros(volume.pixels.shape, np.uint8)
        mask[:, 2:5, 2:5] = 1
        save_decision(db, settings.home, SegmentRecord(volume.series_uid, f"../../{marker}/seg", "#ff0000",
                                                       mask, mask, "test", None), "accepted", "../" + marker, None)
        from medstation.segmentation.export import ExportSegment, export_dicom_seg, export_nifti

        segment = ExportSegment(1, f"/tmp/{marker}/liver", mask)
        exports.append(export_nifti([segment], volume, out / "seg.nii.gz"))
        try:
            exports.append(export_dicom_seg([segment], volume, out / "seg.dcm"))
        except Exception as exc:  # highdicom may refuse poisoned UIDs: refusing is fine, writing elsewhere is not
            assert str(exc)
        assert exports and Path(exports[0]).is_file()
    deid = export_deidentified(JobContext(), db, files, out / "deid", DeidRequest(confirm_burned_in=True))
    written = [Path(f).resolve() for f in deid.files]
    assert len(written) + len(deid.refused) == 3
    assert all((out / "deid").resolve() in f.parents for f in written)

    created = _tree(tmp_path) - before
    home = settings.home.relative_to(tmp_path).as_posix()
    allowed = ("out", home)
    assert all(p == "out" or p.startswith(("out/", home + "/")) or p == home for p in created), sorted(created)
    assert not [p for p in _tree(tmp_path) if marker in p]
    assert not Path("/tmp", marker).exists() and not (tmp_path.parent / marker).exists()
    assert not (Path.cwd() / marker).exists() and allowed
    for written in exports:
        assert Path(written).parent == out
