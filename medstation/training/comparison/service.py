"""Stored A/B comparisons: run one on held-out cases, store it, read the newest back.

Segmentation: both versions segment the test split of the candidate's (or the given)
dataset through the viewer's engine. Notes (LLM): both draft the test split of a notes
dataset, or every row of an aci-bench CSV, with the Notes pipeline. Every comparison
carries what it was made on (:func:`~medstation.training.comparison.gate.comparison_context`)
and is judged by today's rule. The stored row, the candidate's ``ab_*`` metrics and the
``model.compare`` audit event are one transaction: all three or none.

Permission checks belong to the caller (:class:`~medstation.training.service.TrainingService`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from sqlmodel import select

from medstation.access.roles import Actor
from medstation.config import Settings
from medstation.errors import UserFacingError
from medstation.jobs import JobContext
from medstation.segmentation.engine import load_engine
from medstation.store.database import Database
from medstation.store.model_registry import ModelRegistry, ModelVersionInfo
from medstation.store.tables import ModelComparison, ModelKind
from medstation.training import datasets
from medstation.training.comparison.ab import ComparisonResult, compare_segmentation, decide
from medstation.training.comparison.gate import comparison_context, expected_groups, golden_identity
from medstation.training.comparison.notes import (PipelineDrafter, aci_csv_rows, compare_llm_versions, draftable,
                                                  drop_trained_on, shipped_golden_rows)
from medstation.training.settings import TrainingSettings

Drafter = Callable[[ModelVersionInfo], object]  # registry version → a compare_notes drafter


class ComparisonService:
    def __init__(self, *, settings: Settings, db: Database, registry: ModelRegistry,
                 config: TrainingSettings) -> None:
        self.settings, self.db, self.registry, self.config = settings, db, registry, config

    def compare(self, ctx: JobContext, actor: Actor, candidate: ModelVersionInfo, baseline: ModelVersionInfo, *,
                dataset_version_id: int | None = None, csv_path: Path | None = None, limit: int | None = None,
                drafter_for: Drafter | None = None) -> tuple[int, ComparisonResult]:
        """Job: the A/B of ``candidate`` against ``baseline``, decided, stored and audited (as ``actor``).
        ``drafter_for``: how a notes version drafts (default :meth:`notes_drafter`)."""
        if baseline.id == candidate.id:
            raise UserFacingError(f"#{candidate.id} is the active version; compare a candidate with it.")
        if candidate.kind == ModelKind.llm:
            result, version = self._compare_llm(ctx, candidate, baseline, dataset_version_id, csv_path, limit,
                                                drafter_for or self.notes_drafter)
        elif candidate.kind == ModelKind.segmentation:
            result, version = self._compare_segmentation(ctx, candidate, baseline, dataset_version_id)
        else:
            raise UserFacingError(f"There is no A/B comparison for {candidate.kind.value} models.")
        result = decide(replace(result, expected_groups=expected_groups(candidate.kind, version, result),
                                context=comparison_context(candidate, baseline, version.id if version else None,
                                                           self.golden_identity(candidate.kind))),
                        self.config.rule_for(candidate.kind))
        return self._store(actor, candidate, baseline, version, result), result

    # --- what a comparison is made on ----------------------------------------------------------

    def golden_identity(self, kind: ModelKind | str) -> str:
        """Which golden set a comparison of ``kind`` uses now (stored with it; the gate checks it is unchanged)."""
        return golden_identity(self.db, kind, self.config.golden_name(kind))

    def golden_rows(self, kind: str = "segmentation") -> list[dict]:
        """Rows of the newest golden snapshot (never trained on), or [] when the clinic has none."""
        golden = [v for v in datasets.list_versions(self.db, kind) if v.name == self.config.golden_dataset]
        return datasets.seg_rows(golden[-1]) if golden else []

    def golden_note_rows(self) -> list[dict]:
        """The clinic's newest ``golden-notes`` snapshot (never trained on), else the shipped synthetic set."""
        golden = [v for v in datasets.list_versions(self.db, "notes") if v.name == self.config.golden_notes_dataset]
        return datasets.note_rows(golden[-1]) if golden else shipped_golden_rows()

    def notes_drafter(self, version: ModelVersionInfo) -> PipelineDrafter:
        """The Notes pipeline drafting with registry version ``version`` (a ``comparison.notes`` drafter)."""
        return PipelineDrafter.for_version(self.db, self.settings, version.id)

    def _held_out_version(self, candidate: ModelVersionInfo, dataset_version_id: int | None):
        dsv = dataset_version_id or candidate.meta.get("dataset_version_id")
        if dsv is None:
            raise UserFacingError("Choose the dataset whose held-out cases the comparison should use.")
        return datasets.get_version(self.db, int(dsv))

    def _engine_for(self, version: ModelVersionInfo):
        return load_engine(version.meta.get("engine", "litemedsam"), models_dir=self.settings.models_dir,
                           cache_dir=self.settings.cache_dir, threads=self.settings.seg_threads,
                           checkpoint=version.local_file(shared_root=self.settings.shared_data_root,
                                                         cache_dir=self.settings.cache_dir))

    # --- the two kinds -------------------------------------------------------------------------

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

    def _compare_llm(self, ctx: JobContext, candidate, baseline, dataset_version_id, csv_path, limit,
                     drafter_for: Drafter):
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
        drafters = [drafter_for(candidate), drafter_for(baseline)]
        try:
            result = compare_llm_versions(ctx, drafters[0], drafters[1], rows, candidate_id=candidate.id,
                                          baseline_id=baseline.id, golden_rows=golden or None,
                                          rule=self.config.notes_rule, notes=notes)
        finally:
            for drafter in drafters:
                getattr(drafter, "close", lambda: None)()
        return result, version

    # --- storage -------------------------------------------------------------------------------

    def _store(self, actor: Actor, candidate, baseline, version, result: ComparisonResult) -> int:
        """The comparison row, the candidate's ``ab_*`` metrics and the ``model.compare`` event: one transaction."""
        primary = result.overall[result.primary]
        with self.db.write_session() as s:
            row = ModelComparison(kind=result.kind, candidate_id=candidate.id, baseline_id=baseline.id,
                                  dataset_version_id=version.id if version is not None else None,
                                  recommend_promote=result.recommend_promote, reason=result.reason,
                                  result=result.to_json())
            s.add(row)
            s.flush()
            comparison_id = int(row.id)
            self.registry.update_metrics(candidate.id, {"ab_vs": baseline.id, "ab_comparison_id": comparison_id,
                                                        f"ab_{result.primary}_diff": round(primary["mean_diff"], 4)},
                                         session=s)
            self.db.audit("model.compare", actor=actor.name, entity="model_version", entity_id=candidate.id,
                          baseline_id=baseline.id, comparison_id=comparison_id, recommend=result.recommend_promote,
                          reason=result.reason, session=s)
        return comparison_id

    def latest(self, candidate_id: int | None = None) -> tuple[int, ComparisonResult] | None:
        """The newest stored comparison (of ``candidate_id``), or None."""
        with self.db.session() as s:
            query = select(ModelComparison)
            if candidate_id is not None:
                query = query.where(ModelComparison.candidate_id == candidate_id)
            row = s.exec(query.order_by(ModelComparison.id.desc())).first()
            if row is None:
                return None
            data = dict(row.result)
        return int(row.id), ComparisonResult.from_json(data)
