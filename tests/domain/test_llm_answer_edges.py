"""Answer job edge cases with scripted backends: no text, a failure mid-answer, citations to nothing."""

from __future__ import annotations

import pytest

from medstation.jobs import JobContext
from medstation.llm.answer import message_store as convo
from medstation.llm.backends.base import GenerationSettings, estimate_chat_tokens
from medstation.llm.errors import ModelLoadError
from medstation.llm.answer.message_store import MessageStatus
from medstation.llm.answer.rag_answer import NO_TEXT_MESSAGE, TRUNCATED_NOTICE, answer_question
from medstation.rag.types import Passage


class ScriptedBackend:
    """Plays back fixed pieces (then optionally fails), to reach the paths a real model rarely takes."""

    n_ctx = 2048
    exact_token_count = False

    def __init__(self, pieces, fail_after=None):
        self.pieces = pieces
        self.fail_after = fail_after

    def describe(self):
        return {"backend": "scripted", "name": "scripted"}

    def count_chat_tokens(self, messages):
        return estimate_chat_tokens(messages)

    def stream_chat(self, ctx, messages, settings):
        for i, piece in enumerate(self.pieces):
            if self.fail_after is not None and i == self.fail_after:
                raise RuntimeError("decode failed: out of memory")
            ctx.check()
            yield piece

    def close(self):
        pass


class ScriptedLLM:
    def __init__(self, backend):
        self._backend = backend

    def backend(self, ctx=None):
        return self._backend

    def model_version_id(self, ctx=None):
        return None

    def loaded_model(self, ctx=None):
        return self.backend(ctx), self.model_version_id(ctx)

    def generation_defaults(self):
        return GenerationSettings(max_tokens=64)

    def default_answer_mode(self):
        return "generative"  # these tests drive the model's text through the generative path


class OneDocKb:
    passages = [Passage("c1", "d1", "Gout", "https://x/gout", "test", "Gout is caused by uric acid crystals.", 1.0, 1)]

    def search(self, query, k=5, mode="hybrid"):
        return self.passages

    def is_empty(self):
        return False

    def current_version(self):
        return None


def test_model_that_writes_nothing_gives_a_clear_message(db):
    result = answer_question(JobContext(), ScriptedLLM(ScriptedBackend(["", "  ", "\n"])), OneDocKb(), db, "Gout?")
    assert result.status is MessageStatus.error and result.notice == NO_TEXT_MESSAGE
    assert convo.get_message(db, result.message_id).status is MessageStatus.error


def test_failure_mid_answer_keeps_the_partial_text_and_says_why(db):
    backend = ScriptedBackend(["Gout is ", "caused by ", "crystals [1]."], fail_after=2)
    result = answer_question(JobContext(), ScriptedLLM(backend), OneDocKb(), db, "What causes gout?")
    assert result.status is MessageStatus.error and "out of memory" in result.notice
    assert result.text == "Gout is caused by"


def test_citation_to_nothing_is_removed_and_recorded(db):
    backend = ScriptedBackend(["Uric acid crystals cause gout [1]", " and diet matters [4]."])
    result = answer_question(JobContext(), ScriptedLLM(backend), OneDocKb(), db, "What causes gout?")
    assert result.text == "Uric acid crystals cause gout [1] and diet matters."
    prov = result.provenance
    assert prov.removed_markers == ({"marker": "[4]", "invalid": [4]},)
    assert prov.raw_text.endswith("[4].")
    # "diet matters" is in no passage: the sentence is unsupported, shown so, and counted
    assert [s.supported for s in prov.sentences] == [False] and prov.sentences[0].missing == ("diet", "matters")  # "caused" is "cause" (stems)
    assert result.cited == () and prov.to_json()["support"] == {"sentences": 1, "supported": 0, "unsupported": 1}
    assert prov.token_count_exact is False


def test_markup_the_model_echoes_is_removed_and_the_rest_checked(db):
    backend = ScriptedBackend(['<passage id="1" title="Gout" source="test">', "Gout is caused by uric acid ",
                               "crystals.</passage><|im_end|>"])
    result = answer_question(JobContext(), ScriptedLLM(backend), OneDocKb(), db, "What causes gout?")
    assert "<" not in result.text and "passage" not in result.text
    assert [(s.text, s.supported, s.citations) for s in result.provenance.sentences] == [
        ("Gout is caused by uric acid crystals.", True, (1,))]


def test_an_answer_that_hits_the_token_limit_is_labelled_truncated(db):
    class Limited(ScriptedLLM):
        def generation_defaults(self):
            return GenerationSettings(max_tokens=3)

    result = answer_question(JobContext(), Limited(ScriptedBackend(["Gout ", "is ", "caused"])), OneDocKb(), db,
                             "What causes gout?")
    assert result.status is MessageStatus.truncated and result.notice == TRUNCATED_NOTICE


class PregnancyKb(OneDocKb):
    passages = [Passage("c1", "d1", "Pregnancy and Medicines", "https://x/preg", "test",
                        "Not all medicines are safe to take when you are pregnant. Some medicines can harm your baby. "
                        "Always talk to your doctor before taking any medicine during pregnancy.", 1.0, 1)]


def test_a_grounded_answer_says_which_asked_words_no_passage_mentions(db):
    """Asked about ibuprofen in pregnancy, the answer quoted general advice on medicines in pregnancy with no
    word that it never mentions ibuprofen (ad2cb94: no notice). Now it says so; a covered question has no notice."""
    llm = ScriptedLLM(ScriptedBackend([]))
    llm.default_answer_mode = lambda: "grounded"
    result = answer_question(JobContext(), llm, PregnancyKb(), db, "Is it safe to take ibuprofen during pregnancy?")
    assert result.status is MessageStatus.complete and "[1]" in result.text
    assert "ibuprofen" in result.notice and "pregnancy" not in result.notice.split(":")[0]
    assert convo.get_message(db, result.message_id).provenance.notice == result.notice
    covered = answer_question(JobContext(), llm, PregnancyKb(), db, "Is it safe to take medicines during pregnancy?")
    assert covered.status is MessageStatus.complete and covered.notice == ""
    # how the question is phrased ("bad") is not what it is about: no notice for it
    phrased = answer_question(JobContext(), llm, PregnancyKb(), db, "Can bad medicines harm your baby during pregnancy?")
    assert phrased.status is MessageStatus.complete and phrased.notice == ""


class UnloadableLLM(ScriptedLLM):
    """A chosen model that cannot be loaded (a truncated .gguf in models/): ``backend`` raises."""

    def backend(self, ctx=None):
        raise ModelLoadError("llama.cpp could not load broken.gguf: the file is truncated")


def test_a_model_that_cannot_load_stores_no_question_without_an_answer(db):
    """breakchat: with a truncated .gguf chosen, the answer job failed only after it had stored the question,
    while the Chat tab (told the job failed) gives the question back for another try: the history kept a
    conversation holding one unanswered question, and asking again in an open conversation stored it twice
    (fails on 7d7286b). The model is now loaded before anything is stored."""
    with pytest.raises(ModelLoadError, match="truncated"):
        answer_question(JobContext(), UnloadableLLM(ScriptedBackend([])), OneDocKb(), db, "What causes gout?")
    assert convo.list_conversations(db) == []
    # in an open conversation: the question is not added a second time
    first = answer_question(JobContext(), ScriptedLLM(ScriptedBackend(["Gout is caused by uric acid crystals."])),
                            OneDocKb(), db, "What causes gout?")
    with pytest.raises(ModelLoadError):
        answer_question(JobContext(), UnloadableLLM(ScriptedBackend([])), OneDocKb(), db, "Which crystals cause gout?",
                        conversation_id=first.conversation_id)
    assert [m.content for m in convo.load_messages(db, first.conversation_id)] == [
        "What causes gout?", "Gout is caused by uric acid crystals."]
