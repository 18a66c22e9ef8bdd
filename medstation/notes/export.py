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


#: Unicode fonts looked for on this machine (Debian packages fonts-dejavu-core, fonts-noto-core,
#: fonts-liberation2), regular and bold: with one, the PDF shows names like "Łucja" or "Ørsted" as written.
UNICODE_FONTS = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf", "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf"),
    ("/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
     "/usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf"),
)
_TYPOGRAPHIC = {"—": "-", "–": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "•": "-", "≈": "~"}


def _latin1(text: str) -> str:
    """fpdf2's core fonts are Latin-1: typographic characters mapped (callers refuse anything else)."""
    return "".join(_TYPOGRAPHIC.get(ch, ch) for ch in text)


def _unicode_font() -> tuple[str, str] | None:
    """(regular, bold) paths of the first Unicode font installed here (bold falls back to regular), or None."""
    for regular, bold in UNICODE_FONTS:
        if Path(regular).is_file():
            return regular, bold if Path(bold).is_file() else regular
    return None


def _missing(text: str, covered) -> list[str]:
    """The distinct characters of ``text`` (line breaks aside) that ``covered(ch)`` cannot show, in order."""
    seen: dict[str, None] = {}
    for ch in text:
        if ch not in "\n\r\t" and ch not in seen and not covered(ch):
            seen[ch] = None
    return list(seen)


def export_pdf(note: NoteInfo, session: SessionInfo, client_code: str, path: Path) -> Path:
    """Write the plain-text export as a PDF page flow to ``path`` (whole or not at all)."""
    return atomic_write(path, pdf_bytes(note, session, client_code))


def export_bytes(note: NoteInfo, session: SessionInfo, client_code: str, fmt: str) -> bytes:
    """The export of ``note`` as ``txt`` (UTF-8) or ``pdf`` bytes: what is hashed and written."""
    if fmt == "txt":
        return note_plain_text(note, session, client_code).encode("utf-8")
    return pdf_bytes(note, session, client_code)


def pdf_bytes(note: NoteInfo, session: SessionInfo, client_code: str) -> bytes:
    """The plain-text export as a PDF page flow (A4, 10 pt), as bytes: in a Unicode font installed here, else
    Helvetica (Latin-1). A character the font cannot show is never replaced by "?" in a clinical document:
    the export is refused with the characters named (the text export keeps every character)."""
    from fpdf import FPDF

    text = note_plain_text(note, session, client_code)
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    font = _unicode_font()
    if font is not None:
        from fontTools.ttLib import TTFont  # fpdf2's own dependency

        with TTFont(font[0], lazy=True) as ttf:
            cmap = ttf.getBestCmap() or {}
        missing = _missing(text, lambda ch: ord(ch) in cmap)
        pdf.add_font("body", "", font[0])
        pdf.add_font("body", "B", font[1])
        family = "body"
    else:
        text = _latin1(text)
        missing = _missing(text, lambda ch: ord(ch) < 256)
        family = "Helvetica"
    if missing:
        shown = " ".join(missing[:8]) + (" …" if len(missing) > 8 else "")
        raise UserFacingError(f"The PDF font cannot show {len(missing)} character(s) of this note ({shown}); "
                              "nothing was exported. Use Export text, which keeps every character.")
    for line in text.split("\n"):
        bold = line.isupper() and 0 < len(line) < 60
        pdf.set_font(family, style="B" if bold else "", size=10)
        pdf.multi_cell(0, 5, line or " ", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
