"""Composition root: the one place services are built and handed to the tabs.

No module-level state and no singletons: :func:`build_services` makes each
service once from :class:`~medstation.config.Settings`, and the main window
gives every tab only what it needs. Heavy things (models, the knowledge base)
are built lazily by their services on first use, in a worker lane.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from medstation.config import Settings
from medstation.logging_setup import configure_logging
from medstation.store.database import Database

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Domain services shared by the tabs and the command line (all Qt-free)."""

    settings: Settings
    db: Database
    extra: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        for service in self.extra.values():
            close = getattr(service, "close", None)
            if callable(close):
                try:
                    close()
                except Exception:  # closing must not hide the real exit status
                    log.exception("closing %r failed", service)
        self.db.close()


def build_services(settings: Settings | None = None) -> Services:
    settings = settings or Settings()
    settings.ensure_dirs()
    configure_logging(settings.log_dir, settings.log_level)
    db = Database(settings.db_path)
    services = Services(settings=settings, db=db)
    _attach_domain_services(services)
    return services


def _attach_domain_services(services: Services) -> None:
    """Each feature package contributes its services here; all are lazy and cheap to build."""
    for module_name, key, factory in _OPTIONAL_SERVICES:
        try:
            module = __import__(module_name, fromlist=[factory])
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        services.extra[key] = getattr(module, factory)(services.settings, services.db)
    _attach_notes(services)


def _attach_notes(services: Services) -> None:
    """The Notes service acts for a person: it needs the user session and the LLM service."""
    from medstation.access.roles import UserSession
    from medstation.notes.service import NotesService

    session = services.extra.setdefault("session", UserSession.from_os_user())
    services.extra["notes"] = NotesService(services.settings, services.db, session, services.extra.get("llm"))


# (module, key, factory): feature services built when their package is present.
_OPTIONAL_SERVICES: list[tuple[str, str, str]] = [
    ("medstation.imaging.service", "imaging", "ImagingService"),
    ("medstation.segmentation.service", "segmentation", "SegmentationService"),
    ("medstation.rag.service", "kb", "KnowledgeBaseService"),
    ("medstation.llm.service", "llm", "LLMService"),
]
