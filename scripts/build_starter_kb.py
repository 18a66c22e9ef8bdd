"""Build ``resources/starter_kb/medquad_starter.jsonl``: the MedQuAD subset the app ships and ingests at first start.

Which rows: every answer of two MedQuAD collections that cover common clinical
topics — MedlinePlus Health Topics (981 one-answer topics, A1C to Zika) and
NHLBI (heart, lung and blood diseases, 88 documents). Rows keep MedQuAD's own
fields; runs of whitespace in answers are collapsed (the XML's indentation),
nothing else is changed. Deterministic: the same input gives the same file.

    python scripts/build_starter_kb.py --medquad ../shared/data/medquad/medquad.jsonl
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STARTER_SOURCES = ("MPlusHealthTopics", "NHLBI")
FIELDS = ("collection", "doc_id", "source", "url", "focus", "qid", "qtype", "question", "answer")


def tidy(text: str) -> str:
    """Whitespace runs inside a line -> one space; blank-line runs -> one newline."""
    lines = [re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--medquad", default=str(ROOT.parent / "shared" / "data" / "medquad" / "medquad.jsonl"))
    args = parser.parse_args(argv)
    out = ROOT / "resources" / "starter_kb" / "medquad_starter.jsonl"
    rows = 0
    with open(args.medquad, encoding="utf-8") as source, out.open("w", encoding="utf-8") as sink:
        for line in source:
            row = json.loads(line)
            if row.get("source") not in STARTER_SOURCES or not (row.get("answer") or "").strip():
                continue
            kept = {k: row[k] for k in FIELDS if row.get(k)}
            kept["answer"] = tidy(row["answer"])
            sink.write(json.dumps(kept, ensure_ascii=False) + "\n")
            rows += 1
    print(f"wrote {rows} rows, {out.stat().st_size / 1e6:.2f} MB to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
