"""Admin tab: the shadow and blind-preference section, from cases stored by the real services."""

from __future__ import annotations

import random

import numpy as np
import pytest
from scipy.stats import binomtest

from medstation.access.roles import Actor, Role, UserSession
from medstation.jobs import JobContext
from medstation.segmentation.records import SegmentRecord, save_decision
from medstation.store.model_registry import ModelRegistry
from medstation.store.tables import ModelKind, ModelStatus
from medstation.training.canary.candidates import CandidateModels
from medstation.training.canary.outcomes import shadow_summary
from medstation.training.canary.preference import BlindPair, BlindSession, record_choice
from medstation.training.canary.shadow import SegmentationRequest, ShadowSampler, ShadowService
from medstation.training.service import TrainingService
from medstation.ui.admin.shadow_section import ShadowSection
from medstation.ui.admin.tab import AdminTab
from medstation.ui.runner import JobRunner
from tests.shadow_support import BoxEngine

ADMIN = UserSession(Actor("ann", Role.admin))
BOXES = [(10.0, 12.0, 50.0, 40.0), (20.0, 8.0, 60.0, 44.0), (5.0, 5.0, 45.0, 30.0)]


@pytest.fixture
def stored(settings, db):
    registry = ModelRegistry(db)
    (settings.home / "a.pth").write_bytes(b"a")
    (settings.home / "c.pth").write_bytes(b"c")
    active = registry.register(ModelKind.segmentation, "LiteMedSAM", settings.home / "a.pth", status=ModelStatus.active)
    cand = registry.register(ModelKind.segmentation, "LiteMedSAM ft", settings.home / "c.pth", parent_id=active.id)
    settings.shadow_share_segmentation = 1.0
    shadow = ShadowService(settings=settings, db=db, session=ADMIN, registry=registry,
                           sampler=ShadowSampler(random.Random(0)),
                           models=CandidateModels(settings, db, engine_loader=lambda v, s: BoxEngine(4)))
    image = np.zeros((64, 72), np.float32)
    truths = []
    for k, box in enumerate(BOXES):
        request = SegmentationRequest("1.2.3", k, box, image, BoxEngine(1).decode(image, box).mask, None, "CT")
        shadow.run_segmentation(JobContext(), shadow.plan(ModelKind.segmentation, active.id), request)
        truths.append(BoxEngine(5).decode(image, box).mask)
    record = SegmentRecord("1.2.3", "lesion", "#f00", np.stack(truths).astype(np.uint8),
                           np.stack(truths).astype(np.uint8), "litemedsam", active.id,
                           [{"v": 1, "slice": k, "box": list(b)} for k, b in enumerate(BOXES)])
    save_decision(db, settings.home, record, "accepted", "ann", None)
    for i, want in enumerate(["candidate"] * 5 + ["active"] + ["neither"] * 2):
        order = BlindSession.order_for("s", i)
        pair = BlindPair("segmentation", active.id, cand.id, order, "s", i, {}, "")
        record_choice(db, ADMIN, pair, "neither" if want == "neither" else "AB"[order.index(want)])
    service = TrainingService(settings=settings, db=db, session=ADMIN, registry=registry)
    return service, cand


def test_section_shows_paired_shadow_metrics_and_the_sign_test(qtbot, stored):
    service, cand = stored
    runner = JobRunner()
    section = ShadowSection(service, runner)
    qtbot.addWidget(section)
    with qtbot.waitSignal(section.refresh().sig_done, timeout=20_000):
        pass
    table = section.shadow_table
    cells = [table.item(0, j).text() for j in range(table.columnCount())]
    assert cells[:5] == [f"#{cand.id}", "viewer · Dice", "3", "0", "3"]
    paired = shadow_summary(service.db)[0].paired
    assert cells[6] == f"{paired['mean_baseline']:.3f}" and cells[7] == f"{paired['mean_candidate']:.3f}"
    assert cells[8].startswith(f"{paired['mean_diff']:+.3f} [") and cells[9] == f"{paired['p_value']:.2g}"
    pref = [section.preference_table.item(0, j).text() for j in range(section.preference_table.columnCount())]
    assert pref[:5] == [f"#{cand.id}", "viewer", "5", "1", "2"]
    assert pref[6] == f"{binomtest(5, 6, 0.5).pvalue:.3g}"
    assert "3 case(s) newly scored" in section.status.text() and "viewer 100%" in section.mode.text()
    runner.shutdown()


def test_admin_tab_holds_the_section(qtbot, stored):
    service, _ = stored
    runner = JobRunner()
    tab = AdminTab(service, runner, service.session)
    qtbot.addWidget(tab)
    assert tab.findChild(ShadowSection) is not None
    runner.shutdown()


def test_section_refuses_a_user_without_manage_models(qtbot, stored, settings, db):
    service, _ = stored
    viewer_only = TrainingService(settings=settings, db=db, session=UserSession(Actor("guest", Role.read_only)),
                                  registry=service.registry)
    runner = JobRunner()
    section = ShadowSection(viewer_only, runner)
    qtbot.addWidget(section)
    with qtbot.waitSignal(section.refresh().sig_failed, timeout=20_000):
        pass
    assert "may not" in section.status.text() or "permission" in section.status.text().lower()
    assert section.shadow_table.rowCount() == 0
    runner.shutdown()
