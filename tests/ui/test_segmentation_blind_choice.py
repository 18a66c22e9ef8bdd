"""Viewer segmentation: blind two-mask choice and shadow masks (active: real LiteMedSAM; candidate: a test double)."""

from __future__ import annotations

import random
import threading

import numpy as np
import pytest
from sqlmodel import select

from medstation.access.roles import UserSession
from medstation.store.model_registry import ModelRegistry
from medstation.segmentation.service import SegmentationService
from medstation.store.tables import ModelKind, PreferenceChoice, ShadowCase
from medstation.training.canary.candidates import CandidateModels
from medstation.training.canary.preference import BlindSession
from medstation.training.canary.shadow import ShadowSampler, ShadowService
from medstation.ui.runner import JobRunner
from medstation.ui.segmentation.blind_choice import BOX_RGB, MASK_RGB, overlay_rgb
from medstation.ui.segmentation.panel import SegmentationPanel
from tests.seg_support import seed_onnx_cache, synthetic_volume
from tests.shadow_support import BoxEngine
from tests.ui.test_segmentation_panel import ViewerStandIn

BOX = (30.0, 18.0, 98.0, 78.0)


def test_overlay_crops_around_the_box_and_marks_the_mask():
    image = np.full((100, 120), 0.5, np.float32)
    mask = np.zeros((100, 120), bool)
    mask[40:60, 50:70] = True
    rgb = overlay_rgb(image, mask, (45, 35, 75, 65), margin=0.0)
    assert rgb.shape == (46, 46, 3)  # box 30 px + 8 px each side
    assert tuple(rgb[0, 0]) == (127, 127, 127)
    assert tuple(rgb[40 - 27, 50 - 37]) == MASK_RGB  # the outline is drawn solid
    assert tuple(rgb[8, 20]) == BOX_RGB and tuple(rgb[20, 38]) == BOX_RGB  # the prompt box, top and right edges


@pytest.fixture
def setup(qtbot, settings, db, tmp_path):
    seed_onnx_cache(settings.cache_dir)
    service = SegmentationService(settings, db, registry=ModelRegistry(db), session=UserSession.from_os_user())
    (tmp_path / "cand.pth").write_bytes(b"a candidate checkpoint stand-in")
    candidate = service.registry.register(ModelKind.segmentation, "candidate", tmp_path / "cand.pth")
    models = CandidateModels(settings, db, engine_loader=lambda version, s: BoxEngine(inset=3))
    shadow = ShadowService(settings=settings, db=db, session=UserSession.from_os_user(), registry=service.registry,
                           models=models,
                           sampler=ShadowSampler(random.Random(0)))
    runner = JobRunner()
    viewer = ViewerStandIn()
    qtbot.addWidget(viewer)
    panel = SegmentationPanel(viewer, service, runner, session=UserSession.from_os_user(), shadow=shadow)
    qtbot.addWidget(panel)
    volume, _truth = synthetic_volume(shape=(5, 96, 128), radii_mm=(4.0, 22.0, 30.0))
    viewer.load(volume)
    qtbot.waitUntil(lambda: service.engine() is not None, timeout=120_000)
    panel.set_tool("seg_box")
    yield viewer, panel, candidate
    runner.shutdown(timeout_ms=60_000)


def test_blind_mode_puts_the_picked_mask_in_the_segment_with_its_version(qtbot, setup, settings, db, monkeypatch):
    viewer, panel, candidate = setup
    settings.blind_preference_segmentation = True
    panel.candidates.blind = BlindSession("seg-seed")
    k = viewer.current_slice()
    viewer.axial_view.sig_box_drawn.emit(*BOX)
    qtbot.waitUntil(lambda: panel.candidates.dialog is not None and panel.candidates.dialog.isVisible(), timeout=60_000)
    assert not panel.segments.segments[panel.current_key].mask[k].any()  # nothing applied before the pick
    letter = "AB"[BlindSession.order_for("seg-seed", 0).index("candidate")]
    shadow = panel.candidates.shadow
    threads, record = [], shadow.record_blind_choice
    monkeypatch.setattr(shadow, "record_blind_choice",
                        lambda *a: threads.append(threading.current_thread()) or record(*a))
    panel.candidates.dialog.buttons[letter].click()
    # the choice is a database write: recorded in the io lane (on ba9a5bd it ran on the GUI thread), then applied
    qtbot.waitUntil(lambda: "your choice was recorded" in panel.status_label.text(), timeout=10000)
    assert threads and threading.main_thread() not in threads
    seg = panel.segments.segments[panel.current_key]
    expected = BoxEngine(3).decode(np.zeros((96, 128)), BOX).mask
    assert np.array_equal(seg.mask[k].astype(bool), expected)
    assert seg.prompts[-1]["model_version_id"] == candidate.id and seg.prompts[-1]["box"] == list(BOX)
    with db.session() as s:
        row = s.exec(select(PreferenceChoice)).one()
        assert (row.kind, row.chosen, row.candidate_version_id) == ("segmentation", "candidate", candidate.id)
        assert seg.prompts[-1]["preference_id"] == row.id


def test_shadow_share_one_stores_the_candidate_mask_beside_the_shown_one(qtbot, setup, settings, db):
    viewer, panel, candidate = setup
    settings.shadow_share_segmentation = 1.0
    k = viewer.current_slice()
    viewer.axial_view.sig_box_drawn.emit(*BOX)
    qtbot.waitUntil(lambda: panel.segments.segments[panel.current_key].mask[k].any(), timeout=60_000)
    shown = panel.segments.segments[panel.current_key].mask[k].astype(bool).copy()

    def stored():
        with db.session() as s:
            return s.exec(select(ShadowCase)).all()

    qtbot.waitUntil(lambda: len(stored()) == 1, timeout=60_000)
    case = stored()[0]
    assert case.status == "done" and case.candidate_version_id == candidate.id
    assert case.active_version_id == panel.service.model_version_id()
    with np.load(case.mask_path) as masks:
        assert np.array_equal(masks["active"].astype(bool), shown)
    assert np.array_equal(panel.segments.segments[panel.current_key].mask[k].astype(bool), shown)  # never shown
