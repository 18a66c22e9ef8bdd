"""Measure an older revision beside this checkout in the same run: its ``medstation`` package is exported
with ``git archive`` (no worktree, no change to the repository) and a benchmark script of THIS checkout
runs in a subprocess with ``MEDSTATION_CODE`` pointing at the export.

The scripts that use it put ``MEDSTATION_CODE`` (default: this checkout) first on ``sys.path``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(tempfile.gettempdir()) / "medstation-baselines"


def code_path() -> str:
    """Where the benchmark scripts import ``medstation`` from."""
    return os.environ.get("MEDSTATION_CODE", str(ROOT))


def export_revision(rev: str) -> Path:
    """A directory holding revision ``rev``'s ``medstation`` package (exported once, then reused)."""
    sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", f"{rev}^{{commit}}"],
                         capture_output=True, text=True, check=True).stdout.strip()
    target = CACHE / sha
    if not (target / "medstation" / "__init__.py").exists():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", sha, "medstation"], capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def run_at_revision(rev: str, script: str, args: list[str]) -> dict:
    """Run ``benchmarks/<script> *args --json TMP`` against revision ``rev``'s code; its JSON result."""
    code = export_revision(rev)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        env = {**os.environ, "MEDSTATION_CODE": str(code), "PYTHONPATH": str(code)}
        proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args, "--json", str(out)],
                              env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"baseline {rev} failed:\n{proc.stderr[-2000:]}")
        return json.loads(out.read_text())
