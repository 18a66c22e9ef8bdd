"""Dataset snapshots: fixed splits, de-identification, quality checks, versions, imports."""

from __future__ import annotations

import json

import numpy as np
import pytest

from medstation.jobs import JobContext
from medstation.training import datasets
from medstation.training.datasets import DatasetError, build_snapshot
from medstation.training.datasets.deid_text import scrub_text
from medstation.training.datasets.items import SegItem
from medstation.training.datasets.splits import case_key, split_of

UID = "1.2.826.0.1.3680043.8.498.12345"


def _item(key: str, seed: int, area: int = 100, label: str = "liver", modality: str = "CT") -> SegItem:
    rng = np.random.default_rng(seed)
    image = rng.random((32, 40)).astype(np.float32)
    mask = np.zeros((32, 40), bool)
    side = int(np.sqrt(area))
    mask[5:5 + side, 6:6 + side] = True
    return SegItem(key, "clinic", modality, label, image, mask, origin=f"segmentation:{UID}:{seed}")


def test_split_is_a_fixed_function_of_the_key():
    keys = [case_key(b"salt", f"segmentation:{UID}:{i}") for i in range(400)]
    splits = [split_of(k) for k in keys]
    assert splits == [split_of(k) for k in keys]
    shares = {s: splits.count(s) / len(splits) for s in ("train", "val", "test")}
    assert 0.6 < shares["train"] < 0.8 and 0.08 < shares["val"] < 0.22 and 0.08 < shares["test"] < 0.22
    assert all(UID not in k and len(k) == 16 for k in keys)
    assert case_key(b"other salt", f"segmentation:{UID}:1") != keys[1]


def test_snapshot_excludes_bad_items_with_reasons_and_holds_no_uid(db, settings):
    good = [_item(case_key(b"s", f"seg:{i}"), i) for i in range(6)]
    empty = _item("e" * 16, 50, area=0)
    tiny = _item("t" * 16, 51, area=4)
    duplicate = SegItem("d" * 16, "clinic", "CT", "liver", good[0].image, good[0].mask)
    version = build_snapshot(JobContext(), db, settings.home, name="clinic", kind="segmentation", origin="clinic",
                             items=good + [empty, tiny, duplicate])
    reasons = {e["case_key"]: e["reason"] for e in version.report["excluded"]}
    assert reasons == {"e" * 16: "empty mask", "t" * 16: "mask of 4 px is below the 20 px minimum",
                       "d" * 16: f"duplicate of case {good[0].case_key}"}
    assert version.n_cases == 6 and version.n_excluded == 3
    rows = json.loads(version.manifest_path.read_text())
    cases = json.loads((version.manifest_path.parent / "dataset.json").read_text())["cases"]
    assert [r["split"] for r in rows] == [{c["case_key"]: c["split"] for c in cases}[g.case_key] for g in good]
    assert {"val", "test"} <= {r["split"] for r in rows}  # six CT cases: some held out for each
    for path in (version.manifest_path, version.manifest_path.parent / "dataset.json"):
        assert UID not in path.read_text()
    from medstation.segmentation.evaluation import load_manifest

    assert len(load_manifest(version.manifest_path)) == 6  # segment-eval reads the same rows


def test_same_content_is_not_a_new_version_and_cases_keep_their_split(db, settings):
    items = [_item(case_key(b"s", f"seg:{i}"), i) for i in range(5)]
    first = build_snapshot(JobContext(), db, settings.home, name="d", kind="segmentation", origin="clinic", items=items)
    again = build_snapshot(JobContext(), db, settings.home, name="d", kind="segmentation", origin="clinic", items=items)
    assert again.id == first.id and again.version == 1
    grown = build_snapshot(JobContext(), db, settings.home, name="d", kind="segmentation", origin="clinic",
                           items=items + [_item(case_key(b"s", "seg:new"), 99)])
    assert grown.version == 2 and grown.content_sha256 != first.content_sha256
    old = {r["case_key"]: r["split"] for r in datasets.seg_rows(first)}
    new = {r["case_key"]: r["split"] for r in datasets.seg_rows(grown)}
    assert all(new[k] == split for k, split in old.items() if split != "train")  # held out stays held out


def test_nothing_usable_is_a_user_error(db, settings):
    with pytest.raises(DatasetError, match="empty mask"):
        build_snapshot(JobContext(), db, settings.home, name="x", kind="segmentation", origin="clinic",
                       items=[_item("a" * 16, 1, area=0)])


def test_seg2d_manifest_import_keeps_labels_of_one_image_in_one_case(db, settings, tmp_path):
    from PIL import Image

    from medstation.training.datasets.sources import seg2d_manifest

    rng = np.random.default_rng(0)
    (tmp_path / "img").mkdir()
    rows = []
    for i in range(3):
        Image.fromarray((rng.random((24, 30)) * 255).astype(np.uint8)).save(tmp_path / "img" / f"{i}.png")
        for j, label in enumerate(("a", "b")):
            mask = np.zeros((24, 30), np.uint8)
            mask[2 + j * 10:10 + j * 10, 3:20] = 255
            Image.fromarray(mask).save(tmp_path / "img" / f"{i}_{label}.png")
            rows.append({"image": f"img/{i}.png", "mask": f"img/{i}_{label}.png", "bbox_xyxy": [3, 2, 19, 9],
                         "source": "demo", "modality": "CT", "label": label})
    (tmp_path / "manifest.json").write_text(json.dumps(rows))
    version = build_snapshot(JobContext(), db, settings.home, name="demo", kind="segmentation", origin="seg2d",
                             items=seg2d_manifest(JobContext(), tmp_path / "manifest.json"))
    out = datasets.seg_rows(version)
    assert len(out) == 6 and version.n_cases == 3
    assert len({r["case_key"] for r in out[:2]}) == 1


def test_nifti_import_makes_blocks_of_slices_cases(db, settings, tmp_path):
    import nibabel as nib

    from medstation.training.datasets.sources import nifti_volumes

    rng = np.random.default_rng(1)
    image = (rng.random((20, 16, 12)) * 200 - 100).astype(np.float32)
    labels = np.zeros((20, 16, 12), np.int16)
    labels[4:12, 3:10, :] = 1
    labels[14:19, 2:8, :6] = 2
    nib.save(nib.Nifti1Image(image, np.diag([2, 2, 3, 1])), tmp_path / "vol_ct.nii.gz")
    nib.save(nib.Nifti1Image(labels, np.diag([2, 2, 3, 1])), tmp_path / "vol_seg.nii.gz")
    items = list(nifti_volumes(JobContext(), [(tmp_path / "vol_ct.nii.gz", tmp_path / "vol_seg.nii.gz", "CT")], block=5))
    assert len(items) == 12 + 6  # label 1 on every slice, label 2 on the first six
    assert len({i.case_key for i in items}) == 3  # slices 0-4, 5-9, 10-11
    assert items[0].mask.shape == (16, 20) and items[0].pixel_mm == 2.0


def test_scrub_text_removes_known_names_and_identifiers():
    text = "Martha Jones (MRN 12345678) seen 03/04/2025, call 555-123-4567 or mj@example.org."
    out = scrub_text(text, ["Jones^Martha"])
    assert out == "[NAME] [NAME] (MRN [ID]) seen [DATE], call [PHONE] or [EMAIL]."


def test_aci_bench_csv_becomes_a_notes_snapshot_with_quality_exclusions(db, settings, tmp_path):
    import csv

    from medstation.training.datasets.sources import aci_bench_csv

    path = tmp_path / "train.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["dataset", "encounter_id", "dialogue", "note"])
        for i in range(5):
            writer.writerow(["virtassist", f"D2N{i:03d}", "[doctor] hello , how are you feeling today ? " * 3,
                             f"CHIEF COMPLAINT\n\nKnee pain number {i}. The patient reports pain for two weeks."])
        writer.writerow(["virtassist", "D2N099", "[doctor] hello , how are you feeling today ? " * 3, ""])
    version = build_snapshot(JobContext(), db, settings.home, name="aci", kind="notes", origin="aci-bench",
                             items=aci_bench_csv(JobContext(), path))
    assert version.n_cases == 5 and [e["reason"] for e in version.report["excluded"]] == ["transcript without note"]
    rows = datasets.note_rows(version)
    assert {r["split"] for r in rows} <= {"train", "val", "test"} and rows[0]["note"].startswith("CHIEF COMPLAINT")


def test_signed_notes_become_scrubbed_cases(db, settings):
    from datetime import datetime, timezone

    from medstation.store.tables import NoteRevision, NotesClient, SessionNote, SessionTranscript, TherapySession
    from medstation.training.datasets.sources import CollectionFilter, clinic_notes

    transcript = "[therapist] Hello Martha, how was the week?\n[client] Hard. Call me at 555-123-4567. " * 3
    with db.session() as s:
        client = NotesClient(code="C-0042", display_name="Martha Jones")
        s.add(client)
        s.flush()
        session = TherapySession(client_id=client.id, clinician="Dr Alan Smith")
        s.add(session)
        s.flush()
        s.add(SessionTranscript(session_id=session.id, text=transcript))
        for status in ("signed", "draft"):
            note = SessionNote(session_id=session.id, template="soap", status=status, signed_by="Dr Alan Smith",
                               signed_at=datetime(2026, 11, 30, tzinfo=timezone.utc),
                               signed_text="S: Martha Jones (C-0042) reports a hard week and low mood since 03/11/2026.")
            s.add(note)
            s.flush()
            s.add(NoteRevision(note_id=note.id, number=1, kind="draft", text="S: Martha reports a hard week."))
    items = list(clinic_notes(JobContext(), db, b"salt", CollectionFilter()))
    assert len(items) == 1  # the unsigned note is not a validated case
    item = items[0]
    assert "Martha" not in item.transcript + item.note + item.draft and "C-0042" not in item.note
    assert item.note == "S: [NAME] [NAME] ([NAME]) reports a hard week and low mood since [DATE]."
    assert "[PHONE]" in item.transcript and item.draft == "S: [NAME] reports a hard week."
    assert item.validated_by == "Dr Alan Smith"
