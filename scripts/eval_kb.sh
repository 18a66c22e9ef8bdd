#!/usr/bin/env bash
# Retrieval evaluation of the knowledge base on MedQuAD, all three modes in one process
# (the questions are embedded once and shared by the dense and hybrid runs).
#
#   scripts/eval_kb.sh KB_HOME QUESTIONS.jsonl OUT_DIR [SAMPLE] [K]
#
# KB_HOME is an ingested MEDSTATION_HOME (medstation kb ingest ../shared/data/medquad/medquad.jsonl).
# SAMPLE > 0 evaluates a seeded random sample of that many questions (0 = all). Writes
# OUT_DIR/<mode>/{per_question.jsonl,summary.json} and prints one line per mode.
# The same per-mode files come from `medstation kb eval --mode MODE` one mode at a time.
set -euo pipefail
cd "$(dirname "$0")/.."
HOME_DIR=${1:?KB_HOME}; QUESTIONS=${2:?QUESTIONS.jsonl}; OUT=${3:?OUT_DIR}; SAMPLE=${4:-0}; K=${5:-5}
MEDSTATION_HOME="$HOME_DIR" HF_HUB_OFFLINE=1 ANONYMIZED_TELEMETRY=False .venv/bin/python - "$QUESTIONS" "$OUT" "$SAMPLE" "$K" <<'PY'
import json, random, sys, time
from pathlib import Path
from medstation.app import build_services
from medstation.jobs import print_progress_context
from medstation.rag.evaluation import evaluate, read_questions

questions, out, sample, k = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
out.mkdir(parents=True, exist_ok=True)
if sample > 0:
    rows, skipped = read_questions(questions)
    random.Random(0).shuffle(rows)
    questions = out / f"questions_sample{sample}.jsonl"
    questions.write_text("".join(json.dumps(r) + "\n" for r in rows[:sample]))
    print(f"sampled {sample} of {len(rows)} questions (seed 0) into {questions}")
services = build_services()
kb = services.extra["kb"]
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
