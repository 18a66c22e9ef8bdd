"""Benchmark: first token and decode rate of the chat model, quiet vs during background work, gate off/on.

Three conditions, one process, the same RAG prompt (MedQuAD starter passages)
and greedy settings, alternating, KV cache reset before each run:

* **quiet** -- nothing else runs in this process;
* **load, no yield** (before) -- a background thread runs as it did before the
  foreground gate: never waiting for the answer;
* **load, yield** (after) -- the same thread calls
  ``FOREGROUND.wait_while_busy()`` before each batch or slice, as the code now
  does, while the answer streams inside ``FOREGROUND.hold()`` as the answer job does.

``--load`` picks the background work:

* ``prefetch`` (default) -- the viewer's embedding prefetch: LiteMedSAM
  image-encoder embeddings of the sample CT's slices through the viewer's own
  code (``SegmentationService.ensure_engine`` / ``segmenter`` and the
  ``precompute_embeddings`` job the segmentation panel queues), back to back, a
  fresh cache each pass so every slice is really encoded. "No yield" runs the same
  job with the gate it sees swapped for one nobody holds (the code before the fix);
* ``embedding`` -- knowledge-base ingestion: sentence-embedder batches of starter chunks.

Decode rate = (pieces - 1) / (last piece - first piece). Target: decode with
load and yield >= 70 % of quiet. Other processes on the machine are not ours:
the load average is printed beside each figure, with the CPU flags.

    .venv/bin/python benchmarks/bench_llm_foreground.py [--load prefetch|embedding] [--runs 3] [--max-tokens 64]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def starter_texts(limit: int) -> list[str]:
    rows = (ROOT / "resources" / "starter_kb" / "medquad_starter.jsonl").read_text().splitlines()
    return [json.loads(r)["answer"][:1100] for r in rows[:limit]]


class EmbeddingLoad:
    """Background embedding batches until stopped; ``yield_to_foreground`` makes it wait while an answer streams."""

    def __init__(self, embedder, texts, yield_to_foreground: bool) -> None:
        self.embedder, self.texts, self.yielding = embedder, texts, yield_to_foreground
        self.stop = threading.Event()
        self.batches = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from medstation.foreground import FOREGROUND

        i = 0
        while not self.stop.is_set():
            if self.yielding:
                FOREGROUND.wait_while_busy()
            batch = [self.texts[(i + j) % len(self.texts)] for j in range(32)]
            self.embedder.encode(batch)
            self.batches += 1
            i += 32

    @property
    def done(self) -> int:
        return self.batches

    def __enter__(self):
        self.thread.start()
        time.sleep(1.5)  # let the load reach steady state before the answer starts
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


class PrefetchLoad:
    """The viewer's slice prefetch, back to back until stopped; ``yield_to_foreground`` False swaps the gate
    ``precompute_embeddings`` waits on for one nobody holds (the behaviour before it waited)."""

    def __init__(self, service, volume, yield_to_foreground: bool) -> None:
        self.service, self.volume, self.yielding = service, volume, yield_to_foreground
        self.stop = threading.Event()
        self.slices = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from unittest import mock

        from medstation.foreground import ForegroundGate
        from medstation.jobs import Cancelled, JobContext
        from medstation.segmentation import slices
        from medstation.segmentation.cache import EmbeddingCache

        ctx = JobContext(on_progress=self._count)  # the job reports once per slice
        self._ctx = ctx
        gate = mock.patch.object(slices, "FOREGROUND", ForegroundGate()) if not self.yielding else None
        if gate is not None:
            gate.start()
        try:
            while not self.stop.is_set():
                segmenter = self.service.segmenter(self.volume)
                segmenter.cache = EmbeddingCache(segmenter.n_slices + 1)  # every pass encodes every slice again
                centre = segmenter.n_slices // 2
                order = [centre] + slices.neighbour_order(centre, segmenter.n_slices, segmenter.n_slices)
                try:
                    slices.precompute_embeddings(ctx, segmenter, order)
                except Cancelled:
                    return
        finally:
            if gate is not None:
                gate.stop()

    def _count(self, _fraction: float, _message: str) -> None:
        self.slices += 1

    @property
    def done(self) -> int:
        return self.slices

    def __enter__(self):
        self.thread.start()
        time.sleep(1.5)  # let the load reach steady state before the answer starts
        return self

    def __exit__(self, *exc):
        self.stop.set()
        ctx = getattr(self, "_ctx", None)
        if ctx is not None:
            ctx.cancel()
        self.thread.join()


def viewer_prefetch_parts():
    """(SegmentationService with LiteMedSAM loaded, the sample CT as a Volume), as the viewer has them."""
    import tempfile

    from medstation.config import Settings, sample_study_dir
    from medstation.imaging.loader import load_series
    from medstation.jobs import JobContext
    from medstation.access.roles import UserSession
    from medstation.store.model_registry import ModelRegistry
    from medstation.segmentation.service import SegmentationService
    from medstation.access.encryption import open_database

    if not os.environ.get("MEDSTATION_HOME"):  # a throwaway data folder (the ONNX export is made there once)
        os.environ["MEDSTATION_HOME"] = tempfile.mkdtemp(prefix="medstation-bench-fg-")
    settings = Settings()
    settings.ensure_dirs()
    db = open_database(settings.db_path)
    service = SegmentationService(settings, db, registry=ModelRegistry(db), session=UserSession.from_os_user())
    service.ensure_engine(JobContext())
    volume = load_series(JobContext(), sorted(str(p) for p in sample_study_dir().iterdir() if p.is_file()))
    return service, volume


def cpu_flags() -> str:
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    line = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
    flags = set(line.split(":", 1)[-1].split())
    model = next((ln.split(":", 1)[1].strip() for ln in text.splitlines() if ln.startswith("model name")), "?")
    wanted = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512_vnni", "avx_vnni", "amx_tile")
    return f"{model}; flags: " + " ".join(f for f in wanted if f in flags)


def ggml_threading() -> str:
    """"OpenMP" when llama.cpp's CPU backend links libgomp, else "ggml thread pool" (what the set-up builds).

    With OpenMP, libgomp throttles its barrier spin as soon as any live thread of the process has run a
    parallel torch op, which slows decoding however well the background work yields."""
    import subprocess

    import llama_cpp

    libs = sorted((Path(llama_cpp.__file__).parent / "lib").glob("libggml-cpu.so*"))
    if not libs:
        return "unknown"
    out = subprocess.run(["ldd", str(libs[0])], capture_output=True, text=True).stdout
    return "OpenMP" if "libgomp" in out else "ggml thread pool"


def one_run(backend, messages, max_tokens: int, load=None) -> dict:
    """One answer; with ``load``, also how much background work (slices or batches) ran while it streamed."""
    from medstation.foreground import FOREGROUND
    from medstation.jobs import JobContext
    from medstation.llm.backends.base import GenerationSettings

    backend.llama.reset()
    stamps = []
    work_before = load.done if load is not None else 0
    started = time.perf_counter()
    with FOREGROUND.hold():
        for _ in backend.stream_chat(JobContext(), messages, GenerationSettings(max_tokens=max_tokens)):
            stamps.append(time.perf_counter())
    decode = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 2 else float("nan")
    return {"ttft_s": stamps[0] - started if stamps else float("nan"), "decode_tps": decode,
            "pieces": len(stamps), "load1": os.getloadavg()[0],
            "work_during": (load.done - work_before) if load is not None else 0}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="runs per condition")
    parser.add_argument("--max-tokens", type=int, default=64, help="tokens per answer")
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp threads")
    parser.add_argument("--load", choices=("prefetch", "embedding"), default="prefetch",
                        help="background work: the viewer's LiteMedSAM slice prefetch, or knowledge-base embedding")
    args = parser.parse_args(argv)

    from medstation.llm.backends.catalogue import embedded_model_path
    from medstation.llm.backends.local import LocalLlamaBackend
    from medstation.llm.answer.prompt import build_messages
    from medstation.rag.types import Passage

    backend = LocalLlamaBackend(embedded_model_path(), n_ctx=4096, n_threads=args.threads)
    texts = starter_texts(200)
    passages = [Passage(f"b{i}", f"d{i}", "MedQuAD", "", "bench", t, 1.0, i + 1) for i, t in enumerate(texts[:3])]
    messages = build_messages("What are the symptoms and treatments described?", passages)
    if args.load == "prefetch":
        service, volume = viewer_prefetch_parts()
        make_load = lambda yielding: PrefetchLoad(service, volume, yielding)  # noqa: E731
        what = f"viewer prefetch: LiteMedSAM ({service.engine().describe()}) on the sample CT, {volume.shape[0]} slices"
    else:
        from medstation.rag.embedder import Embedder

        embedder = Embedder()
        embedder.encode(texts[:4])  # load the embedding model outside the timings
        make_load = lambda yielding: EmbeddingLoad(embedder, texts, yield_to_foreground=yielding)  # noqa: E731
        what = "knowledge-base embedding batches of 32 starter chunks"
    print(f"prompt {backend.count_chat_tokens(messages)} tokens, {args.max_tokens} answer tokens, "
          f"{args.threads} llama.cpp threads ({ggml_threading()}), {os.cpu_count()} CPUs; {cpu_flags()}")
    print(f"load: {what}; load average at start {os.getloadavg()[0]:.2f}")
    names = ("quiet", f"{args.load}, no yield (before)", f"{args.load}, yield (after)")
    results: dict[str, list[dict]] = {name: [] for name in names}
    for _ in range(args.runs):
        results[names[0]].append(one_run(backend, messages, args.max_tokens))
        with make_load(False) as load:
            results[names[1]].append(one_run(backend, messages, args.max_tokens, load))
        with make_load(True) as load:
            results[names[2]].append(one_run(backend, messages, args.max_tokens, load))
        unit = "slices" if args.load == "prefetch" else "batches"
        print(f"  (background {unit} done while the answer streamed: {results[names[1]][-1]['work_during']} "
              f"without yielding, {results[names[2]][-1]['work_during']} yielding)")
    quiet = statistics.median(r["decode_tps"] for r in results[names[0]])
    quiet_ttft = statistics.median(r["ttft_s"] for r in results[names[0]])
    for name, runs in results.items():
        tps = statistics.median(r["decode_tps"] for r in runs)
        ttft = statistics.median(r["ttft_s"] for r in runs)
        loads = ", ".join(f"{r['load1']:.1f}" for r in runs)
        print(f"{name:30s} first token {ttft:6.2f} s ({ttft / quiet_ttft:4.1f}x quiet)  decode {tps:6.1f} tok/s "
              f"({tps / quiet:5.0%} of quiet)  load average {loads}")
    backend.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
