"""Retraining schedules: after N new validated cases, or weekly at a set UTC hour.

Persisted in ``training_schedule``. :func:`due` lists schedules whose time has come,
including weekly runs missed while the app was closed (``next_run_at`` in the past),
so the app runs them at its next start. :func:`mark_ran` moves ``next_run_at`` on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlmodel import func, select

from medstation.store.tables import Segmentation, SegmentationStatus, TrainingSchedule


@dataclass(frozen=True)
class ScheduleInfo:
    id: int
    kind: str
    every_n_cases: int | None
    weekday: int | None
    hour_utc: int
    enabled: bool
    next_run_at: datetime | None
    cases_at_last_run: int

    def describe(self) -> str:
        parts = []
        if self.every_n_cases:
            parts.append(f"after {self.every_n_cases} new validated cases")
        if self.weekday is not None:
            day = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[self.weekday]
            parts.append(f"weekly {day} {self.hour_utc:02d}:00 UTC")
        nxt = f"; next {self.next_run_at:%Y-%m-%d %H:%M} UTC" if self.next_run_at else ""
        return f"{self.kind}: " + " or ".join(parts) + nxt


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


def next_weekly(after: datetime, weekday: int, hour: int) -> datetime:
    """The first ``weekday`` at ``hour``:00 UTC strictly after ``after``."""
    after = _aware(after)
    candidate = after.replace(hour=hour, minute=0, second=0, microsecond=0) + timedelta(days=(weekday - after.weekday()) % 7)
    return candidate if candidate > after else candidate + timedelta(days=7)


def validated_count(db) -> int:
    with db.session() as s:
        return int(s.exec(select(func.count()).select_from(Segmentation)
                          .where(Segmentation.status == SegmentationStatus.accepted)).one())


def _info(row: TrainingSchedule) -> ScheduleInfo:
    return ScheduleInfo(int(row.id), row.kind, row.every_n_cases, row.weekday, row.hour_utc, row.enabled,
                        _aware(row.next_run_at), row.cases_at_last_run)


def set_schedule(db, kind: str, *, every_n_cases: int | None = None, weekday: int | None = None, hour_utc: int = 2,
                 now: datetime | None = None, actor: str | None = None) -> ScheduleInfo:
    """Create or replace the schedule of ``kind``. With ``actor`` the ``training.schedule`` audit event is
    written in the same transaction (the schedule and its record commit together or not at all)."""
    now = now or datetime.now(timezone.utc)
    with db.session() as s:
        row = s.exec(select(TrainingSchedule).where(TrainingSchedule.kind == kind)).first() or TrainingSchedule(kind=kind)
        row.every_n_cases, row.weekday, row.hour_utc, row.enabled = every_n_cases, weekday, hour_utc, True
        row.next_run_at = next_weekly(now, weekday, hour_utc) if weekday is not None else None
        if row.id is None:
            row.cases_at_last_run = validated_count(db)
        s.add(row)
        s.flush()
        if actor is not None:
            db.audit("training.schedule", actor=actor, entity="training_schedule", entity_id=int(row.id),
                     every_n_cases=every_n_cases, weekday=weekday, hour_utc=hour_utc, session=s)
        return _info(row)


def schedules(db) -> list[ScheduleInfo]:
    with db.session() as s:
        return [_info(r) for r in s.exec(select(TrainingSchedule).order_by(TrainingSchedule.id))]


def due(db, now: datetime | None = None) -> list[tuple[ScheduleInfo, str]]:
    """(schedule, why) for every enabled schedule that should run now (missed weekly runs included)."""
    now = now or datetime.now(timezone.utc)
    cases = validated_count(db)
    out = []
    for info in schedules(db):
        if not info.enabled:
            continue
        if info.every_n_cases and cases - info.cases_at_last_run >= info.every_n_cases:
            out.append((info, f"{cases - info.cases_at_last_run} new validated cases"))
        elif info.next_run_at is not None and info.next_run_at <= now:
            late = "missed run" if now - info.next_run_at > timedelta(hours=1) else "weekly run"
            out.append((info, f"{late} due {info.next_run_at:%Y-%m-%d %H:%M} UTC"))
    return out


def mark_ran(db, schedule_id: int, now: datetime | None = None, *, session=None,
             cases: int | None = None) -> ScheduleInfo:
    """Record that ``schedule_id`` fired now, at ``cases`` validated cases (counted now if None). With
    ``session`` the mark is part of the caller's transaction (the run it queued)."""
    now = now or datetime.now(timezone.utc)
    cases = validated_count(db) if cases is None else cases
    if session is not None:
        return _mark_ran_in(session, schedule_id, now, cases)
    with db.session() as s:
        return _mark_ran_in(s, schedule_id, now, cases)


def _mark_ran_in(s, schedule_id: int, now: datetime, cases: int) -> ScheduleInfo:
    row = s.get(TrainingSchedule, schedule_id)
    row.last_run_at = now
    row.cases_at_last_run = cases
    if row.weekday is not None:
        row.next_run_at = next_weekly(now, row.weekday, row.hour_utc)
    s.add(row)
    s.flush()
    return _info(row)
