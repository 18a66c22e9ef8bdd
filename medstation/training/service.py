"""TrainingService: the Admin tab's and the command line's one door to datasets, runs and A/B.

Every method that acts for a person asks the session for permission first
(``train_models`` to build datasets and train, ``manage_models`` to compare,
promote and roll back) and writes an audit record. Long work is a job
``fn(ctx, ...)``; training itself runs in a child process
(:func:`medstation.process_jobs.run_worker_process`), one run at a time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

from medstation.access.roles import Permission
from medstation.errors import UserFacingError
from medstation.jobs import Cancelled, JobContext
from medstation.store.tables import ModelKind, ModelStatus, TrainingRunStatus
from medstation.training import datasets, runs
from medstation.training.compare import ComparisonResult, DecisionRule, compare_segmentation, decide
from medstation.training.gate import (GATED_KINDS, PromotionVerdict, comparison_context, expected_groups,
                                     golden_identity, promotion_verdict)
from medstation.training.quality import QualityRules
from medstation.training.sources import CollectionFilter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingSettings:
    """Defaults for training and the promotion gate (copied from :class:`~medstation.config.Settings`)."""

    seg_epochs: int = 6
    seg_mode: str = "decoder"
    nsd_tolerance_mm: float = 2.0
    rule: DecisionRule = DecisionRule()
    notes_rule: DecisionRule = DecisionRule(primary="rougeL")
    golden_dataset: str = "golden-segmentation"
    golden_notes_dataset: str = "golden-notes"



class TrainingService:
    def __init__(self, settings, db, session, registry) -> None:
        self.settings = settings
        self.db = db
        self.session = session
        self.registry = registry
        self.config = TrainingSettings(
            seg_epochs=getattr(settings, "train_seg_epochs", 6),
            rule=DecisionRule(max_group_drop=settings.ab_max_modality_drop, golden_margin=settings.ab_golden_margin,
                              min_group_cases=settings.ab_min_cases_per_group, alpha=settings.ab_alpha),
            notes_rule=DecisionRule(primary="rougeL", max_group_drop=settings.ab_max_modality_drop,
                                    golden_margin=settings.ab_golden_margin,
                                    min_group_cases=settings.ab_min_cases_per_group, alpha=settings.ab_alpha),
        )

    # --- datasets ------------------------------------------------------------------------------

    def _salt(self) -> bytes:
        from medstation.training.splits import installation_salt

        return installation_salt(self.settings.home)

    def import_seg2d(self, ctx: JobContext, manifest: Path, name: str | None = None, *, golden: bool = False):
        """Job: a seg2d-format manifest → the next version of dataset ``name`` (default: the folder name)."""
        from medstation.training.sources import seg2d_manifest

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
        from medstation.training.sources import nifti_pairs_in, nifti_volumes

        actor = self.session.require(Permission.train_models)
        pairs = nifti_pairs_in(Path(folder))
        return self._snapshot(ctx, name=name or f"nifti-{Path(folder).name}",
                                       kind="segmentation", origin="nifti", items=nifti_volumes(ctx, pairs, block=block),
                                       filters={"pairs": [p[0].name for p in pairs], "block": block}, actor=actor.name, golden=golden,
                                       deid_note="NIfTI voxels only; headers dropped")

    def import_aci_csv(self, ctx: JobContext, csv_path: Path, name: str | None = None):
        """Job: an aci-bench CSV → the next snapshot of a notes dataset (default: aci-bench-<file stem>)."""
        from medstation.training.sources import aci_bench_csv

        actor = self.session.require(Permission.train_models)
        csv_path = Path(csv_path)
        return self._snapshot(ctx, name=name or f"aci-bench-{csv_path.stem}",
                                       kind="notes", origin="aci-bench", items=aci_bench_csv(ctx, csv_path),
                                       filters={"csv": csv_path.name}, actor=actor.name,
                                       deid_note="public set, de-identified by its authors")

    def build_clinic_dataset(self, ctx: JobContext, flt: CollectionFilter = CollectionFilter(),
                             rules: QualityRules | None = None, name: str = "clinic-segmentation"):
        """Job: accepted segmentations passing ``flt`` → the next snapshot of ``name``."""
        from medstation.training.sources import clinic_segmentations

        actor = self.session.require(Permission.train_models)
        rules = rules or QualityRules(min_agreement=flt.min_agreement)
        return self._snapshot(ctx, name=name, kind="segmentation",
                                       origin="clinic", items=clinic_segmentations(ctx, self.db, self._salt(), flt),
                                       rules=rules, filters=flt.to_json(), actor=actor.name,
                                       deid_note="pixels only; case keys are salted hashes; no UIDs, names or IDs")

    def build_clinic_notes_dataset(self, ctx: JobContext, flt: CollectionFilter = CollectionFilter(),
                                   name: str = "clinic-notes"):
        """Job: signed notes (transcript, AI draft, signed text), scrubbed → the next snapshot of ``name``."""
        from medstation.training.deid_text import DEID_RULES
        from medstation.training.sources import clinic_notes

        actor = self.session.require(Permission.train_models)
        return self._snapshot(ctx, name=name, kind="notes", origin="clinic",
                                       items=clinic_notes(ctx, self.db, self._salt(), flt), filters=flt.to_json(),
                                       actor=actor.name, deid_note="text scrubbed: " + ", ".join(DEID_RULES)
                                       + "; names the app was not told about cannot be found by rule")

    def _snapshot(self, ctx: JobContext, **kwargs) -> datasets.DatasetVersionInfo:
        """:func:`datasets.build_snapshot` under this installation's home and split setting."""
        return datasets.build_snapshot(ctx, self.db, self.settings.home,
                                       min_heldout=self.settings.split_min_heldout_cases, **kwargs)

    def dataset_versions(self, kind: str | None = None):
        return datasets.list_versions(self.db, kind)

    # --- training ------------------------------------------------------------------------------

    def queue_segmentation(self, dataset_version_id: int, *, epochs: int | None = None, mode: str | None = None,
                           base_model_id: int | None = None, **extra) -> runs.RunInfo:
        from medstation.training.seg_finetune import SegTrainConfig

        actor = self.session.require(Permission.train_models)
        datasets.get_version(self.db, dataset_version_id)  # raises for an unknown version
        params = {"epochs": epochs or self.config.seg_epochs, "mode": mode or self.config.seg_mode,
                  "threads": self.settings.seg_threads, **extra}
        SegTrainConfig(**params)  # bad values fail here, not in the child
        if base_model_id is None:
            active = self.registry.active(ModelKind.segmentation) or self._register_bundled_base()
            base_model_id = active.id if active is not None else None
        return runs.enqueue(self.db, self.settings.home, kind="segmentation", dataset_version_id=dataset_version_id,
                            base_model_id=base_model_id, params=params, actor=actor.name)

    def search_segmentation(self, ctx: JobContext, dataset_version_id: int, *, epochs: int | None = None,
                            mode: str | None = None, lrs: tuple[float, ...] | None = None,
                            epoch_counts: tuple[int, ...] | None = None, run_worker=None, **extra) -> dict:
        """Job (process lane): learning rate × epochs on the validation split (``hparam_search``); registers
        only the best trial. Returns the search run's worker result plus ``search`` (grid, trials, best)."""
        from medstation.training.hparam_search import (SearchError, SearchGrid, default_grid, run_search,
                                                       update_run_params)

        mode = mode or self.config.seg_mode
        version = datasets.get_version(self.db, dataset_version_id)
        if not version.split_counts.get("val"):
            raise SearchError(f"{version.label} has no validation cases, so a search has nothing to judge by "
                              "(the test split is kept for the A/B comparison).")
        default = default_grid(mode, epochs or self.config.seg_epochs)
        grid = SearchGrid(tuple(lrs or default.lrs), tuple(epoch_counts or default.epochs))
        search = self.queue_segmentation(dataset_version_id, epochs=max(grid.epochs), mode=mode, **extra)
        update_run_params(self.db, search.id, search=grid.to_json())
        self.db.audit("training.search", actor=self._actor_name(), entity="training_run", entity_id=search.id,
                      grid=grid.to_json())
        return run_search(ctx, self.db, runs.get(self.db, search.id), grid, run_worker=run_worker or self.run_queued)

    def _register_bundled_base(self):
        """The bundled LiteMedSAM as the active version (a fresh install that never opened the viewer)."""
        from medstation.segmentation.registry import engine_spec, locate_checkpoint

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
        return runs.enqueue(self.db, self.settings.home, kind="llm", dataset_version_id=dataset_version_id,
                            base_model_id=active.id if active else None, params=params, actor=actor.name)

    def run_queued(self, ctx: JobContext, run_id: int | None = None) -> dict:
        """Job (process lane): run ``run_id`` (or the oldest queued run) in ``train-worker``; returns its result."""
        from medstation.process_jobs import WorkerFailed, run_worker_process

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
                runs.finish(self.db, info.id, TrainingRunStatus.cancelled, error="cancelled by the user")
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
        runs.finish(self.db, run_id, TrainingRunStatus.cancelled, error="withdrawn from the queue")
        self.db.audit("training.withdraw", actor=actor.name, entity="training_run", entity_id=run_id)

    def _actor_name(self) -> str:
        actor = self.session.actor
        return actor.name if actor is not None else ""

    # --- A/B, promotion, rollback --------------------------------------------------------------

    def _engine_for(self, version):
        from medstation.segmentation.engine import load_engine

        return load_engine(version.meta.get("engine", "litemedsam"), models_dir=self.settings.models_dir,
                           cache_dir=self.settings.cache_dir, threads=self.settings.seg_threads,
                           checkpoint=Path(version.path))

    def golden_rows(self, kind: str = "segmentation") -> list[dict]:
        """Rows of the newest golden snapshot (never trained on), or [] when the clinic has none."""
        golden = [v for v in datasets.list_versions(self.db, kind) if v.name == self.config.golden_dataset]
        return datasets.seg_rows(golden[-1]) if golden else []

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
        if baseline.id == candidate.id:
            raise UserFacingError(f"#{candidate.id} is the active version; compare a candidate with it.")
        if candidate.kind == ModelKind.llm:
            result, version = self._compare_llm(ctx, candidate, baseline, dataset_version_id, csv_path, limit)
        elif candidate.kind == ModelKind.segmentation:
            result, version = self._compare_segmentation(ctx, candidate, baseline, dataset_version_id)
        else:
            raise UserFacingError(f"There is no A/B comparison for {candidate.kind.value} models.")
        rule = self.config.notes_rule if candidate.kind == ModelKind.llm else self.config.rule
        result = decide(replace(result, expected_groups=expected_groups(candidate.kind, version, result),
                                context=comparison_context(candidate, baseline, version.id if version else None,
                                                           self.golden_identity(candidate.kind))), rule)
        return self._store_comparison(actor, candidate, baseline, version, result), result

    def golden_identity(self, kind: ModelKind | str) -> str:
        """Which golden set a comparison of ``kind`` uses now (stored with it; the gate checks it is unchanged)."""
        name = self.config.golden_notes_dataset if ModelKind(kind) == ModelKind.llm else self.config.golden_dataset
        return golden_identity(self.db, kind, name)

    def promotion_verdict(self, version_id: int) -> PromotionVerdict:
        """Whether ``version_id`` may be promoted without force now, and why (plain words; reads only)."""
        version = self._version(version_id)
        rule = self.config.notes_rule if version.kind == ModelKind.llm else self.config.rule
        return promotion_verdict(self.db, version, self.registry.active(version.kind), rule,
                                 self.golden_identity(version.kind) if version.kind in GATED_KINDS else "")

    def _held_out_version(self, candidate, dataset_version_id: int | None):
        dsv = dataset_version_id or candidate.meta.get("dataset_version_id")
        if dsv is None:
            raise UserFacingError("Choose the dataset whose held-out cases the comparison should use.")
        return datasets.get_version(self.db, int(dsv))

    def _compare_segmentation(self, ctx: JobContext, candidate, baseline, dataset_version_id):
        version = self._held_out_version(candidate, dataset_version_id)
        rows = datasets.seg_rows(version, ("test",))
        if not rows:
            raise UserFacingError(f"{version.label} has no test-split cases to compare on.")
        ctx.report(0.02, "loading both models")
        result = compare_segmentation(ctx, self._engine_for(candidate), self._engine_for(baseline), rows,
                                      candidate_id=candidate.id, baseline_id=baseline.id,
                                      tolerance_mm=self.config.nsd_tolerance_mm,
                                      golden_rows=self.golden_rows() or None, rule=self.config.rule)
        return result, version

    def notes_drafter(self, version):
        """The Notes pipeline drafting with registry version ``version`` (a ``compare_notes`` drafter)."""
        from medstation.training.compare_notes import PipelineDrafter

        return PipelineDrafter.for_version(self.db, self.settings, version.id)

    def golden_note_rows(self) -> list[dict]:
        """The clinic's newest ``golden-notes`` snapshot (never trained on), else the shipped synthetic set."""
        from medstation.training.compare_notes import shipped_golden_rows

        golden = [v for v in datasets.list_versions(self.db, "notes") if v.name == self.config.golden_notes_dataset]
        return datasets.note_rows(golden[-1]) if golden else shipped_golden_rows()

    def _compare_llm(self, ctx: JobContext, candidate, baseline, dataset_version_id, csv_path, limit):
        from medstation.training.compare_notes import aci_csv_rows, compare_llm_versions, draftable, drop_trained_on

        notes: list[str] = []
        version = None
        if csv_path is not None:
            rows = aci_csv_rows(Path(csv_path), limit)
            notes.append(f"held-out cases: {Path(csv_path).name} ({len(rows)} rows)")
        else:
            version = self._held_out_version(candidate, dataset_version_id)
            if version.kind != "notes":
                raise UserFacingError(f"{version.label} holds {version.kind} cases, not notes.")
            rows = datasets.note_rows(version, ("test",))[:limit]
            notes.append(f"held-out cases: the test split of {version.label}")
        golden = self.golden_note_rows()
        trained = candidate.meta.get("dataset_version_id")
        if trained is not None:  # nothing the candidate was trained on may count as held out
            seen = datasets.note_rows(datasets.get_version(self.db, int(trained)), ("train",))
            rows, dropped = drop_trained_on(rows, seen)
            golden, dropped_golden = drop_trained_on(golden, seen)
            for n, what in ((dropped, "held-out"), (dropped_golden, "golden")):
                if n:
                    notes.append(f"{n} {what} cases were in the candidate's training split and were left out")
        rows, unreadable = draftable(rows)
        if unreadable:
            notes.append(f"{unreadable} held-out cases have no readable transcript and were left out")
        if not rows:
            raise UserFacingError("There are no held-out notes to compare on (the test split is empty, or every "
                                  "case was in the candidate's training data).")
        ctx.report(0.01, "loading both models")
        drafters = [self.notes_drafter(candidate), self.notes_drafter(baseline)]
        try:
            result = compare_llm_versions(ctx, drafters[0], drafters[1], rows, candidate_id=candidate.id,
                                          baseline_id=baseline.id, golden_rows=golden or None,
                                          rule=self.config.notes_rule, notes=notes)
        finally:
            for drafter in drafters:
                getattr(drafter, "close", lambda: None)()
        return result, version

    def _store_comparison(self, actor, candidate, baseline, version, result: ComparisonResult) -> int:
        from medstation.store.tables import ModelComparison

        with self.db.session() as s:
            row = ModelComparison(kind=result.kind, candidate_id=candidate.id, baseline_id=baseline.id,
                                  dataset_version_id=version.id if version is not None else None,
                                  recommend_promote=result.recommend_promote, reason=result.reason,
                                  result=result.to_json())
            s.add(row)
            s.flush()
            comparison_id = int(row.id)
        primary = result.overall[result.primary]
        self.registry.update_metrics(candidate.id, {"ab_vs": baseline.id, "ab_comparison_id": comparison_id,
                                                    f"ab_{result.primary}_diff": round(primary["mean_diff"], 4)})
        self.db.audit("model.compare", actor=actor.name, entity="model_version", entity_id=candidate.id,
                      baseline_id=baseline.id, comparison_id=comparison_id, recommend=result.recommend_promote,
                      reason=result.reason)
        return comparison_id

    def latest_comparison(self, candidate_id: int | None = None) -> tuple[int, ComparisonResult] | None:
        from sqlmodel import select

        from medstation.store.tables import ModelComparison

        with self.db.session() as s:
            query = select(ModelComparison)
            if candidate_id is not None:
                query = query.where(ModelComparison.candidate_id == candidate_id)
            row = s.exec(query.order_by(ModelComparison.id.desc())).first()
            if row is None:
                return None
            data = dict(row.result)
        return int(row.id), ComparisonResult.from_json(data)

    def promote(self, version_id: int, *, force: bool = False, reason: str = ""):
        """Promote ``version_id``; without ``force`` its latest A/B must recommend it (the gate, for
        segmentation and LLM versions). ``force`` needs a ``reason``; both are audited."""
        actor = self.session.require(Permission.manage_models)
        version = self._version(version_id)
        if force and not reason.strip():
            raise UserFacingError("A forced promotion needs a reason (it is written to the audit log).")
        if version.kind in GATED_KINDS and not force:
            verdict = self.promotion_verdict(version_id)
            if not verdict.allowed:
                raise UserFacingError(verdict.text() + " (An admin may force it with a reason; both are audited.)")
        info = self.registry.promote(version_id, actor.name)
        self.db.audit("admin.promote", actor=actor.name, entity="model_version", entity_id=version_id,
                      forced=force, reason=reason)
        return info

    def rollback(self, kind: str, *, reason: str = ""):
        actor = self.session.require(Permission.manage_models)
        info = self.registry.rollback(kind, actor.name)
        self.db.audit("admin.rollback", actor=actor.name, entity="model_version", entity_id=info.id, kind=kind,
                      reason=reason)
        return info

    def restore(self, version_id: int):
        actor = self.session.require(Permission.manage_models)
        return self.registry.restore(version_id, actor.name)

    def _version(self, version_id: int):
        version = self.registry.get(version_id)
        if version is None:
            raise UserFacingError(f"There is no model version #{version_id}.")
        return version

    def models(self, kind: str | None = None):
        return self.registry.history(kind)

    def candidates(self, kind: str = "segmentation"):
        return [v for v in self.registry.history(kind) if v.status == ModelStatus.candidate]

    # --- after promotion: monitoring, ledger, schedules, alerts ---------------------------------

    def check_auto_rollback(self, kind: str = "segmentation") -> str | None:
        """Roll back a promoted model that users reject (see ``monitoring``); returns the reason, or None."""
        from medstation.training.monitoring import check_auto_rollback

        return check_auto_rollback(self.db, self.registry, kind,
                                   margin=getattr(self.settings, "auto_rollback_margin", 0.15),
                                   min_cases=getattr(self.settings, "auto_rollback_min_cases", 20))

    def acceptance(self, version_id: int):
        from medstation.training.monitoring import acceptance_rate

        return acceptance_rate(self.db, version_id)

    def ledger(self, version_id: int) -> list[dict]:
        """Which masks (and notes) came from version ``version_id`` — asked before a rollback."""
        from medstation.training.monitoring import ledger

        self.session.require(Permission.manage_models)
        return ledger(self.db, version_id)

    def alerts(self) -> list[dict]:
        from medstation.training.monitoring import alerts

        return alerts(self.db, home=self.settings.home)

    def acknowledge_alert(self, alert_id: int) -> None:
        from medstation.training.monitoring import acknowledge

        acknowledge(self.db, alert_id, self.session.require(Permission.manage_models).name)

    def set_schedule(self, kind: str = "segmentation", *, every_n_cases: int | None = None,
                     weekday: int | None = None, hour_utc: int = 2):
        from medstation.training import schedules

        actor = self.session.require(Permission.manage_models)
        info = schedules.set_schedule(self.db, kind, every_n_cases=every_n_cases, weekday=weekday, hour_utc=hour_utc)
        self.db.audit("training.schedule", actor=actor.name, entity="training_schedule", entity_id=info.id,
                      every_n_cases=every_n_cases, weekday=weekday, hour_utc=hour_utc)
        return info

    def schedules(self):
        from medstation.training import schedules

        return schedules.schedules(self.db)

    def queue_due_schedules(self, ctx: JobContext) -> list[runs.RunInfo]:
        """Job (at start-up and hourly): build the clinic dataset and queue a run for each due schedule."""
        from medstation.training import schedules

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
            run = self.queue_segmentation(version.id)
            self.db.audit("training.scheduled_run", actor=self._actor_name(), entity="training_run",
                          entity_id=run.id, schedule_id=info.id, why=why)
            schedules.mark_ran(self.db, info.id)
            queued.append(run)
        return queued

    def runs(self, limit: int = 50) -> list[runs.RunInfo]:
        return runs.list_runs(self.db, limit)

    def run_metrics(self, run_id: int) -> dict:
        return runs.metrics_of(self.db, run_id)

    def close(self) -> None:
        pass
