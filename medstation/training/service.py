"""TrainingService: the Admin tab's and the command line's one door to datasets, runs and A/B.

Every method that acts for a person asks the session for permission first, once
(``train_models`` to build datasets and train, ``manage_models`` to compare,
promote and roll back), then does the work or hands it, with the signed-in actor,
to the part that owns it: :mod:`~medstation.training.datasets` (snapshots),
:mod:`~medstation.training.runs` (the queue and schedules),
:class:`~medstation.training.comparison.service.ComparisonService` (stored A/B
runs) and :class:`~medstation.training.promotion.Promotion` (promote, rollback,
restore). Each action is audited once, in its write's transaction. Long work is a
job ``fn(ctx, ...)``; training itself runs in a child process
(:func:`medstation.process_jobs.run_worker_process` → :mod:`medstation.training.worker`),
one run at a time.
"""

from __future__ import annotations

import logging
from pathlib import Path

from medstation.access.roles import Permission, UserSession
from medstation.config import Settings
from medstation.errors import UserFacingError
from medstation.jobs import Cancelled, JobContext
from medstation.process_jobs import WorkerFailed, run_worker_process
from medstation.segmentation.registry import engine_spec, locate_checkpoint
from medstation.store.database import Database
from medstation.store.model_registry import ModelRegistry
from medstation.store.tables import ModelKind, ModelStatus, TrainingRunStatus
from medstation.training import datasets, monitoring, runs
from medstation.training.comparison.ab import ComparisonResult
from medstation.training.comparison.gate import PromotionVerdict
from medstation.training.comparison.service import ComparisonService
from medstation.training.datasets.deid_text import DEID_RULES
from medstation.training.datasets.quality import QualityRules
from medstation.training.datasets.sources import (CollectionFilter, aci_bench_csv, clinic_notes, clinic_segmentations,
                                                  nifti_pairs_in, nifti_volumes, seg2d_manifest)
from medstation.training.datasets.splits import installation_salt
from medstation.training.litemedsam.finetune import SegTrainConfig
from medstation.training.litemedsam.search import SearchError, SearchGrid, default_grid, run_search
from medstation.training.promotion import Promotion
from medstation.training.runs import schedules
from medstation.training.settings import TrainingSettings

log = logging.getLogger(__name__)

__all__ = ["TrainingService", "TrainingSettings"]


class TrainingService:
    """Built once in ``app.py`` (and by the command line) from the composition root's objects; no fallbacks."""

    def __init__(self, *, settings: Settings, db: Database, session: UserSession, registry: ModelRegistry) -> None:
        self.settings = settings
        self.db = db
        self.session = session
        self.registry = registry
        self.config = TrainingSettings.from_settings(settings)
        self.comparisons = ComparisonService(settings=settings, db=db, registry=registry, config=self.config)
        self.promotions = Promotion(db=db, registry=registry, config=self.config)

    # --- datasets ------------------------------------------------------------------------------

    @property
    def work_root(self) -> Path:
        """Where dataset snapshots and run folders go: the clinic's shared data root when one is set (so a
        training agent on another machine, with the shared root mounted at the same path, reads the snapshot
        and writes the run's log and checkpoints where every workstation sees them), else this home."""
        return Path(self.settings.shared_data_root or self.settings.home)

    def _salt(self) -> bytes:
        return installation_salt(self.settings.home)

    def import_seg2d(self, ctx: JobContext, manifest: Path, name: str | None = None, *, golden: bool = False):
        """Job: a seg2d-format manifest → the next version of dataset ``name`` (default: the folder name)."""
        actor = self.session.require(Permission.train_models)
        manifest = Path(manifest)
        if not manifest.is_file():
            raise datasets.DatasetError(f"no manifest at {manifest}")
        return self._snapshot(ctx, name=name or f"seg2d-{manifest.parent.name}",
                                   kind="segmentation", origin="seg2d", items=seg2d_manifest(ctx, manifest),
                                   filters={"manifest": manifest.name}, actor=actor.name, golden=golden,
                                   deid_note="public set: pixels and labels only")

    def import_nifti(self, ctx: JobContext, folder: Path, name: str | None = None, *, golden: bool = False,
                     block: int = 10):
        actor = self.session.require(Permission.train_models)
        pairs = nifti_pairs_in(Path(folder))
        return self._snapshot(ctx, name=name or f"nifti-{Path(folder).name}",
                                   kind="segmentation", origin="nifti", items=nifti_volumes(ctx, pairs, block=block),
                                   filters={"pairs": [p[0].name for p in pairs], "block": block}, actor=actor.name,
                                   golden=golden,
                                   deid_note="NIfTI voxels only; headers dropped")

    def import_aci_csv(self, ctx: JobContext, csv_path: Path, name: str | None = None):
        """Job: an aci-bench CSV → the next snapshot of a notes dataset (default: aci-bench-<file stem>)."""
        actor = self.session.require(Permission.train_models)
        csv_path = Path(csv_path)
        return self._snapshot(ctx, name=name or f"aci-bench-{csv_path.stem}",
                                   kind="notes", origin="aci-bench", items=aci_bench_csv(ctx, csv_path),
                                   filters={"csv": csv_path.name}, actor=actor.name,
                                   deid_note="public set, de-identified by its authors")

    def build_clinic_dataset(self, ctx: JobContext, flt: CollectionFilter = CollectionFilter(),
                             rules: QualityRules | None = None, name: str = "clinic-segmentation"):
        """Job: accepted segmentations passing ``flt`` → the next snapshot of ``name``."""
        actor = self.session.require(Permission.train_models)
        rules = rules or QualityRules(min_agreement=flt.min_agreement)
        return self._snapshot(ctx, name=name, kind="segmentation",
                                   origin="clinic", items=clinic_segmentations(ctx, self.db, self._salt(), flt),
                                   rules=rules, filters=flt.to_json(), actor=actor.name,
                                   deid_note="pixels only; case keys are salted hashes; no UIDs, names or IDs")

    def build_clinic_notes_dataset(self, ctx: JobContext, flt: CollectionFilter = CollectionFilter(),
                                   name: str = "clinic-notes"):
        """Job: signed notes (transcript, AI draft, signed text), scrubbed → the next snapshot of ``name``."""
        actor = self.session.require(Permission.train_models)
        return self._snapshot(ctx, name=name, kind="notes", origin="clinic",
                                   items=clinic_notes(ctx, self.db, self._salt(), flt), filters=flt.to_json(),
                                   actor=actor.name, deid_note="text scrubbed: " + ", ".join(DEID_RULES)
                                   + "; names the app was not told about cannot be found by rule")

    def _snapshot(self, ctx: JobContext, **kwargs) -> datasets.DatasetVersionInfo:
        """:func:`datasets.build_snapshot` under :attr:`work_root` with this installation's split setting."""
        return datasets.build_snapshot(ctx, self.db, self.work_root,
                                       min_heldout=self.settings.split_min_heldout_cases, **kwargs)

    def dataset_versions(self, kind: str | None = None):
        return datasets.list_versions(self.db, kind)

    # --- training ------------------------------------------------------------------------------

    def queue_segmentation(self, dataset_version_id: int, *, epochs: int | None = None, mode: str | None = None,
                           base_model_id: int | None = None, audit: tuple[str, dict] = ("training.enqueue", {}),
                           search: dict | None = None, session=None, **extra) -> runs.RunInfo:
        """Queue a LiteMedSAM run; audited once as ``audit`` = (action, detail) in the run's transaction
        (``session``: a caller's, so its own write commits with the run). ``search``: the grid of a search run."""
        actor = self.session.require(Permission.train_models)
        datasets.get_version(self.db, dataset_version_id)  # raises for an unknown version
        params = {"epochs": epochs or self.config.seg_epochs, "mode": mode or self.config.seg_mode,
                  "threads": self.settings.seg_threads, **extra}
        SegTrainConfig(**params)  # bad values fail here, not in the child
        if search is not None:
            params["search"] = search
        if base_model_id is None:
            active = self.registry.active(ModelKind.segmentation) or self._register_bundled_base()
            base_model_id = active.id if active is not None else None
        action, detail = audit
        return runs.enqueue(self.db, self.work_root, kind="segmentation", dataset_version_id=dataset_version_id,
                            base_model_id=base_model_id, params=params, actor=actor.name, action=action,
                            session=session, **detail)

    def search_segmentation(self, ctx: JobContext, dataset_version_id: int, *, epochs: int | None = None,
                            mode: str | None = None, lrs: tuple[float, ...] | None = None,
                            epoch_counts: tuple[int, ...] | None = None, run_worker=None, **extra) -> dict:
        """Job (process lane): learning rate × epochs on the validation split (``hparam_search``); registers
        only the best trial. Returns the search run's worker result plus ``search`` (grid, trials, best)."""
        mode = mode or self.config.seg_mode
        version = datasets.get_version(self.db, dataset_version_id)
        if not version.split_counts.get("val"):
            raise SearchError(f"{version.label} has no validation cases, so a search has nothing to judge by "
                              "(the test split is kept for the A/B comparison).")
        default = default_grid(mode, epochs or self.config.seg_epochs)
        grid = SearchGrid(tuple(lrs or default.lrs), tuple(epoch_counts or default.epochs))
        # The search run, its grid and its one audit event are one transaction.
        search = self.queue_segmentation(dataset_version_id, epochs=max(grid.epochs), mode=mode,
                                         search=grid.to_json(), audit=("training.search", {"grid": grid.to_json()}),
                                         **extra)
        return run_search(ctx, self.db, runs.get(self.db, search.id), grid, run_worker=run_worker or self.run_queued)

    def _register_bundled_base(self):
        """The bundled LiteMedSAM as the active version (a fresh install that never opened the viewer)."""
        path, sha = locate_checkpoint("litemedsam", self.settings.models_dir)
        if path is None:
            return None
        spec = engine_spec("litemedsam")
        return self.registry.register(ModelKind.segmentation, spec.display_name, path, sha256=sha,
                                      status=ModelStatus.active, source=spec.source,
                                      meta={"engine": spec.name, "input_size": spec.input_size})

    def queue_llm(self, dataset_version_id: int, *, epochs: int = 1, **extra) -> runs.RunInfo:
        """Queue a LoRA drafting-adapter run on a notes snapshot (``training.lora.train_lora`` in the worker)."""
        actor = self.session.require(Permission.train_models)
        version = datasets.get_version(self.db, dataset_version_id)
        if version.kind != "notes":
            raise datasets.DatasetError(f"{version.label} holds {version.kind} cases, not notes")
        active = self.registry.active(ModelKind.llm)
        params = {"epochs": int(epochs), "threads": self.settings.llm_threads, **extra}
        return runs.enqueue(self.db, self.work_root, kind="llm", dataset_version_id=dataset_version_id,
                            base_model_id=active.id if active else None, params=params, actor=actor.name)

    def run_queued(self, ctx: JobContext, run_id: int | None = None) -> dict:
        """Job (process lane): run ``run_id`` (or the oldest queued run) in ``train-worker``; returns its result."""
        runs.recover_stale_runs(self.db, self.registry)
        info = runs.get(self.db, run_id) if run_id is not None else runs.next_queued(self.db)
        if info is None:
            raise runs.RunError("No training run is waiting (or one is running already).")
        try:
            return run_worker_process(ctx, ["train-worker", "--run-id", str(info.id)])
        except Cancelled:
            runs.recover_stale_runs(self.db, self.registry)
            current = runs.get(self.db, info.id)
            if current.status in (TrainingRunStatus.failed, TrainingRunStatus.running):
                runs.finish(self.db, info.id, TrainingRunStatus.cancelled, error="cancelled by the user",
                            audit_action="training.cancel", actor=self._actor_name())
            else:  # the worker ended the run itself: only the user's cancel is recorded
                self.db.audit("training.cancel", actor=self._actor_name(), entity="training_run", entity_id=info.id)
            raise
        except WorkerFailed:
            runs.recover_stale_runs(self.db, self.registry)
            raise

    def cancel_queued(self, run_id: int) -> None:
        actor = self.session.require(Permission.train_models)
        info = runs.get(self.db, run_id)
        if info.status != TrainingRunStatus.queued:
            raise runs.RunError(f"Run #{run_id} is {info.status.value}; only queued runs can be withdrawn here.")
        runs.finish(self.db, run_id, TrainingRunStatus.cancelled, error="withdrawn from the queue",
                    audit_action="training.withdraw", actor=actor.name)

    def _actor_name(self) -> str:
        actor = self.session.actor
        return actor.name if actor is not None else ""

    # --- A/B, promotion, rollback (comparison.service, promotion) ---------------------------------

    def compare(self, ctx: JobContext, candidate_id: int, *, baseline_id: int | None = None,
                dataset_version_id: int | None = None, csv_path: Path | None = None,
                limit: int | None = None) -> tuple[int, ComparisonResult]:
        """Job: A/B of ``candidate_id`` against the active version on held-out cases; stored and audited.

        Segmentation: the test split of the candidate's (or the given) dataset. LLM: the test split of
        a notes dataset's signed notes, or every row of an aci-bench CSV (``csv_path``, first ``limit``).
        """
        actor = self.session.require(Permission.manage_models)
        candidate = self._version(candidate_id)
        baseline = self._version(baseline_id) if baseline_id else self.registry.active(candidate.kind)
        if baseline is None:
            raise UserFacingError(f"No active {candidate.kind.value} model to compare against.")
        return self.comparisons.compare(ctx, actor, candidate, baseline, dataset_version_id=dataset_version_id,
                                        csv_path=csv_path, limit=limit, drafter_for=self.notes_drafter)

    def notes_drafter(self, version):
        """The Notes pipeline drafting with registry version ``version`` (a ``comparison.notes`` drafter)."""
        return self.comparisons.notes_drafter(version)

    def golden_identity(self, kind: ModelKind | str) -> str:
        return self.comparisons.golden_identity(kind)

    def golden_rows(self, kind: str = "segmentation") -> list[dict]:
        return self.comparisons.golden_rows(kind)

    def golden_note_rows(self) -> list[dict]:
        return self.comparisons.golden_note_rows()

    def latest_comparison(self, candidate_id: int | None = None) -> tuple[int, ComparisonResult] | None:
        return self.comparisons.latest(candidate_id)

    def promotion_verdict(self, version_id: int) -> PromotionVerdict:
        """Whether ``version_id`` may be promoted without force now, and why (plain words; reads only)."""
        return self.promotions.verdict(version_id)

    def promote(self, version_id: int, *, force: bool = False, reason: str = ""):
        """Promote ``version_id`` past the gate (``force`` needs a ``reason``); one transaction, audited once."""
        return self.promotions.promote(self.session.require(Permission.manage_models), version_id, force=force,
                                       reason=reason)

    def rollback(self, kind: str, *, reason: str = ""):
        """Reactivate the version the active ``kind`` version replaced; one transaction, audited once."""
        return self.promotions.rollback(self.session.require(Permission.manage_models), kind, reason=reason)

    def restore(self, version_id: int):
        return self.promotions.restore(self.session.require(Permission.manage_models), version_id)

    def _version(self, version_id: int):
        return self.promotions.version(version_id)

    def models(self, kind: str | None = None):
        return self.registry.history(kind)

    def candidates(self, kind: str = "segmentation"):
        return [v for v in self.registry.history(kind) if v.status == ModelStatus.candidate]

    # --- after promotion: monitoring, ledger, schedules, alerts ---------------------------------

    def check_auto_rollback(self, kind: str = "segmentation") -> str | None:
        """Roll back a promoted model that users reject (see ``monitoring``); returns the reason, or None."""
        return monitoring.check_auto_rollback(self.db, self.registry, kind, margin=self.settings.auto_rollback_margin,
                                              min_cases=self.settings.auto_rollback_min_cases)

    def acceptance(self, version_id: int):
        return monitoring.acceptance_rate(self.db, version_id)

    def ledger(self, version_id: int) -> list[dict]:
        """Which masks (and notes) came from version ``version_id`` — asked before a rollback."""
        self.session.require(Permission.manage_models)
        return monitoring.ledger(self.db, version_id)

    def alerts(self) -> list[dict]:
        return monitoring.alerts(self.db, home=self.settings.home)

    def acknowledge_alert(self, alert_id: int) -> None:
        monitoring.acknowledge(self.db, alert_id, self.session.require(Permission.manage_models).name)

    def set_schedule(self, kind: str = "segmentation", *, every_n_cases: int | None = None,
                     weekday: int | None = None, hour_utc: int = 2):
        actor = self.session.require(Permission.manage_models)
        return schedules.set_schedule(self.db, kind, every_n_cases=every_n_cases, weekday=weekday, hour_utc=hour_utc,
                                      actor=actor.name)  # audited inside the schedule's transaction

    def schedules(self):
        return schedules.schedules(self.db)

    def queue_due_schedules(self, ctx: JobContext) -> list[runs.RunInfo]:
        """Job (at start-up and hourly): build the clinic dataset and queue a run for each due schedule."""
        queued = []
        for info, why in schedules.due(self.db):
            ctx.check()
            if info.kind != "segmentation":
                continue
            try:
                version = self.build_clinic_dataset(ctx)
            except datasets.DatasetError as exc:
                log.info("schedule %s due (%s) but no dataset: %s", info.id, why, exc)
                schedules.mark_ran(self.db, info.id)
                continue
            cases = schedules.validated_count(self.db)
            with self.db.session() as s:  # the run, its audit event and the schedule's "ran" mark commit together
                run = self.queue_segmentation(version.id, session=s,
                                              audit=("training.scheduled_run", {"schedule_id": info.id, "why": why}))
                schedules.mark_ran(self.db, info.id, session=s, cases=cases)
            queued.append(run)
        return queued

    def runs(self, limit: int = 50) -> list[runs.RunInfo]:
        return runs.list_runs(self.db, limit)

    def run_metrics(self, run_id: int) -> dict:
        return runs.metrics_of(self.db, run_id)

    def close(self) -> None:
        pass
