"""The Notes tab's meetings with a candidate drafting model: blind choice between two drafts, and shadow runs.

* Blind preference (``settings.blind_preference_notes`` and a candidate exists): "Draft note" runs
  :func:`~medstation.training.canary.preference.draft_blind_pair` in the ``llm`` lane and shows the two drafts
  side by side as "Draft A" / "Draft B" (:class:`BlindDraftDialog`), in the order the session's seed drew;
  nothing says which model wrote which. The pick is stored (:func:`record_choice`) and the picked draft
  becomes the note, with the provenance of the model that wrote it; "Neither" keeps the active model's
  draft; closing the dialog records nothing and keeps the active draft too.
* Shadow (``settings.shadow_share_notes``): after the active draft is shown, the service decides whether
  the candidate also drafts; if so that runs in the ``shadow`` lane and is only stored. At sign-off the
  stored cases are scored against the signed text (``io`` lane). Nothing of a shadow run reaches the tab.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor, QTextCursor, QTextFormat
from PySide6.QtWidgets import QDialog, QGridLayout, QLabel, QPlainTextEdit, QPushButton, QTextEdit, QVBoxLayout

from medstation.store.tables import ModelKind
from medstation.training.canary.preference import NEITHER, BlindPair, BlindSession, draft_blind_pair, record_choice
from medstation.ui.errors import report_failure

log = logging.getLogger(__name__)

DIFF_TINT = "#fef3c7"  # lines one draft has and the other does not


def _mark_lines_not_in(view: QPlainTextEdit, other: str) -> int:
    """Tint the lines of ``view`` that the other draft does not have (same tint on both sides: it says where
    the drafts differ, not which is whose); returns how many."""
    theirs = set(other.splitlines())
    marks = []
    block = view.document().firstBlock()
    while block.isValid():
        if block.text().strip() and block.text() not in theirs:
            mark = QTextEdit.ExtraSelection()
            mark.format.setBackground(QColor(DIFF_TINT))
            mark.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            mark.cursor = QTextCursor(block)
            marks.append(mark)
        block = block.next()
    view.setExtraSelections(marks)
    return len(marks)


class BlindDraftDialog(QDialog):
    """Two unlabelled drafts side by side; ``sig_chosen("A" | "B" | "neither")`` once the therapist picks."""

    sig_chosen = Signal(str)

    def __init__(self, text_a: str, text_b: str, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Choose a draft")
        self.resize(1200, 700)
        self.choice: str | None = None
        grid = QGridLayout()
        self.views = {}
        for column, (letter, text) in enumerate((("A", text_a), ("B", text_b))):
            grid.addWidget(QLabel(f"<b>Draft {letter}</b>"), 0, column)
            view = QPlainTextEdit(text)
            view.setReadOnly(True)
            grid.addWidget(view, 1, column)
            button = QPushButton(f"Use draft {letter}")
            button.clicked.connect(lambda _=False, c=letter: self._choose(c))
            grid.addWidget(button, 2, column)
            self.views[letter] = view
        self.buttons = {letter: grid.itemAtPosition(2, i).widget() for i, letter in enumerate("AB")}
        self.differing = {"A": _mark_lines_not_in(self.views["A"], text_b), "B": _mark_lines_not_in(self.views["B"], text_a)}
        self.neither = QPushButton("Neither is better — keep the clinic's default draft")
        self.neither.clicked.connect(lambda: self._choose(NEITHER))
        layout = QVBoxLayout(self)
        intro = QLabel("Two models drafted this note from the same transcript (tinted: lines the other draft does "
                       "not have). Pick the one you would rather work from; the other is discarded. The drafts are "
                       "not labelled; your choice is recorded to compare the two models. You review, edit and sign "
                       "the draft as usual.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addLayout(grid, 1)
        layout.addWidget(self.neither)

    def _choose(self, choice: str) -> None:
        self.choice = choice
        self.sig_chosen.emit(choice)
        self.accept()


class NotesCandidateHooks(QObject):
    """Blind choice and shadow runs for :class:`~medstation.ui.notes.tab.NotesTab` (``shadow`` None: neither)."""

    def __init__(self, tab, shadow) -> None:
        super().__init__(tab)
        self.tab, self.shadow = tab, shadow
        self.blind = BlindSession()  # one seed per sign-in session of the window
        self.dialog: BlindDraftDialog | None = None

    def _blind_on(self) -> bool:
        return self.shadow is not None and self.shadow.blind_applies(ModelKind.llm)  # the service decides

    # --- blind preference ------------------------------------------------------------------------

    def draft(self, template_name: str):
        """Start a blind two-model draft instead of the usual one: its job handle, or None when blind mode
        does not apply. The tab owns the handle (``tab.draft_handle``); the kept draft reaches the tab only
        through :meth:`NotesTab.drafted` with that handle, so it never lands in another session's view."""
        if not self._blind_on():
            return None
        tab = self.tab
        handle = tab.runner.submit("llm", draft_blind_pair, tab.notes, self.shadow, self.blind, tab.session_id,
                                   template_name, name="blind drafts")
        handle.sig_progress.connect(lambda _f, m: tab.status.setText(m))
        handle.sig_done.connect(lambda result, h=handle: self._on_pair(h, result))
        handle.sig_failed.connect(lambda m, tb, exc=None: report_failure(tab, "Drafting failed", m, tb, exc, tab.status))
        # The editor stays a read-only preview until the kept draft is shown (tab.drafted): nothing can be
        # typed into the previous note while the choice is open.
        return handle

    def _on_pair(self, handle, result) -> None:
        if handle is not self.tab.draft_handle:
            return
        if result.pair is None:
            self._keep(handle, result.active_output, result.message)
            return
        pair: BlindPair = result.pair
        self.dialog = BlindDraftDialog(pair.shown("A").draft.to_text(), pair.shown("B").draft.to_text(), self.tab)
        self.dialog.sig_chosen.connect(lambda choice, p=pair: self._on_chosen(handle, p, choice))
        self.dialog.rejected.connect(lambda p=pair: self._on_dismissed(handle, p))
        self.dialog.open()

    def _on_chosen(self, handle, pair: BlindPair, choice: str) -> None:
        tab = self.tab
        said = "Neither preferred: the clinic's default draft" if choice == NEITHER else f"Draft {choice}"

        def record(ctx):
            info = record_choice(tab.notes.db, tab.notes.session, pair, choice)
            return tab.notes.store_draft(pair.kept(choice), blind_preference=True, preference_id=info.id)

        stored = tab.run_io(record, title="Keep the chosen draft", bound=False,
                            then=lambda note: tab.drafted(handle, note, f"{said} is the working draft; your choice "
                                                                        "was recorded."))
        stored.sig_failed.connect(lambda *_a: tab.draft_ended(handle, "The chosen draft could not be stored."))

    def _on_dismissed(self, handle, pair: BlindPair) -> None:
        if self.dialog is not None and self.dialog.choice is None:
            self._keep(handle, pair.outputs["active"], "No draft chosen: the clinic's default draft is the working "
                                                       "draft (no preference recorded).")

    def _keep(self, handle, prepared, message: str) -> None:
        tab = self.tab
        stored = tab.run_io(lambda ctx: tab.notes.store_draft(prepared, blind_preference=True),
                            title="Keep the draft", bound=False, then=lambda note: tab.drafted(handle, note, message))
        stored.sig_failed.connect(lambda *_a: tab.draft_ended(handle, "The draft could not be stored."))

    # --- shadow ------------------------------------------------------------------------------------

    def after_draft(self, note) -> None:
        """The active draft is shown: maybe let the candidate draft the same note in the background."""
        if self.shadow is None:
            return
        active_id = (note.draft.get("provenance", {}).get("model", {}) or {}).get("version_id")
        plan = self.shadow.plan(ModelKind.llm, active_id, pending=len(self.tab.runner.active("shadow")))
        if plan is not None:
            handle = self.tab.runner.submit("shadow", self.shadow.run_notes, plan, note.id, name="shadow draft",
                                            queue=True)
            handle.sig_failed.connect(lambda m, tb: log.error("shadow draft failed: %s\n%s", m, tb))

    def after_sign(self, note_id: int) -> None:
        """The note is signed: score its shadow cases against the signed text (io lane)."""
        if self.shadow is None:
            return
        from medstation.training.canary.outcomes import resolve_outcomes

        db = self.shadow.db
        handle = self.tab.runner.submit("io", lambda ctx: resolve_outcomes(db), name="score shadow drafts",
                                        queue=True)
        handle.sig_failed.connect(lambda m, tb: log.error("scoring shadow drafts failed: %s\n%s", m, tb))
