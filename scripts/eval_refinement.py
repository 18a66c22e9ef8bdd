"""Do clicks improve a box mask? Simulated users on 2D slices, raw point prompts vs the shipped refinement.

Cases: every row of ``<data>/seg2d/manifest.json`` (Kvasir endoscopy, CT organs, chest X-ray) plus, with
``--volumes``, axial slices of ``<data>/volumes3d/example_ct_sm.nii.gz`` (the slice of largest area of a few
organs of its label map). Each case starts from the mask of the box around the ground truth (the manifest's
``bbox_xyxy``); then a simulated user clicks up to ``--clicks`` times, each time at the centre (the point
farthest from the border) of the largest error region of the current mask: an include click in the largest
false-negative region or an exclude click in the largest false-positive one, whichever is larger.

Methods, each with its own click sequence (a user reacts to what they see):

* ``points``: LiteMedSAM prompted with the box and every click so far as SAM points (the viewer before this change);
* ``refine``: :func:`medstation.segmentation.refine.refine` (what the viewer and ``medstation segment`` ship).

The split into development and test halves is fixed by a hash of the case key (``sha256(key)[0] % 2``), so
rules are designed on ``--split dev`` and reported on ``--split test``. The encoder runs once per image and its
embedding is kept under ``--cache`` (the decoder runs per prompt).

    python scripts/eval_refinement.py --data ../shared/data --split test --volumes --out /tmp/refine-test
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from medstation.segmentation import images, metrics, preprocess  # noqa: E402
from medstation.segmentation.engine import ImageEmbedding  # noqa: E402
from medstation.segmentation.refine import Click, refine  # noqa: E402

VOLUME_ORGANS = {1: "spleen", 2: "kidney_right", 3: "kidney_left", 5: "liver", 6: "stomach"}
DROP_LIMIT = 0.05


def split_of(key: str) -> str:
    return "dev" if hashlib.sha256(key.encode()).digest()[0] % 2 == 0 else "test"


def seg2d_cases(data: Path) -> list[dict]:
    root = data / "seg2d"
    out = []
    for row in json.loads((root / "manifest.json").read_text()):
        key = f"seg2d:{row['mask']}"
        out.append({"key": key, "source": row["source"], "label": row["label"], "box": row["bbox_xyxy"],
                    "image_id": row["image"], "load": (lambda r=row: (images.read_image(root / r["image"]),
                                                                     images.read_mask(root / r["mask"])))})
    return out


def volume_cases(data: Path) -> list[dict]:
    import SimpleITK as sitk

    ct = sitk.GetArrayFromImage(sitk.ReadImage(str(data / "volumes3d" / "example_ct_sm.nii.gz"))).astype(np.float32)
    seg = sitk.GetArrayFromImage(sitk.ReadImage(str(data / "volumes3d" / "example_seg.nii.gz")))
    out = []
    for label, name in VOLUME_ORGANS.items():
        areas = (seg == label).reshape(seg.shape[0], -1).sum(axis=1)
        if areas.max() < 50:
            continue
        k = int(areas.argmax())
        truth = seg[k] == label
        rows, cols = np.flatnonzero(truth.any(axis=1)), np.flatnonzero(truth.any(axis=0))
        image = preprocess.slice_for_model(ct[k], "CT", preprocess.SOFT_TISSUE_WINDOW)
        out.append({"key": f"volumes3d:example_ct_sm:{name}:{k}", "source": "volumes3d_ct", "label": name,
                    "box": [int(cols[0]), int(rows[0]), int(cols[-1]), int(rows[-1])], "image_id": f"ct_sm:{k}",
                    "load": (lambda im=image, t=truth: (im, t))})
    return out


def next_click(mask: np.ndarray, truth: np.ndarray) -> Click | None:
    """The simulated user's click: centre of the largest false-negative or false-positive region."""
    best = None
    for region, include in ((truth & ~mask, True), (mask & ~truth, False)):
        labels, n = ndimage.label(region)
        if n == 0:
            continue
        sizes = np.bincount(labels.ravel())[1:]
        biggest = labels == (int(sizes.argmax()) + 1)
        if best is None or sizes.max() > best[0]:
            best = (int(sizes.max()), biggest, include)
    if best is None or best[0] < 4:
        return None
    dist = ndimage.distance_transform_edt(np.pad(best[1], 1))[1:-1, 1:-1]
    r, c = np.unravel_index(int(dist.argmax()), dist.shape)
    return Click(float(c), float(r), best[2])


def embedding_for(engine, case, image, cache: Path) -> ImageEmbedding:
    digest = hashlib.sha256(f"{engine.model_version}|{case['image_id']}".encode()).hexdigest()[:24]
    path = cache / f"{digest}.npz"
    frame = preprocess.model_frame(image.shape[:2], engine.spec.input_size, engine.spec.keep_aspect)
    if path.is_file():
        with np.load(path) as data:
            return ImageEmbedding(data["features"], frame, engine.model_version)
    emb = engine.embed(image)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, features=emb.features)
    return emb


def run_case(engine, emb, truth, box, method: str, n_clicks: int) -> list[float]:
    """Dice of the box mask, then after each click (repeated when the user has nothing left to click)."""
    def decode(box, points=None, labels=None):
        return engine.decode(emb, box=box, points=points, labels=labels)

    clicks: list[Click] = []
    mask = np.asarray(decode(box).mask, bool)
    scores = [metrics.dice(mask, truth)]
    for _ in range(n_clicks):
        click = next_click(mask, truth)
        if click is not None:
            clicks.append(click)
            if method == "points":
                mask = np.asarray(decode(box, [(c.x, c.y) for c in clicks], [int(c.include) for c in clicks]).mask, bool)
            else:
                mask = refine(decode, box, clicks, truth.shape).mask
        scores.append(metrics.dice(mask, truth))
    return scores


def summarise(records: list[dict], methods, n_clicks: int) -> dict:
    out = {}
    for source in sorted({r["source"] for r in records}) + ["all"]:
        recs = [r for r in records if source in ("all", r["source"])]
        entry = {"n": len(recs), "dice_box": round(float(np.mean([r[methods[0]][0] for r in recs])), 4)}
        for m in methods:
            for k in range(1, n_clicks + 1):
                change = np.array([r[m][k] - r[m][0] for r in recs])
                entry[f"{m}_dice_{k}click"] = round(float(np.mean([r[m][k] for r in recs])), 4)
                entry[f"{m}_mean_change_{k}click"] = round(float(change.mean()), 4)
                entry[f"{m}_worst_change_{k}click"] = round(float(change.min()), 4)
                entry[f"{m}_drops_over_{DROP_LIMIT}_{k}click"] = int((change < -DROP_LIMIT).sum())
        out[source] = entry
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    p.add_argument("--split", choices=("dev", "test", "all"), default="dev")
    p.add_argument("--clicks", type=int, default=3)
    p.add_argument("--volumes", action="store_true", help="add axial slices of volumes3d/example_ct_sm")
    p.add_argument("--methods", default="points,refine")
    p.add_argument("--cache", default="/tmp/medstation-refine-embeddings")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="development only: override a constant of medstation.segmentation.refine")
    p.add_argument("--embed-only", action="store_true", help="only fill the embedding cache (no scores shown)")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    from medstation.segmentation import refine as refine_module

    for item in args.set:
        name, value = item.split("=", 1)
        if not hasattr(refine_module, name):
            p.error(f"medstation.segmentation.refine has no {name}")
        setattr(refine_module, name, float(value))

    from medstation.config import Settings
    from medstation.segmentation.engine import load_engine

    settings = Settings()
    engine = load_engine("litemedsam", models_dir=settings.models_dir, cache_dir=Path(args.cache) / "model",
                         threads=2)
    data = Path(args.data)
    cases = seg2d_cases(data) + (volume_cases(data) if args.volumes else [])
    cases = [c for c in cases if args.split == "all" or split_of(c["key"]) == args.split]
    methods = [m for m in args.methods.split(",") if m]
    records = []
    start = time.perf_counter()
    for i, case in enumerate(cases):
        image, truth = case["load"]()
        emb = embedding_for(engine, case, image, Path(args.cache))
        if args.embed_only:
            continue
        rec = {"key": case["key"], "source": case["source"], "label": case["label"]}
        for m in methods:
            rec[m] = run_case(engine, emb, truth, case["box"], m, args.clicks)
        records.append(rec)
        print(f"{i + 1}/{len(cases)} {case['key'][:60]:60s} " + "  ".join(
            f"{m} " + "→".join(f"{d:.3f}" for d in rec[m]) for m in methods), flush=True)
    if args.embed_only:
        print(f"embedded {len(cases)} case(s) into {args.cache}")
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "per_case.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["key", "source", "label"] + [f"{m}_{k}" for m in methods for k in range(args.clicks + 1)])
        for r in records:
            writer.writerow([r["key"], r["source"], r["label"]] + [f"{d:.4f}" for m in methods for d in r[m]])
    summary = {"split": args.split, "overrides": args.set, "clicks": args.clicks, "cases": len(records), "model": engine.model_version,
               "seconds": round(time.perf_counter() - start, 1), "by_source": summarise(records, methods, args.clicks)}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    for source, entry in summary["by_source"].items():
        print(f"{source:20s} n={entry['n']:3d} box {entry['dice_box']:.3f}  " + "  ".join(
            f"{m}: {entry[f'{m}_dice_{args.clicks}click']:.3f} (mean {entry[f'{m}_mean_change_{args.clicks}click']:+.3f},"
            f" worst {entry[f'{m}_worst_change_{args.clicks}click']:+.3f},"
            f" >{DROP_LIMIT} drops {entry[f'{m}_drops_over_{DROP_LIMIT}_{args.clicks}click']})" for m in methods))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
