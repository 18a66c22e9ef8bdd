"""The layering rule is enforced by import-linter, as napari does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_domain_packages_never_import_qt():
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_cli_help_is_light():
    """`medstation --help` must not import torch, Qt or llama.cpp (nothing heavy at import time)."""
    code = (
        "import sys; from medstation.cli import build_parser; build_parser();"
        "heavy=[m for m in ('torch','PySide6','llama_cpp','chromadb','sentence_transformers') if m in sys.modules];"
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
