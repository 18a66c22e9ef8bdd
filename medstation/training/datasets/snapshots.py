"""Versioned dataset snapshots: files on disk plus their rows, written crash-safely.

A snapshot of a segmentation dataset is a folder ``<home>/datasets/<name>/v<N>/``::

    dataset.json     schema_version, content_sha256, split rule, case list, excluded-and-why
    manifest.json    seg2d format (image, mask, bbox_xyxy, source, modality, label) + case_key, split
    images/<case_key>_<i>.png, masks/<case_key>_<i>.png

so ``medstation segment-eval --manifest .../manifest.json`` scores any model on it and the
trainer reads the same rows. A notes snapshot holds ``notes.jsonl`` instead (one
(transcript, note) pair per line). Files carry case keys, never patient ids or UIDs.

Order of writing: every file into ``v<N>.partial``, fsync, rename to ``v<N>``, then the
rows in one transaction; an interrupted build leaves only a ``.partial`` folder, which
the next build of that version removes. A snapshot whose content hash equals the
latest version's is not written again: that version is returned.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from medstation.errors import UserFacingError
from medstation.jobs import JobContext
from medstation.store.tables import DatasetCase, DatasetKind, DatasetVersion, TrainingDataset
from medstation.training.datasets.items import Exclusion, NoteItem, SegItem
from medstation.training.datasets.quality import NoteQualityCheck, QualityRules, SegQualityCheck
from medstation.training.datasets.splits import SPLIT_RULE, split_of, stratified_splits

STRATIFIED_RULE = (SPLIT_RULE + "; then stratified: every modality (template) with 3+ cases gets held-out cases in "
                   "validation and test (up to the minimum setting each, training keeps a third), drawn source by "
                   "source; cases held out in the previous version stay held out")

SCHEMA_VERSION = 1


class DatasetError(UserFacingError):
    """A dataset cannot be built or read (nothing usable, unknown name, bad import file)."""


@dataclass(frozen=True)
class DatasetVersionInfo:
    """A stored snapshot, safe to pass between threads."""

    id: int
    dataset_id: int
    name: str
    kind: str
    version: int
    content_sha256: str
    path: str
    n_cases: int
    n_excluded: int
    split_counts: dict
    report: dict
    created_at: datetime

    @property
    def manifest_path(self) -> Path:
        return Path(self.path) / "manifest.json"

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version} ({self.content_sha256[:8]})"

    @property
    def split_warnings(self) -> list[str]:
        """Plain-words warnings about modalities missing from (or thin in) the held-out splits."""
        return list(self.report.get("split_warnings", []))


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:60] or "dataset"


def _fsync_write(path: Path, data: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return hashlib.sha256(data).hexdigest()


def _png_bytes(array: np.ndarray) -> bytes:
    import io

    from PIL import Image

    arr = np.asarray(array)
    if arr.dtype == bool:
        img = Image.fromarray(np.where(arr, 255, 0).astype(np.uint8), mode="L")
    elif arr.ndim == 3:
        img = Image.fromarray(np.asarray(arr[..., :3], np.uint8), mode="RGB")
    else:
        scaled = np.clip(np.asarray(arr, np.float32), 0.0, 1.0) * 255.0
        img = Image.fromarray(np.round(scaled).astype(np.uint8), mode="L")
    buffer = io.BytesIO()
    img.save(buffer, format="PNG")
    return buffer.getvalue()


def _bbox(mask: np.ndarray) -> list[int]:
    ys, xs = np.nonzero(mask)
    return [int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())]


def _write_items(ctx: JobContext, folder: Path, kind: str, items: Iterable, rules: QualityRules, golden: bool):
    """Write accepted items; returns (cases {key: info}, manifest rows, exclusions, (case key, file hashes) pairs).

    Splits here are the key's own (:func:`split_of`); :func:`build_snapshot` stratifies them afterwards."""
    check = SegQualityCheck(rules) if kind == "segmentation" else NoteQualityCheck(rules)
    cases: dict[str, dict] = {}
    rows: list[dict] = []
    excluded: list[Exclusion] = []
    hashes: list[str] = []
    per_case: Counter = Counter()
    image_files: dict[str, str] = {}
    for n, item in enumerate(items):
        if n % 8 == 0:
            ctx.check()
            ctx.report(0.1 + 0.8 * (1 - 1 / (1 + n / 50)), f"item {n + 1}")
        reason = check.reason_to_exclude(item)
        label = getattr(item, "label", "") or getattr(item, "template", "")
        if reason is not None:
            excluded.append(Exclusion(item.case_key, f"{item.source}/{label}", reason))
            continue
        split = "golden" if golden else split_of(item.case_key)
        index = per_case[item.case_key]
        per_case[item.case_key] += 1
        stem = f"{item.case_key}_{index}"
        if isinstance(item, SegItem):
            png = _png_bytes(item.image)
            h_img = hashlib.sha256(png).hexdigest()
            if h_img not in image_files:  # labels of one image share its file (and, in training, its embedding)
                _fsync_write(folder / "images" / f"{stem}.png", png)
                image_files[h_img] = f"images/{stem}.png"
            h_mask = _fsync_write(folder / "masks" / f"{stem}.png", _png_bytes(np.asarray(item.mask, bool)))
            hashes.append((item.case_key, f"{h_img} {h_mask}"))
            mask = np.asarray(item.mask, bool)
            row = {"image": image_files[h_img], "mask": f"masks/{stem}.png", "bbox_xyxy": _bbox(mask),
                   "source": item.source, "modality": item.modality, "label": item.label,
                   "width": int(mask.shape[1]), "height": int(mask.shape[0]), "mask_area": int(mask.sum()),
                   "case_key": item.case_key, "split": split}
            if item.pixel_mm:
                row["pixel_mm"] = round(float(item.pixel_mm), 4)
            modality = item.modality
        else:
            row = {"case_key": item.case_key, "split": split, "source": item.source, "template": item.template,
                   "transcript": item.transcript, "note": item.note, "draft": item.draft}
            hashes.append((item.case_key, hashlib.sha256(json.dumps({**row, "split": ""}, sort_keys=True).encode())
                           .hexdigest()))
            modality = item.template
        rows.append(row)
        info = cases.setdefault(item.case_key, {"case_key": item.case_key, "split": split, "source": item.source,
                                                "modality": modality, "n_items": 0, "origin": item.origin})
        info["n_items"] += 1
    return cases, rows, excluded, hashes


def _nothing_offered(origin: str, kind: str, filters: dict | None) -> str:
    """Why a build got no case at all: for this workstation's own work, what it needs and where it is made."""
    if origin != "clinic":
        return "no cases matched the filters"
    what, where = (("accepted masks", "the Viewer") if kind == DatasetKind.segmentation.value
                   else ("signed notes", "the Notes tab"))
    # a modality, dates or an agreement floor narrow the choice; the validated-only switch is always on by default
    chosen = [v for v in (filters or {}).values() if not isinstance(v, bool) and v not in (None, "", [], 0)]
    narrowed = " that pass the chosen filters" if chosen else ""
    return f"this workstation has no {what}{narrowed} yet ({what} are made in {where})"


def build_snapshot(ctx: JobContext, db, home: Path, *, name: str, kind: str, origin: str, items: Iterable,
                   rules: QualityRules | None = None, filters: dict | None = None, actor: str = "",
                   golden: bool = False, deid_note: str = "", min_heldout: int = 5) -> DatasetVersionInfo:
    """Check, de-identify (items already are), split and write ``items`` as the next version of dataset ``name``.

    ``min_heldout``: validation and test cases wanted per modality (:func:`~medstation.training.datasets.splits.
    stratified_splits`); the report's ``split_by_modality`` and ``split_warnings`` say what came of it."""
    from sqlmodel import select


    rules = rules or QualityRules()
    kind = DatasetKind(kind).value
    root = Path(home) / "datasets" / _safe(name)
    with db.session() as s:
        ds = s.exec(select(TrainingDataset).where(TrainingDataset.name == name)).first()
        if ds is not None and ds.kind != kind:
            raise DatasetError(f"dataset {name!r} holds {ds.kind} cases, not {kind}")
        latest = None if ds is None else s.exec(
            select(DatasetVersion).where(DatasetVersion.dataset_id == ds.id).order_by(DatasetVersion.version.desc())).first()
        number = 1 if latest is None else latest.version + 1
    final = root / f"v{number}"
    partial = root / f"v{number}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    ctx.report(0.05, f"building {name} v{number}")
    cases, rows, excluded, hashes = _write_items(ctx, partial, kind, items, rules, golden)
    if not rows:
        shutil.rmtree(partial, ignore_errors=True)
        reasons = Counter(e.reason.split(" of ")[0] for e in excluded).most_common(3)
        why = "; ".join(f"{r} ({n})" for r, n in reasons) or _nothing_offered(origin, kind, filters)
        raise DatasetError(f"no usable cases for dataset {name!r}: {why}")
    warnings: list[str] = []
    if not golden:
        previous = _case_splits(db, latest.id) if latest is not None else {}
        assigned, warnings = stratified_splits(cases, min_heldout=min_heldout, previous=previous)
        for info in cases.values():
            info["split"] = assigned[info["case_key"]]
        for row in rows:
            row["split"] = assigned[row["case_key"]]
    content = hashlib.sha256("\n".join(sorted(f"{k} {cases[k]['split']} {h}" for k, h in hashes)).encode()).hexdigest()
    if latest is not None and latest.content_sha256 == content:
        shutil.rmtree(partial, ignore_errors=True)
        return get_version(db, latest.id)
    split_counts = dict(Counter(c["split"] for c in cases.values()))
    by_modality: dict[str, dict[str, int]] = {}
    for c in cases.values():
        counts = by_modality.setdefault(str(c["modality"] or c["source"]), {"train": 0, "val": 0, "test": 0})
        counts[c["split"]] = counts.get(c["split"], 0) + 1
    report = {"split_by_modality": by_modality, "split_warnings": warnings,
              "excluded": [e.to_json() for e in excluded],
              "excluded_by_reason": dict(Counter(e.reason.split(" of ")[0].split(" (")[0] for e in excluded)),
              "n_items": len(rows), "rules": rules.to_json(), "deid": deid_note}
    meta = {"schema_version": SCHEMA_VERSION, "name": name, "version": number, "kind": kind, "origin": origin,
            "content_sha256": content, "split_rule": STRATIFIED_RULE if not golden else "golden: every case",
            "cases": [{k: v for k, v in c.items() if k != "origin"} for c in cases.values()],
            "split_counts": split_counts, "filters": filters or {}, **report}
    listing = "manifest.json" if kind == "segmentation" else "notes.jsonl"
    body = json.dumps(rows, indent=1) if kind == "segmentation" else "".join(json.dumps(r) + "\n" for r in rows)
    _fsync_write(partial / listing, body.encode())
    _fsync_write(partial / "dataset.json", json.dumps(meta, indent=1).encode())
    shutil.rmtree(final, ignore_errors=True)  # a folder without rows: left by a crash after the rename
    partial.replace(final)
    with db.session() as s:
        ds = s.exec(select(TrainingDataset).where(TrainingDataset.name == name)).first()
        if ds is None:
            ds = TrainingDataset(name=name, kind=kind, origin=origin)
            s.add(ds)
            s.flush()
        version = DatasetVersion(dataset_id=ds.id, version=number, content_sha256=content, path=str(final),
                                 n_cases=len(cases), n_excluded=len(excluded), split_counts=split_counts,
                                 filters=filters or {}, report=report, created_by=actor)
        s.add(version)
        s.flush()
        for c in cases.values():
            s.add(DatasetCase(dataset_version_id=version.id, case_key=c["case_key"], split=c["split"],
                              source=c["source"], modality=c["modality"], origin=c["origin"], n_items=c["n_items"]))
        version_id = int(version.id)
        db.audit("dataset.snapshot", actor=actor, entity="dataset_version", entity_id=version_id, name=name,
                 version=number, content_sha256=content, n_cases=len(cases), n_excluded=len(excluded), session=s)
    ctx.report(1.0, f"{name} v{number}: {len(cases)} cases, {len(excluded)} excluded")
    return get_version(db, version_id)


def _case_splits(db, version_id: int) -> dict[str, str]:
    """{case key: split} of a stored snapshot."""
    from sqlmodel import select


    with db.session() as s:
        return {c.case_key: c.split for c in s.exec(select(DatasetCase).where(
            DatasetCase.dataset_version_id == version_id))}


def get_version(db, version_id: int) -> DatasetVersionInfo:
    with db.session() as s:
        v = s.get(DatasetVersion, version_id)
        if v is None:
            raise DatasetError(f"no dataset version {version_id}")
        ds = s.get(TrainingDataset, v.dataset_id)
        return DatasetVersionInfo(int(v.id), int(ds.id), ds.name, ds.kind, v.version, v.content_sha256, v.path,
                                  v.n_cases, v.n_excluded, dict(v.split_counts), dict(v.report), v.created_at)


def list_versions(db, kind: str | None = None) -> list[DatasetVersionInfo]:
    from sqlmodel import select


    with db.session() as s:
        query = select(DatasetVersion.id).join(TrainingDataset, TrainingDataset.id == DatasetVersion.dataset_id)
        if kind:
            query = query.where(TrainingDataset.kind == kind)
        ids = [int(i) for i in s.exec(query.order_by(DatasetVersion.id))]
    return [get_version(db, i) for i in ids]


def seg_rows(version: DatasetVersionInfo, splits: tuple[str, ...] | None = None) -> list[dict]:
    """Manifest rows of a segmentation snapshot with absolute ``image``/``mask`` paths, optionally of some splits."""
    path = version.manifest_path
    if not path.is_file():
        raise DatasetError(f"dataset files missing: {path}")
    rows = json.loads(path.read_text())
    out = []
    for row in rows:
        if splits is None or row["split"] in splits:
            out.append({**row, "image": str(path.parent / row["image"]), "mask": str(path.parent / row["mask"])})
    return out


def note_rows(version: DatasetVersionInfo, splits: tuple[str, ...] | None = None) -> list[dict]:
    path = Path(version.path) / "notes.jsonl"
    if not path.is_file():
        raise DatasetError(f"dataset files missing: {path}")
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in rows if splits is None or r["split"] in splits]
