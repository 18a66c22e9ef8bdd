"""Every attribute of PS3.15 Table E.1-1, planted with a marker in copies of pydicom test files, is gone after export.

Each attribute is planted at the top level and inside an item of a sequence the table
does not list (so only the attribute's own action can remove it); sequence attributes
carry an item with a marker person name. With no options nothing planted may survive.
"""

from __future__ import annotations

import shutil

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from medstation.imaging.deid.export import DeidRequest, export_deidentified
from medstation.imaging.deid.profile import DeidOption, basic_profile
from medstation.jobs import JobContext

CARRIER = "AnatomicRegionSequence"  # not in Table E.1-1: kept, its items cleaned
SOURCES = ["CT_small.dcm", "rtplan.dcm"]
MARK_DATE, MARK_TIME, MARK_PN = "19871123", "131313", "Marker^Secret"


def _table_tags() -> list[tuple[int, str]]:
    """(tag, VR) of every exactly-listed dataset attribute pydicom's dictionary knows (group 0000/0002 excluded)."""
    exact, _ = basic_profile()
    out = []
    for tag in sorted(exact):
        if tag >> 16 in (0x0000, 0x0002):
            continue
        try:
            vr = dictionary_VR(tag).split(" or ")[0]
        except KeyError:
            continue
        out.append((tag, vr))
    return out


def _marker(tag: int, vr: str):
    text = f"MK{tag:08X}"
    return {
        "DA": MARK_DATE, "TM": MARK_TIME, "DT": MARK_DATE + MARK_TIME, "PN": MARK_PN, "AS": "077Y",
        "UI": f"1.2.999.{tag}", "DS": "4242.5", "IS": "4242", "FL": 4242.5, "FD": 4242.5, "US": 4242, "SS": 4242,
        "UL": 4242, "SL": 4242, "SV": 4242, "UV": 4242, "AT": 0x42424242,
        "OB": text.encode(), "OW": text.encode(), "OF": text.encode(), "OD": text.encode()[:8],
        "OL": text.encode()[:8], "OV": text.encode()[:8], "UN": text.encode(),
    }.get(vr, text)


def _plant(ds, tags) -> None:
    for tag, vr in tags:
        if vr == "SQ":
            item = Dataset()
            item.PersonName = MARK_PN
            ds.add_new(tag, vr, Sequence([item]))
        else:
            ds.add_new(tag, vr, _marker(tag, vr))


def _survivors(ds, tags) -> list[str]:
    """Planted attributes still holding their marker (a planted sequence leaks if any item keeps the PN marker)."""
    out = []
    for tag, vr in tags:
        if tag not in ds:
            continue
        value = ds[tag].value
        if vr == "SQ":
            leaked = any(str(e.value) == MARK_PN for item in value for e in item.iterall())
            if leaked:
                out.append(f"{tag:08X} (sequence item)")
        elif value == _marker(tag, vr) or (vr in ("DA", "DT") and MARK_DATE in str(value)):
            out.append(f"{tag:08X} {ds[tag].keyword}")
    return out


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("planted")
    tags = _table_tags()
    paths = []
    for name in SOURCES:
        target = folder / name
        shutil.copy(get_testdata_file(name), target)
        ds = pydicom.dcmread(target)
        _plant(ds, tags)
        carrier = Dataset()
        _plant(carrier, tags)
        setattr(ds, CARRIER, Sequence([carrier]))
        ds.save_as(target)
        paths.append(target)
    return tags, paths


def test_the_table_encoding_covers_the_whole_standard_table():
    exact, masked = basic_profile()
    assert len(exact) + len(masked) == 655  # Table E.1-1, 2026c edition, as dicom-anonymizer 2.1.0 encodes it
    assert {m[0] for m in masked} == {0x5000, 0x6000}


def test_no_planted_attribute_survives_an_export(db, planted, tmp_path):
    tags, paths = planted
    assert len(tags) > 600
    source = pydicom.dcmread(paths[0])
    assert len(_survivors(source, tags)) == len(tags) == len(_survivors(getattr(source, CARRIER)[0], tags))
    report = export_deidentified(JobContext(), db, paths, tmp_path / "out")
    assert len(report.files) == len(SOURCES) and not report.refused
    for path in report.files:
        ds = pydicom.dcmread(path)
        assert _survivors(ds, tags) == []
        assert _survivors(getattr(ds, CARRIER)[0], tags) == []
        everything = "\n".join(str(e.value) for e in ds.iterall() if e.VR != "SQ")
        assert "MK" + "0010" not in everything and MARK_PN not in everything and MARK_DATE not in everything


def test_with_every_option_only_retained_attributes_survive(db, planted, tmp_path):
    from medstation.imaging.deid.profile import option_action

    tags, paths = planted
    options = frozenset(DeidOption)
    report = export_deidentified(JobContext(), db, paths, tmp_path / "out", DeidRequest(options=options))
    for path in report.files:
        ds = pydicom.dcmread(path)
        for level in (ds, getattr(ds, CARRIER)[0]):
            leaked = [s for s in _survivors(level, tags) if option_action(s.split()[-1], options) is None
                      and level[int(s.split()[0], 16)].VR != "TM"]  # modified dates keep the time of day
            assert leaked == []
