"""Shadow (canary) mode: for a share of real requests the newest candidate also runs, and its output is stored.

After the active model's answer has been delivered (a note draft, a MedSAM box
mask) the tab asks :meth:`ShadowService.plan` whether this request is shadowed:
a Bernoulli draw of the kind's share (``settings.shadow_share_notes`` /
``shadow_share_segmentation``; 0 never draws, 1 always runs) and a candidate
that exists. A planned request runs as a job in the ``shadow`` lane:

* it lowers its own thread to the lowest CPU priority (Linux per-thread nice 19),
* it yields to a streaming chat answer at every ``check()``
  (:data:`medstation.foreground.FOREGROUND`),
* it never raises into the tab: a candidate that fails to load or to run is
  logged and stored as a ``failed`` case; only cancellation propagates.

Each :class:`~medstation.store.tables.ShadowCase` carries both model version ids,
the hash of the inputs both models got, timestamps, the candidate's output and
its agreement with the active output. The user's later decision (the signed
note, the accepted mask) is scored by :mod:`medstation.training.canary.outcomes`.
The candidate's output is never shown as an answer.
"""

from __future__ import annotations

import enum
import logging
import os
import random
import sys
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from medstation.access.roles import UserSession
from medstation.config import Settings
from medstation.foreground import FOREGROUND
from medstation.jobs import Cancelled
from medstation.segmentation import metrics
from medstation.segmentation.records import series_folder_name
from medstation.store.database import Database
from medstation.store.model_registry import ModelRegistry
from medstation.store.tables import ModelKind, ShadowCase
from medstation.training.canary.candidates import CandidateModels, describe_llm_candidate, newest_candidate
from medstation.training.canary.fingerprint import inputs_sha256
from medstation.training.canary.preference import BlindPair, PreferenceInfo, record_choice
from medstation.training.comparison.stats import edit_similarity, rouge_l

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1


class ShadowStatus(str, enum.Enum):
    done = "done"
    failed = "failed"


def _now() -> datetime:
    return datetime.now(timezone.utc)


class ShadowSampler:
    """Which requests are shadowed: one Bernoulli draw of ``share`` per request (``rng`` seeded in tests)."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self.rng = rng or random.Random()
        self._lock = threading.Lock()

    def take(self, share: float) -> bool:
        if share <= 0.0:
            return False  # off: not even a draw, so turning it on later does not replay a sequence
        if share >= 1.0:
            return True
        with self._lock:
            return self.rng.random() < share


@dataclass(frozen=True)
class ShadowPlan:
    """A request chosen for shadowing: the two versions and who asked (made in the GUI thread, run in a job)."""

    kind: str
    active_version_id: int | None
    candidate_version_id: int
    requested_by: str
    requested_at: datetime


@dataclass(frozen=True)
class SegmentationRequest:
    """What the active model was given and answered: ``image`` float32 (y, x) in [0, 1] (windowed slice),
    ``box`` (x0, y0, x1, y1) pixels, ``active_mask`` bool (y, x) on the same grid."""

    series_uid: str
    slice_index: int
    box: tuple[float, float, float, float]
    image: np.ndarray
    active_mask: np.ndarray
    window: tuple[float, float] | None = None
    modality: str = ""


@dataclass(frozen=True)
class ShadowCaseInfo:
    """A stored shadow case, detached from the database."""

    id: int
    kind: str
    status: ShadowStatus
    active_version_id: int | None
    candidate_version_id: int
    inputs_sha256: str
    vs_active: dict
    outcome: dict
    error: str
    schema_version: int = SCHEMA_VERSION


class BackgroundContext:
    """A job context for background work: ``check()`` also waits while foreground work (a chat answer) streams;
    partials are dropped (nothing of a shadow run is shown), progress is passed on. ``waited_s`` sums the waits."""

    def __init__(self, ctx, gate=FOREGROUND) -> None:
        self.ctx, self.gate = ctx, gate
        self.waited_s = 0.0

    def check(self) -> None:
        self.ctx.check()
        if self.gate.busy:
            self.waited_s += self.gate.wait_while_busy(self.ctx)

    def report(self, fraction: float, message: str = "") -> None:
        self.ctx.report(fraction, message)

    def partial(self, _obj) -> None:
        pass

    @property
    def cancelled(self) -> bool:
        return self.ctx.cancelled


def lower_thread_priority(niceness: int = 19) -> None:
    """Run the calling worker thread (and threads it starts, e.g. llama.cpp's) at the lowest CPU priority.

    Linux keeps a nice value per thread, so this touches only the shadow lane's thread; elsewhere (and
    on the main thread, where it would slow the whole app) it does nothing.
    """
    if not sys.platform.startswith("linux") or threading.current_thread() is threading.main_thread():
        return
    try:
        tid = threading.get_native_id()
        if os.getpriority(os.PRIO_PROCESS, tid) < niceness:
            os.setpriority(os.PRIO_PROCESS, tid, niceness)
    except OSError:  # not permitted in some sandboxes: the own lane still keeps it off the clinical lanes
        pass


class ShadowService:
    """Plans shadow runs, runs candidates in the background and stores each case. Qt-free; built in ``app.py``."""

    MAX_PENDING = 3

    def __init__(self, *, settings: Settings, db: Database, session: UserSession, registry: ModelRegistry,
                 models: CandidateModels, sampler: ShadowSampler) -> None:
        self.settings, self.db, self.session, self.registry = settings, db, session, registry
        self.models = models
        self.sampler = sampler

    # --- what runs ---------------------------------------------------------------------------

    def share(self, kind: ModelKind | str) -> float:
        kind = ModelKind(kind)
        if kind is ModelKind.segmentation:
            return float(self.settings.shadow_share_segmentation)
        return float(self.settings.shadow_share_notes) if kind is ModelKind.llm else 0.0

    def candidate(self, kind: ModelKind | str):
        """The candidate that would meet requests of ``kind`` now (the newest one), or None."""
        return newest_candidate(self.registry, kind)

    def blind_applies(self, kind: ModelKind | str) -> bool:
        """Whether a request of ``kind`` is met blind (the active and the candidate output, unlabelled, and the
        user picks): blind preference is on for the kind (``settings.blind_preference_*``) and a candidate exists."""
        kind = ModelKind(kind)
        on = {ModelKind.segmentation: self.settings.blind_preference_segmentation,
              ModelKind.llm: self.settings.blind_preference_notes}.get(kind, False)
        return bool(on) and self.candidate(kind) is not None

    def record_blind_choice(self, pair: BlindPair, choice: str) -> PreferenceInfo:
        """Store the signed-in user's pick of a blind pair (``"A"``, ``"B"`` or ``"neither"``); audited."""
        return record_choice(self.db, self.session, pair, choice)

    def plan(self, kind: ModelKind | str, active_version_id: int | None, *, pending: int = 0) -> ShadowPlan | None:
        """Whether this request of ``kind`` (answered by ``active_version_id``) is shadowed, and by whom.

        ``pending``: shadow jobs already waiting or running; at :attr:`MAX_PENDING` the request is not
        shadowed (a burst of requests must not pile up background work that lags behind by minutes).
        """
        kind = ModelKind(kind)
        if not self.sampler.take(self.share(kind)):
            return None
        if pending >= self.MAX_PENDING:
            log.info("shadow: %s request not shadowed, %d shadow jobs pending", kind.value, pending)
            return None
        candidate = self.candidate(kind)
        if candidate is None or candidate.id == active_version_id:
            return None
        actor = self.session.actor
        return ShadowPlan(kind.value, active_version_id, candidate.id, actor.name if actor else "", _now())

    # --- notes -------------------------------------------------------------------------------

    def run_notes(self, ctx, plan: ShadowPlan, note_id: int) -> ShadowCaseInfo | None:
        """Job (shadow lane): the candidate drafts the same transcript and template as note ``note_id``'s AI draft."""
        # imported here: the note drafter's modules (hundreds of patterns) are not needed to open the window
        from medstation.notes.drafting import draft_note
        from medstation.notes.records import tracked_from_draft
        from medstation.training.canary.note_inputs import note_inputs

        lower_thread_priority()
        bg = BackgroundContext(ctx)
        row = ShadowCase(kind=plan.kind, active_version_id=plan.active_version_id,
                         candidate_version_id=plan.candidate_version_id, reference=f"note:{note_id}",
                         requested_by=plan.requested_by, requested_at=plan.requested_at)
        try:
            bg.check()
            inputs = note_inputs(self.db, note_id)
            row.context, row.active_output = inputs.context(), inputs.active_text
            row.inputs_sha256 = inputs.sha256()
            version = self._version(plan.candidate_version_id)
            with self.models.using(ModelKind.llm):
                backend = self.models.backend(version)
                model_info = describe_llm_candidate(version, self.db)
                draft = draft_note(bg, inputs.transcript, inputs.template, backend_factory=lambda: backend,
                                   model_info=model_info, options=inputs.options,
                                   transcript_version_id=inputs.transcript_id)
            if draft.fallback:
                raise RuntimeError(f"the candidate could not draft: {draft.provenance.fallback_reason}")
            text = tracked_from_draft(draft, author=f"model:{model_info.get('name')}", at=_now().isoformat()).text
            row.candidate_output = text
            row.vs_active = {"rougeL": round(rouge_l(text, inputs.active_text), 5),
                             "edit_similarity": round(edit_similarity(text, inputs.active_text), 5)}
            row.candidate_provenance = {**draft.provenance.to_dict(), "foreground_wait_s": round(bg.waited_s, 3)}
            row.status = ShadowStatus.done.value
        except Cancelled:
            raise
        except Exception as exc:  # a failing candidate never reaches the clinical tab: logged and recorded
            log.exception("shadow run of candidate #%s on note %s failed", plan.candidate_version_id, note_id)
            row.status, row.error = ShadowStatus.failed.value, f"{type(exc).__name__}: {exc}"[:2000]
        return self._store(row)

    # --- segmentation ------------------------------------------------------------------------

    def run_segmentation(self, ctx, plan: ShadowPlan, request: SegmentationRequest) -> ShadowCaseInfo | None:
        """Job (shadow lane): the candidate segments the same slice image with the same box."""
        lower_thread_priority()
        bg = BackgroundContext(ctx)
        box = [float(v) for v in request.box]
        row = ShadowCase(kind=plan.kind, active_version_id=plan.active_version_id,
                         candidate_version_id=plan.candidate_version_id, reference=f"series:{request.series_uid}",
                         requested_by=plan.requested_by, requested_at=plan.requested_at,
                         context={"series_uid": request.series_uid, "slice": int(request.slice_index), "box": box,
                                  "window": list(request.window) if request.window else None,
                                  "modality": request.modality, "shape": list(request.image.shape)})
        row.inputs_sha256 = inputs_sha256({"box": box, "window": row.context["window"], "_arrays": [request.image]})
        try:
            bg.check()
            version = self._version(plan.candidate_version_id)
            with self.models.using(ModelKind.segmentation):
                engine = self.models.engine(version)
                bg.check()
                embedding = engine.embed(request.image)
                bg.check()
                prediction = engine.decode(embedding, box=box)
            active = np.asarray(request.active_mask, bool)
            row.vs_active = {"dice": round(metrics.dice(prediction.mask, active), 5)}
            row.mask_path = str(self._write_masks(request.series_uid, active, prediction.mask))
            row.candidate_provenance = {"engine": engine.name, "model_version": engine.model_version,
                                        **prediction.prompt_record(), "score": round(float(prediction.score), 3),
                                        "pixels": int(np.count_nonzero(prediction.mask)),
                                        "seconds": round(prediction.seconds, 4),
                                        "foreground_wait_s": round(bg.waited_s, 3)}
            row.status = ShadowStatus.done.value
        except Cancelled:
            raise
        except Exception as exc:  # see run_notes: recorded, never raised into the viewer
            log.exception("shadow run of candidate #%s on %s slice %s failed", plan.candidate_version_id,
                          request.series_uid, request.slice_index)
            row.status, row.error = ShadowStatus.failed.value, f"{type(exc).__name__}: {exc}"[:2000]
        return self._store(row)

    def _write_masks(self, series_uid: str, active: np.ndarray, candidate: np.ndarray) -> Path:
        folder = Path(self.settings.home) / "shadow" / series_folder_name(series_uid)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{uuid.uuid4().hex[:12]}.npz"
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as handle:
            np.savez_compressed(handle, active=np.asarray(active, np.uint8), candidate=np.asarray(candidate, np.uint8))
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
        return path

    # --- storage -----------------------------------------------------------------------------

    def _version(self, version_id: int):
        version = self.registry.get(version_id)
        if version is None:
            raise LookupError(f"model version #{version_id} is not in the registry")
        return version

    def _store(self, row: ShadowCase) -> ShadowCaseInfo | None:
        row.finished_at = _now()
        try:
            with self.db.session() as s:  # the case and its event: one transaction
                s.add(row)
                s.flush()
                info = ShadowCaseInfo(int(row.id), row.kind, ShadowStatus(row.status), row.active_version_id,
                                      row.candidate_version_id, row.inputs_sha256, dict(row.vs_active),
                                      dict(row.outcome), row.error)
                self.db.audit("model.shadow", actor=row.requested_by, entity="shadow_case", entity_id=info.id,
                              kind=row.kind, status=row.status, active_version_id=row.active_version_id,
                              candidate_version_id=row.candidate_version_id, inputs_sha256=row.inputs_sha256,
                              session=s)
            return info
        except Exception:  # even storing must not reach the tab; the log keeps the reason
            log.exception("storing a shadow case failed")
            return None

    def close(self) -> None:
        self.models.close()
