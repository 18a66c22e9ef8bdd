"""Blind preference mode: the user sees the active and the candidate output unlabelled, in random order, and picks.

Order: :class:`BlindSession` holds one random seed per sign-in session; the
n-th blind request of that session shows ``("active", "candidate")`` or the
reverse as A/B, drawn from ``Random(f"{seed}:{n}")``, so an order can be
re-derived from what is stored (seed, index) and nothing on screen says which
model is which. The pick (A, B or neither) is stored with both version ids and
the order (:func:`record_choice`, audited as ``model.preference``); the output
the user picked becomes the working draft with its own provenance; "neither"
keeps the active model's output (what the tab shows without blind mode).

:func:`preference_summary` gives per candidate the counts and a two-sided exact
binomial (sign) test of candidate wins against active wins, ties ("neither")
excluded (``scipy.stats.binomtest``, p = 0.5).

The jobs that make the two outputs are :func:`draft_blind_pair` (notes, llm
lane) and :func:`segment_blind_pair` (viewer box prompt, segmentation lane). When both models give
the same output there is nothing to choose: no dialog, no record (a forced pick would only add noise).
"""

from __future__ import annotations

import enum
import logging
import random
import secrets
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np
from sqlmodel import select

from medstation.access.roles import Permission
from medstation.jobs import Cancelled
from medstation.segmentation.slices import segment_slice
from medstation.store.tables import ModelKind, PreferenceChoice
from medstation.training.canary.candidates import describe_llm_candidate
from medstation.training.canary.fingerprint import inputs_sha256

log = logging.getLogger(__name__)

LETTERS = ("A", "B")
NEITHER = "neither"


class PreferenceOutcome(str, enum.Enum):
    active = "active"
    candidate = "candidate"
    neither = "neither"


class BlindSession:
    """The per-session seed and request counter that decide which model is shown as A."""

    def __init__(self, seed: str | None = None) -> None:
        self.seed = seed or secrets.token_hex(8)
        self._next = 0
        self._lock = threading.Lock()

    @staticmethod
    def order_for(seed: str, index: int) -> tuple[str, str]:
        """(model shown as A, model shown as B) of request ``index`` of session ``seed``."""
        first = random.Random(f"{seed}:{index}").random() < 0.5
        return ("active", "candidate") if first else ("candidate", "active")

    def next_order(self) -> tuple[int, tuple[str, str]]:
        with self._lock:
            index, self._next = self._next, self._next + 1
        return index, self.order_for(self.seed, index)


@dataclass(frozen=True)
class BlindPair:
    """Two outputs for one request. ``outputs``: "active"/"candidate" → a PreparedDraft or a MaskPrediction."""

    kind: str
    active_version_id: int | None
    candidate_version_id: int
    order: tuple[str, str]
    session_seed: str
    request_index: int
    outputs: dict[str, Any]
    inputs_sha256: str
    context: dict[str, Any] = field(default_factory=dict)
    shown_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def model_for(self, letter: str) -> str:
        return self.order[LETTERS.index(letter)]

    def shown(self, letter: str):
        """The output shown under ``letter`` ("A" or "B")."""
        return self.outputs[self.model_for(letter)]

    def outcome(self, choice: str) -> PreferenceOutcome:
        """``choice`` "A", "B" or "neither" → which model the user preferred."""
        return PreferenceOutcome.neither if choice == NEITHER else PreferenceOutcome(self.model_for(choice))

    def kept(self, choice: str):
        """The output that becomes the working draft: the picked one, or the active one for "neither"."""
        return self.outputs["active"] if choice == NEITHER else self.shown(choice)


@dataclass(frozen=True)
class BlindResult:
    """What a blind job gives the tab: a ``pair`` to choose from, or (the candidate failed) ``message``."""

    pair: BlindPair | None
    message: str = ""
    active_output: Any = None  # set when ``pair`` is None: the active model's output, used as usual


@dataclass(frozen=True)
class PreferenceInfo:
    id: int
    kind: str
    outcome: PreferenceOutcome
    chosen_version_id: int | None


def record_choice(db, session, pair: BlindPair, choice: str) -> PreferenceInfo:
    """Store and audit the user's pick (``"A"``, ``"B"`` or ``"neither"``) for ``pair``."""
    permission = Permission.edit_notes if pair.kind == ModelKind.llm.value else Permission.edit_imaging
    actor = session.require(permission)
    if choice not in (*LETTERS, NEITHER):
        raise ValueError(f"choice must be A, B or neither, not {choice!r}")
    outcome = pair.outcome(choice)
    chosen_id = {PreferenceOutcome.active: pair.active_version_id,
                 PreferenceOutcome.candidate: pair.candidate_version_id}.get(outcome)
    with db.session() as s:
        row = PreferenceChoice(kind=pair.kind, active_version_id=pair.active_version_id,
                               candidate_version_id=pair.candidate_version_id, shown_order=list(pair.order),
                               session_seed=pair.session_seed, request_index=pair.request_index,
                               chosen=outcome.value, chosen_version_id=chosen_id, inputs_sha256=pair.inputs_sha256,
                               context=dict(pair.context), chosen_by=actor.name, shown_at=pair.shown_at)
        s.add(row)
        s.flush()
        info = PreferenceInfo(int(row.id), pair.kind, outcome, chosen_id)
        db.audit("model.preference", actor=actor, entity="preference_choice", entity_id=info.id, kind=pair.kind,
                 chosen=outcome.value, active_version_id=pair.active_version_id,
                 candidate_version_id=pair.candidate_version_id, shown_order=list(pair.order), session=s)
    return info


def sign_test(n_candidate: int, n_active: int) -> float | None:
    """Two-sided exact binomial test (p = 0.5) of candidate wins among decided pairs; None without any."""
    from scipy.stats import binomtest

    n = n_candidate + n_active
    return float(binomtest(n_candidate, n, 0.5, alternative="two-sided").pvalue) if n else None


@dataclass(frozen=True)
class PreferenceSummary:
    """``candidate_share``: candidate wins / decided pairs (ties excluded), None without any."""

    kind: str
    candidate_version_id: int
    n_candidate: int
    n_active: int
    n_neither: int
    p_value: float | None
    candidate_share: float | None

    def to_json(self) -> dict:
        return asdict(self)


def preference_summary(db, kind: str | None = None) -> list[PreferenceSummary]:
    """Per candidate (newest first): how often each model was picked, and the sign test."""
    with db.session() as s:
        query = select(PreferenceChoice)
        if kind is not None:
            query = query.where(PreferenceChoice.kind == kind)
        rows = [(r.kind, r.candidate_version_id, r.chosen) for r in s.exec(query).all()]
    out = []
    for k, cand in sorted({(r[0], r[1]) for r in rows}, key=lambda kc: -kc[1]):
        picks = [r[2] for r in rows if (r[0], r[1]) == (k, cand)]
        n_c, n_a = picks.count("candidate"), picks.count("active")
        out.append(PreferenceSummary(k, cand, n_c, n_a, picks.count("neither"), sign_test(n_c, n_a),
                                     n_c / (n_c + n_a) if n_c + n_a else None))
    return out


# --- the jobs that make the two outputs ----------------------------------------------------------


def draft_blind_pair(ctx, notes, shadow, blind: BlindSession, session_id: int, template_name: str,
                     options=None) -> BlindResult:
    """Job (llm lane): the active and the newest candidate drafting model draft the same transcript.

    Nothing is stored here; the tab stores the kept draft (``notes.store_draft``) after the pick.
    A candidate that cannot draft gives ``BlindResult(None, message, active_output=<PreparedDraft>)``.
    """
    from medstation.notes.drafting import DraftOptions  # here: the drafter is not needed to open the window

    options = options or DraftOptions()
    active = notes.prepare_draft(ctx, session_id, template_name, options)
    version = shadow.candidate(ModelKind.llm)
    if version is None:
        return BlindResult(None, "No candidate drafting model is registered.", active)
    try:
        with shadow.models.using(ModelKind.llm):
            backend = shadow.models.backend(version)
            candidate = notes.prepare_draft(ctx, session_id, template_name, options, backend_factory=lambda: backend,
                                            model_info=describe_llm_candidate(version, notes.db))
        if candidate.draft.fallback:
            raise RuntimeError(candidate.draft.provenance.fallback_reason)
    except Cancelled:
        raise
    except Exception as exc:  # the clinical path goes on with the active draft
        log.exception("blind preference: candidate #%s could not draft", version.id)
        notes.db.audit("model.preference.failed", entity="model_version", entity_id=version.id, kind="llm",
                       error=f"{type(exc).__name__}: {exc}"[:500])
        return BlindResult(None, f"The candidate model could not draft ({exc}); this is the active model's draft.",
                           active)
    if candidate.draft.to_text() == active.draft.to_text():  # a pick between equal drafts would be noise
        return BlindResult(None, "Both models wrote the same draft (nothing to choose between); it is the working "
                                 "draft.", active)
    index, order = blind.next_order()
    digest = inputs_sha256({"transcript_sha256": active.transcript.sha256, "template": active.template_name,
                            "template_version": active.template_version, "max_rewrites": options.max_rewrites,
                            "budget_s": options.budget_s})
    return BlindResult(BlindPair("llm", active.model_info.get("version_id"), version.id, order, blind.seed, index,
                                 {"active": active, "candidate": candidate}, digest,
                                 {"session_id": session_id, "template": active.template_name,
                                  "transcript_id": active.transcript.id}))


def segment_blind_pair(ctx, segmenter, shadow, blind: BlindSession, index: int, box,
                       active_version_id: int | None) -> BlindResult:
    """Job (segmentation lane): the active engine and the newest segmentation candidate on the same slice and box.

    ``outputs`` hold :class:`~medstation.segmentation.engine.MaskPrediction`; a failing candidate gives
    ``BlindResult(None, message, active_output=(index, prediction))`` so the viewer goes on as usual.
    """
    _, active = segment_slice(ctx, segmenter, index, box=box)
    version = shadow.candidate(ModelKind.segmentation)
    if version is None or version.id == active_version_id:
        return BlindResult(None, "No segmentation candidate is registered.", (index, active))
    image = segmenter.slice_image(index)
    try:
        with shadow.models.using(ModelKind.segmentation):
            engine = shadow.models.engine(version)
            ctx.check()
            candidate = engine.decode(engine.embed(image), box=active.box)
    except Cancelled:
        raise
    except Exception as exc:
        log.exception("blind preference: segmentation candidate #%s failed", version.id)
        shadow.db.audit("model.preference.failed", entity="model_version", entity_id=version.id,
                        kind="segmentation", error=f"{type(exc).__name__}: {exc}"[:500])
        return BlindResult(None, f"The candidate model could not segment ({exc}); this is the active model's mask.",
                           (index, active))
    if np.array_equal(np.asarray(candidate.mask, bool), np.asarray(active.mask, bool)):
        return BlindResult(None, "Both models drew the same mask (nothing to choose between).", (index, active))
    order_index, order = blind.next_order()
    box_list = [float(v) for v in active.box]
    digest = inputs_sha256({"box": box_list, "window": list(segmenter.window) if segmenter.window else None,
                            "_arrays": [image]})
    return BlindResult(BlindPair("segmentation", active_version_id, version.id, order, blind.seed, order_index,
                                 {"active": active, "candidate": candidate}, digest,
                                 {"series_uid": segmenter.volume.series_uid, "slice": int(index), "box": box_list,
                                  "candidate_engine_version": engine.model_version,
                                  "active_engine_version": segmenter.engine.model_version}))
