"""A session's date is a real calendar date, stored as YYYY-MM-DD (what the column says, what sorting,
the client summary and the Sign dialog rely on); anything else is refused with a sentence saying so.

Fails on commit 7d7286b (helper "breaknotes"): "tomorrow", "", "2026-13-45" and "1/12/2026" were stored as the
session date, listed in the tree and sorted as text (so "1/12/2026" came before every 2025 session).
"""

from __future__ import annotations

import pytest

from medstation.access.roles import Actor, Role, UserSession
from medstation.errors import UserFacingError
from medstation.notes.service import NotesService


@pytest.fixture
def service(settings, db):
    return NotesService(settings, db, UserSession(Actor("dr.lee", Role.therapist)))


@pytest.mark.parametrize("text", ["", "   ", "tomorrow", "2026-13-45", "2026-02-30", "1/12/2026", "12.01.2026",
                                  "2026-12-01; DROP TABLE", "2026-12"])
def test_a_session_date_that_is_not_a_calendar_date_is_refused(service, text):
    client = service.create_client("C-1")
    with pytest.raises(UserFacingError, match="YYYY-MM-DD"):
        service.create_session(client.id, text)
    assert service.sessions(client.id) == []


def test_a_valid_date_is_stored_in_iso_form(service):
    client = service.create_client("C-1")
    assert service.create_session(client.id, " 2026-12-01 ").session_date == "2026-12-01"
    assert service.create_session(client.id, "2024-02-29").session_date == "2024-02-29"
