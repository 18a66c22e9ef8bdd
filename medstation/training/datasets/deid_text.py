"""De-identification of the text that enters a notes dataset.

Images enter datasets as bare pixel arrays (no DICOM header, file names are case
keys), so only text needs scrubbing. This removes what a rule can find reliably:
the names the app knows (the client's and clinician's, passed in), e-mail
addresses, phone numbers, dates, and long digit runs (record numbers, IDs). It
cannot find a name it was not told about in free text; the report says so.
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
_PHONE = re.compile(r"(?<!\d)(?:\+?\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)|\d{2,4})[\s.-]\d{3,4}[\s.-]\d{3,4}(?!\d)")
_DATE = re.compile(r"\b(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}-\d{2}-\d{2})\b")
_LONG_NUMBER = re.compile(r"\b\d{6,}\b")

DEID_RULES = ("known names", "e-mail", "phone", "date", "digit runs of 6+")


def scrub_text(text: str, known_names: list[str] | tuple[str, ...] = ()) -> str:
    """``text`` with known names → [NAME], e-mails → [EMAIL], phones → [PHONE], dates → [DATE], IDs → [ID]."""
    out = _EMAIL.sub("[EMAIL]", text)
    out = _PHONE.sub("[PHONE]", out)
    out = _DATE.sub("[DATE]", out)
    out = _LONG_NUMBER.sub("[ID]", out)
    parts: set[str] = set()
    for name in known_names:
        for piece in re.split(r"[\s,^]+", name or ""):
            if len(piece) >= 2:
                parts.add(piece)
    for piece in sorted(parts, key=len, reverse=True):
        out = re.sub(rf"\b{re.escape(piece)}\b", "[NAME]", out, flags=re.IGNORECASE)
    return out
