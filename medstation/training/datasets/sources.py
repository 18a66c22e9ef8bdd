"""Where dataset items come from: the clinic's validated segmentations, and public labelled sets.

Each function yields :class:`~medstation.training.datasets.items.SegItem` lazily (a volume
at a time), already de-identified: pixels only, case keys instead of UIDs.

* :func:`clinic_segmentations` — accepted ``segmentation`` rows: the AI mask and the
  corrected mask, who accepted them and when; every slice with foreground is one item.
* :func:`seg2d_manifest` — the seg2d manifest format (JSON list; ``image``/``mask``
  relative to the manifest; ``bbox_xyxy``, ``source``, ``modality``, ``label``); one
  case per image, so all labels of an image stay in one split.
* :func:`nifti_volumes` — NIfTI image + label-map pairs; axial slices in blocks of
  ``block`` slices form a case (neighbouring slices are near-duplicates: splitting
  per slice would leak them across splits). Each label on a slice is one item.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from medstation.imaging.catalog import series_load_inputs
from medstation.imaging.loader import load_series
from medstation.jobs import JobContext
from medstation.segmentation import images, preprocess
from medstation.segmentation.records import read_npz
from medstation.store.tables import (NoteRevision, NotesClient, Segmentation, SegmentationStatus, Series, SessionNote,
                                     SessionTranscript, TherapySession)
from medstation.training.datasets import DatasetError
from medstation.training.datasets.deid_text import scrub_text
from medstation.training.datasets.items import NoteItem, SegItem
from medstation.training.datasets.splits import case_key, public_case_key


@dataclass(frozen=True)
class CollectionFilter:
    """Which validated cases enter a dataset. ``modality`` e.g. "CT" (None: all); dates are UTC, inclusive."""

    validated_only: bool = True
    min_agreement: float | None = None
    modality: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def to_json(self) -> dict:
        return {"validated_only": self.validated_only, "min_agreement": self.min_agreement, "modality": self.modality,
                "since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None}


def _aware(value: datetime | None) -> datetime | None:
    from datetime import timezone

    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def accepted_segmentations(db, flt: CollectionFilter) -> list[dict]:
    """Plain dicts of the segmentation rows that pass ``flt`` (modality is checked on the series)."""
    from sqlmodel import select


    with db.session() as s:
        query = select(Segmentation, Series.modality).join(Series, Series.series_uid == Segmentation.series_uid)
        if flt.validated_only:
            query = query.where(Segmentation.status == SegmentationStatus.accepted)
        else:
            query = query.where(Segmentation.status != SegmentationStatus.rejected)
        out = []
        for seg, modality in s.exec(query.order_by(Segmentation.id)):
            if flt.modality and (modality or "").upper() != flt.modality.upper():
                continue
            decided = _aware(seg.decided_at)
            if flt.since and (decided is None or decided < _aware(flt.since)):
                continue
            if flt.until and (decided is None or decided > _aware(flt.until)):
                continue
            out.append({"id": int(seg.id), "series_uid": seg.series_uid, "name": seg.name, "modality": modality or "",
                        "mask_path": seg.mask_path, "ai_mask_path": seg.ai_mask_path,
                        "mask_sha256": seg.mask_sha256, "ai_mask_sha256": seg.ai_mask_sha256,
                        "decided_by": seg.decided_by, "decided_at": decided.isoformat() if decided else "",
                        "model_version_id": seg.model_version_id})
    return out


def clinic_segmentations(ctx: JobContext, db, salt: bytes, flt: CollectionFilter) -> Iterator[SegItem]:
    """Items from accepted segmentations; the series is loaded from its indexed files."""
    rows = accepted_segmentations(db, flt)
    volumes: dict[str, object] = {}
    for n, row in enumerate(rows):
        ctx.check()
        ctx.report(n / max(1, len(rows)), f"segmentation {n + 1}/{len(rows)}")
        if row["series_uid"] not in volumes:
            volumes.clear()  # one volume in memory at a time (rows are ordered by id, not series)
            paths, cache = series_load_inputs(db, row["series_uid"])
            if not paths:
                continue
            volumes[row["series_uid"]] = load_series(JobContext(), paths, series_uid=row["series_uid"], cache=cache)
        volume = volumes[row["series_uid"]]
        mask = read_npz(row["mask_path"], row["mask_sha256"]).astype(bool)
        ai = read_npz(row["ai_mask_path"], row["ai_mask_sha256"]).astype(bool) if row["ai_mask_path"] else None
        key = case_key(salt, f"segmentation:{row['series_uid']}:{row['id']}")
        pixel_mm = float(volume.spacing[1]) if volume.spacing else None
        for z in np.nonzero(mask.reshape(mask.shape[0], -1).any(axis=1))[0]:
            image = preprocess.slice_for_model(volume.pixels[z], volume.modality, volume.window)
            image = _unit(image)
            yield SegItem(key, "clinic", volume.modality or row["modality"], row["name"], image, mask[z],
                          origin=f"segmentation:{row['id']}", ai_mask=None if ai is None else ai[z],
                          validated_by=row["decided_by"], validated_at=row["decided_at"], pixel_mm=pixel_mm)


def _unit(image: np.ndarray) -> np.ndarray:
    """float image → [0, 1] by min–max (the model min–max normalises anyway; PNGs need a fixed range)."""
    arr = np.asarray(image, np.float32)
    low, high = float(arr.min()), float(arr.max())
    return (arr - low) / max(high - low, 1e-8)


def seg2d_manifest(ctx: JobContext, manifest: Path) -> Iterator[SegItem]:
    """Items of a seg2d-format manifest (paths relative to it)."""
    import json


    manifest = Path(manifest)
    try:
        rows = json.loads(manifest.read_text())
    except (OSError, ValueError) as exc:
        raise DatasetError(f"cannot read manifest {manifest}: {exc}") from exc
    if not isinstance(rows, list) or not rows:
        raise DatasetError(f"{manifest} is not a seg2d manifest (a non-empty JSON list of rows)")
    root = manifest.parent
    for n, row in enumerate(rows):
        ctx.check()
        if not isinstance(row, dict) or "image" not in row or "mask" not in row:
            raise DatasetError(f"manifest row {n} lacks image or mask")
        key = public_case_key(f"seg2d:{row.get('source', '')}:{row['image']}")
        try:
            image = images.read_image(root / row["image"])
            mask = images.read_mask(root / row["mask"])
        except (ValueError, OSError) as exc:
            yield SegItem(key, row.get("source", ""), row.get("modality", ""), row.get("label", ""),
                          np.zeros((0,), np.float32), np.zeros((0,), bool), origin=f"{manifest.name}:{n}")
            ctx.partial({"warning": f"row {n}: {exc}"})
            continue
        if image.ndim == 2:
            image = _unit(image)
        yield SegItem(key, row.get("source", "") or manifest.parent.name, row.get("modality", ""),
                      row.get("label", ""), image, mask, origin=f"{manifest.name}:{n}")


def nifti_volumes(ctx: JobContext, pairs: list[tuple[Path, Path, str]], *, block: int = 10,
                  min_area: int = 20) -> Iterator[SegItem]:
    """Items from (image .nii[.gz], label map .nii[.gz], modality) triples; axial slices, one item per label."""
    import nibabel as nib

    for image_path, label_path, modality in pairs:
        try:
            img = nib.load(str(image_path))
            image = np.asarray(img.dataobj, np.float32)
            labels = np.asarray(nib.load(str(label_path)).dataobj).astype(np.int32)
        except Exception as exc:
            raise DatasetError(f"cannot read NIfTI pair {image_path.name} / {label_path.name}: {exc}") from exc
        if image.shape != labels.shape or image.ndim != 3:
            raise DatasetError(f"{image_path.name} {image.shape} and {label_path.name} {labels.shape} do not match")
        pixel_mm = float(img.header.get_zooms()[1])
        source = image_path.name.split(".")[0]
        for k in range(image.shape[2]):
            ctx.check()
            # NIfTI (i, j) = (x, y): transpose so rows run along j, as in an axial view
            pixels, lab = image[:, :, k].T, labels[:, :, k].T
            present = [int(v) for v in np.unique(lab) if v and int((lab == v).sum()) >= min_area]
            if not present:
                continue
            window = preprocess.SOFT_TISSUE_WINDOW if modality.upper() == "CT" else None
            unit = _unit(preprocess.slice_for_model(pixels, modality, window))
            key = public_case_key(f"nifti:{image_path.name}:block{k // block}")
            for value in present:
                yield SegItem(key, source, modality, f"label_{value}", unit, lab == value,
                              origin=f"{image_path.name}:z{k}:label{value}", pixel_mm=pixel_mm)


def nifti_pairs_in(folder: Path) -> list[tuple[Path, Path, str]]:
    """Pairs found in a folder like volumes3d: ``*_ct*``/``*_mr*`` images with ``*seg*`` label maps."""
    folder = Path(folder)
    images = sorted(p for p in folder.glob("*.nii*") if "seg" not in p.name)
    labels = sorted(p for p in folder.glob("*.nii*") if "seg" in p.name)
    pairs = []
    for image in images:
        modality = "MR" if "_mr" in image.name.lower() else "CT"
        match = [lab for lab in labels if ("_mr" in lab.name.lower()) == (modality == "MR")]
        if match:
            pairs.append((image, match[0], modality))
    if not pairs:
        raise DatasetError(f"no NIfTI image + label pairs in {folder}")
    return pairs


def aci_bench_csv(ctx: JobContext, csv_path: Path) -> Iterator["NoteItem"]:
    """(transcript, note) items of an aci-bench CSV (columns ``dataset, encounter_id, dialogue, note``).

    The dialogues are public and already de-identified by their authors; one encounter is one case.
    """
    import csv


    csv_path = Path(csv_path)
    csv.field_size_limit(10**8)
    try:
        handle = csv_path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise DatasetError(f"cannot read {csv_path}: {exc}") from exc
    with handle:
        reader = csv.DictReader(handle)
        missing = {"encounter_id", "dialogue", "note"} - set(reader.fieldnames or ())
        if missing:
            raise DatasetError(f"{csv_path.name} is not an aci-bench CSV: no column {', '.join(sorted(missing))}")
        for n, row in enumerate(reader):
            if n % 16 == 0:
                ctx.check()
            key = public_case_key(f"aci-bench:{row.get('dataset', '')}:{row['encounter_id']}")
            yield NoteItem(key, "aci-bench", "clinical note", row["dialogue"] or "", row["note"] or "",
                           origin=f"{csv_path.name}:{row['encounter_id']}")


def clinic_notes(ctx: JobContext, db, salt: bytes, flt: CollectionFilter) -> Iterator["NoteItem"]:
    """(transcript, signed note) items from signed notes, with the AI draft (first ``draft`` revision).

    Text is scrubbed (``deid_text``) of the client's code and display name, the clinician's
    name, e-mails, phones, dates and ID-like numbers; the case key is a salted hash of the note id.
    """
    from sqlmodel import select


    with db.session() as s:
        notes = s.exec(select(SessionNote).where(SessionNote.status == "signed").order_by(SessionNote.id)).all()
        for n, note in enumerate(notes):
            ctx.check()
            signed = _aware(note.signed_at)
            if flt.since and (signed is None or signed < _aware(flt.since)):
                continue
            if flt.until and (signed is None or signed > _aware(flt.until)):
                continue
            session = s.get(TherapySession, note.session_id)
            client = s.get(NotesClient, session.client_id) if session else None
            transcript = s.exec(select(SessionTranscript).where(SessionTranscript.session_id == note.session_id)
                                .order_by(SessionTranscript.version.desc())).first()
            draft = s.exec(select(NoteRevision).where(NoteRevision.note_id == note.id, NoteRevision.kind == "draft")
                           .order_by(NoteRevision.number)).first()
            names = [x for x in ((client.code, client.display_name) if client else ()) if x]
            names += [x for x in (session.clinician if session else "", note.signed_by) if x]
            yield NoteItem(case_key(salt, f"note:{note.id}"), "clinic", note.template,
                           scrub_text(transcript.text if transcript else "", names), scrub_text(note.signed_text, names),
                           origin=f"note:{note.id}", draft=scrub_text(draft.text, names) if draft else "",
                           validated_by=note.signed_by, validated_at=signed.isoformat() if signed else "")
