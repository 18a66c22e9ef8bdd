"""Composition root: the one place services are built and handed to the tabs.

No module-level state and no singletons: :func:`build_services` makes each
service once from :class:`~medstation.config.Settings` and returns them in a
typed, frozen :class:`Services`; the main window gives every tab only the
collaborators it needs. Heavy things (models, the knowledge base) are built
lazily by their services on first use, in a worker lane. The notes and training
services (and their imports) are built on first use too: the first screen (the
Viewer) needs neither, and importing them costs about a second of a cold start.

To add a service: one field on :class:`Services` and one construction line in
:func:`build_services`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from functools import cached_property

from medstation.access.encryption import open_database, open_store
from medstation.access.headless import bind_audit_actor, session_from_environment
from medstation.access.roles import UserSession
from medstation.config import Settings
from medstation.imaging.service import ImagingService
from medstation.llm.service import LLMService
from medstation.logging_setup import configure_logging
from medstation.rag.service import KnowledgeBaseService
from medstation.segmentation.service import SegmentationService
from medstation.store.database import Database
from medstation.store.model_registry import ModelRegistry
from medstation.training.canary.candidates import CandidateModels
from medstation.training.canary.shadow import ShadowSampler, ShadowService

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    """Every domain service of the app, built once (all Qt-free; each cheap until first used)."""

    settings: Settings
    db: Database
    session: UserSession  # who is acting: the one source of the acting user
    registry: ModelRegistry
    imaging: ImagingService
    segmentation: SegmentationService
    kb: KnowledgeBaseService
    llm: LLMService
    shadow: ShadowService  # candidates beside the active model: shadow runs, blind preference

    # Built on first use (cached_property writes the instance's __dict__, which a frozen dataclass allows).
    @cached_property
    def notes(self):
        """NotesService (built on first use)."""
        from medstation.notes.service import NotesService

        return NotesService(self.settings, self.db, self.session, self.llm)

    @cached_property
    def training(self):
        """TrainingService (built on first use)."""
        from medstation.training.service import TrainingService

        return TrainingService(settings=self.settings, db=self.db, session=self.session, registry=self.registry)

    LAZY = ("notes", "training")

    def close(self) -> None:
        """Close every service that has ``close()`` (newest first; lazy ones only if built), then the database."""
        built = [name for name in self.LAZY if name in self.__dict__]
        for name in [*reversed(built), *(f.name for f in reversed(fields(self)))]:
            service = getattr(self, name)
            if name == "db":
                continue
            close = getattr(service, "close", None)
            if callable(close):
                try:
                    close()
                except Exception:  # closing must not hide the real exit status
                    log.exception("closing %s failed", name)
        self.db.close()


def build_services(settings: Settings | None = None, *, session: UserSession | None = None) -> Services:
    """Settings → database → registry → domain services.

    ``session`` defaults to the headless sign-in (:func:`medstation.access.headless.session_from_environment`:
    single-user mode as the OS user while the data folder has no accounts, else ``MEDSTATION_USER`` +
    ``MEDSTATION_PASSWORD`` or ``MEDSTATION_TOKEN_FILE``); the window passes an empty one and signs in itself.
    """
    settings = settings or Settings()
    settings.ensure_dirs()
    configure_logging(settings.log_dir, settings.log_level)
    db = open_store(settings, encrypt_new=settings.db_encryption)
    try:
        session = bind_audit_actor(db, session) if session is not None else session_from_environment(db)
    except BaseException:
        db.close()
        raise
    registry = ModelRegistry(db)
    llm = LLMService(settings, db, registry=registry)
    return Services(
        settings=settings,
        db=db,
        session=session,
        registry=registry,
        imaging=ImagingService(settings, db, session=session),
        segmentation=SegmentationService(settings, db, registry=registry, session=session),
        kb=KnowledgeBaseService(settings, db, session=session),
        llm=llm,
        shadow=ShadowService(settings=settings, db=db, session=session, registry=registry,
                             models=CandidateModels(settings, db), sampler=ShadowSampler()),
    )
