"""False risk alarms on ordinary medical visits: aci-bench doctor–patient dialogues (no risk in any of them).

    python benchmarks/eval_risk_visits.py [--data ../shared/data/aci-bench] [--split dev|test|all]
                                          [--baseline REV] [--misses] [--json OUT]

Every aci-bench visit (train and valid files, 87 dialogues) is one transcript (``[doctor]`` / ``[patient]``
turns) through ``risk_flags(detect_risks(...))``. None of them states a suicide, self-harm, homicide,
abuse, overdose or lethal-means risk, so every flag needing acknowledgement is a false alarm. Reported:
dialogues with any such flag, and transcript lines behind a flag per 1000 lines.

Split, fixed before any tuning (session 5): a visit is in the test half when
``int(sha256(encounter_id), 16) % 2 == 1``, else dev. Tune on dev (``--misses`` lists dev's flagged lines
only); report test. ``--baseline REV`` also measures the code of git revision REV (its ``medstation``
package exported with ``git archive``) in a subprocess, on the same dialogues in the same run.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# ../shared/data from the main checkout; ../../shared/data from a worktree under /work/wt.
DATA = next((p / "shared" / "data" / "aci-bench" for p in (ROOT.parent, ROOT.parent.parent)
             if (p / "shared" / "data" / "aci-bench").is_dir()), ROOT.parent / "shared" / "data" / "aci-bench")
DETECTOR_FLAG = "semantic_detector_unavailable"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from baseline import code_path  # noqa: E402

sys.path.insert(0, code_path())


def split_of(encounter_id: str) -> str:
    return "test" if int(hashlib.sha256(encounter_id.encode()).hexdigest(), 16) % 2 == 1 else "dev"


def load_visits(data: Path) -> list[dict]:
    """``[{"id", "file", "split", "dialogue"}]`` of every visit in ``data``'s train.csv and valid.csv."""
    visits = []
    for name in ("train.csv", "valid.csv"):
        with (data / name).open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                visits.append({"id": row["encounter_id"], "file": name, "split": split_of(row["encounter_id"]),
                               "dialogue": row["dialogue"]})
    return visits


def evaluate(visits: list[dict]) -> dict:
    """``{"totals": {...}, "rows": [...]}``; a row per visit with its flagged lines and why."""
    from medstation.notes.risk import detect_risks, risk_flags
    from medstation.notes.transcript import parse_transcript

    rows, n_lines, notes = [], 0, set()
    for visit in visits:
        transcript = parse_transcript(visit["dialogue"], "visit.txt")
        flags = risk_flags(detect_risks(transcript))
        notes |= {f.why for f in flags if f.category == DETECTOR_FLAG}
        raised = [f for f in flags if f.needs_acknowledgement and f.category != DETECTOR_FLAG]
        text = {line.number: f"[{line.speaker}] {line.text}" for line in transcript.lines}
        flagged = sorted({n for f in raised for n in f.lines})
        n_lines += len(transcript.lines)
        rows.append({"id": visit["id"], "file": visit["file"], "lines": len(transcript.lines),
                     "flagged_lines": [{"line": n, "text": text.get(n, "")} for n in flagged],
                     "flags": [{"category": f.category, "why": f.why} for f in raised]})
    flagged_lines = sum(len(r["flagged_lines"]) for r in rows)
    totals = {"dialogues": len(rows), "dialogues_flagged": sum(bool(r["flags"]) for r in rows),
              "lines": n_lines, "lines_flagged": flagged_lines,
              "lines_flagged_per_1000": 1000 * flagged_lines / max(1, n_lines)}
    return {"totals": totals, "rows": rows, "detector_notes": sorted(notes)}


def summary(result: dict, title: str) -> str:
    t = result["totals"]
    out = (f"{title}: {t['dialogues_flagged']} / {t['dialogues']} dialogues flagged; {t['lines_flagged']} of "
           f"{t['lines']} lines flagged ({t['lines_flagged_per_1000']:.1f} per 1000)")
    by_file = {}
    for r in result["rows"]:
        n, k = by_file.get(r["file"], (0, 0))
        by_file[r["file"]] = (n + 1, k + bool(r["flags"]))
    out += " [" + ", ".join(f"{f}: {k}/{n} dialogues" for f, (n, k) in sorted(by_file.items())) + "]"
    if result.get("detector_notes"):
        out += "\nDETECTOR NOTICE: " + " | ".join(result["detector_notes"])
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=str(DATA))
    p.add_argument("--split", choices=("dev", "test", "all"), default="dev")
    p.add_argument("--baseline", default="", help="git revision to measure beside this checkout (e.g. ba9a5bd)")
    p.add_argument("--misses", action="store_true", help="list flagged lines (dev only: never tune on test)")
    p.add_argument("--json", default="")
    args = p.parse_args(argv)
    visits = load_visits(Path(args.data))
    splits = ("dev", "test") if args.split == "all" else (args.split,)
    out = {}
    for split in splits:
        mine = [v for v in visits if v["split"] == split]
        t0 = time.perf_counter()
        out[split] = evaluate(mine)
        print(summary(out[split], f"{split} half, this checkout ({time.perf_counter() - t0:.0f} s)"))
        if args.baseline:
            from baseline import run_at_revision

            base = run_at_revision(args.baseline, Path(__file__).name,
                                   ["--data", str(Path(args.data).resolve()), "--split", split])
            out[f"{split}@{args.baseline}"] = base
            print(summary(base[split], f"{split} half, {args.baseline}"))
        if args.misses and split == "dev":
            for r in out[split]["rows"]:
                for line in r["flagged_lines"]:
                    print(f"  {r['id']} {line['line']}: {line['text'][:150]}")
                for f in r["flags"]:
                    print(f"      {f['category']}: {f['why'][:220]}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
