"""Shadow cases against what the user kept: the signed note, the accepted mask; per-candidate summaries.

:func:`resolve_outcomes` scores every finished shadow case whose reference now
exists, once: a note case against the note's signed text (ROUGE-L and edit
similarity of both the active and the candidate draft), a segmentation case
against the accepted segment of the same series whose prompts hold the same
slice and box (Dice of both masks on that slice). It runs at sign-off and
whenever the Admin tab reads the summary, so no case is missed.

:func:`paired_cases` turns resolved cases into the per-case rows that
:func:`medstation.training.comparison.ab.compare_cases` takes, so a shadow comparison
goes through the same statistics and decision rule as an offline A/B.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timezone

import numpy as np
from sqlmodel import select

from medstation.segmentation import metrics
from medstation.segmentation.records import read_npz
from medstation.store.tables import Segmentation, SegmentationStatus, SessionNote, ShadowCase
from medstation.training.canary.shadow import ShadowStatus
from medstation.training.comparison.ab import DecisionRule, compare_cases
from medstation.training.comparison.stats import edit_similarity, paired_summary, rouge_l

METRICS = {"segmentation": ("dice",), "llm": ("rougeL", "edit_similarity")}
BOX_TOLERANCE_PX = 0.5  # the same prompt box, after a float round trip through JSON


def _note_outcome(s, case: ShadowCase) -> dict | None:
    note = s.get(SessionNote, case.context.get("note_id"))
    if note is None or note.status != "signed":
        return None
    signed = note.signed_text
    return {"reference": "signed", "reference_id": int(note.id),
            "active": {"rougeL": round(rouge_l(case.active_output, signed), 5),
                       "edit_similarity": round(edit_similarity(case.active_output, signed), 5)},
            "candidate": {"rougeL": round(rouge_l(case.candidate_output, signed), 5),
                          "edit_similarity": round(edit_similarity(case.candidate_output, signed), 5)}}


def _same_prompt(entry: dict, slice_index: int, box: list[float]) -> bool:
    other = entry.get("box")
    return (entry.get("slice") == slice_index and other is not None and len(other) == 4
            and all(abs(float(a) - float(b)) <= BOX_TOLERANCE_PX for a, b in zip(other, box)))


def _mask_outcome(s, case: ShadowCase) -> dict | None:
    k, box = int(case.context["slice"]), [float(v) for v in case.context["box"]]
    rows = s.exec(select(Segmentation).where(Segmentation.series_uid == case.context["series_uid"])
                  .where(Segmentation.status == SegmentationStatus.accepted).order_by(Segmentation.id)).all()
    for row in rows:
        if not any(_same_prompt(p, k, box) for p in row.prompts):
            continue
        try:
            accepted = read_npz(row.mask_path, row.mask_sha256)[k].astype(bool)
            with np.load(case.mask_path, allow_pickle=False) as masks:
                active, candidate = masks["active"].astype(bool), masks["candidate"].astype(bool)
        except (OSError, KeyError, ValueError, IndexError):
            continue  # a missing file is not an outcome; the case stays unresolved
        if accepted.shape != active.shape:
            continue
        return {"reference": "accepted", "reference_id": int(row.id),
                "edited": bool((accepted != active).any()),
                "active": {"dice": round(metrics.dice(active, accepted), 5)},
                "candidate": {"dice": round(metrics.dice(candidate, accepted), 5)}}
    return None


def resolve_outcomes(db) -> int:
    """Score finished, unresolved shadow cases whose reference exists now; returns how many were resolved."""
    resolved = 0
    with db.session() as s:
        pending = s.exec(select(ShadowCase).where(ShadowCase.status == ShadowStatus.done.value)
                         .where(ShadowCase.resolved_at == None)).all()  # noqa: E711 (SQL IS NULL)
        for case in pending:
            outcome = _note_outcome(s, case) if case.kind == "llm" else _mask_outcome(s, case)
            if outcome is None:
                continue
            case.outcome, case.resolved_at = outcome, datetime.now(timezone.utc)
            s.add(case)
            resolved += 1
    return resolved


def _group(case: ShadowCase) -> str:
    return str(case.context.get("template") or case.context.get("modality") or "")


def paired_cases(db, candidate_id: int, baseline_id: int | None = None) -> list[dict]:
    """Resolved shadow cases of ``candidate_id`` (vs ``baseline_id`` when given) as compare's paired rows:
    ``{case_key, group, n, <metric>_candidate, <metric>_baseline}``, scores against the accepted output."""
    with db.session() as s:
        query = select(ShadowCase).where(ShadowCase.candidate_version_id == candidate_id) \
            .where(ShadowCase.status == ShadowStatus.done.value).where(ShadowCase.resolved_at != None)  # noqa: E711
        if baseline_id is not None:
            query = query.where(ShadowCase.active_version_id == baseline_id)
        out = []
        for case in s.exec(query.order_by(ShadowCase.id)).all():
            row = {"case_key": f"shadow:{case.id}", "group": _group(case), "n": 1}
            for metric in METRICS[case.kind]:
                row[f"{metric}_candidate"] = float(case.outcome["candidate"][metric])
                row[f"{metric}_baseline"] = float(case.outcome["active"][metric])
            out.append(row)
        return out


@dataclass(frozen=True)
class ShadowSummary:
    """One candidate's shadow record: ``paired`` is the candidate − active PairedSummary (json) of ``metric``
    against the accepted output (None before any case is resolved); ``agreement``: mean candidate-vs-active."""

    kind: str
    candidate_version_id: int
    active_version_ids: tuple[int, ...]
    metric: str
    n_cases: int
    n_failed: int
    n_resolved: int
    agreement: float | None
    paired: dict | None
    last_error: str = ""
    n_budget_cut: int = 0  # notes: candidate drafts whose model time ran out (the rest kept transcript sentences)

    def to_json(self) -> dict:
        return asdict(self)


def shadow_summary(db, kind: str | None = None) -> list[ShadowSummary]:
    """Per candidate (newest first): counts, agreement with the active model and the paired statistics."""
    with db.session() as s:
        query = select(ShadowCase)
        if kind is not None:
            query = query.where(ShadowCase.kind == kind)
        rows = [(c.kind, c.candidate_version_id, c.active_version_id, c.status, dict(c.vs_active), dict(c.outcome),
                 c.error, bool(c.candidate_provenance.get("checks", {}).get("rewrite_budget_reached")))
                for c in s.exec(query.order_by(ShadowCase.id)).all()]
    out = []
    for cand in sorted({(r[0], r[1]) for r in rows}, key=lambda kc: -kc[1]):
        mine = [r for r in rows if (r[0], r[1]) == cand]
        metric = METRICS[cand[0]][0]
        done = [r for r in mine if r[3] == ShadowStatus.done.value]
        resolved = [r for r in done if r[5]]
        failed = [r for r in mine if r[3] == ShadowStatus.failed.value]
        paired = None
        if resolved:
            paired = paired_summary([r[5]["candidate"][metric] for r in resolved],
                                    [r[5]["active"][metric] for r in resolved]).to_json()
        agreement = float(np.mean([r[4][metric] for r in done])) if done else None
        out.append(ShadowSummary(cand[0], cand[1], tuple(sorted({r[2] for r in mine if r[2] is not None})), metric,
                                 len(done), len(failed), len(resolved), agreement, paired,
                                 failed[-1][6] if failed else "", sum(1 for r in done if r[7])))
    return out


def compare_shadow(db, candidate_id: int, baseline_id: int, rule=None):
    """The A/B result (:class:`~medstation.training.comparison.ab.ComparisonResult`) of the shadow cases of
    ``candidate_id`` answered by ``baseline_id``, through the same decision rule as an offline comparison."""
    cases = paired_cases(db, candidate_id, baseline_id)
    kind = "segmentation" if cases and "dice_candidate" in cases[0] else "llm"
    if not cases:
        with db.session() as s:
            first = s.exec(select(ShadowCase).where(ShadowCase.candidate_version_id == candidate_id)).first()
            kind = first.kind if first is not None else kind
    primary = METRICS[kind][0]
    return compare_cases(kind, cases, METRICS[kind], candidate_id=candidate_id, baseline_id=baseline_id,
                         rule=rule or DecisionRule(primary=primary),
                         notes=[f"paired cases: {len(cases)} shadow cases scored against the accepted output"])
