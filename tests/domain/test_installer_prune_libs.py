"""installer/prune_libs.py (issue 22, bundle size): a top-level library goes only when nothing left links to it.

Built from real system libraries in a fake bundle: libpng (in a package folder) needs libz, which stays; libexpat
and libbz2 are needed by nothing and go; an extension module and libpython always stay (the executable loads
libpython by name).
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIBS = Path("/usr/lib/x86_64-linux-gnu")
NEEDED = ("libpng16.so.16", "libz.so.1", "libexpat.so.1", "libbz2.so.1.0")

pytestmark = pytest.mark.skipif(shutil.which("readelf") is None or not all((LIBS / n).exists() for n in NEEDED),
                                reason="needs readelf and the Debian x86-64 system libraries")


def _prune_libs():
    spec = importlib.util.spec_from_file_location("prune_libs", ROOT / "installer" / "prune_libs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _bundle(tmp_path: Path) -> Path:
    internal = tmp_path / "medstation" / "_internal"
    (internal / "pkg").mkdir(parents=True)
    shutil.copy(LIBS / "libpng16.so.16", internal / "pkg" / "libpng16.so.16")  # a package's library: a root
    for name in ("libz.so.1", "libexpat.so.1", "libbz2.so.1.0"):
        shutil.copy(LIBS / name, internal / name)
    shutil.copy(LIBS / "libexpat.so.1", internal / "_demo.cpython-311-x86_64-linux-gnu.so")  # an extension module
    shutil.copy(LIBS / "libz.so.1", internal / "libpython3.11.so.1.0")  # loaded by name by the executable
    return tmp_path / "medstation"


def test_only_libraries_nothing_links_to_are_removed(tmp_path, monkeypatch, capsys):
    bundle = _bundle(tmp_path)
    module = _prune_libs()
    monkeypatch.setattr("sys.argv", ["prune_libs.py", str(bundle)])
    assert module.main() == 0
    left = sorted(p.name for p in (bundle / "_internal").iterdir() if p.is_file())
    assert left == ["_demo.cpython-311-x86_64-linux-gnu.so", "libpython3.11.so.1.0", "libz.so.1"]
    assert (bundle / "_internal" / "pkg" / "libpng16.so.16").exists()
    assert '"libbz2.so.1.0"' in capsys.readouterr().out


def test_a_dry_run_removes_nothing(tmp_path, monkeypatch):
    bundle = _bundle(tmp_path)
    monkeypatch.setattr("sys.argv", ["prune_libs.py", str(bundle), "--dry-run"])
    _prune_libs().main()
    assert (bundle / "_internal" / "libexpat.so.1").exists() and (bundle / "_internal" / "libbz2.so.1.0").exists()
