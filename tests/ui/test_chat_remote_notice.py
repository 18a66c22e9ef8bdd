"""Data leaves the machine only on purpose, and the Chat tab says so (issue 19 item 7)."""

from __future__ import annotations

import pytest

from medstation.access.roles import UserSession
from medstation.config import Settings
from medstation.llm.backends.openai_http import remote_server_notice
from medstation.store.model_registry import ModelRegistry
from medstation.llm.service import LLMService
from medstation.store.database import Database
from medstation.llm.answer.conversation import Conversation
from medstation.ui.chat.tab import ChatTab
from medstation.ui.runner import JobRunner
from tests.llm_support import ListKnowledgeBase


@pytest.mark.parametrize("url,shown", [
    ("http://10.20.30.40:8000/v1", True),
    ("http://llm.clinic.example:8080/v1", True),
    ("http://127.0.0.1:8000/v1", False),
    ("http://localhost:8000/v1", False),
])
def test_the_chat_tab_says_plainly_when_text_goes_to_another_machine(qtbot, medstation_home, url, shown):
    settings = Settings(llm_backend="openai", openai_base_url=url, allow_remote_llm=True)
    settings.ensure_dirs()
    db = Database(settings.db_path)
    runner = JobRunner()
    try:
        llm, kb = LLMService(settings, db, registry=ModelRegistry(db)), ListKnowledgeBase([])
        tab = ChatTab(llm=llm, kb=kb, conversation=Conversation(db=db, llm=llm, kb=kb), settings=settings,
                      runner=runner, session=UserSession.from_os_user())
        qtbot.addWidget(tab)
        tab.show()
        assert tab.remote_notice.isVisible() is shown
        if shown:
            host = url.split("//")[1].split(":")[0]
            assert f"sent to {host}" in tab.remote_notice.text()
            assert "outside this machine" in tab.remote_notice.text()
    finally:
        runner.shutdown()
        db.close()


def test_notice_text_is_empty_for_loopback():
    assert remote_server_notice("http://[::1]:8000/v1") == ""
