"""``notes eval``: draft every row of an aci-bench or MTS-Dialog CSV and score it with ROUGE beside two baselines.

Rows: aci-bench has ``dialogue`` and ``note``; MTS-Dialog has ``dialogue`` and
``section_text``. Baselines, computed on the same rows in the same run:

* ``first_12_doctor_turns`` — the first 12 clinician turns copied (the
  "12 doctor turns" baseline of the ACI-BENCH paper);
* ``lead_sentences`` — the transcript's first sentences (speaker labels
  dropped) up to as many words as the pipeline's draft of that row, so the
  comparison is length-matched.

ROUGE-1/2/L/Lsum are rouge-score F-measures (Porter stemming on) averaged
over rows and reported ×100; Lsum splits on newlines, and every text here has
one sentence per line.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medstation.errors import UserFacingError
from medstation.notes.aci_bench import read_dialogue_rows
from medstation.notes.drafting import DraftOptions, draft_note
from medstation.notes.templates import NoteTemplate
from medstation.notes.transcript import SpeakerRole, Transcript, parse_transcript

METRICS = ("rouge1", "rouge2", "rougeL", "rougeLsum")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class EvalRow:
    row: int
    row_id: str
    dialogue: str
    reference: str


def load_rows(path: Path, limit: int | None = None) -> list[EvalRow]:
    """Rows of an aci-bench (``note``) or MTS-Dialog (``section_text``) CSV; raises UserFacingError otherwise."""
    rows = [EvalRow(r.index, r.encounter_id, r.dialogue, r.note) for r in read_dialogue_rows(path, limit=limit)]
    if not rows:
        raise UserFacingError(f"{path.name} has no rows to evaluate.")
    return rows


def baseline_doctor_turns(transcript: Transcript, n: int = 12) -> str:
    """The first ``n`` clinician turns, one per line."""
    turns = [line.text for line in transcript.lines if line.role is SpeakerRole.clinician][:n]
    return "\n".join(turns)


def baseline_lead(transcript: Transcript, n_words: int) -> str:
    """The transcript's first sentences up to ``n_words`` words (at least one sentence), one per line."""
    out, words = [], 0
    for line in transcript.lines:
        for sentence in _SENTENCE_END.split(line.text):
            if not sentence.strip():
                continue
            if words >= n_words and out:
                return "\n".join(out)
            out.append(sentence.strip())
            words += len(sentence.split())
    return "\n".join(out)


def _scorer():
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)


def score(scorer, prediction: str, reference: str) -> dict[str, float]:
    result = scorer.score(reference, prediction)
    return {m: result[m].fmeasure for m in METRICS}


def _mean(rows: list[dict[str, float]]) -> dict[str, float]:
    return {m: round(100 * sum(r[m] for r in rows) / max(1, len(rows)), 2) for m in METRICS}


def evaluate_csv(ctx, csv_path: Path, out_dir: Path, template: NoteTemplate, *,
                 backend_factory: Callable[[], Any] | None, model_info: dict[str, Any],
                 options: DraftOptions = DraftOptions(), limit: int | None = None) -> dict[str, Any]:
    """Write ``out_dir/drafts.jsonl`` and ``out_dir/summary.json``; returns the summary."""
    rows = load_rows(csv_path, limit)
    out_dir.mkdir(parents=True, exist_ok=True)
    scorer = _scorer()
    started = time.monotonic()
    per: dict[str, list[dict[str, float]]] = {"pipeline": [], "first_12_doctor_turns": [], "lead_sentences": []}
    shares, fallbacks, accepted, rejected, swapped, skipped = [], 0, 0, 0, 0, []
    with (out_dir / "drafts.jsonl").open("w", encoding="utf-8") as out:
        for k, row in enumerate(rows):
            ctx.check()
            ctx.report(k / len(rows), f"Row {k + 1} of {len(rows)}")
            try:
                transcript = parse_transcript(row.dialogue, "dialogue.txt")
            except UserFacingError as exc:
                skipped.append({"row": row.row, "reason": str(exc)})
                continue
            if transcript.roles_look_swapped():
                transcript = transcript.with_roles_swapped()
                swapped += 1
            draft = draft_note(ctx, transcript, template, backend_factory=backend_factory, model_info=model_info,
                               options=options)
            text = draft.to_text()
            baselines = {"first_12_doctor_turns": baseline_doctor_turns(transcript),
                         "lead_sentences": baseline_lead(transcript, len(text.split()))}
            scores = {"pipeline": score(scorer, text, row.reference)}
            scores.update({name: score(scorer, b, row.reference) for name, b in baselines.items()})
            for name, s in scores.items():
                per[name].append(s)
            shares.append(draft.evidence_share)
            fallbacks += int(draft.fallback)
            accepted += draft.provenance.checks["rewrites_accepted"]
            rejected += draft.provenance.checks["rewrites_rejected"]
            out.write(json.dumps({"row": row.row, "id": row.row_id, "draft": draft.to_dict(), "draft_text": text,
                                  "reference": row.reference, "baselines": baselines, "rouge": scores,
                                  "roles_swapped": transcript.roles_swapped}) + "\n")
            out.flush()
    if not per["pipeline"]:
        raise UserFacingError("No row of the CSV could be drafted.")
    summary = {
        "csv": str(csv_path), "rows": len(per["pipeline"]), "skipped": skipped, "template": template.name,
        "template_version": template.version, "model": model_info,
        "rouge": {"package": "rouge-score", "use_stemmer": True, "aggregate": "mean F-measure x 100"},
        "pipeline": {**_mean(per["pipeline"]), "evidence_share": round(sum(shares) / len(shares), 4)},
        "baselines": {name: _mean(per[name]) for name in ("first_12_doctor_turns", "lead_sentences")},
        "fallback_rows": fallbacks, "rewrites_accepted": accepted, "rewrites_rejected": rejected,
        "rows_with_swapped_speakers_corrected": swapped,
        "options": {"use_model": options.use_model, "max_rewrites": options.max_rewrites, "budget_s": options.budget_s},
        "elapsed_s": round(time.monotonic() - started, 1),
        "load_average": list(os.getloadavg()),
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    ctx.report(1.0, "Evaluation finished")
    return summary
