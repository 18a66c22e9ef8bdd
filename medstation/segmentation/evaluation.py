"""Evaluate an engine on a manifest of 2D (image, mask, box) rows — the ``segment-eval`` job.

Manifest format (a JSON list, as ``/work/shared/data/seg2d/manifest.json``): each row
has ``image`` and ``mask`` paths relative to the manifest, ``bbox_xyxy`` (x0, y0, x1, y1
in original pixels, inclusive), ``source``, ``modality`` and ``label``. The model sees
only the image and the box: the ground truth is read after prediction, for scoring.
Images are used as they are (e.g. intensity-inverted chest X-rays stay inverted).

Consecutive rows on the same image reuse its embedding, so ``seconds`` is the full
embed + decode time for an image's first row and the decode time for the others.
Writes ``out/masks/<row>.png`` (0/255, original size), ``out/per_image.csv`` and
``out/summary.json`` (per source and per modality: n, mean and median Dice, IoU, NSD).
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import numpy as np

from medstation.jobs import JobContext
from medstation.segmentation import images, metrics

CSV_FIELDS = ["row", "image", "source", "modality", "label", "dice", "iou", "nsd", "seconds"]
NSD_TOLERANCE_PX = 2.0


def load_manifest(path: str | Path) -> list[dict]:
    rows = json.loads(Path(path).read_text())
    if not isinstance(rows, list):
        raise ValueError("manifest must be a JSON list of rows")
    for i, row in enumerate(rows):
        missing = [k for k in ("image", "mask", "bbox_xyxy") if k not in row]
        if missing:
            raise ValueError(f"manifest row {i} lacks {', '.join(missing)}")
    return rows


def _group_stats(records: list[dict], key: str) -> dict:
    groups: dict[str, list[dict]] = {}
    for rec in records:
        groups.setdefault(str(rec[key]), []).append(rec)
    out = {}
    for name, recs in sorted(groups.items()):
        stats = {"n": len(recs)}
        for metric in ("dice", "iou", "nsd"):
            values = np.array([r[metric] for r in recs], float)
            stats[f"mean_{metric}"] = round(float(values.mean()), 4)
            stats[f"median_{metric}"] = round(float(np.median(values)), 4)
        out[name] = stats
    return out


def evaluate_manifest(ctx: JobContext, engine, manifest_path: str | Path, out_dir: str | Path,
                      *, model_version_id: int | None = None) -> dict:
    """Run ``engine`` on every manifest row; returns the summary dict also written to summary.json."""
    manifest_path = Path(manifest_path)
    out_dir = Path(out_dir)
    rows = load_manifest(manifest_path)
    root = manifest_path.parent
    (out_dir / "masks").mkdir(parents=True, exist_ok=True)
    records: list[dict] = []
    failures: list[dict] = []
    embedded: tuple[str, object] | None = None  # rows of one image share its embedding (SAM's split)
    for index, row in enumerate(rows):
        ctx.check()
        ctx.report(index / max(1, len(rows)), f"row {index + 1}/{len(rows)}: {row['image']}")
        start = time.perf_counter()
        try:
            if embedded is None or embedded[0] != row["image"]:
                embedded = (row["image"], engine.embed(images.read_image(root / row["image"])))
            prediction = engine.decode(embedded[1], box=row["bbox_xyxy"])
        except ValueError as exc:  # unreadable file or refused box: reported, not scored as 0
            failures.append({"row": index, "image": row["image"], "error": str(exc)})
            continue
        seconds = time.perf_counter() - start
        images.write_mask_png(prediction.mask, out_dir / "masks" / f"{index}.png")
        truth = images.read_mask(root / row["mask"])
        if truth.shape != prediction.mask.shape:
            failures.append({"row": index, "image": row["image"], "error": f"mask {truth.shape} != image"})
            continue
        records.append({
            "row": index, "image": row["image"], "source": row.get("source", ""),
            "modality": row.get("modality", ""), "label": row.get("label", ""),
            "dice": round(metrics.dice(prediction.mask, truth), 4),
            "iou": round(metrics.iou(prediction.mask, truth), 4),
            "nsd": round(metrics.normalized_surface_dice(prediction.mask, truth, NSD_TOLERANCE_PX), 4),
            "seconds": round(seconds, 3),
        })
    with (out_dir / "per_image.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(records)
    summary = {
        "engine": engine.name,
        "model_version": engine.model_version,
        "model_version_id": model_version_id,
        "checkpoint_sha256": engine.sha256,
        "backends": {"encoder": engine.backends[0], "decoder": engine.backends[1]},
        "manifest": str(manifest_path),
        "n_rows": len(rows),
        "n_scored": len(records),
        "nsd_tolerance_px": NSD_TOLERANCE_PX,
        "failures": failures,
        "by_source": _group_stats(records, "source"),
        "by_modality": _group_stats(records, "modality"),
    }
    if records:
        summary["overall"] = _group_stats([{**r, "all": "all"} for r in records], "all")["all"]
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    ctx.report(1.0, f"scored {len(records)}/{len(rows)} rows")
    return summary
