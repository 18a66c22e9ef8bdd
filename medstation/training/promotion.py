"""Promotion, rollback and restore of model versions, behind the promotion gate.

Each change is one registry transaction with one audit event written inside it
(``admin.promote`` with ``forced`` and ``reason``; ``admin.rollback`` with ``kind``
and ``reason``; ``model.restore``): the status change and its record commit
together or not at all. The permission (``manage_models``) is checked once, by the
caller (:class:`~medstation.training.service.TrainingService`), which passes the
signed-in :class:`~medstation.access.roles.Actor`; the registry gets only its name.
"""

from __future__ import annotations

from medstation.access.roles import Actor
from medstation.errors import UserFacingError
from medstation.store.database import Database
from medstation.store.model_registry import ModelRegistry, ModelVersionInfo
from medstation.store.tables import ModelKind
from medstation.training.comparison.gate import GATED_KINDS, PromotionVerdict, golden_identity, promotion_verdict
from medstation.training.settings import TrainingSettings


class Promotion:
    def __init__(self, *, db: Database, registry: ModelRegistry, config: TrainingSettings) -> None:
        self.db, self.registry, self.config = db, registry, config

    def version(self, version_id: int) -> ModelVersionInfo:
        version = self.registry.get(version_id)
        if version is None:
            raise UserFacingError(f"There is no model version #{version_id}.")
        return version

    def verdict(self, version_id: int) -> PromotionVerdict:
        """Whether ``version_id`` may be promoted without force now, and why (plain words; reads only)."""
        version = self.version(version_id)
        golden = (golden_identity(self.db, version.kind, self.config.golden_name(version.kind))
                  if version.kind in GATED_KINDS else "")
        return promotion_verdict(self.db, version, self.registry.active(version.kind),
                                 self.config.rule_for(version.kind), golden)

    def promote(self, actor: Actor, version_id: int, *, force: bool = False, reason: str = "") -> ModelVersionInfo:
        """Promote ``version_id``; without ``force`` its latest A/B must recommend it (the gate, for
        segmentation and LLM versions). ``force`` needs a ``reason``; both are audited."""
        version = self.version(version_id)
        if force and not reason.strip():
            raise UserFacingError("A forced promotion needs a reason (it is written to the audit log).")
        if version.kind in GATED_KINDS and not force:
            verdict = self.verdict(version_id)
            if not verdict.allowed:
                raise UserFacingError(verdict.text() + " (An admin may force it with a reason; both are audited.)")
        return self.registry.promote(version_id, actor.name, action="admin.promote", forced=force, reason=reason)

    def rollback(self, actor: Actor, kind: ModelKind | str, *, reason: str = "") -> ModelVersionInfo:
        """Retire the active ``kind`` version and reactivate its predecessor (audited with ``reason``)."""
        return self.registry.rollback(kind, actor.name, action="admin.rollback", reason=reason)

    def restore(self, actor: Actor, version_id: int) -> ModelVersionInfo:
        return self.registry.restore(version_id, actor.name)
