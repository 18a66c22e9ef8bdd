"""Hard negatives for the semantic risk detector, mined from the DEV half of the aci-bench visits.

    python benchmarks/mine_visit_negatives.py [--threshold 0.25] [--cache EMB.npz]

Ordinary doctor-patient talk states no risk (see eval_risk_visits.py), yet long visit turns about pills,
falls, cuts and family drew false flags. Every sentence of a dev-half visit (split fixed in
eval_risk_visits.split_of) that the detector trained on the exemplars and statements scores at
``--threshold`` risk probability or more is written to medstation/notes/risk_exemplars_visits.jsonl as a
``benign`` training row. The test half is never read here: eval_risk_visits.py --split test reports it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
OUT = ROOT / "medstation" / "notes" / "risk_exemplars_visits.jsonl"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threshold", type=float, default=0.25)
    p.add_argument("--cache", default="")
    args = p.parse_args(argv)
    from cv_risk import MemoEmbedder
    from eval_risk_visits import DATA, load_visits, split_of
    from medstation.notes import risk_semantic as rs
    from medstation.notes.transcript import parse_transcript

    embedder = MemoEmbedder(args.cache)
    model = rs.SemanticRiskModel(embedder=embedder, rows=[r for path in (rs.EXEMPLARS, rs.STATEMENT_EXEMPLARS)
                                                          for r in rs.load_exemplars(path)])
    sentences = []
    for visit in load_visits(DATA):
        if split_of(visit["id"]) != "dev":
            continue
        for line in parse_transcript(visit["dialogue"], "visit.txt").lines:
            sentences += [rs.detokenise(line.text[a:b]) for a, b in rs.split_sentences(line.text)
                          if rs.word_count(line.text[a:b]) >= 3]
    sentences = list(dict.fromkeys(sentences))
    scores = model.score(sentences)
    mined = [s.text for s in scores if s.p_risk >= args.threshold]
    OUT.write_text("".join(json.dumps({"text": t, "kind": "benign", "category": "none"}) + "\n" for t in mined),
                   encoding="utf-8")
    embedder.save()
    print(f"{len(mined)} of {len(sentences)} dev-visit sentences at risk probability >= {args.threshold} -> {OUT.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
