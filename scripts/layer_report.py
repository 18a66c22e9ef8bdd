"""How MedStation's packages import each other: upward imports, import circles, imports inside functions.

Reads every ``import`` of ``medstation`` with grimp (the graph import-linter checks; imports
inside functions count too) and prints, for the layer order of the ``layers`` contract in
pyproject.toml (``training > notes > llm > rag | segmentation > imaging > access > store``):

- imports that run back up the layers (a lower package importing a higher one, or one sibling the other);
- import circles between modules (strongly connected components of the module graph);
- ``medstation.*`` imports inside functions, and how many of them say why (``# lazy: ...``).

``--svg FILE`` also draws the package graph: one box per package, rows by layer (the
GUI and the entry points above, shared leaf modules below), one arrow per importing pair
labelled with its number of imports; upward arrows and arrows inside a circle are red.

    .venv/bin/python scripts/layer_report.py --svg docs/images/layers_after.svg
    git archive ba9a5bd medstation | tar -x -C /tmp/before
    .venv/bin/python scripts/layer_report.py --root /tmp/before --svg docs/images/layers_before.svg

Exit status 1 when any upward import or circle is found (so CI may run it too).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Rows of the layers contract, top first; packages in one row are independent siblings.
LAYERS = [["training"], ["notes"], ["llm"], ["rag", "segmentation"], ["imaging"], ["access"], ["store"]]
ABOVE = [["ui"], ["cli", "commands", "app"]]  # the GUI, then the entry points and the composition root
SHARED = "shared"  # top-level leaf modules (config, errors, jobs, fileio, ...) drawn as one box


def _graph_data(root: Path) -> dict:
    """Module import edges of the ``medstation`` package under ``root``, computed in a fresh interpreter
    (so the package found is the one under ``root``, not the installed one)."""
    code = ("import grimp, json, sys; g = grimp.build_graph('medstation', cache_dir=None);"
            "json.dump(sorted([m, d] for m in g.modules for d in g.find_modules_directly_imported_by(m)), sys.stdout)")
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True)
    return {"edges": [tuple(e) for e in json.loads(done.stdout)]}


def _package(module: str) -> str:
    parts = module.split(".")
    name = parts[1] if len(parts) > 1 else "medstation"
    if name == "__main__":  # ``python -m medstation`` is the command line's other door
        return "cli"
    if name in {p for row in LAYERS + ABOVE for p in row} or name == "process_jobs":
        return name
    return SHARED


def _rank() -> dict[str, int]:
    return {p: i for i, row in enumerate(LAYERS) for p in row}


def upward_imports(edges) -> list[tuple[str, str]]:
    """Module pairs (importer, imported) where a layer imports one above it or its sibling."""
    rank = _rank()
    out = []
    for src, dst in edges:
        a, b = _package(src), _package(dst)
        if a in rank and b in rank and a != b and rank[b] <= rank[a]:
            out.append((src, dst))
    return out


def circles(edges) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    graph: dict[str, list[str]] = {}
    for src, dst in edges:
        graph.setdefault(src, []).append(dst)
        graph.setdefault(dst, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return sorted(found)


def function_level_imports(root: Path) -> Counter:
    """``medstation.*`` imports inside function bodies, per package; key ``(package, "lazy")`` counts those
    that say why: a ``# lazy: <reason>`` comment between the function's ``def`` and the import."""
    counts: Counter = Counter()
    for path in sorted((root / "medstation").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        package = _package(".".join(path.relative_to(root).with_suffix("").parts))
        seen: set[int] = set()  # an import in a nested function is inside its outer one too: count it once
        for func in ast.walk(ast.parse(text)):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(func):
                if id(node) in seen:
                    continue
                seen.add(id(node))
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("medstation") or \
                        isinstance(node, ast.Import) and any(a.name.startswith("medstation") for a in node.names):
                    counts[package] += 1
                    if any("# lazy:" in line for line in lines[func.lineno - 1:node.end_lineno]):
                        counts[(package, "lazy")] += 1
    return counts


def package_edges(edges) -> Counter:
    return Counter((_package(s), _package(d)) for s, d in edges if _package(s) != _package(d))


def draw_svg(pairs: Counter, bad: set[tuple[str, str]], title: str, footnotes: list[str]) -> str:
    """The package graph as SVG: rows ABOVE, LAYERS (process_jobs beside imaging: it imports access), SHARED;
    ``footnotes`` (the circles, which may lie inside one package) are listed under it in red."""
    rows = ABOVE + [row + ["process_jobs"] if row == ["imaging"] else row for row in LAYERS] + [[SHARED]]
    box_w, box_h, gap_x, gap_y, width = 150, 34, 60, 46, 760
    where: dict[str, tuple[float, float]] = {}
    for r, row in enumerate(rows):
        total = len(row) * box_w + (len(row) - 1) * gap_x
        for c, name in enumerate(row):
            zigzag = 0 if len(row) > 1 else (-1) ** r * 70  # lone boxes alternate sides, so long arrows do not overlap
            where[name] = ((width - total) / 2 + c * (box_w + gap_x) + box_w / 2 + zigzag,
                           60 + r * (box_h + gap_y) + box_h / 2)
    height = 60 + len(rows) * (box_h + gap_y) + 18 * len(footnotes)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
             'font-size="12"><defs>'
             '<marker id="g" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">'
             '<path d="M0,0L10,5L0,10z" fill="#888"/></marker>'
             '<marker id="r" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto">'
             '<path d="M0,0L10,5L0,10z" fill="#d00"/></marker></defs>',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<text x="{width / 2}" y="28" text-anchor="middle" font-size="15">{title}</text>']
    for (src, dst), n in sorted(pairs.items(), key=lambda item: (item[0] in bad, item[0])):
        if src not in where or dst not in where:
            continue
        (x1, y1), (x2, y2) = where[src], where[dst]
        red = (src, dst) in bad
        bend = 0 if abs(y2 - y1) <= box_h + gap_y or x1 != x2 else 40 + 8 * (abs(y2 - y1) // (box_h + gap_y))
        if red and y2 >= y1 - 1:
            bend = -bend or 30
        sy = y1 + (box_h / 2 if y2 > y1 else -box_h / 2 if y2 < y1 else 0)
        ey = y2 - (box_h / 2 if y2 > y1 else -box_h / 2 if y2 < y1 else 0)
        sx, ex = (x1, x2) if y1 != y2 else (x1 + (box_w / 2 if x2 > x1 else -box_w / 2), x2 - (box_w / 2 if x2 > x1 else -box_w / 2))
        mx, my = (sx + ex) / 2 + bend, (sy + ey) / 2
        color = "#d00" if red else "#888"
        parts.append(f'<path d="M{sx:.0f},{sy:.0f} Q{mx:.0f},{my:.0f} {ex:.0f},{ey:.0f}" fill="none" stroke="{color}" '
                     f'stroke-width="{2.2 if red else 0.8}" opacity="{1 if red else 0.55}" marker-end="url(#{"r" if red else "g"})"/>')
        if red:
            parts.append(f'<text x="{mx:.0f}" y="{my:.0f}" fill="#d00" font-weight="bold">{n}</text>')
    for name, (x, y) in where.items():
        label = "config, errors, jobs, …" if name == SHARED else name
        layer = name in _rank()
        parts.append(f'<rect x="{x - box_w / 2:.0f}" y="{y - box_h / 2:.0f}" width="{box_w}" height="{box_h}" rx="6" '
                     f'fill="{"#e8f0fe" if layer else "#f3f3f3"}" stroke="#345"/>')
        parts.append(f'<text x="{x:.0f}" y="{y + 4:.0f}" text-anchor="middle">{label}</text>')
    for i, note in enumerate(footnotes):
        parts.append(f'<text x="20" y="{height - 18 * (len(footnotes) - i) + 6}" fill="#d00">{note}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(ROOT), help="checkout whose medstation package is read")
    parser.add_argument("--svg", default="", help="write the package graph here")
    parser.add_argument("--title", default="", help="title of the drawing")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    edges = _graph_data(root)["edges"]
    up = upward_imports(edges)
    loops = circles(edges)
    lazy = function_level_imports(root)
    pairs = package_edges(edges)
    print(f"{len(edges)} module imports; {len(up)} upward across the layers; {len(loops)} circles")
    for src, dst in up:
        print(f"  up: {src} -> {dst}")
    for loop in loops:
        print("  circle: " + " <-> ".join(loop))
    packages = sorted({k for k in lazy if isinstance(k, str)})
    total = sum(lazy[p] for p in packages)
    print(f"{total} medstation imports inside functions ({sum(lazy[(p, 'lazy')] for p in packages)} with '# lazy:')")
    for p in packages:
        print(f"  {p}: {lazy[p]} ({lazy[(p, 'lazy')]} with a reason)")
    if args.svg:
        bad = {(_package(s), _package(d)) for s, d in up}
        for loop in loops:
            members = set(loop)
            bad |= {(_package(s), _package(d)) for s, d in edges if s in members and d in members
                    and _package(s) != _package(d)}
        title = args.title or f"medstation packages ({len(up)} upward imports, {len(loops)} circles)"
        Path(args.svg).parent.mkdir(parents=True, exist_ok=True)
        Path(args.svg).write_text(draw_svg(pairs, bad, title, ["circle: " + " &lt;-&gt; ".join(m.removeprefix("medstation.") for m in loop) for loop in loops]), encoding="utf-8")
        print(f"wrote {args.svg}")
    return 1 if up or loops else 0


if __name__ == "__main__":
    raise SystemExit(main())
