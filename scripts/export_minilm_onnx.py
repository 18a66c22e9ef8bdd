"""Export all-MiniLM-L6-v2 to ONNX and check it against the sentence-transformers model.

A frozen (PyInstaller) build runs this at build time and ships the file, so the app never needs
torch; a source install does the same export by itself at first use into MEDSTATION_HOME/cache.

    python scripts/export_minilm_onnx.py --out build/minilm/model.onnx \
        [--passages resources/starter_kb/medquad_starter.jsonl] [--count 1000] [--min-cosine 0.999]

Prints one JSON object (paths, checksum, cosine min/mean/quantiles over ``count`` passages) and
exits 1 when the minimum cosine is below ``--min-cosine``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from medstation.rag import embedder_onnx  # noqa: E402
from medstation.rag.embedder import Embedder, model_dir, weights_sha256  # noqa: E402
from medstation.rag.embedder_check import cosines, kb_chunk_texts  # noqa: E402
from medstation.rag.embedder_torch import TorchEmbedder  # noqa: E402


def fuse_bert(path: Path, source: Path) -> dict:
    """Rewrite the graph at ``path`` with ONNX Runtime's transformer optimizer (BERT): each layer's attention
    becomes one ``Attention`` node, the layer norms ``SkipLayerNormalization``, the GELU ``BiasGelu``, all
    computed in float32 (the agreement check below still compares with sentence-transformers). Returns
    the fused operator counts."""
    from onnxruntime.transformers.optimizer import optimize_model

    config = json.loads((Path(source) / "config.json").read_text())
    model = optimize_model(str(path), model_type="bert", num_heads=int(config["num_attention_heads"]),
                           hidden_size=int(config["hidden_size"]), opt_level=1)
    counts = {k: v for k, v in model.get_fused_operator_statistics().items() if v}
    tmp = path.with_name(path.name + ".fuse.tmp")
    model.save_model_to_file(str(tmp))
    tmp.replace(path)
    return {"fused_operators": counts}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="where model.onnx (and model.onnx.json) go")
    parser.add_argument("--passages", type=Path, default=ROOT / "resources" / "starter_kb" / "medquad_starter.jsonl")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--min-cosine", type=float, default=0.999)
    parser.add_argument("--fp16-weights", action="store_true",
                        help="store the weights as float16 (half the file; computed in float32): the bundle's graph")
    parser.add_argument("--fuse", action="store_true",
                        help="fuse attention, layer norms and GELU into ONNX Runtime's BERT kernels (float32)")
    args = parser.parse_args()
    source = model_dir()
    sha = weights_sha256(source)
    started = time.perf_counter()
    if not embedder_onnx.verified(args.out, sha):
        embedder_onnx.export_minilm(source, args.out, sha)
    record = json.loads(embedder_onnx.record_path(args.out).read_text())
    if args.fuse and not record.get("fused"):
        if record.get("weights_storage") == "float16":  # fuse the float32 export, then store it in float16
            embedder_onnx.export_minilm(source, args.out, sha)
            record = json.loads(embedder_onnx.record_path(args.out).read_text())
        record.update(fuse_bert(args.out, source), onnx_sha256=embedder_onnx.file_sha256(args.out), fused=True)
        embedder_onnx.record_path(args.out).write_text(json.dumps(record, indent=1))
    if args.fp16_weights and record.get("weights_storage") != "float16":
        sys.path.insert(0, str(ROOT / "installer"))
        from shrink_onnx import shrink

        shrink(args.out, args.out)
        record.update(onnx_sha256=embedder_onnx.file_sha256(args.out), weights_storage="float16")
        embedder_onnx.record_path(args.out).write_text(json.dumps(record, indent=1))
    export_s = time.perf_counter() - started
    texts = kb_chunk_texts(args.passages, args.count)
    onnx_vectors = Embedder(onnx_path=args.out).encode(texts)
    torch_vectors = TorchEmbedder().encode(texts)
    cos = cosines(onnx_vectors, torch_vectors)
    report = {
        "onnx": str(args.out), "onnx_sha256": record["onnx_sha256"], "weights_sha256": sha,
        "export_s": round(export_s, 1), "weights_storage": record.get("weights_storage", "float32"),
        "fused": bool(record.get("fused")),
        "size_mb": round(args.out.stat().st_size / 1e6, 1), "passages": str(args.passages), "count": len(texts),
        "cosine_min": float(cos.min()), "cosine_mean": float(cos.mean()),
        "cosine_p01": float(np.quantile(cos, 0.01)), "passed": bool(cos.min() >= args.min_cosine),
    }
    print(json.dumps(report, indent=1))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
