"""`medstation notes draft --json` carries each risk flag with its line, category and why."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_draft_json_flags_have_line_category_and_why(tmp_path, medstation_home):
    src = tmp_path / "session.txt"
    src.write_text("Therapist: How have things been?\nClient: Work is fine.\n"
                   "Client: Honestly everyone would be better off if I just wasn't around.\n")
    env = {"MEDSTATION_HOME": str(medstation_home), "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-m", "medstation", "notes", "draft", str(src), "--json",
                           "--max-rewrites", "0"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    flags = json.loads(proc.stdout)["risk_flags"]
    si = [f for f in flags if f["category"] == "suicidal_ideation"]
    assert len(si) == 1 and si[0]["lines"] == [3] and si[0]["needs_acknowledgement"]
    assert si[0]["details"][0]["line"] == 3 and "similarity" in si[0]["why"]
    assert all(f["category"] != "semantic_detector_unavailable" for f in flags)
