"""Admin tab: forced promotion needs a reason; rollback needs a confirmation and a reason; both audited, in a lane."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlmodel import select

from medstation.access.roles import Actor, Role, UserSession
from medstation.store.model_registry import ModelRegistry
from medstation.store.tables import AuditEvent
from medstation.training.service import TrainingService
from medstation.ui.admin import reason_dialog
from medstation.ui.admin.reason_dialog import MIN_REASON_CHARS, ReasonDialog
from medstation.ui.admin.tab import AdminTab
from medstation.ui.runner import JobRunner

REASON = "New scanner protocol: the base model misses the spleen on every slice"


@pytest.fixture
def tab(qtbot, db, settings):
    registry = ModelRegistry(db)
    (settings.home / "base.pth").write_bytes(b"base")
    (settings.home / "ft.pth").write_bytes(b"fine-tuned")
    base = registry.register("segmentation", "LiteMedSAM", settings.home / "base.pth", status="active")
    cand = registry.register("segmentation", "LiteMedSAM fine-tuned", settings.home / "ft.pth", parent_id=base.id)
    service = TrainingService(settings=settings, db=db, session=UserSession(Actor("ann", Role.admin)),
                              registry=registry)
    runner = JobRunner()
    widget = AdminTab(service, runner, service.session)
    qtbot.addWidget(widget)
    with qtbot.waitSignal(widget.refresh().sig_done, timeout=10000):
        pass
    widget.registry_table.selectRow([v.id for v in widget._models].index(cand.id))
    yield widget, base, cand
    runner.shutdown()


def _events(db, action):
    with db.session() as s:
        return s.exec(select(AuditEvent).where(AuditEvent.action == action)).all()


def _finish(qtbot, handle):
    assert handle is not None and handle.lane == "io"
    if not handle.finished:
        with qtbot.waitSignal(handle.sig_finished, timeout=10000):
            pass


def test_reason_dialog_needs_a_real_reason_and_the_tick(qtbot):
    dialog = ReasonDialog("Force promotion", "intro", "Force promote", confirm="I take responsibility")
    qtbot.addWidget(dialog)
    assert not dialog.ok.isEnabled()
    dialog.reason_edit.setPlainText("x" * (MIN_REASON_CHARS - 1))
    assert not dialog.ok.isEnabled() and "at least" in dialog.hint.text()
    dialog.reason_edit.setPlainText(REASON)
    assert not dialog.ok.isEnabled() and "Tick" in dialog.hint.text()
    dialog.confirm.setChecked(True)
    assert dialog.ok.isEnabled() and dialog.reason() == REASON
    dialog.ok.click()
    assert dialog.result() == dialog.DialogCode.Accepted


def test_forced_promotion_stores_the_reason_in_the_audit_event(qtbot, tab, db, monkeypatch):
    widget, base, cand = tab
    asked = []
    monkeypatch.setattr(reason_dialog, "ask_reason", lambda *a, **k: asked.append(a[2]) or None)
    assert widget.decisions.force_promote() is None  # cancelled: nothing happens
    assert widget.training.registry.get(cand.id).status.value == "candidate"
    assert "No A/B comparison" in asked[0] and f"#{cand.id}" in asked[0]

    monkeypatch.setattr(reason_dialog, "ask_reason", lambda *a, **k: REASON)
    changed = []
    widget.sig_models_changed.connect(lambda: changed.append(1))
    _finish(qtbot, widget.decisions.force_promote())
    assert widget.training.registry.get(cand.id).status.value == "active"
    (event,) = _events(db, "admin.promote")
    assert event.actor == "ann" and event.detail["forced"] is True and event.detail["reason"] == REASON
    assert widget.status.text().startswith(f"#{cand.id} force-promoted") and changed == [1]


def test_plain_promote_without_an_ab_is_refused_by_the_gate(qtbot, tab):
    widget, base, cand = tab
    _finish(qtbot, widget.decisions.promote())
    assert widget.status.text().startswith(f"#{cand.id} cannot be promoted without force: it has not been compared")
    assert widget.training.registry.get(cand.id).status.value == "candidate"


def test_rollback_asks_for_confirmation_and_a_reason_and_audits_it(qtbot, tab, db, monkeypatch):
    widget, base, cand = tab
    monkeypatch.setattr(reason_dialog, "ask_reason", lambda *a, **k: REASON)
    _finish(qtbot, widget.decisions.force_promote())
    with qtbot.waitSignal(widget.refresh().sig_done, timeout=10000):
        pass
    prompts = []
    monkeypatch.setattr(reason_dialog, "ask_reason",
                        lambda parent, title, intro, action, confirm="": prompts.append((intro, confirm)) or None)
    assert widget.decisions.rollback() is None
    assert widget.training.registry.get(cand.id).status.value == "active"  # cancelled: still active
    intro, confirm = prompts[0]
    assert f"#{cand.id}" in intro and f"#{base.id}" in intro and confirm  # says what changes; needs the tick

    monkeypatch.setattr(reason_dialog, "ask_reason", lambda *a, **k: "Candidate drew holes in liver masks today")
    _finish(qtbot, widget.decisions.rollback())
    assert widget.training.registry.get(base.id).status.value == "active"
    (event,) = _events(db, "admin.rollback")
    assert event.actor == "ann" and event.detail["reason"] == "Candidate drew holes in liver masks today"
    assert json.dumps(event.detail)  # stored as plain JSON


def test_datasets_section_builds_a_seg2d_import_in_the_background_lane(qtbot, tab, tmp_path):
    from PIL import Image

    widget, _base, _cand = tab
    rng = np.random.default_rng(0)
    (tmp_path / "img").mkdir()
    rows = []
    for i in range(4):
        Image.fromarray((rng.random((24, 30)) * 255).astype(np.uint8)).save(tmp_path / "img" / f"{i}.png")
        mask = np.zeros((24, 30), np.uint8)
        mask[2:12, 3:20] = 255
        Image.fromarray(mask).save(tmp_path / "img" / f"{i}_m.png")
        rows.append({"image": f"img/{i}.png", "mask": f"img/{i}_m.png", "bbox_xyxy": [3, 2, 19, 11],
                     "source": "demo", "modality": "CT", "label": "organ"})
    (tmp_path / "manifest.json").write_text(json.dumps(rows))
    section = widget.datasets_section
    assert widget.sections.tabText(widget.sections.indexOf(section)) == "Datasets"
    section.set_source("seg2d", "")
    handle = section.build()
    _finish_bg(qtbot, handle)
    assert "Choose the manifest" in section.status.text()
    section.set_source("seg2d", str(tmp_path / "manifest.json"))
    section.name_edit.setText("demo-import")
    handle = section.build()
    assert handle.lane == "background"
    _finish_bg(qtbot, handle)
    versions = widget.training.dataset_versions("segmentation")
    assert [v.name for v in versions] == ["demo-import"] and versions[0].n_cases == 4
    assert section.status.text().startswith("demo-import v1") and section.progress.value() == 100
    qtbot.waitUntil(lambda: section.table.rowCount() == 1, timeout=5000)
    qtbot.waitUntil(lambda: widget.dataset_combo.count() == 1, timeout=5000)  # the Train box offers it at once


def test_clinic_build_with_no_accepted_masks_says_so(qtbot, tab):
    widget, _base, _cand = tab
    section = widget.datasets_section
    section.set_source("clinic")
    assert not section.path_edit.isEnabled() and section.modality_combo.isEnabled()
    _finish_bg(qtbot, section.build())
    assert "no usable cases" in section.status.text() and section.build_button.isEnabled()


def test_a_failed_build_says_where_cases_come_from_and_clears_its_progress(qtbot, tab):
    """Fails on 7d7286b: the bar stayed at 5 % after the refusal, and the reason was 'no cases matched the filters'."""
    widget, _base, _cand = tab
    section = widget.datasets_section
    section.set_source("clinic")
    _finish_bg(qtbot, section.build())
    assert "accepted masks" in section.status.text() and "Viewer" in section.status.text()
    assert section.progress.value() == 0


def _finish_bg(qtbot, handle):
    if not handle.finished:
        with qtbot.waitSignal(handle.sig_finished, timeout=20000):
            pass


def test_train_queues_the_run_off_the_gui_thread_then_trains_it_in_the_process_lane(qtbot, tab, monkeypatch):
    import threading

    from medstation.jobs import JobContext
    from medstation.training.datasets import build_snapshot
    from medstation.training.datasets.items import SegItem

    widget, _base, cand = tab
    mask = np.zeros((16, 16), bool)
    mask[3:9, 3:9] = True
    build_snapshot(JobContext(), widget.training.db, widget.training.settings.home, name="sq", kind="segmentation",
                   origin="t", items=[SegItem("a" * 16, "t", "CT", "sq", np.random.default_rng(0).random((16, 16)), mask)])
    with qtbot.waitSignal(widget.refresh().sig_done, timeout=10000):
        pass
    on_main, lanes = [], []
    real_queue = widget.training.queue_segmentation

    def queue(*args, **kwargs):
        on_main.append(threading.current_thread() is threading.main_thread())
        return real_queue(*args, **kwargs)

    def fake_run(ctx, run_id):
        lanes.append(run_id)
        return {"model_version_id": cand.id}

    monkeypatch.setattr(widget.training, "queue_segmentation", queue)
    monkeypatch.setattr(widget.training, "run_queued", fake_run)
    handle = widget._on_train_clicked()
    assert handle.lane == "io"
    qtbot.waitUntil(lambda: "registered candidate" in widget.status.text(), timeout=20000)
    assert on_main == [False] and len(lanes) == 1
    assert widget.status.text() == f"run #{lanes[0]} registered candidate #{cand.id}"


def test_datasets_section_imports_nifti_volumes(qtbot, tab, tmp_path):
    import nibabel as nib

    widget, _base, _cand = tab
    rng = np.random.default_rng(1)
    image = (rng.random((20, 16, 12)) * 200 - 100).astype(np.float32)
    labels = np.zeros((20, 16, 12), np.int16)
    labels[4:12, 3:10, :] = 1
    folder = tmp_path / "nifti"
    folder.mkdir()
    nib.save(nib.Nifti1Image(image, np.diag([2, 2, 3, 1])), folder / "vol_ct.nii.gz")
    nib.save(nib.Nifti1Image(labels, np.diag([2, 2, 3, 1])), folder / "vol_seg.nii.gz")
    section = widget.datasets_section
    section.set_source("nifti", str(folder))
    assert section.path_edit.isEnabled() and not section.modality_combo.isEnabled()
    _finish_bg(qtbot, section.build())
    (version,) = widget.training.dataset_versions("segmentation")
    assert version.name == "nifti-nifti" and version.n_cases >= 1
    assert section.status.text().startswith("nifti-nifti v1")
