"""The whole workstation, as a user meets it: real services, real small models, every tab.

The main window is built from temporary settings exactly as ``medstation`` builds
it. The viewer opens the bundled sample CT, a MedSAM box prompt returns a mask
inside the box, and the Chat tab answers from a freshly ingested knowledge base
with the embedded SmolLM2 and stores the answer with its provenance.
"""

from __future__ import annotations

import numpy as np
import pytest
from sqlmodel import select

from medstation.app import build_services
from medstation.config import Settings
from medstation.jobs import JobContext
from medstation.store.tables import ChatMessage, ModelVersion
from medstation.ui.main_window import MainWindow
from medstation.ui.runner import JobRunner

SPLEEN_BOX = (322.0, 250.0, 410.0, 378.0)  # sample CT, pixels (x0, y0, x1, y1), slice 10

KB_DOCS = {
    "asthma.md": "# Asthma\n\nAsthma is a chronic disease of the airways. Symptoms of asthma include wheezing, "
    "coughing, chest tightness and shortness of breath, often at night or early in the morning.",
    "gout.md": "# Gout\n\nGout is a form of arthritis caused by uric acid crystals in a joint. It causes sudden, "
    "severe pain, swelling and redness, often in the big toe.",
}


@pytest.fixture
def workstation(qtbot, medstation_home):
    services = build_services(Settings(llm_max_tokens=40))
    runner = JobRunner()
    window = MainWindow(services, runner)
    qtbot.addWidget(window)
    window.resize(1500, 950)
    window.show()
    yield window, services
    runner.shutdown(timeout_ms=60_000)
    services.close()


def test_viewer_opens_sample_and_medsam_box_gives_a_mask(qtbot, workstation):
    window, services = workstation
    viewer = window.viewer_tab
    window.start(None)  # first run: index and open the bundled sample CT
    qtbot.waitUntil(lambda: viewer.current_volume() is not None, timeout=120_000)
    volume = viewer.current_volume()
    assert volume.pixels.shape == (20, 512, 512) and volume.modality == "CT"
    assert abs(volume.spacing[0] - 2.0) < 0.01

    from medstation.ui.segmentation.panel import SegmentationPanel

    panel = viewer.findChild(SegmentationPanel)
    assert panel is not None, "the segmentation panel is mounted in the viewer"
    qtbot.waitUntil(lambda: "ready" in panel.engine_label.text(), timeout=300_000)
    viewer.set_slice(10)
    panel.set_tool("seg_box")
    x0, y0, x1, y1 = SPLEEN_BOX
    viewer.axial_view.sig_box_drawn.emit(x0, y0, x1, y1)
    qtbot.waitUntil(lambda: panel.segments.segments[panel.current_key].mask[10].any(), timeout=120_000)
    mask = panel.segments.segments[panel.current_key].mask[10]
    rows, cols = np.nonzero(mask)
    # a real mask of a real organ: sizeable, and inside the prompt box (a few pixels of slack)
    assert mask.sum() > 500
    assert cols.min() >= x0 - 4 and cols.max() <= x1 + 4 and rows.min() >= y0 - 4 and rows.max() <= y1 + 4


def test_chat_answers_from_ingested_kb_with_provenance(qtbot, workstation, tmp_path):
    window, services = workstation
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in KB_DOCS.items():
        (corpus / name).write_text(text)
    version = services.kb.ingest_job(JobContext(), corpus)
    assert version.doc_count == 2

    window.select_tab("chat")
    tab = window.chat_tab
    tab.answer_mode_combo.setCurrentIndex(2)  # generative: the model writes, so its provenance is stored
    tab.question_edit.setPlainText("What are the symptoms of asthma?")
    tab.send()
    qtbot.waitUntil(lambda: tab.answer_job is None and tab.send_button.isEnabled(), timeout=300_000)
    qtbot.waitUntil(lambda: bool(tab.messages) and tab.messages[-1].role == "assistant" and tab.messages[-1].id > 0,
                    timeout=30_000)
    answer = tab.messages[-1]
    assert answer.status in ("complete", "truncated") and answer.content.strip()
    with services.db.session() as s:
        stored = s.get(ChatMessage, answer.id)
        model = s.get(ModelVersion, stored.model_version_id)
        assert stored.kb_version_id == version.id
        assert len(stored.prompt_sha256) == 64
        assert model is not None and model.name.startswith("SmolLM2")
        retrieved = stored.provenance["passages"]
        assert "asthma" in str(retrieved).lower()
        assert s.exec(select(ChatMessage).where(ChatMessage.role == "user")).first() is not None

    for name in ("notes", "admin", "viewer"):
        window.select_tab(name)
        qtbot.wait(20)
        assert window.tabs.currentWidget() is getattr(window, f"{name}_tab")
        assert window.tabs.tabText(window.tabs.currentIndex()).lower() == name
