"""The Chat tab's test world: the real SmolLM2 backend (loaded once per test module), two passages, and a tab
wired to its own database, LLM service and runner. Shared by the Chat tab's test files."""

from __future__ import annotations

import pytest

from medstation.access.roles import UserSession
from medstation.config import Settings
from medstation.llm.answer.conversation import Conversation
from medstation.llm.backends.catalogue import embedded_model_path
from medstation.llm.backends.local import LocalLlamaBackend
from medstation.llm.service import LLMService
from medstation.rag.types import Passage
from medstation.store.database import Database
from medstation.store.model_registry import ModelRegistry
from medstation.ui.chat.tab import ChatTab
from medstation.ui.runner import JobRunner

PASSAGES = [
    Passage("c1", "asthma", "Asthma", "https://medlineplus.gov/asthma.html", "MedlinePlus",
            "Asthma is a chronic disease that inflames and narrows the airways. Symptoms include wheezing, "
            "coughing, chest tightness and shortness of breath.", 0.9, 1),
    Passage("c2", "copd", "COPD", "https://medlineplus.gov/copd.html", "MedlinePlus",
            "COPD is a group of lung diseases that block airflow. Smoking is the main cause.", 0.5, 2),
]


@pytest.fixture(scope="module")
def backend():
    loaded = LocalLlamaBackend(embedded_model_path(), n_ctx=4096, n_threads=2)
    yield loaded
    loaded.close()


def open_chat_tab(qtbot, settings: Settings, kb, backend=None):
    """(tab, runner, db): a Chat tab over ``kb``; ``backend`` is attached when given (else none is loaded)."""
    settings.ensure_dirs()
    db = Database(settings.db_path)
    llm = LLMService(settings, db, registry=ModelRegistry(db))
    if backend is not None:
        llm.attach_backend(backend)
    runner = JobRunner()
    tab = ChatTab(llm=llm, kb=kb, conversation=Conversation(db=db, llm=llm, kb=kb), settings=settings,
                  runner=runner, session=UserSession.from_os_user())
    qtbot.addWidget(tab)
    return tab, runner, db


@pytest.fixture
def make_tab(qtbot, backend, medstation_home):
    from tests.llm_support import ListKnowledgeBase

    made = []

    def _make(passages=PASSAGES, max_tokens=24):
        tab, runner, db = open_chat_tab(qtbot, Settings(llm_max_tokens=max_tokens), ListKnowledgeBase(passages),
                                        backend)
        tab.resize(1400, 800)
        tab.show()
        made.append((runner, db))
        return tab

    yield _make
    for runner, db in made:
        runner.shutdown()
        db.close()


def wait_idle(qtbot, tab, timeout=120_000):
    qtbot.waitUntil(lambda: tab.answer_job is None and tab.send_button.isEnabled(), timeout=timeout)


def wait_stored_answer(qtbot, tab):
    """Until the answer job ended and the stored answer was reloaded from the database."""
    wait_idle(qtbot, tab)
    try:
        qtbot.waitUntil(lambda: bool(tab.messages) and tab.messages[-1].role == "assistant" and tab.messages[-1].id > 0,
                        timeout=30_000)
    except Exception:
        pytest.fail(f"no stored answer shown; status line: {tab.status_label.text()!r}")
