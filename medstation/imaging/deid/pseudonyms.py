"""The persistent pseudonym map: same source → same new UID / same pseudonymous patient, across exports.

Backed by the ``deid_pseudonym`` table (see :class:`medstation.store.tables.DeidPseudonym`).
Sources are looked up by SHA-256, never stored in clear. New entries are written
with ``INSERT … ON CONFLICT DO NOTHING`` (SQLite and PostgreSQL) and read back, so two exports racing on one source
agree on the first writer's pseudonym. A file is written only after the map
entries it uses are committed (:meth:`PseudonymMap.resolve_uids` runs first), so
a crash can leave an entry without a file, never a file whose UIDs the map forgot.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from medstation.store.database import Database
from medstation.store.tables import PseudonymKind

# Dates move back by 4 weeks to 10 years, in whole weeks so weekdays survive (clinics read "Monday list").
_MIN_SHIFT_WEEKS, _MAX_SHIFT_WEEKS = 4, 520


@dataclass(frozen=True)
class PatientPseudonym:
    """A patient's pseudonymous identity: ``patient_id`` (also used as PatientName), ``date_shift_days`` (< 0)."""

    patient_id: str
    date_shift_days: int


def _digest(kind: PseudonymKind, value: str) -> str:
    return hashlib.sha256(f"{kind.value}\0{value}".encode()).hexdigest()


def _new_patient_id() -> str:
    return "PSN-" + base64.b32encode(secrets.token_bytes(10)).decode().rstrip("=")  # 16 chars, 80 random bits


def _new_shift_days() -> int:
    return -7 * (_MIN_SHIFT_WEEKS + secrets.randbelow(_MAX_SHIFT_WEEKS - _MIN_SHIFT_WEEKS + 1))


class PseudonymMap:
    """Get-or-create pseudonyms in the store, with a per-instance cache (one instance per export job)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._uids: dict[str, str] = {}
        self._patients: dict[str, PatientPseudonym] = {}

    def _get_or_create(self, kind: PseudonymKind, proposals: dict[str, tuple[str, int]]) -> dict[str, tuple[str, int]]:
        """source → (pseudonym, shift) for every source in ``proposals``, inserting the proposal where missing."""
        from sqlalchemy import text

        if not proposals:
            return {}
        digests = {source: _digest(kind, source) for source in proposals}
        with self.db.session() as s:
            for source, (pseudonym, shift) in proposals.items():
                s.execute(
                    text(
                        "INSERT INTO deid_pseudonym (kind, source_sha256, pseudonym, date_shift_days, created_at) "
                        "VALUES (:kind, :digest, :pseudonym, :shift, CURRENT_TIMESTAMP) ON CONFLICT DO NOTHING"
                    ),
                    {"kind": kind.value, "digest": digests[source], "pseudonym": pseudonym, "shift": shift},
                )
            found: dict[str, tuple[str, int]] = {}
            by_digest = {d: src for src, d in digests.items()}
            items = list(by_digest)
            for start in range(0, len(items), 500):  # SQLite's bound-parameter limit
                chunk = items[start:start + 500]
                names = ", ".join(f":d{i}" for i in range(len(chunk)))
                rows = s.execute(
                    text(f"SELECT source_sha256, pseudonym, date_shift_days FROM deid_pseudonym "
                         f"WHERE kind = :kind AND source_sha256 IN ({names})"),
                    {"kind": kind.value, **{f"d{i}": d for i, d in enumerate(chunk)}},
                ).all()
                for digest, pseudonym, shift in rows:
                    found[by_digest[digest]] = (pseudonym, int(shift))
        return found

    def resolve_uids(self, uids: Iterable[str]) -> None:
        """Make sure every UID in ``uids`` has its replacement, in one transaction."""
        from pydicom.uid import generate_uid

        missing = {u: (generate_uid(), 0) for u in {str(u).strip() for u in uids} if u and u not in self._uids}
        for source, (pseudonym, _) in self._get_or_create(PseudonymKind.uid, missing).items():
            self._uids[source] = pseudonym

    def uid(self, source: str) -> str:
        """The replacement of ``source`` (resolved on first use if :meth:`resolve_uids` did not see it)."""
        source = str(source).strip()
        if not source:
            return source
        if source not in self._uids:
            self.resolve_uids([source])
        return self._uids[source]

    def patient(self, source_key: str) -> PatientPseudonym:
        """The pseudonym of the patient identified by ``source_key`` (see :func:`patient_key`)."""
        if source_key not in self._patients:
            proposal = {source_key: (_new_patient_id(), _new_shift_days())}
            pseudonym, shift = self._get_or_create(PseudonymKind.patient, proposal)[source_key]
            self._patients[source_key] = PatientPseudonym(pseudonym, shift)
        return self._patients[source_key]


def patient_key(ds) -> str:
    """What identifies the source patient: PatientID with its issuer; else name + birth date; else the study.

    The last fallback makes every study of an unidentified patient its own pseudonymous patient:
    splitting one person in two is recoverable, merging two people is not."""
    pid = str(ds.get("PatientID", "") or "").strip()
    if pid:
        return f"id:{pid}\0{str(ds.get('IssuerOfPatientID', '') or '').strip()}"
    name = str(ds.get("PatientName", "") or "").strip()
    birth = str(ds.get("PatientBirthDate", "") or "").strip()
    if name:
        return f"name:{name}\0{birth}"
    return f"study:{str(ds.get('StudyInstanceUID', '') or '').strip()}"
