"""``ModelRegistry``: the one owner of model versions, for every kind (segmentation, LLM, fine-tuned).

A version is a file identified by ``(kind, sha256)``. At most one version per
kind is ``active`` (a partial unique index in SQLite enforces it); every other
one is a ``candidate`` (registered, never active yet), ``retired`` (was active)
or ``failed``. Readers ask :meth:`ModelRegistry.active` each time they need a
model, so a promotion takes effect without a restart.

Transitions, each one transaction (``BEGIN IMMEDIATE``: a second writer waits
and then sees the first one's result) followed by an audit record:

* :meth:`promote` — a candidate becomes active; the old active one is retired
  and remembered as the new one's ``previous_active_id``;
* :meth:`rollback` — the active version is retired and its ``previous_active_id``
  becomes active again;
* :meth:`restore` — a chosen retired version becomes active again.

Files referenced by any version are never deleted here.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from medstation.errors import UserFacingError
from medstation.fileio import file_sha256
from medstation.store.database import Database
from medstation.store.objects import local_model_file
from medstation.store.tables import ModelKind, ModelStatus, ModelVersion, utcnow

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1


class RegistryError(UserFacingError):
    """A registry action that cannot be done as asked (unknown id, nothing to roll back to)."""


@dataclass(frozen=True)
class ModelVersionInfo:
    """One registered model version, detached from the database (safe to pass between threads)."""

    id: int
    kind: ModelKind
    name: str
    path: str
    sha256: str
    parent_id: int | None
    dataset_version: str
    hyperparameters: dict[str, Any]
    metrics: dict[str, Any]
    status: ModelStatus
    source: str
    created_at: datetime
    size_bytes: int = 0
    meta: dict[str, Any] = field(default_factory=dict)
    activated_at: datetime | None = None
    previous_active_id: int | None = None
    schema_version: int = SCHEMA_VERSION

    @property
    def file(self) -> Path:
        return Path(self.path)

    def local_file(self, *, shared_root: Path | None, cache_dir: Path) -> Path:
        """This version's file on this machine, verified against :attr:`sha256`: the registered path, or the
        shared root's copy fetched into ``cache_dir`` (:func:`medstation.store.objects.local_model_file`)."""
        return local_model_file(self.path, self.sha256, kind=self.kind.value, shared_root=shared_root,
                                cache_dir=cache_dir)

    def label(self) -> str:
        """One line for lists: ``#3 LiteMedSAM (segmentation, active)``."""
        return f"#{self.id} {self.name} ({self.kind.value}, {self.status.value})"

    @classmethod
    def from_row(cls, row: ModelVersion) -> ModelVersionInfo:
        return cls(
            id=int(row.id), kind=ModelKind(row.kind), name=row.name, path=row.path, sha256=row.sha256,
            parent_id=row.parent_id, dataset_version=row.dataset_version or "",
            hyperparameters=dict(row.hyperparameters or {}), metrics=dict(row.metrics or {}),
            status=ModelStatus(row.status), source=row.source, created_at=row.created_at,
            size_bytes=row.size_bytes, meta=dict(row.meta or {}), activated_at=row.activated_at,
            previous_active_id=row.previous_active_id,
        )


def _actor_name(actor: str) -> str:
    """The name to audit. Permission to manage models is the calling service's check, made before."""
    if not isinstance(actor, str):
        raise TypeError(f"ModelRegistry wants an actor name (str), got {type(actor).__name__}.")
    return actor


class ModelRegistry:
    """Model versions of every kind in the app's database. Thread-safe (short sessions only)."""

    # How long active_id() trusts its last read: promotions made by this process are seen at
    # once (they clear the cache); one made by another process (the CLI) within this many seconds.
    ACTIVE_ID_TTL_S = 2.0

    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = threading.Lock()
        self._active_ids: dict[ModelKind, tuple[float, int | None]] = {}

    # --- registration --------------------------------------------------------------------------

    def register(
        self,
        kind: ModelKind | str,
        name: str,
        path: str | Path,
        *,
        sha256: str | None = None,
        parent_id: int | None = None,
        dataset_version: str = "",
        hyperparameters: dict[str, Any] | None = None,
        metrics: dict[str, Any] | None = None,
        status: ModelStatus = ModelStatus.candidate,
        source: str = "user",
        meta: dict[str, Any] | None = None,
    ) -> ModelVersionInfo:
        """The version of ``path`` (registered now, or the existing row with the same kind and sha256).

        Idempotent: registering a known file again returns its version (updating the
        path when the file moved). ``status=active`` is granted only while the kind has
        no active version; otherwise the file enters as a candidate (replacing an active
        model is :meth:`promote`'s job, with an actor). Two threads or processes
        registering at once end with one row: the loser's IntegrityError is answered
        by reading the winner's row.
        """
        kind = ModelKind(kind)
        status = ModelStatus(status)
        file = Path(path)
        sha256 = sha256 or file_sha256(file)
        try:
            size = file.stat().st_size
        except OSError:
            size = 0
        fields = dict(kind=kind, name=name, path=str(file), sha256=sha256, size_bytes=size, parent_id=parent_id,
                      dataset_version=dataset_version, hyperparameters=dict(hyperparameters or {}),
                      metrics=dict(metrics or {}), source=source, meta=dict(meta or {}))
        for attempt in range(3):
            existing = self._find(kind, sha256, str(file))
            if existing is not None:
                return existing
            want_active = status == ModelStatus.active and attempt == 0
            try:
                with self.db.session() as s:
                    has_active = s.exec(select(ModelVersion.id).where(
                        ModelVersion.kind == kind, ModelVersion.status == ModelStatus.active)).first()
                    active_now = want_active and has_active is None
                    row = ModelVersion(**fields, status=ModelStatus.active if active_now else (
                        ModelStatus.candidate if status == ModelStatus.active else status),
                        activated_at=utcnow() if active_now else None)
                    s.add(row)
                    s.flush()
                    info = ModelVersionInfo.from_row(row)
                    self.db.audit("model.register", entity="model_version", entity_id=info.id, kind=kind.value,
                                  name=name, sha256=sha256, status=info.status.value, source=source, session=s)
            except IntegrityError:
                # Someone registered the same file (kind+sha256) or made another version of this
                # kind active between our read and our insert: read again, and never ask for active twice.
                log.info("model registration raced for %s %s; re-reading", kind.value, sha256[:12])
                continue
            self._forget_active()
            return info
        raise RegistryError(f"Could not register {file.name}: the database kept changing underneath.")

    def _find(self, kind: ModelKind, sha256: str, path: str) -> ModelVersionInfo | None:
        with self.db.session() as s:
            row = s.exec(select(ModelVersion).where(ModelVersion.kind == kind, ModelVersion.sha256 == sha256)).first()
            if row is None:
                return None
            if row.path != path:  # the same file moved (new venv, new models folder)
                row.path = path
                s.add(row)
            return ModelVersionInfo.from_row(row)

    def update_metrics(self, version_id: int, metrics: dict[str, Any], *,
                       session: Session | None = None) -> ModelVersionInfo:
        """Merge ``metrics`` (e.g. ``{"dice": 0.91}``) into the version's metrics; returns the new state.
        With ``session`` the change is part of that session's transaction (a caller's write and its audit)."""
        if session is not None:
            return self._merge_metrics(session, version_id, metrics)
        with self.db.write_session() as s:
            return self._merge_metrics(s, version_id, metrics)

    def _merge_metrics(self, s: Session, version_id: int, metrics: dict[str, Any]) -> ModelVersionInfo:
        row = self._row(s, version_id)
        row.metrics = {**(row.metrics or {}), **metrics}
        s.add(row)
        s.flush()
        return ModelVersionInfo.from_row(row)

    # --- reading -------------------------------------------------------------------------------

    def get(self, version_id: int) -> ModelVersionInfo | None:
        with self.db.session() as s:
            row = s.get(ModelVersion, version_id)
            return ModelVersionInfo.from_row(row) if row is not None else None

    def active(self, kind: ModelKind | str) -> ModelVersionInfo | None:
        """The active version of ``kind`` now (read on every call: promotions apply at once)."""
        with self.db.session() as s:
            row = s.exec(select(ModelVersion).where(
                ModelVersion.kind == ModelKind(kind), ModelVersion.status == ModelStatus.active)).first()
            return ModelVersionInfo.from_row(row) if row is not None else None

    def active_id(self, kind: ModelKind | str, *, fresh: bool = False) -> int | None:
        """Id of the active version of ``kind``, cached for :attr:`ACTIVE_ID_TTL_S` (cheap to poll)."""
        kind = ModelKind(kind)
        now = time.monotonic()
        with self._lock:
            cached = self._active_ids.get(kind)
        if cached is not None and not fresh and now - cached[0] < self.ACTIVE_ID_TTL_S:
            return cached[1]
        with self.db.session() as s:
            found = s.exec(select(ModelVersion.id).where(
                ModelVersion.kind == kind, ModelVersion.status == ModelStatus.active)).first()
        with self._lock:
            self._active_ids[kind] = (now, found)
        return found

    def _forget_active(self) -> None:
        with self._lock:
            self._active_ids.clear()

    def history(self, kind: ModelKind | str | None = None) -> list[ModelVersionInfo]:
        """Every version (of ``kind``), newest first."""
        with self.db.session() as s:
            query = select(ModelVersion)
            if kind is not None:
                query = query.where(ModelVersion.kind == ModelKind(kind))
            rows = s.exec(query.order_by(ModelVersion.id.desc())).all()
            return [ModelVersionInfo.from_row(r) for r in rows]

    # --- transitions ---------------------------------------------------------------------------

    def promote(self, version_id: int, actor: str, *, action: str = "model.promote",
                **detail) -> ModelVersionInfo:
        """Make candidate ``version_id`` the active version of its kind (one transaction, audited once as
        ``action`` with ``detail``, e.g. the training service's ``admin.promote`` with ``forced`` and ``reason``)."""
        return self._activate(version_id, actor, allowed=(ModelStatus.candidate,), action=action, **detail)

    def restore(self, version_id: int, actor: str) -> ModelVersionInfo:
        """Make retired ``version_id`` active again (one transaction, audited)."""
        return self._activate(version_id, actor, allowed=(ModelStatus.retired,), action="model.restore")

    def rollback(self, kind: ModelKind | str, actor: str, *, action: str = "model.rollback",
                 session: Session | None = None, **detail) -> ModelVersionInfo:
        """Retire the active version of ``kind`` and reactivate the one it replaced; returns that one (one
        transaction, audited once as ``action`` with ``detail``). With ``session`` (a caller's
        :meth:`~medstation.store.database.Database.write_session`) it is part of that transaction, so the
        caller's own rows (an alert) commit with it or not at all."""
        if session is not None:
            info = self._rollback_in(session, ModelKind(kind), _actor_name(actor), action, detail)
            session.flush()
        else:
            with self.db.write_session() as s:
                info = self._rollback_in(s, ModelKind(kind), _actor_name(actor), action, detail)
        self._forget_active()
        return info

    def _rollback_in(self, s: Session, kind: ModelKind, who: str, action: str, detail: dict) -> ModelVersionInfo:
        current = self._active_row(s, kind)
        if current is None:
            raise RegistryError(f"No {kind.value} model is active, so there is nothing to roll back.")
        if current.previous_active_id is None:
            raise RegistryError(f"{current.name} (#{current.id}) replaced no earlier {kind.value} model; "
                                "there is nothing to roll back to.")
        previous = self._row(s, current.previous_active_id)
        current.status = ModelStatus.retired
        s.add(current)
        s.flush()  # the partial unique index allows one active row per kind at every statement
        previous.status = ModelStatus.active
        previous.activated_at = utcnow()
        s.add(previous)
        s.flush()
        from_id, info = int(current.id), ModelVersionInfo.from_row(previous)
        self.db.audit(action, actor=who, entity="model_version", entity_id=info.id, kind=kind.value,
                      from_version=from_id, to_version=info.id, session=s, **detail)
        return info

    def _activate(self, version_id: int, actor: str, *, allowed: tuple[ModelStatus, ...],
                  action: str, **detail) -> ModelVersionInfo:
        who = _actor_name(actor)
        with self.db.write_session() as s:
            target = self._row(s, version_id)
            status = ModelStatus(target.status)
            if status not in allowed:
                verb = action.split(".")[1]
                raise RegistryError(f"{target.name} (#{target.id}) is {status.value}; only "
                                    f"{' or '.join(a.value for a in allowed)} versions can be {verb}d.")
            current = self._active_row(s, ModelKind(target.kind))
            if current is not None:
                current.status = ModelStatus.retired
                s.add(current)
                s.flush()
            target.status = ModelStatus.active
            target.activated_at = utcnow()
            target.previous_active_id = current.id if current is not None else None
            s.add(target)
            s.flush()
            info = ModelVersionInfo.from_row(target)
            self.db.audit(action, actor=who, entity="model_version", entity_id=info.id, kind=info.kind.value,
                          from_version=info.previous_active_id, to_version=info.id, session=s, **detail)
        self._forget_active()
        return info

    @staticmethod
    def _row(s, version_id: int) -> ModelVersion:
        row = s.get(ModelVersion, version_id)
        if row is None:
            raise RegistryError(f"There is no model version #{version_id}.")
        return row

    @staticmethod
    def _active_row(s, kind: ModelKind) -> ModelVersion | None:
        return s.exec(select(ModelVersion).where(
            ModelVersion.kind == kind, ModelVersion.status == ModelStatus.active)).first()
