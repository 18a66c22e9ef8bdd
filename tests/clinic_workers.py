"""Workstation processes for the clinic concurrency tests (spawned: each has its own engine and pool).

Every function opens its own :class:`Database` on ``location`` (an SQLite path or a PostgreSQL URL),
waits at ``barrier`` so the processes really overlap, does its work and reports on ``results``.
"""

from __future__ import annotations

from pathlib import Path


def _open(location, home):
    from medstation.store.database import Database

    return Database(location, anchor_root=Path(home), migrate=False)


def append_audit(location, home, who: str, count: int, barrier, results) -> None:
    """``count`` events: even ones on their own, odd ones inside a session's transaction."""
    db = _open(location, home)
    try:
        barrier.wait(timeout=120)
        for i in range(count):
            if i % 2:
                with db.session() as s:
                    db.audit("clinic.stress", actor=who, entity="n", entity_id=i, session=s)
            else:
                db.audit("clinic.stress", actor=who, entity="n", entity_id=i)
        results.put((who, "ok", count))
    except Exception as exc:  # noqa: BLE001 (the test reports it)
        results.put((who, "error", repr(exc)))
    finally:
        db.close()


def promote_and_roll_back(location, home, version_ids: list[int], barrier, results) -> None:
    """Promote each version in turn; after every version whose id is a multiple of 3, roll back once."""
    from medstation.access.roles import Actor, Role
    from medstation.store.model_registry import ModelRegistry
    from medstation.store.tables import ModelKind

    db = _open(location, home)
    done = []
    try:
        registry = ModelRegistry(db)
        admin = Actor("ada", Role.admin).name  # the registry records a name; services check permissions
        barrier.wait(timeout=120)
        for version_id in version_ids:
            registry.promote(version_id, admin)
            done.append("model.promote")
            if version_id % 3 == 0:
                registry.rollback(ModelKind.segmentation, admin)
                done.append("model.rollback")
        results.put(("ok", done))
    except Exception as exc:  # noqa: BLE001
        results.put(("error", repr(exc), done))
    finally:
        db.close()


def _notes(location, home):
    from medstation.access.roles import Actor, Role, UserSession
    from medstation.config import Settings
    from medstation.notes.service import NotesService

    db = _open(location, home)
    return db, NotesService(Settings(), db, UserSession(Actor("dr.lee", Role.therapist)))


def save_note(location, home, note_id: int, base_revision: int, line: str, barrier, results) -> None:
    """Append ``line`` to the note as revision ``base_revision`` showed it and save with that base."""
    db, service = _notes(location, home)
    try:
        doc = service.tracked(note_id)
        assert service.note(note_id).revision == base_revision
        doc.replace(len(doc.text), len(doc.text), line, author="dr.lee")
        barrier.wait(timeout=120)
        results.put(("saved", line, service.save_revision(note_id, doc, base_revision=base_revision)))
    except Exception as exc:  # noqa: BLE001
        results.put(("refused", line, f"{type(exc).__name__}: {exc}"))
    finally:
        db.close()


def sign_note(location, home, note_id: int, barrier, results) -> None:
    """Sign the note exactly as it was read before the barrier."""
    db, service = _notes(location, home)
    try:
        shown = service.note(note_id)
        barrier.wait(timeout=120)
        service.sign(note_id, shown.text)
        results.put(("signed", shown.revision, ""))
    except Exception as exc:  # noqa: BLE001
        results.put(("refused", shown.revision, f"{type(exc).__name__}: {exc}"))
    finally:
        db.close()


def index_sample(location, home, barrier, results) -> None:
    """Index the bundled sample CT series (every workstation the same files: racing upserts)."""
    from medstation.config import sample_study_dir
    from medstation.imaging.indexer import index_paths
    from medstation.jobs import JobContext

    db = _open(location, home)
    try:
        barrier.wait(timeout=120)
        report = index_paths(JobContext(), db, [sample_study_dir()])
        results.put(("ok", report.added + report.updated + report.unchanged))
    except Exception as exc:  # noqa: BLE001
        results.put(("error", repr(exc)))
    finally:
        db.close()
