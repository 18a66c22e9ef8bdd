"""Cross-validated risk detection: how the semantic detector does on statements it was NOT trained on.

    python benchmarks/cv_risk.py [--scheme files|groups|both] [--set NAME=VALUE ...] [--misses]

The two written statement sets (tests/data/risk_statements.jsonl, "A", and risk_statements_v3.jsonl, "B")
are development data: the shipped detector trains on them. To measure generalisation honestly, each fold
builds a fresh :class:`SemanticRiskModel` on the exemplars plus the training statements and runs the full
detector (patterns + semantic pass, the public ``detect_risks``/``risk_flags``) on the held-out ones:

* ``files``: train on exemplars + A, test on all of B; and the reverse (a fresh set by another writer is
  the case this mimics);
* ``groups``: 5-fold GroupKFold over A ∪ B, one group per (file, category), so a held-out category of one
  file is never seen in training (the other file's version of it may be).

``--set RISK_THRESHOLD=0.2`` overrides a constant of ``risk_semantic`` for the run (to choose it by CV).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SETS = {"A": ROOT / "tests" / "data" / "risk_statements.jsonl", "B": ROOT / "tests" / "data" / "risk_statements_v3.jsonl"}


class MemoEmbedder:
    """The bundled embedder with a per-text cache (every fold re-embeds the same sentences)."""

    def __init__(self, cache: str = ""):
        from medstation.rag.embedder import Embedder

        self._inner, self._cache, self._file = Embedder(), {}, cache
        if cache and Path(cache).is_file():
            data = np.load(cache, allow_pickle=False)
            self._cache = dict(zip(data["texts"].tolist(), data["vectors"]))

    def save(self):
        if self._file and self._cache:
            np.savez(self._file, texts=np.array(list(self._cache)), vectors=np.stack(list(self._cache.values())))

    def encode(self, texts):
        todo = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if todo:
            for t, v in zip(todo, np.asarray(self._inner.encode(todo), dtype=np.float32)):
                self._cache[t] = v
        return np.stack([self._cache[t] for t in texts])


def load_sets() -> list[dict]:
    rows = []
    for name, path in SETS.items():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append({**json.loads(line), "file": name})
    return rows


def evaluate_fold(train: list[dict], test: list[dict], embedder, base_rows: list[dict]) -> list[dict]:
    from medstation.notes.risk import detect_risks, risk_flags
    from medstation.notes.risk_semantic import SemanticRiskModel, statement_rows
    from medstation.notes.transcript import parse_transcript

    model = SemanticRiskModel(embedder=embedder, rows=base_rows + statement_rows(train))
    out = []
    for item in test:
        flags = risk_flags(detect_risks(parse_transcript(f"[client] {item['text']}", "item.txt"), semantic=model))
        raised = [f for f in flags if f.needs_acknowledgement]
        out.append({**item, "flagged": bool(raised), "why": "; ".join(f.why[:140] for f in raised)})
    return out


def folds(rows: list[dict], scheme: str):
    if scheme == "files":
        for held in SETS:
            yield f"train {'+'.join(n for n in SETS if n != held)} test {held}", \
                [r for r in rows if r["file"] != held], [r for r in rows if r["file"] == held]
    else:
        from sklearn.model_selection import GroupKFold

        groups = [f"{r['file']}:{r['category']}" for r in rows]
        for k, (tr, te) in enumerate(GroupKFold(n_splits=5).split(rows, groups=groups)):
            yield f"group fold {k}", [rows[i] for i in tr], [rows[i] for i in te]


def summarise(results: list[dict]) -> dict:
    by = defaultdict(lambda: [0, 0])
    for r in results:
        by[(r["label"] == "risk", r["category"])][0] += r["flagged"]
        by[(r["label"] == "risk", r["category"])][1] += 1
    risk = [r for r in results if r["label"] == "risk"]
    none = [r for r in results if r["label"] != "risk"]
    return {"recall": sum(r["flagged"] for r in risk) / max(1, len(risk)), "risk_n": len(risk),
            "false_alarms": sum(r["flagged"] for r in none) / max(1, len(none)), "none_n": len(none),
            "by_category": {c: f"{f}/{n}" for (_, c), (f, n) in sorted(by.items(), key=lambda kv: (not kv[0][0], kv[0][1]))}}


def visits_dev(embedder, train_rows: list[dict], show: bool) -> dict:
    """Flagged lines on the dev half of the aci-bench visits (ordinary medical talk: every flag is false)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from eval_risk_visits import DATA, load_visits, split_of
    from medstation.notes.risk import detect_risks, risk_flags
    from medstation.notes.risk_semantic import SemanticRiskModel
    from medstation.notes.transcript import parse_transcript

    model = SemanticRiskModel(embedder=embedder, rows=train_rows)
    visits = [v for v in load_visits(DATA) if split_of(v["id"]) == "dev"]
    n_lines = n_flagged = dialogues = 0
    for v in visits:
        t = parse_transcript(v["dialogue"], "visit.txt")
        raised = [f for f in risk_flags(detect_risks(t, semantic=model)) if f.needs_acknowledgement]
        lines = {n for f in raised for n in f.lines}
        n_lines, n_flagged, dialogues = n_lines + len(t.lines), n_flagged + len(lines), dialogues + bool(raised)
        if show:
            for f in raised:
                print(f"  VISIT {v['id']} {f.why[:220]}")
    out = {"dialogues": len(visits), "dialogues_flagged": dialogues, "lines": n_lines, "lines_flagged": n_flagged,
           "per_1000": 1000 * n_flagged / max(1, n_lines)}
    print(f"== visits dev: {dialogues}/{len(visits)} dialogues flagged, {n_flagged} of {n_lines} lines "
          f"({out['per_1000']:.1f} per 1000)")
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--scheme", choices=("files", "groups", "both"), default="both")
    p.add_argument("--set", action="append", default=[], help="NAME=VALUE: override a risk_semantic constant")
    p.add_argument("--misses", action="store_true")
    p.add_argument("--exemplars-only", action="store_true",
                   help="train each fold on the exemplars only (the detector as it was: the reference)")
    p.add_argument("--json", default="")
    p.add_argument("--visits", action="store_true",
                   help="also: flagged lines on the DEV half of aci-bench visits (model trained on everything)")
    p.add_argument("--cache", default="", help="an .npz file caching sentence embeddings between runs")
    args = p.parse_args(argv)
    from medstation.notes import risk_semantic as rs

    for assignment in args.set:
        name, value = assignment.split("=", 1)
        setattr(rs, name, type(getattr(rs, name))(value) if not isinstance(getattr(rs, name), bool) else value == "1")
    base_rows = rs.load_exemplars() + ([] if args.exemplars_only else
                                       rs.load_exemplars(rs.VISIT_EXEMPLARS) + rs.load_exemplars(rs.VARIED_EXEMPLARS))
    embedder, rows, report = MemoEmbedder(args.cache), load_sets(), {}
    for scheme in (("files", "groups") if args.scheme == "both" else (args.scheme,)):
        results = []
        for name, train, test in folds(rows, scheme):
            fold = evaluate_fold([] if args.exemplars_only else train, test, embedder, base_rows)
            s = summarise(fold)
            print(f"{scheme} | {name}: recall {s['recall']:.3f} (n={s['risk_n']}), false alarms "
                  f"{s['false_alarms']:.3f} (n={s['none_n']})")
            results += fold
        s = summarise(results)
        report[scheme] = s
        print(f"== {scheme} pooled: recall {s['recall']:.3f} (n={s['risk_n']}), false alarms {s['false_alarms']:.3f} "
              f"(n={s['none_n']})")
        print("   " + ", ".join(f"{c} {v}" for c, v in s["by_category"].items()))
        if args.misses:
            for r in results:
                if r["flagged"] != (r["label"] == "risk"):
                    print(f"  {'MISS' if r['label'] == 'risk' else 'FA  '} {r['file']} [{r['category']}] {r['text']}"
                          + (f"\n        {r['why']}" if r["flagged"] else ""))
    if args.visits:
        report["visits_dev"] = visits_dev(embedder, base_rows + rs.statement_rows(rows), args.misses)
    embedder.save()
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
