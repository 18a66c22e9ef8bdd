"""Transcription speed and memory: real-time factor and peak memory for a 5-minute session on 2 cores.

    .venv/bin/python benchmarks/bench_transcription.py [--minutes 5] [--threads 2] [--model NAME]

Builds a synthetic two-voice session with espeak-ng (the test half of
``tests/data/transcription_sessions.json``, repeated until ``--minutes`` is reached, with 2.5 s
pauses and an 8 s silence after every third turn, in -60 dBFS room noise), runs the same job
``medstation transcribe`` runs, in a child process pinned to ``--threads`` CPUs so the peak
resident memory (ru_maxrss) is the transcription's own, and prints a JSON line: audio seconds,
wall seconds, RTF (wall / audio; target <= 0.5), peak MB, WER and the share of silence stretches
without invented words. The machine may be shared: its load average is printed beside the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build(path: Path, minutes: float):
    from tests.audio_support import build_recording

    base = json.loads((ROOT / "tests" / "data" / "transcription_sessions.json").read_text())["test"]
    turns: list[tuple[int, str]] = []
    # about 8.3 s of speech and gap per turn: repeat the dialogue until the target length
    while len(turns) * 8.3 < minutes * 60:
        turns.extend(tuple(t) for t in base)
    gaps = [8.0 if i % 3 == 2 else 2.5 for i in range(len(turns))]
    return build_recording(path, turns, gaps, noise_dbfs=-60)


def child(audio: str, threads: int, model_name: str) -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    from medstation.jobs import JobContext
    from medstation.notes.audio.model import resolve_model
    from medstation.notes.audio.recognise import transcribe

    model = resolve_model(model_name, cache_dir=Path(os.environ["BENCH_CACHE"]), search_dirs=[ROOT / "models"])
    started = time.perf_counter()
    result = transcribe(JobContext(), Path(audio), model, threads=threads)
    wall = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    words = [[w.start, w.end] for t in result.turns for s in t.segments for w in s.words]
    print(json.dumps({"wall_s": wall, "peak_mb": peak_mb, "text": " ".join(t.text for t in result.turns),
                      "words": words, "dropped": result.dropped, "turns": len(result.turns)}))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model", default="")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.threads, args.model)
        return 0
    import subprocess

    from medstation.notes.audio.wer import wer

    with tempfile.TemporaryDirectory() as tmp:
        rec = build(Path(tmp) / "session.wav", args.minutes)
        env = dict(os.environ, BENCH_CACHE=str(Path(tmp) / "cache"), OMP_NUM_THREADS=str(args.threads))
        cpus = ",".join(str(c) for c in sorted(os.sched_getaffinity(0))[: args.threads])
        cmd = ["taskset", "-c", cpus, sys.executable, __file__, "--child", str(rec.path),
               "--threads", str(args.threads), "--model", args.model]
        from medstation.notes.audio.model import resolve_model

        resolve_model(args.model, cache_dir=Path(env["BENCH_CACHE"]), search_dirs=[ROOT / "models"])  # rebuild once
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
        res = json.loads(out.stdout.strip().splitlines()[-1])
    margin = 0.3
    inside = [any(a + margin < s and e < b - margin for s, e in res["words"]) for a, b in rec.silences]
    report = {"audio_s": round(rec.duration_s, 1), "wall_s": round(res["wall_s"], 1),
              "rtf": round(res["wall_s"] / rec.duration_s, 3), "peak_mb": round(res["peak_mb"]),
              "wer": round(wer(rec.reference, res["text"]), 3), "turns": res["turns"],
              "silence_stretches": len(inside), "silence_without_text": round(1 - sum(inside) / len(inside), 3),
              "segments_dropped": res["dropped"], "threads": args.threads, "loadavg": os.getloadavg()}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
