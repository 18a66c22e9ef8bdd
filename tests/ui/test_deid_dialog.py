"""Burned-in decision in the viewer's export flow: dialog gathers masks or a confirmation; the re-export writes."""

from __future__ import annotations

from medstation.imaging.deid.export import DeidRequest
from medstation.imaging.deid.pixels import MaskRect
from medstation.ui.viewer.deid_dialog import BurnedInDialog
from tests.ui.viewer_fixtures import SPEC, loaded, viewer  # noqa: F401  (fixtures)


def test_dialog_needs_a_rectangle_or_a_confirmation(qtbot):
    dialog = BurnedInDialog([("/x/a.dcm", "burned-in text suspected: ultrasound")])
    qtbot.addWidget(dialog)
    ok = dialog.buttons.buttons()[0]
    assert dialog.request() is None and not ok.isEnabled()
    dialog.confirm.setChecked(True)
    assert dialog.request() == DeidRequest(confirm_burned_in=True) and ok.isEnabled()
    dialog.add_rect(10, 20, 30, 40)
    assert dialog.request() == DeidRequest(masks=(MaskRect(10, 20, 30, 40),))
    dialog.rects.selectRow(0)
    dialog.remove_button.click()
    assert dialog.masks() == ()


def test_refused_files_are_exported_again_after_the_decision(loaded, qtbot, tmp_path, monkeypatch):
    from medstation.imaging.deid import export as deid_export
    from medstation.ui.viewer import deid_dialog

    monkeypatch.setattr(deid_export, "burned_in_reason", lambda ds: "a screen save (test)")
    asked = []

    def decide(parent, report):
        asked.append(len(report.refused_for_burned_in))
        return DeidRequest(confirm_burned_in=True)

    monkeypatch.setattr(deid_dialog, "ask_burned_in_decision", decide)
    handle = loaded.export_deidentified(str(tmp_path / "deid"))
    with qtbot.waitSignal(handle.sig_done, timeout=10000) as blocker:
        pass
    assert blocker.args[0].files == () and asked == [SPEC.n_slices]
    qtbot.waitUntil(lambda: f"De-identified {SPEC.n_slices} file(s)" in loaded.status.text(), timeout=10000)
    assert len(list((tmp_path / "deid").rglob("*.dcm"))) == SPEC.n_slices
    from sqlmodel import select

    from medstation.store.tables import AuditEvent

    with loaded.imaging.db.session() as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "imaging.export_deidentified")).all()
    assert [len(e.detail["burned_in"]) for e in events] == [0, SPEC.n_slices]
    assert {e.actor for e in events} == {loaded.session.actor.name}  # both passes audited as the acting user
