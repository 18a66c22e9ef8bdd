#!/usr/bin/env bash
# Retrieval evaluation of the knowledge base on MedQuAD, all three modes in one process
# (the questions are embedded once and shared by the dense and hybrid runs).
#
#   scripts/eval_kb.sh KB_HOME QUESTIONS.jsonl OUT_DIR [SAMPLE] [K]
#
# KB_HOME is an ingested MEDSTATION_HOME (medstation kb ingest ../shared/data/medquad/medquad.jsonl).
# SAMPLE > 0 evaluates a seeded random sample of that many questions (0 = all). Writes
# OUT_DIR/<mode>/{per_question.jsonl,summary.json} and prints one line per mode.
# KB_EVAL_ONLY_INGESTED=1 keeps only questions whose document is ingested (for a partial base; say so).
# The same per-mode files come from `medstation kb eval --mode MODE` one mode at a time.
set -euo pipefail
cd "$(dirname "$0")/.."
HOME_DIR=${1:?KB_HOME}; QUESTIONS=${2:?QUESTIONS.jsonl}; OUT=${3:?OUT_DIR}; SAMPLE=${4:-0}; K=${5:-5}
MEDSTATION_HOME="$HOME_DIR" HF_HUB_OFFLINE=1 ANONYMIZED_TELEMETRY=False .venv/bin/python - "$QUESTIONS" "$OUT" "$SAMPLE" "$K" <<'PY'
import json, os, random, sys, time
from pathlib import Path
from medstation.app import build_services
from medstation.jobs import print_progress_context
from medstation.rag.evaluation import evaluate, read_questions

questions, out, sample, k = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
out.mkdir(parents=True, exist_ok=True)
services = build_services()
kb = services.kb
only_ingested = os.environ.get("KB_EVAL_ONLY_INGESTED") == "1"
if sample > 0 or only_ingested:
    rows, skipped = read_questions(questions)
    if only_ingested:  # a partially ingested corpus: keep questions whose source document is in the base
        from sqlmodel import select
        from medstation.store.tables import KbDocument
        with services.db.session() as s:
            keys = set(s.exec(select(KbDocument.doc_key)).all())
        total = len(rows)
        rows = [r for r in rows if f"{r.get('source')}/{r['doc_id']}" in keys]
        print(f"only ingested documents: {len(rows)} of {total} questions, {len(keys)} documents")
    random.Random(0).shuffle(rows)
    rows = rows[:sample] if sample > 0 else rows
    questions = out / "questions_used.jsonl"
    questions.write_text("".join(json.dumps(r) + "\n" for r in rows))
    print(f"evaluating {len(rows)} questions (seed 0 shuffle) from {questions}")
if kb.is_empty():
    sys.exit(kb.empty_message())
print(kb.current_version().describe())
for mode in ("bm25", "dense", "hybrid"):
    t0 = time.perf_counter()
    s = evaluate(print_progress_context(), kb, questions, out / mode, k=k, mode=mode)
    print(f"{mode:<7} n={s.n} skipped={s.skipped} hit@1={s.hit_at_1:.4f} hit@{k}={s.hit_at_k:.4f} MRR={s.mrr:.4f} | "
          f"strict(source+doc_id) hit@1={s.strict_hit_at_1:.4f} hit@{k}={s.strict_hit_at_k:.4f} "
          f"MRR={s.strict_mrr:.4f} | mean search {s.mean_search_ms:.1f} ms | {time.perf_counter() - t0:.0f} s", flush=True)
services.close()
PY
