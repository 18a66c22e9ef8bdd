"""Benchmark: GUI-thread time per streamed token in the Chat tab, 40-message conversation, before vs after.

* **before** — what the tab did until now for every token: append to the live
  text and render the whole conversation again (``ChatTab._render`` ->
  ``QTextBrowser.setHtml``);
* **after** — what it does now: ``ChatTab._on_answer_partial`` appends the piece
  at the end of the document with a text cursor.

Both run in the same process on the same conversation (20 questions and 20
grounded answers of 4 cited sentences each, stored in a temporary database),
offscreen. Prints mean and p95 milliseconds per token and the load average.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_chat_render.py [--tokens 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=200, help="tokens streamed per variant")
    parser.add_argument("--messages", type=int, default=40, help="messages already in the conversation")
    args = parser.parse_args(argv)
    os.environ["MEDSTATION_HOME"] = tempfile.mkdtemp(prefix="bench_chat_render_")
    os.environ["MEDSTATION_KB_STARTER"] = "false"

    from PySide6.QtWidgets import QApplication

    from medstation.access.roles import UserSession
    from medstation.config import Settings
    from medstation.llm.answer import message_store as convo
    from medstation.llm.answer.message_store import MessageRole
    from medstation.llm.answer.provenance import AnswerProvenance
    from medstation.llm.answer.rag_answer import StreamEvent
    from medstation.store.model_registry import ModelRegistry
    from medstation.llm.service import LLMService
    from medstation.llm.support import SentenceSupport
    from medstation.access.encryption import open_database
    from medstation.ui.chat.tab import ChatTab
    from medstation.ui.runner import JobRunner
    from tests.llm_support import ListKnowledgeBase

    app = QApplication.instance() or QApplication([])
    settings = Settings()
    settings.ensure_dirs()
    db = open_database(settings.db_path)
    conversation = convo.create_conversation(db, "benchmark")
    sentence = "Asthma is a chronic disease that inflames and narrows the airways of the lungs"
    passages = tuple({"n": n, "title": f"Passage {n}", "text": sentence * 3, "url": "", "doc_id": str(n)}
                     for n in range(1, 6))
    for i in range(args.messages // 2):
        convo.add_message(db, conversation, MessageRole.user, f"Question {i}: what are the symptoms of asthma?")
        prov = AnswerProvenance(passages=passages,
                                sentences=tuple(SentenceSupport(f"{sentence} ({i}.{j}).", True, (j + 1,))
                                                for j in range(4)))
        convo.add_message(db, conversation, MessageRole.assistant, "…", provenance=prov)
    runner = JobRunner()
    tab = ChatTab(llm=LLMService(settings, db, registry=ModelRegistry(db)), kb=ListKnowledgeBase([]), db=db, settings=settings, runner=runner,
                  session=UserSession.from_os_user())
    tab.resize(1400, 900)
    tab.show()
    tab.conversation_id = conversation
    tab.messages = convo.load_messages(db, conversation)
    tab.answer_job = object()  # as while an answer streams
    pieces = [f" tok{i}" + (" [1]." if i % 12 == 11 else "") for i in range(args.tokens)]

    def measure(step) -> list[float]:
        tab.live_text = ""
        tab._render()
        app.processEvents()
        times = []
        for piece in pieces:
            started = time.perf_counter()
            step(piece)
            app.processEvents()  # layout and paint are part of the cost the user waits for
            times.append((time.perf_counter() - started) * 1000)
        return times

    def before(piece: str) -> None:
        tab.live_text += piece
        tab._render()

    def after(piece: str) -> None:
        tab._on_answer_partial(StreamEvent("token", piece))

    results = {"before (re-render per token)": measure(before), "after (append per token)": measure(after)}
    load = os.getloadavg()
    print(f"{args.messages}-message conversation, {args.tokens} tokens, load average {load[0]:.2f} {load[1]:.2f}")
    for name, times in results.items():
        p95 = sorted(times)[int(0.95 * len(times)) - 1]
        print(f"  {name:30s} mean {statistics.mean(times):7.2f} ms/token  p95 {p95:7.2f} ms")
    tab.answer_job = None
    runner.shutdown()
    db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
