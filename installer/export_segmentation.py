"""Export LiteMedSAM's encoder and decoder head to ONNX for the bundle, and check them against torch.

    python installer/export_segmentation.py --out build/staging/models/segmentation [--min-dice 0.98]

Writes ``OUT/onnx/<checkpoint sha256>/{encoder.onnx, decoder-<version>.onnx, engine.json}`` (the layout
:mod:`medstation.segmentation.shipped` reads). Agreement: every slice of the bundled sample CT with
three box prompts (spleen, liver, spine/aorta region; pixels chosen on the sample, not tuned) is
segmented by torch and by the ONNX graphs; Dice and IoU of the two masks per prompt. Prints one JSON
object; exits 1 when the lowest Dice is below ``--min-dice`` (torch is needed here, at build time only).
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "installer"))

import numpy as np  # noqa: E402

BOXES = {"spleen": (322, 250, 410, 378), "liver": (60, 170, 250, 380), "spine_aorta": (200, 300, 320, 420)}


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def overlap(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(Dice, IoU) of two bool masks; two empty masks agree fully."""
    inter, total, union = int((a & b).sum()), int(a.sum() + b.sum()), int((a | b).sum())
    return (1.0, 1.0) if union == 0 else (2 * inter / total, inter / union)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--min-dice", type=float, default=0.98)
    parser.add_argument("--fp16-weights", action="store_true",
                        help="store the graphs' weights as float16 (computed in float32; installer/shrink_onnx.py)")
    args = parser.parse_args()

    from medstation.config import sample_study_dir
    from medstation.jobs import JobContext
    from medstation.imaging.loader import load_series
    from medstation.segmentation import preprocess, shipped
    from medstation.segmentation.engine import load_engine

    started = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="medstation-seg-export-"))
    atexit.register(shutil.rmtree, scratch, True)  # only ever an empty stand-in models folder: never leave it behind
    torch_engine = load_engine("litemedsam", models_dir=scratch / "none", cache_dir=None,
                               encoder_backend="torch", decoder_backend="torch")
    # Exporting through the ONNX back-ends writes the same files a source install caches.
    onnx_engine = load_engine("litemedsam", models_dir=scratch / "none", cache_dir=args.out,
                              encoder_backend="onnx", decoder_backend="onnx")
    if onnx_engine.backends != ("onnx", "onnx"):
        raise SystemExit(f"ONNX export failed: {onnx_engine.notes}")
    sha = onnx_engine.sha256
    folder = args.out / "onnx" / sha
    if args.fp16_weights:
        from shrink_onnx import shrink

        for name in shipped.graph_names():
            shrink(folder / name, folder / name)
        onnx_engine = load_engine("litemedsam", models_dir=scratch / "none", cache_dir=args.out)  # the shrunk graphs
    export_s = time.perf_counter() - started

    volume = load_series(JobContext(), sorted(str(p) for p in sample_study_dir().iterdir()))
    rows = []
    for k in range(volume.pixels.shape[0]):
        image = preprocess.slice_for_model(volume.pixels[k], volume.modality, None)
        t_emb, o_emb = torch_engine.embed(image), onnx_engine.embed(image)
        for name, box in BOXES.items():
            t_mask = torch_engine.decode(t_emb, box=box).mask
            o_mask = onnx_engine.decode(o_emb, box=box).mask
            dice, iou = overlap(t_mask, o_mask)
            rows.append({"slice": k, "box": name, "dice": dice, "iou": iou, "torch_px": int(t_mask.sum()),
                         "onnx_px": int(o_mask.sum())})
    dice = np.array([r["dice"] for r in rows])
    iou = np.array([r["iou"] for r in rows])
    agreement = {"prompts": len(rows), "slices": int(volume.pixels.shape[0]), "boxes": BOXES,
                 "dice_min": float(dice.min()), "dice_mean": float(dice.mean()),
                 "iou_min": float(iou.min()), "iou_mean": float(iou.mean()),
                 "worst": min(rows, key=lambda r: r["dice"])}
    names = shipped.graph_names()
    record = {"engine": "litemedsam", "checkpoint_sha256": sha, "input_size": onnx_engine.spec.input_size,
              "weights_storage": "float16" if args.fp16_weights else "float32",
              "files": {n: sha256(folder / n) for n in names}, "agreement": agreement}
    for stale in folder.iterdir():  # only the current head graph and its record ship
        if stale.name not in names:
            stale.unlink()
    (folder / shipped.RECORD).write_text(json.dumps(record, indent=1))
    report = {"out": str(folder), "export_s": round(export_s, 1), "seconds": round(time.perf_counter() - started, 1),
              "sizes_mb": {n: round((folder / n).stat().st_size / 1e6, 1) for n in names},
              **agreement, "passed": bool(dice.min() >= args.min_dice)}
    print(json.dumps(report, indent=1))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
