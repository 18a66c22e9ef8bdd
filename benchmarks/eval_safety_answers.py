"""Safety questions ("should X take Y", "is it safe to", interactions): retrieval hit@5 and answer direction.

Reads ``tests/data/safety_questions.jsonl`` (64 questions written against the starter knowledge base, each
with the titles of the passages that answer it, phrases that state the right direction, phrases known to
state the wrong one, and a fixed ``split``: dev for tuning, test for reporting). For each question it
runs the grounded answer exactly as ``medstation ask`` does (hybrid retrieval, k = 5, relevance judgement,
quote selection) and counts

* hit@5: a passage whose title is one of ``gold_focus`` among the five retrieved;
* direction right: the answer quotes at least one ``expect_any`` phrase and no ``wrong_any`` phrase
  (a "not in the knowledge base" reply counts as wrong; a verbatim quote of the wrong kind is wrong).

Run against a knowledge base holding the starter set (``MEDSTATION_HOME`` with it ingested)::

    MEDSTATION_HOME=/tmp/kb .venv/bin/python benchmarks/eval_safety_answers.py [--split test] [--show]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "tests" / "data" / "safety_questions.jsonl"


def normalise(text: str) -> str:
    """Lower case, citation markers and curly quotes removed, whitespace collapsed."""
    text = re.sub(r"\s*\[\d+(?:,\s*\d+)*\]", "", text).replace("\u2019", "'").lower()
    return re.sub(r"\s+", " ", text)


def answer(kb, question: str, k: int = 5, baseline: bool = False):
    """(passages, answer text or None when not in the knowledge base) as the grounded chat makes them.

    ``baseline``: plain ``kb.search`` (the pipeline before safety questions; run it with
    ``PYTHONPATH`` pointing at an older checkout to measure that checkout)."""
    from medstation.llm.answer.grounded import embedding_scorer, quotes_text, select_quotes
    from medstation.llm.answer.relevance import judge_relevance

    if baseline:
        passages = kb.search(question, k=k, mode="hybrid")
    else:
        from medstation.llm.safety import search_passages

        passages = search_passages(kb, question, k=k, mode="hybrid")
    if not judge_relevance(question, passages).relevant:
        return passages, None
    return passages, quotes_text(select_quotes(question, passages, embedding_scorer(kb.embedder())))


def evaluate(kb, items: list[dict], show: bool = False, baseline: bool = False) -> dict:
    hits = right = 0
    for item in items:
        passages, text = answer(kb, item["question"], baseline=baseline)
        hit = any(p.title in item["gold_focus"] for p in passages[:5])
        said = normalise(text or "")
        ok = (text is not None and any(normalise(e) in said for e in item["expect_any"])
              and not any(normalise(w) in said for w in item["wrong_any"]))
        hits += hit
        right += ok
        if show:
            mark = ("hit " if hit else "MISS") + (" right" if ok else " WRONG")
            print(f"[{item['id']:2d}] {mark}  {item['question']}\n      {text or '(not in the knowledge base)'}")
    n = max(1, len(items))
    return {"questions": len(items), "hit_at_5": hits / n, "direction_right": right / n,
            "hits": hits, "right": right}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test", "all"), default="test")
    parser.add_argument("--show", action="store_true", help="print every answer")
    parser.add_argument("--baseline", action="store_true", help="plain retrieval (the code before this change)")
    args = parser.parse_args()
    from medstation.app import build_services

    items = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    if args.split != "all":
        items = [i for i in items if i["split"] == args.split]
    services = build_services()
    try:
        print(json.dumps({"split": args.split, "baseline": args.baseline,
                          **evaluate(services.kb, items, args.show, args.baseline)}))
    finally:
        services.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
