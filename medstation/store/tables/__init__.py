"""Every table of the workstation, importable from this one package.

Conventions: singular class names, explicit snake_case table names, UTC
timestamps, string enums for statuses. SQLite enforces the invariants it can
(unique UIDs; at most one active model version per kind via a partial index).
JSON columns hold small structured provenance (prompts, passage ids), never
pixel data: masks live in ``.npz`` files whose paths are stored here.

The definitions live in one file per area (imaging, access, models, viewer, chat, notes,
training); importing this package registers all of them on ``SQLModel.metadata``, so
migrations and ``from medstation.store.tables import X`` see one schema.
"""

from __future__ import annotations

from medstation.store.tables.common import utcnow
from medstation.store.tables.imaging import (  # noqa: F401
    Patient,
    Study,
    Series,
    Instance,
    PseudonymKind,
    DeidPseudonym,
)
from medstation.store.tables.access import (  # noqa: F401
    AuditEvent,
    UserAccount,
    AccessToken,
    AuditChainHead,
)
from medstation.store.tables.models import (  # noqa: F401
    ModelKind,
    ModelStatus,
    ModelVersion,
)
from medstation.store.tables.viewer import (  # noqa: F401
    SegmentationStatus,
    Segmentation,
    Measurement,
    ViewerAnnotation,
)
from medstation.store.tables.chat import (  # noqa: F401
    KbVersion,
    KbDocument,
    Conversation,
    ChatMessage,
)
from medstation.store.tables.notes import (  # noqa: F401
    NotesClient,
    TherapySession,
    SessionTranscript,
    NoteTemplateRecord,
    SessionNote,
    NoteRevision,
    NoteAutosave,
    NoteAddendum,
    NoteRiskAcknowledgement,
)
from medstation.store.tables.training import (  # noqa: F401
    DatasetKind,
    TrainingDataset,
    DatasetVersion,
    DatasetCase,
    TrainingRunStatus,
    TrainingRun,
    TrainingMetric,
    ModelComparison,
    TrainingSchedule,
    ModelAlert,
    ShadowCase,
    PreferenceChoice,
)

__all__ = [
    "utcnow",
    "Patient",
    "Study",
    "Series",
    "Instance",
    "PseudonymKind",
    "DeidPseudonym",
    "AuditEvent",
    "UserAccount",
    "AccessToken",
    "AuditChainHead",
    "ModelKind",
    "ModelStatus",
    "ModelVersion",
    "SegmentationStatus",
    "Segmentation",
    "Measurement",
    "ViewerAnnotation",
    "KbVersion",
    "KbDocument",
    "Conversation",
    "ChatMessage",
    "NotesClient",
    "TherapySession",
    "SessionTranscript",
    "NoteTemplateRecord",
    "SessionNote",
    "NoteRevision",
    "NoteAutosave",
    "NoteAddendum",
    "NoteRiskAcknowledgement",
    "DatasetKind",
    "TrainingDataset",
    "DatasetVersion",
    "DatasetCase",
    "TrainingRunStatus",
    "TrainingRun",
    "TrainingMetric",
    "ModelComparison",
    "TrainingSchedule",
    "ModelAlert",
    "ShadowCase",
    "PreferenceChoice",
]
