"""`medstation notes draft` and `notes eval` on files made here."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIALOGUE = """[doctor] hi , how are you doing today ?
[patient] i have had a sore throat and a cough for about five days now and it is getting worse at night .
[doctor] okay . on exam your throat is red and your lungs sound clear with no wheezing .
[doctor] i think this is consistent with a viral upper respiratory infection .
[doctor] we will start you on ibuprofen 400 milligrams and i want you to follow up in one week if it is not better .
"""
NOTE = ("CHIEF COMPLAINT\n\nSore throat and cough.\n\nHISTORY OF PRESENT ILLNESS\n\nThe patient reports a sore throat "
        "and cough for five days, worse at night.\n\nPHYSICAL EXAM\n\nThroat is red. Lungs clear.\n\nASSESSMENT AND "
        "PLAN\n\nViral upper respiratory infection. Start ibuprofen 400 mg. Follow up in one week.")


def _cli(*args, home):
    env = {"MEDSTATION_HOME": str(home), "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "medstation", "notes", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def _csv(path: Path, rows: int = 2) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["dataset", "encounter_id", "dialogue", "note"])
        for i in range(rows):
            w.writerow(["test", f"E{i}", DIALOGUE, NOTE])
    return path


def test_draft_json_has_sections_evidence_flags_and_provenance(tmp_path, medstation_home):
    src = tmp_path / "visit.txt"
    src.write_text(DIALOGUE)
    out = tmp_path / "draft.json"
    proc = _cli("draft", str(src), "--template", "soap", "--json", "--out", str(out), "--max-rewrites", "0",
                home=medstation_home)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert [s["key"] for s in data["sections"]] == ["subjective", "objective", "assessment", "plan"]
    plan = data["sections"][3]["sentences"]
    assert any(s["evidence"] == [5] and "ibuprofen 400 milligrams" in s["text"] for s in plan)
    assert data["provenance"]["template_version"].startswith("soap@")
    assert data["provenance"]["transcript_sha256"] == data["transcript"]["sha256"]
    assert data["fact_flags"] == [] and data["evidence_share"] == 1.0


def test_draft_refuses_unknown_template_and_binary_file(tmp_path, medstation_home):
    src = tmp_path / "visit.txt"
    src.write_text(DIALOGUE)
    proc = _cli("draft", str(src), "--template", "nope", "--max-rewrites", "0", home=medstation_home)
    assert proc.returncode == 2 and "No template named 'nope'" in proc.stderr
    binary = tmp_path / "audio.txt"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    proc = _cli("draft", str(binary), "--max-rewrites", "0", home=medstation_home)
    assert proc.returncode == 2 and "binary" in proc.stderr


def test_eval_writes_drafts_and_summary_with_baselines(tmp_path, medstation_home):
    out = tmp_path / "eval"
    proc = _cli("eval", "--csv", str(_csv(tmp_path / "tiny.csv")), "--out", str(out), "--limit", "1",
                "--max-rewrites", "0", home=medstation_home)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in (out / "drafts.jsonl").read_text().splitlines()]
    assert len(rows) == 1 and rows[0]["reference"] == NOTE and rows[0]["draft"]["sections"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rows"] == 1
    for block in (summary["pipeline"], *summary["baselines"].values()):
        assert set(block) >= {"rouge1", "rouge2", "rougeL", "rougeLsum"}
    assert summary["pipeline"]["rougeL"] > summary["baselines"]["first_12_doctor_turns"]["rougeL"]
    assert summary["pipeline"]["evidence_share"] == 1.0


@pytest.mark.slow
def test_eval_with_the_default_model(tmp_path, medstation_home):
    out = tmp_path / "eval"
    proc = _cli("eval", "--csv", str(_csv(tmp_path / "tiny.csv", 1)), "--out", str(out), "--budget-s", "400",
                home=medstation_home)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"]["file"] == "SmolLM2-135M-Instruct.Q4_1.gguf" and summary["fallback_rows"] == 0
    assert summary["rewrites_accepted"] + summary["rewrites_rejected"] == 1  # the one client sentence was tried
