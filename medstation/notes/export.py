"""Export a note to plain text or PDF (fpdf2). A signed note exports its signed text, then its addenda."""

from __future__ import annotations

from pathlib import Path

from medstation.errors import UserFacingError
from medstation.fileio import atomic_write
from medstation.notes.records import NoteInfo, NoteStatus, SessionInfo
from medstation.notes.risk_coverage import unstated_message


def note_plain_text(note: NoteInfo, session: SessionInfo, client_code: str) -> str:
    """The note as it stands: header, body (signed text when signed), sign-off line, dated addenda.

    Refused (UserFacingError) while the note no longer states a risk its transcript raises."""
    if note.unstated_risks:
        raise UserFacingError(unstated_message(list(note.unstated_risks), "exporting"))
    lines = [f"Session note — client {client_code}, session {session.session_date} "
             f"({session.modality}, {session.duration_min} min, {session.clinician})",
             f"Template: {note.template}",
             ""]
    lines.append(note.text.rstrip())
    lines.append("")
    if note.status is NoteStatus.signed:
        share = f"{100 * (note.ai_share_at_signing or 0):.0f}%"
        lines.append(f"Signed by {note.signed_by} on {note.signed_at:%Y-%m-%d %H:%M} UTC; "
                     f"share written by the AI at signing: {share}.")
    else:
        lines.append("DRAFT — not signed. AI-drafted text must be reviewed by the clinician.")
    for author, at, text in note.addenda:
        lines += ["", f"Addendum ({at:%Y-%m-%d %H:%M} UTC, {author}):", text]
    return "\n".join(lines) + "\n"


def _latin1(text: str) -> str:
    """fpdf2's core fonts are Latin-1: typographic characters mapped, anything else replaced."""
    table = {"—": "-", "–": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "•": "-", "≈": "~"}
    text = "".join(table.get(ch, ch) for ch in text)
    return text.encode("latin-1", "replace").decode("latin-1")


def export_pdf(note: NoteInfo, session: SessionInfo, client_code: str, path: Path) -> Path:
    """Write the plain-text export as a PDF page flow to ``path`` (whole or not at all)."""
    return atomic_write(path, pdf_bytes(note, session, client_code))


def export_bytes(note: NoteInfo, session: SessionInfo, client_code: str, fmt: str) -> bytes:
    """The export of ``note`` as ``txt`` (UTF-8) or ``pdf`` bytes: what is hashed and written."""
    if fmt == "txt":
        return note_plain_text(note, session, client_code).encode("utf-8")
    return pdf_bytes(note, session, client_code)


def pdf_bytes(note: NoteInfo, session: SessionInfo, client_code: str) -> bytes:
    """The plain-text export as a PDF page flow (A4, Helvetica 10), as bytes."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    for line in note_plain_text(note, session, client_code).split("\n"):
        bold = line.isupper() and 0 < len(line) < 60
        pdf.set_font("Helvetica", style="B" if bold else "", size=10)
        pdf.multi_cell(0, 5, _latin1(line) or " ", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
