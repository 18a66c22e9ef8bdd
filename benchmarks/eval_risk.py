"""Risk detection on the written evaluation set: recall per risk category, false alarms per look-alike kind.

    python benchmarks/eval_risk.py [--file tests/data/risk_statements.jsonl] [--split dev|test|all]
                                   [--baseline REV] [--json OUT]

Each statement becomes a one-line client transcript (``[client] text``) and goes through
``risk_flags(detect_risks(...))`` — the public API, so the same script measures an older revision:
``--baseline ba9a5bd`` exports that revision's ``medstation`` (``git archive``) and runs this script on it
in a subprocess, in the same run, on the same statements.

A risk statement counts as found when any flag needing acknowledgement is raised on it (``right
category`` also reports whether that flag's category matches the statement's group). A denial or
benign line counts as a false alarm when any flag needing acknowledgement is raised. Tune on ``dev``;
report ``test``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GROUP = {"passive_wish": "suicidal_ideation", "active_ideation": "suicidal_ideation", "method": "suicidal_ideation",
         "intent": "suicidal_ideation", "plan": "suicidal_ideation", "preparatory": "suicidal_ideation",
         "self_harm": "self_harm", "homicidal": "homicidal_ideation", "overdose": "overdose",
         "lethal_means": "lethal_means"}
DETECTOR_FLAG = "semantic_detector_unavailable"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from baseline import code_path  # noqa: E402

sys.path.insert(0, code_path())


def evaluate(items: list[dict]) -> dict:
    """``{"rows": [...], "by_category": {cat: {...}}, "totals": {...}}`` for ``items`` (dicts of the set)."""
    from medstation.notes.risk import detect_risks, risk_flags
    from medstation.notes.transcript import parse_transcript

    rows, detector_notes = [], set()
    for item in items:
        flags = risk_flags(detect_risks(parse_transcript(f"[client] {item['text']}", "item.txt")))
        detector_notes |= {getattr(f, "why", "") for f in flags if f.category == DETECTOR_FLAG}
        raised = [f for f in flags if f.needs_acknowledgement and f.category != DETECTOR_FLAG]
        group = GROUP.get(item["category"], "abuse" if item["label"] == "risk" else "none")  # label: risk or not
        rows.append({**item, "flagged": bool(raised), "right_category": any(f.category == group for f in raised),
                     "flags": [{"category": f.category, "status": f.status.value, "why": getattr(f, "why", "")}
                               for f in flags]})
    by_cat: dict[str, dict] = defaultdict(lambda: {"n": 0, "flagged": 0, "right_category": 0})
    for r in rows:
        c = by_cat[r["category"]]
        c["label"] = r["label"]
        c["n"] += 1
        c["flagged"] += r["flagged"]
        c["right_category"] += r["right_category"]
    risk = [r for r in rows if r["label"] == "risk"]
    none = [r for r in rows if r["label"] != "risk"]  # "none", or "denial" / "benign" in the v3 set
    totals = {"risk_n": len(risk), "recall": sum(r["flagged"] for r in risk) / max(1, len(risk)),
              "category_accuracy": sum(r["right_category"] for r in risk) / max(1, len(risk)),
              "none_n": len(none), "false_alarm_rate": sum(r["flagged"] for r in none) / max(1, len(none))}
    return {"rows": rows, "by_category": dict(by_cat), "totals": totals, "detector_notes": sorted(detector_notes)}


def table(result: dict, title: str) -> str:
    out = [f"## {title}", "", "| category | kind | n | flagged | rate | right category |", "|---|---|---|---|---|---|"]
    for cat, c in sorted(result["by_category"].items(), key=lambda kv: (kv[1]["label"] != "risk", kv[0])):
        metric = "recall" if c["label"] == "risk" else "false alarms"
        right = f"{c['right_category']}/{c['n']}" if c["label"] == "risk" else ""
        out.append(f"| {cat} | {metric} | {c['n']} | {c['flagged']} | {c['flagged'] / c['n']:.2f} | {right} |")
    t = result["totals"]
    out += ["", f"Recall on risk statements: {t['recall']:.3f} (n={t['risk_n']}; right category "
            f"{t['category_accuracy']:.3f}). False-alarm rate on denials and benign lines: "
            f"{t['false_alarm_rate']:.3f} (n={t['none_n']})."]
    if result.get("detector_notes"):
        out.append("DETECTOR NOTICE: " + " | ".join(result["detector_notes"]))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--file", "--data", dest="data", default=str(ROOT / "tests" / "data" / "risk_statements.jsonl"))
    p.add_argument("--split", choices=("dev", "test", "all"), default="dev")
    p.add_argument("--json", default="", help="write per-item results here")
    p.add_argument("--baseline", default="", help="git revision to measure beside this checkout (e.g. ba9a5bd)")
    p.add_argument("--misses", action="store_true",
                   help="list misses and false alarms (never on a held-out set's test half)")
    args = p.parse_args(argv)
    items = [json.loads(line) for line in Path(args.data).read_text(encoding="utf-8").splitlines() if line.strip()]
    splits = ("dev", "test") if args.split == "all" else (args.split,)
    results = {}
    for split in splits:
        t0 = time.perf_counter()
        results[split] = evaluate([i for i in items if i["split"] == split])
        elapsed = time.perf_counter() - t0
        print(table(results[split], f"{split} half ({Path(args.data).name}, {elapsed:.1f} s)"), "\n")
        if args.baseline:
            from baseline import run_at_revision

            base = run_at_revision(args.baseline, Path(__file__).name,
                                   ["--file", str(Path(args.data).resolve()), "--split", split])[split]
            results[f"{split}@{args.baseline}"] = base
            print(table(base, f"{split} half ({Path(args.data).name}), code at {args.baseline}"), "\n")
        if args.misses:
            for r in results[split]["rows"]:
                if r["flagged"] != (r["label"] == "risk"):
                    print(f"  {'MISS' if r['label'] == 'risk' else 'FALSE ALARM'} [{r['category']}] {r['text']}")
                    for f in r["flags"]:
                        print(f"      {f['category']} {f['status']}: {f['why'][:160]}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
