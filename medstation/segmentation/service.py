"""SegmentationService: the one door the viewer (and scripts) use for MedSAM work.

Built cheaply by ``app.build_services``; the model loads on first use inside a job
in the ``segmentation`` lane (:meth:`ensure_engine`). Checkpoints are versions in
the :class:`~medstation.store.model_registry.ModelRegistry` (kind = segmentation,
sha256 of the file) so every stored mask points at the exact weights that drew it.

Without an explicit engine name the service runs the registry's *active*
segmentation version: after a promotion or rollback :meth:`engine` answers None
until :meth:`ensure_engine` has loaded the new active version (no restart).
"""

from __future__ import annotations

import enum
import logging
from pathlib import Path

from medstation.access.roles import Permission, UserSession
from medstation.config import Settings
from medstation.jobs import JobContext
from medstation.segmentation import export, registry
from medstation.segmentation.cache import EmbeddingCache
from medstation.segmentation.engine import load_engine
from medstation.segmentation.measure import measure, report_line
from medstation.segmentation.records import SegmentRecord, StoredSegment, load_stored_segments, save_decision
from medstation.segmentation.slices import VolumeSegmenter
from medstation.store.database import Database
from medstation.store.model_registry import ModelRegistry
from medstation.store.tables import ModelKind, ModelStatus, Segmentation

log = logging.getLogger(__name__)


def register_engine(registry: ModelRegistry, engine, *, default_engine: str = "litemedsam") -> int:
    """Id of the registry version for ``engine``'s checkpoint, registering it on first sight.

    The default engine becomes the active segmentation model when none is active;
    others enter as candidates (promotion is the admin's decision).
    """
    status = ModelStatus.active if engine.name == default_engine else ModelStatus.candidate
    return engine.spec.register(registry, engine.checkpoint, sha256=engine.sha256, status=status).id


class ExportKind(str, enum.Enum):
    nifti = "nifti"  # label map .nii.gz in the series geometry
    dicom_seg = "dicom_seg"  # DICOM Segmentation object referencing the source instances


def export_segments(db, kind: ExportKind | str, segments, volume, path, actor: str) -> Path:
    """Write ``segments`` (list of ExportSegment) as ``kind`` to ``path`` and audit it; returns the written path.

    The one export path for the GUI and the command line, so both leave the same
    audit record: action ``segmentation.export``, entity ``file`` = the written path,
    detail ``kind``, ``series_uid``, ``segments`` (names), ``algorithms`` (engine per segment).
    """
    kind = ExportKind(kind)
    writer = export.export_nifti if kind == ExportKind.nifti else export.export_dicom_seg
    written = Path(writer(list(segments), volume, path))
    db.audit("segmentation.export", actor=actor, entity="file", entity_id=str(written), kind=kind.value,
             series_uid=volume.series_uid, segments=[s.name for s in segments],
             algorithms=[s.algorithm for s in segments], drafts=[s.name for s in segments if s.draft])
    return written


def rename_stored_segment(db, segmentation_id: int, name: str, actor: str) -> str:
    """Give the saved segment ``segmentation_id`` a new name (any status, accepted included) and audit it.

    Returns the old name. A rename changes no mask or decision, so an accepted segment stays accepted."""
    name = name.strip()
    if not name:
        raise ValueError("a segment needs a name")
    with db.session() as s:
        row = s.get(Segmentation, int(segmentation_id))
        if row is None:
            raise ValueError(f"no saved segment #{segmentation_id}")
        old, row.name = row.name, name
        s.add(row)
        db.audit("segmentation.rename", actor=actor, entity="segmentation", entity_id=int(segmentation_id),
                 old_name=old, name=name, session=s)
    return old


class SegmentationService:
    """Engines, the shared embedding cache and storage of decided segments."""

    def __init__(self, settings: Settings, db: Database, *, registry: ModelRegistry, session: UserSession) -> None:
        """``registry``: the app's one model registry; ``session``: who acts (both from the composition root)."""
        self.settings = settings
        self.db = db
        self.session = session
        self.registry = registry
        self.cache = EmbeddingCache(settings.seg_cache_slices)
        self._engines: dict[str, object] = {}
        self._model_version_ids: dict[str, int] = {}
        self._active_loaded: int | None = None  # registry id of the active version the default engine runs
        self.status: dict[str, str] = {}

    @property
    def default_engine(self) -> str:
        return self.settings.seg_engine

    def available_engines(self) -> list[str]:
        """Engine names whose checkpoint is present (listed, never downloaded)."""
        return registry.available_engines(self.settings.models_dir)

    def engine(self, name: str | None = None):
        """The loaded engine, or None when :meth:`ensure_engine` has not run, failed, or the active version changed."""
        if name is None and self._active_loaded is not None \
                and self.registry.active_id(ModelKind.segmentation) != self._active_loaded:
            return None
        return self._engines.get(name or self.default_engine)

    def model_version_id(self, name: str | None = None) -> int | None:
        return self._model_version_ids.get(name or self.default_engine)

    def ensure_engine(self, ctx: JobContext, name: str | None = None):
        """Job: load (once) and register engine ``name`` (None: the active version); raises CheckpointError."""
        follow_active = name is None
        name = name or self.default_engine
        active = self.registry.active(ModelKind.segmentation) if follow_active else None
        if name in self._engines and (not follow_active or active is None or active.id == self._active_loaded):
            return self._engines[name]
        spec = registry.engine_spec(name)
        checkpoint = None
        # clinic mode: a version trained elsewhere is fetched from the shared root, verified (else an error);
        # the embedded checkpoint ships with every install and is found locally as before
        fetch = self.settings.shared_data_root is not None and active is not None and active.source != "embedded"
        if active is not None and active.meta.get("engine") in registry.ENGINES and (active.file.is_file() or fetch):
            spec = registry.engine_spec(active.meta["engine"])
            checkpoint = (active.local_file(shared_root=self.settings.shared_data_root,
                                            cache_dir=self.settings.cache_dir) if fetch else active.file)
        ctx.report(0.1, f"loading {spec.display_name}")
        self.status[name] = f"{spec.display_name} loading…"
        try:
            engine = load_engine(spec.name, models_dir=self.settings.models_dir, cache_dir=self.settings.cache_dir,
                                 threads=self.settings.seg_threads, checkpoint=checkpoint)
        except Exception as exc:
            self.status[name] = f"Model failed to load: {exc}"
            raise
        ctx.check()
        version_id = register_engine(self.registry, engine, default_engine=self.default_engine)
        self._model_version_ids[name] = version_id
        self._engines[name] = engine
        if follow_active:
            self._active_loaded = self.registry.active_id(ModelKind.segmentation, fresh=True)
        self.status[name] = engine.describe()
        ctx.report(1.0, self.status[name])
        return engine

    def segmenter(self, volume, window=None, name: str | None = None):
        """A :class:`~medstation.segmentation.slices.VolumeSegmenter` on the shared cache (engine must be loaded)."""
        self.session.require(Permission.edit_imaging)
        engine = self.engine(name)
        if engine is None:
            raise RuntimeError("the segmentation model is not loaded yet")
        return VolumeSegmenter(engine, volume, self.cache, window)

    def decide(self, ctx: JobContext, record: SegmentRecord, volume, decision: str, actor: str) -> dict:
        """Job: measure and store ``record`` as accepted / rejected / draft. Returns ids and the report line."""
        signed_in = self.session.require(Permission.edit_imaging)
        actor = actor or signed_in.name
        ctx.report(0.2, "measuring")
        measurements = measure(record.mask, volume) if record.mask.any() else None
        ctx.check()
        seg_id = save_decision(self.db, self.settings.home, record, decision, actor, measurements,
                               shared_root=self.settings.shared_data_root)
        return {"id": seg_id, "decision": decision, "report": report_line(record.name, measurements),
                "measurements": measurements}

    def export(self, ctx: JobContext, kind: ExportKind | str, segments, volume, path, actor: str) -> str:
        """Job: :func:`export_segments` in a lane; returns the written path as text."""
        actor = actor or self.session.require(Permission.export_imaging).name
        self.session.require(Permission.export_imaging)
        ctx.report(0.1, f"writing {path}")
        return str(export_segments(self.db, kind, segments, volume, path, actor))

    def rename(self, ctx: JobContext, segmentation_id: int, name: str, actor: str = "") -> str:
        """Job: store a new name for a saved segment (see :func:`rename_stored_segment`); returns the name."""
        signed_in = self.session.require(Permission.edit_imaging)
        ctx.check()
        rename_stored_segment(self.db, segmentation_id, name, actor or signed_in.name)
        return name.strip()

    def saved_segments(self, ctx: JobContext, series_uid: str) -> list[StoredSegment]:
        """Job: the accepted segments stored for ``series_uid`` (they reload when the series is reopened)."""
        ctx.check()
        return load_stored_segments(self.db, series_uid, statuses=("accepted",))

    def close(self) -> None:
        self.cache.clear()
        self._engines.clear()
