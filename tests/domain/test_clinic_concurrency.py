"""Several workstation processes on one store (SQLite file and PostgreSQL server): nothing forks, nothing is lost.

- audit appends from many processes keep one unforked chain (PostgreSQL: ``pg_advisory_xact_lock``);
- promote and rollback from two processes leave exactly one active version per kind;
- two workstations saving, or one saving while another signs, the same note: one wins, the other is
  refused with a plain message; no revision is ever silently overwritten and no note is signed stale.
"""

from __future__ import annotations

import multiprocessing

import pytest
from sqlmodel import select

from medstation.access.roles import Actor, Role, UserSession
from medstation.jobs import JobContext
from medstation.notes.drafting import DraftOptions
from medstation.notes.records import NoteStatus
from medstation.notes.service import NotesService
from medstation.store.audit_chain import verify_chain
from medstation.store.database import Database
from medstation.store.model_registry import ModelRegistry
from medstation.store.tables import AuditEvent, ModelKind, ModelStatus
from tests import clinic_workers

pytestmark = pytest.mark.both_engines
SPAWN = multiprocessing.get_context("spawn")  # fresh interpreters: no engine or pool is inherited
CALM_SESSION = """Therapist: How was the week?
Client: Work was busy but I slept better after we changed the evening routine.
Therapist: We will keep the routine and review the sleep diary next session.
"""


def _run(target, arg_lists, timeout=240):
    """Start one process per argument list (plus barrier and queue), wait, and return what each reported."""
    barrier, results = SPAWN.Barrier(len(arg_lists)), SPAWN.Queue()
    procs = [SPAWN.Process(target=target, args=(*args, barrier, results)) for args in arg_lists]
    for p in procs:
        p.start()
    reports = [results.get(timeout=timeout) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return reports


@pytest.fixture
def store(settings, store_location):
    db = Database(store_location, anchor_root=settings.home)
    yield db
    db.close()


def test_audit_appends_from_many_processes_keep_one_chain(settings, store_location, store):
    store.audit("clinic.start", actor="ada")
    writers, each = 4, 20
    reports = _run(clinic_workers.append_audit,
                   [(store_location, str(settings.home), f"ws{i}", each) for i in range(writers)])
    assert sorted(r[1] for r in reports) == ["ok"] * writers, reports
    raw = store.engine.raw_connection()
    try:
        report = verify_chain(raw.driver_connection, anchor=store.anchor)
    finally:
        raw.close()
    assert report.intact, report.summary()
    assert report.checked == 1 + writers * each
    assert report.anchored == 1 + writers * each  # every workstation's line is in the one anchor, in chain order


def test_promote_and_rollback_from_two_processes_leave_one_active(settings, store_location, store, tmp_path):
    registry = ModelRegistry(store)
    versions = []
    for i in range(11):
        path = tmp_path / f"v{i}.pth"
        path.write_bytes(bytes([i]) * 16)
        versions.append(registry.register(ModelKind.segmentation, f"v{i}", path,
                                          status=ModelStatus.active if i == 0 else ModelStatus.candidate))
    ids = [v.id for v in versions[1:]]
    reports = _run(clinic_workers.promote_and_roll_back,
                   [(store_location, str(settings.home), ids[0::2]), (store_location, str(settings.home), ids[1::2])])
    assert [r[0] for r in reports] == ["ok", "ok"], reports
    history = registry.history(ModelKind.segmentation)
    assert sum(v.status == ModelStatus.active for v in history) == 1
    assert {v.status for v in history} <= {ModelStatus.active, ModelStatus.retired}
    with store.session() as s:
        logged = [e.action for e in s.exec(select(AuditEvent).order_by(AuditEvent.id))
                  if e.action in ("model.promote", "model.rollback")]
    assert sorted(logged) == sorted(reports[0][1] + reports[1][1])  # one event per transition, none lost


def test_two_workstations_indexing_one_series_end_with_one_copy(settings, store_location, store):
    from medstation.store.tables import Instance, Patient, Series

    reports = _run(clinic_workers.index_sample, [(store_location, str(settings.home))] * 2)
    assert [r[0] for r in reports] == ["ok", "ok"], reports
    with store.session() as s:
        assert len(s.exec(select(Patient)).all()) == 1 and len(s.exec(select(Series)).all()) == 1
        assert len(s.exec(select(Instance)).all()) == reports[0][1] == 20


def _draft_note(settings, store):
    service = NotesService(settings, store, UserSession(Actor("dr.lee", Role.therapist)))
    client = service.create_client("C-clinic")
    session = service.create_session(client.id, "2026-12-06")
    service.import_transcript(session.id, CALM_SESSION.encode(), "s.txt")
    note = service.draft(JobContext(), session.id, "soap", DraftOptions(use_model=False))
    return service, note


def test_two_workstations_saving_one_note_never_overwrite(settings, store_location, store):
    service, note = _draft_note(settings, store)
    for round_ in range(2):
        base = service.note(note.id).revision
        lines = [f"Workstation A round {round_}.\n", f"Workstation B round {round_}.\n"]
        reports = _run(clinic_workers.save_note,
                       [(store_location, str(settings.home), note.id, base, line) for line in lines])
        saved = [r for r in reports if r[0] == "saved"]
        refused = [r for r in reports if r[0] == "refused"]
        assert len(saved) == 1 and len(refused) == 1, reports
        assert "NoteConflict" in refused[0][2] and "nothing was overwritten" in refused[0][2]
        revisions = service.revisions(note.id)
        assert revisions[-1].number == base + 1 == saved[0][2]
        assert revisions[-1].text.endswith(saved[0][1]) and refused[0][1] not in revisions[-1].text


def test_sign_racing_a_save_never_signs_a_stale_revision(settings, store_location, store):
    service, note = _draft_note(settings, store)
    base = service.note(note.id).revision
    reports = _run_mixed(settings, store_location, note.id, base)
    final = service.note(note.id)
    revisions = service.revisions(note.id)
    signed = [r for r in reports if r[0] == "signed"]
    if final.status is NoteStatus.signed:
        assert len(signed) == 1
        # whatever was signed is the newest revision: a save never lands after the signature
        assert revisions[-1].number == base and final.text == revisions[-1].text
        assert any(r[0] == "refused" and ("NoteLocked" in r[2] or "NoteConflict" in r[2]) for r in reports)
    else:
        assert not signed and revisions[-1].number == base + 1
        assert any(r[0] == "refused" and "SignOffBlocked" in r[2] for r in reports)


def _run_mixed(settings, location, note_id, base):
    """One process saves (from ``base``) while another signs ``base``, released by one barrier."""
    barrier, results = SPAWN.Barrier(2), SPAWN.Queue()
    procs = [SPAWN.Process(target=clinic_workers.save_note,
                           args=(location, str(settings.home), note_id, base, "Late line.\n", barrier, results)),
             SPAWN.Process(target=clinic_workers.sign_note, args=(location, str(settings.home), note_id, barrier,
                                                                  results))]
    for p in procs:
        p.start()
    reports = [results.get(timeout=240) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    return reports
