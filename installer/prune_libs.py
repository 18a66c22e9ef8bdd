"""Remove the shared libraries at the top of a bundle's ``_internal`` that nothing left in the bundle links to.

    python installer/prune_libs.py dist/medstation [--dry-run]

PyInstaller copies each collected binary's dependencies next to it. When ``finish_bundle.sh`` then drops a
binary (QtNetwork, the GTK theme plugin), its dependencies stay behind: Kerberos for QtNetwork's GSSAPI,
cairo/pango/harfbuzz/GIO for the GTK theme. This keeps every top-level library reachable through ``DT_NEEDED``
from any other ELF file in the bundle (the executable, every Python extension module, every library in a
package folder, every Qt plugin) and removes the rest. Never removed: Python extension modules and
``libpython`` (the executable loads it by name). Libraries loaded with ``dlopen``/``ctypes`` by name live in
their packages' folders (llama.cpp, ONNX Runtime, SQLCipher), which this never touches.
Prints one JSON object: what was removed and how many MB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

MB = 1_000_000


def is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def needed(path: Path) -> list[str]:
    """The ``DT_NEEDED`` names of ``path`` (readelf; an unreadable file needs nothing)."""
    out = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True).stdout
    return [line.split("[", 1)[1].split("]", 1)[0] for line in out.splitlines() if "(NEEDED)" in line]


def is_candidate(path: Path) -> bool:
    """A plain shared library at the top of ``_internal`` (not an extension module, not libpython)."""
    name = path.name
    return (".so" in name and "cpython-" not in name and ".abi3." not in name and not name.startswith("libpython")
            and path.is_file() and not path.is_symlink())


def unreferenced(internal: Path) -> list[Path]:
    top = {p.name: p for p in internal.iterdir() if is_candidate(p)}
    roots = [p for p in internal.parent.rglob("*")
             if p.is_file() and not p.is_symlink() and p.name not in top and is_elf(p)]
    kept: set[str] = set()
    stack = roots
    while stack:
        for name in needed(stack.pop()):
            if name in top and name not in kept:
                kept.add(name)
                stack.append(top[name])
    return sorted((p for name, p in top.items() if name not in kept), key=lambda p: p.name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    internal = args.bundle / "_internal"
    removed: dict[str, int] = {}
    while True:  # a removed library may have been the last user of another
        batch = unreferenced(internal)
        removed.update((path.name, path.stat().st_size) for path in batch)
        if not batch or args.dry_run:
            break
        for path in batch:
            path.unlink()
    print(json.dumps({"removed": sorted(removed), "mb": round(sum(removed.values()) / MB, 1),
                      "dry_run": args.dry_run}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
