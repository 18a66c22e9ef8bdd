"""Exit status of the command line: 0 success, 2 a user error (one sentence on stderr), 1 an internal error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from medstation.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_user_error_exits_2_with_the_sentence_on_stderr(tmp_path, capsys):
    code = main(["segment", str(tmp_path / "missing.png"), "--box", "1", "1", "9", "9", "--out", str(tmp_path / "m.png")])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("medstation: no user accounts")  # a fresh folder: single-user mode, said once
    assert err[1:] == [f"error: {tmp_path / 'missing.png'} does not exist"]


def test_internal_error_exits_1_with_a_traceback(tmp_path):
    code = (
        "import sys; import medstation.commands.workers as w;"
        "w.run = lambda args: 1 / 0;"  # a bug inside a command
        "from medstation.cli import main; sys.exit(main(['selftest-worker']))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "ZeroDivisionError" in proc.stderr
