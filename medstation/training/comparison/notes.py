"""A/B of note-drafting (LLM) versions: candidate and active draft the same held-out cases with the Notes pipeline.

Each model drafts every case through :func:`medstation.notes.drafting.draft_note` (the pipeline the
Notes tab uses: evidence selection, bounded model rewrites, fact checks, risk statements) with the
case's template (a built-in or clinic template of that name; anything else, such as aci-bench's
"clinical note", is drafted as ``default_template``). Scores per case, against the signed (or
reference) note: ROUGE-L F1 (rouge-score, stemming) and edit similarity = 1 − word-level Levenshtein
distance / longer length (so higher is better for both). Pairing, bootstrap CI, Wilcoxon, the
per-template breakdown and the decision rule are :mod:`medstation.training.comparison.ab`'s.

Rows (dicts): ``case_key``, ``template``, ``transcript``, ``note`` — the shape of a notes snapshot's
``notes.jsonl`` (:func:`medstation.training.datasets.note_rows`); :func:`aci_csv_rows` and
:func:`shipped_golden_rows` produce the same shape.

A draft that fell back to verbatim quotes (the model could not be loaded or failed) says nothing
about that model: the comparison counts them, and a candidate with any fallback is not recommended.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from medstation.config import resources_dir
from medstation.errors import UserFacingError
from medstation.jobs import JobContext
from medstation.notes.drafting import DraftOptions, draft_note
from medstation.notes.model_choice import load_backend, resolve_version
from medstation.notes.template_store import TemplateStore
from medstation.notes.templates import BUILTIN_TEMPLATES, TemplateError
from medstation.notes.transcript import parse_transcript
from medstation.training.comparison.ab import ComparisonResult, DecisionRule, compare_notes, decide

GOLDEN_FILE = "golden_notes/golden_notes.csv"


@dataclass(frozen=True)
class DraftOutcome:
    """One drafted case: the note text, whether it fell back to quotes, and seconds spent."""

    text: str
    fallback: bool = False
    seconds: float = 0.0


Drafter = Callable[[JobContext, dict], DraftOutcome]


class PipelineDrafter:
    """Drafts rows with the Notes pipeline using one model (a ``ModelChoice``: GGUF plus optional LoRA adapter),
    loaded once on first use. ``templates``: a ``TemplateStore`` (clinic templates), or None for built-ins."""

    def __init__(self, choice, settings, *, templates=None, options=None, default_template: str = "soap") -> None:
        self.choice = choice
        self.settings = settings
        self.options = options or DraftOptions()
        self.templates = templates
        self.default_template = default_template
        self._backend = None

    @classmethod
    def for_version(cls, db, settings, version_id: int, **kwargs) -> "PipelineDrafter":
        """Registry version ``version_id`` (a GGUF model or a LoRA adapter on its base); raises a
        UserFacingError for a version that cannot draft (missing file, not a language model)."""
        return cls(resolve_version(db, version_id), settings, templates=TemplateStore(db), **kwargs)

    def _factory(self):
        if self._backend is None:
            self._backend = load_backend(self.choice, self.settings)
        return self._backend

    def template_for(self, name: str):
        key = (name or "").strip().lower()
        if self.templates is None:
            return BUILTIN_TEMPLATES.get(key) or BUILTIN_TEMPLATES[self.default_template]
        try:
            return self.templates.get(name)
        except TemplateError:
            return self.templates.get(self.default_template)

    def __call__(self, ctx: JobContext, row: dict) -> DraftOutcome:
        start = time.perf_counter()
        transcript = parse_transcript(row["transcript"], "dialogue.txt")
        if transcript.roles_look_swapped():  # as `notes eval` does for aci-bench's swapped speaker tags
            transcript = transcript.with_roles_swapped()
        draft = draft_note(ctx, transcript, self.template_for(row.get("template", "")),
                           backend_factory=self._factory, model_info=self.choice.describe(), options=self.options)
        return DraftOutcome(draft.to_text(), bool(draft.fallback), time.perf_counter() - start)

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
            self._backend = None


def draft_rows(ctx: JobContext, drafter: Drafter, rows: list[dict], *, label: str,
               fraction: tuple[float, float] = (0.0, 1.0)) -> list[DraftOutcome]:
    """``drafter`` on every row, in order, with progress inside ``fraction`` of the job."""
    lo, hi = fraction
    out = []
    for n, row in enumerate(rows):
        ctx.check()
        ctx.report(lo + (hi - lo) * n / max(1, len(rows)), f"{label}: drafting case {n + 1}/{len(rows)}")
        out.append(drafter(_Inner(ctx), row))
    return out


class _Inner:
    """The job's context for one draft: cancellation passes through; the draft's own progress and
    streamed pieces stay inside (the comparison reports per case)."""

    def __init__(self, outer: JobContext) -> None:
        self._outer = outer

    def check(self) -> None:
        self._outer.check()

    @property
    def cancelled(self) -> bool:
        return self._outer.cancelled

    def report(self, fraction: float, message: str = "") -> None:
        pass

    def partial(self, obj) -> None:
        pass


def compare_llm_versions(ctx: JobContext, candidate: Drafter, baseline: Drafter, rows: list[dict], *,
                         candidate_id: int, baseline_id: int, golden_rows: list[dict] | None = None,
                         rule: DecisionRule = DecisionRule(primary="rougeL"), notes: list[str] | None = None
                         ) -> ComparisonResult:
    """Both drafters on ``rows`` (and ``golden_rows``), scored and decided; see the module docstring."""
    if not rows:
        raise UserFacingError("There are no held-out notes to compare the two models on.")
    parts = [("candidate", candidate, rows), ("active", baseline, rows)]
    if golden_rows:
        parts += [("candidate, golden set", candidate, golden_rows), ("active, golden set", baseline, golden_rows)]
    total = sum(len(p[2]) for p in parts)
    drafted, done = [], 0
    for label, drafter, subset in parts:
        drafted.append(draft_rows(ctx, drafter, subset, label=label,
                                  fraction=(done / total, (done + len(subset)) / total)))
        done += len(subset)
    golden = (([d.text for d in drafted[2]], [d.text for d in drafted[3]], golden_rows) if golden_rows else None)
    result = compare_notes([d.text for d in drafted[0]], [d.text for d in drafted[1]], rows,
                           candidate_id=candidate_id, baseline_id=baseline_id, golden=golden, rule=rule)
    fell_back = {"candidate": sum(d.fallback for part in drafted[0::2] for d in part),
                 "active": sum(d.fallback for part in drafted[1::2] for d in part)}
    seconds = {"candidate": round(sum(d.seconds for part in drafted[0::2] for d in part), 1),
               "active": round(sum(d.seconds for part in drafted[1::2] for d in part), 1)}
    extra = list(notes or [])
    extra.append(f"drafted with the Notes pipeline; seconds drafting: candidate {seconds['candidate']}, "
                 f"active {seconds['active']}")
    extra.append("edit_similarity = 1 - word-level edit distance / longer length (higher is closer to the reference)")
    for who, n in fell_back.items():
        if n:
            extra.append(f"{n} {who} drafts fell back to verbatim quotes (the model could not be loaded or failed)")
    result = dataclasses.replace(result, notes=list(result.notes) + extra)
    if fell_back["candidate"]:  # a blocker the decision keeps when the gate decides again at promotion
        result = decide(dataclasses.replace(result, blockers=[
            f"{fell_back['candidate']} candidate drafts fell back to verbatim quotes, so its scores do not "
            "measure the model"]), rule)
    return result


def draftable(rows: list[dict]) -> tuple[list[dict], int]:
    """Rows whose transcript the Notes pipeline can read (others would fail for both models), and how many not."""
    kept = []
    for row in rows:
        try:
            parse_transcript(row["transcript"], "dialogue.txt")
        except UserFacingError:
            continue
        kept.append(row)
    return kept, len(rows) - len(kept)


def _sha(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()


def drop_trained_on(golden_rows: list[dict], training_rows: list[dict]) -> tuple[list[dict], int]:
    """Golden rows whose transcript is not among ``training_rows``' transcripts, and how many were dropped."""
    seen = {_sha(r.get("transcript", "")) for r in training_rows}
    kept = [r for r in golden_rows if _sha(r["transcript"]) not in seen]
    return kept, len(golden_rows) - len(kept)


def _csv_rows(path: Path, *, key_prefix: str, default_template: str, limit: int | None = None) -> list[dict]:
    csv.field_size_limit(50_000_000)
    try:
        with Path(path).open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = {"dialogue", "note"} - set(reader.fieldnames or ())
            if missing:
                raise UserFacingError(f"{Path(path).name} lacks the column(s) {', '.join(sorted(missing))} "
                                      "of an aci-bench CSV (dataset, encounter_id, dialogue, note).")
            rows = []
            for i, rec in enumerate(reader):
                if limit is not None and len(rows) >= limit:
                    break
                if not (rec.get("dialogue") or "").strip() or not (rec.get("note") or "").strip():
                    continue
                rows.append({"case_key": f"{key_prefix}{rec.get('encounter_id') or i}",
                             "template": (rec.get("template") or default_template).strip(),
                             "transcript": rec["dialogue"], "note": rec["note"]})
    except OSError as exc:
        raise UserFacingError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    return rows


def aci_csv_rows(path: Path, limit: int | None = None) -> list[dict]:
    """Every row of an aci-bench-format CSV as a comparison row (template "clinical note" unless a column says)."""
    return _csv_rows(path, key_prefix="", default_template="clinical note", limit=limit)


def shipped_golden_rows() -> list[dict]:
    """The golden set shipped in ``resources/golden_notes`` (synthetic transcripts written for MedStation)."""
    path = resources_dir() / GOLDEN_FILE
    return _csv_rows(path, key_prefix="golden:", default_template="soap") if path.is_file() else []
