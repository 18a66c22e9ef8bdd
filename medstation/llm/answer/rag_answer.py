"""The cited-answer job: retrieve, judge relevance, answer (grounded or generative), check, store.

``answer_question(ctx, llm, kb, db, question, ...)`` runs in the ``llm`` lane.
It streams :class:`StreamEvent` partials — first ``sources`` (the numbered
passages), then ``token`` pieces — and returns an :class:`AnswerResult`.

1. Retrieval, then :func:`~medstation.llm.answer.relevance.judge_relevance`: when no
   passage covers the question the reply is "not in the knowledge base"
   (stored, status ``not_in_knowledge_base``), and no answer is made up.
2. The answer, in one of two :class:`~medstation.llm.answer.provenance.AnswerMode`:
   ``grounded`` (default for the embedded model): passage sentences quoted with
   their citations (:mod:`medstation.llm.answer.grounded`), no text generated;
   ``generative`` (default for a larger model): the model writes, its markup is
   stripped (:mod:`medstation.llm.answer.markup`) and citation markers validated.
3. Every sentence is checked (:mod:`medstation.llm.support`); unsupported
   sentences are kept, shown as unsupported, and counted in the provenance.

Outcomes are stored as a ``ChatMessage`` draft: ``complete``, ``truncated``
(the token limit ended it), ``stopped`` (the user pressed Stop; the partial
text is kept and :class:`~medstation.jobs.Cancelled` re-raised), ``error`` or
``not_in_knowledge_base``. Refusals before any work (empty question, empty
knowledge base) raise :class:`QuestionRejected` and store nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from medstation.foreground import FOREGROUND
from medstation.jobs import Cancelled
from medstation.llm.answer import message_store as convo
from medstation.llm.backends.base import GenerationSettings
from medstation.llm.answer.budget import fit_prompt
from medstation.llm.answer.citations import validate_citations
from medstation.llm.answer.message_store import MessageRole, MessageStatus, ReviewStatus
from medstation.llm.errors import LLMError
from medstation.llm.answer.injection import injection_notice
from medstation.llm.answer.grounded import embedding_scorer, overlap_scorer, quotes_text, select_quotes
from medstation.llm.answer.markup import strip_model_markup
from medstation.llm.answer.prompt import SYSTEM_PROMPT, build_messages
from medstation.llm.answer.question_cues import classify
from medstation.llm.answer.provenance import AnswerMode, AnswerProvenance, passage_record
from medstation.llm.answer.reasoning import (
    REASONING_INSTRUCTION,
    REASONING_SYSTEM_PROMPT,
    CaseDescription,
    grounded_differential,
    parse_differential,
)
from medstation.llm.answer.relevance import NOT_IN_KB_MESSAGE, judge_relevance, unmentioned_notice
from medstation.llm.safety import search_passages
from medstation.llm.support import check_answer
from medstation.rag.types import EMPTY_KB_MESSAGE, clean_question, question_problem

AI_DRAFT_LABEL = "AI draft — decision support, verify against the sources"
NO_TEXT_MESSAGE = "The model produced no text for this question. Try rephrasing it or choose another model."
TRUNCATED_NOTICE = "The answer reached the token limit and is cut short."
STOPPED_NOTICE = "Stopped by the user; the answer is incomplete."
CASE_MIN_TOPIC_COVERAGE = 0.01


class QuestionRejected(LLMError):
    """The question is empty, too long, or cannot be answered from an empty knowledge base."""


@dataclass(frozen=True)
class StreamEvent:
    """A streamed piece: ``kind`` is ``sources`` (payload: list of passages) or ``token`` (payload: str)."""

    kind: str
    payload: Any


@dataclass(frozen=True)
class AnswerResult:
    """A stored answer. ``passages[i]`` is cited as ``[i + 1]`` in ``text``."""

    message_id: int
    conversation_id: int
    status: MessageStatus
    text: str
    passages: tuple[Any, ...]
    provenance: AnswerProvenance

    @property
    def notice(self) -> str:
        return self.provenance.notice

    @property
    def cited(self) -> tuple[int, ...]:
        return self.provenance.cited

    @property
    def uncited(self) -> tuple[int, ...]:
        return self.provenance.uncited


def check_question(question: str) -> None:
    """Raise :class:`QuestionRejected` for an empty or over-long question."""
    problem = question_problem(question)
    if problem:
        raise QuestionRejected(problem)


def _scorer(kb):
    embedder = getattr(kb, "embedder", None)
    return embedding_scorer(embedder()) if callable(embedder) else overlap_scorer


def answer_question(
    ctx,
    llm,
    kb,
    db,
    question: str,
    *,
    conversation_id: int | None = None,
    k: int = 5,
    search_mode: str = "hybrid",
    generation: GenerationSettings | None = None,
    case: CaseDescription | None = None,
    regenerate: bool = False,
    answer_mode: AnswerMode | str | None = None,
) -> AnswerResult:
    """Job: answer ``question`` (or the reasoning ``case``) from the knowledge base, streaming pieces.

    ``answer_mode`` None: the model's default (:meth:`LLMService.default_answer_mode`).
    ``regenerate`` answers the conversation's last question again without storing it a second time.
    """
    mode = "reasoning" if case is not None else "chat"
    question = clean_question(question)
    if case is not None:
        if case.is_empty():
            raise QuestionRejected("Describe the case first: symptoms, history or findings.")
        question = case.as_question()
    check_question(question)
    if kb is None or kb.is_empty():
        raise QuestionRejected(EMPTY_KB_MESSAGE)
    answer_mode = AnswerMode(answer_mode or llm.default_answer_mode())
    generation = generation or llm.generation_defaults()

    ctx.report(0.05, "Searching the knowledge base")
    query = case.search_query() if case is not None else question
    # a safety question ("should children take aspirin?") reads deeper and puts warnings first
    passages = kb.search(query, k=k, mode=search_mode) if case is not None else search_passages(
        kb, query, k=k, mode=search_mode)
    ctx.check()
    # A case lists many findings and no passage names them all: one covered term is enough there
    # (not calibrated like the question threshold; the similarity threshold still applies).
    verdict = judge_relevance(query, passages, **({"min_topic_coverage": CASE_MIN_TOPIC_COVERAGE} if case else {}))
    kb_version = kb.current_version()
    model = None
    if verdict.relevant and answer_mode is AnswerMode.generative:
        # load the model before anything is stored: a model that cannot load (a truncated .gguf) fails the job
        # with nothing stored, so the question handed back to the user is not also left unanswered in the history
        model = llm.loaded_model(ctx)
        ctx.check()
    if conversation_id is None:
        conversation_id = convo.create_conversation(db, question if case is None else f"Differential: {case.symptoms}")
    if not regenerate:
        convo.add_message(db, conversation_id, MessageRole.user, question, mode=mode, review_status=ReviewStatus.none)
    provenance = AnswerProvenance(
        answer_mode=answer_mode, label=AI_DRAFT_LABEL, kb_version_id=kb_version.id if kb_version else None,
        retrieval={"query": query, "k": k, "mode": search_mode}, relevance=verdict.to_json(),
        passages=tuple(passage_record(i, p) for i, p in enumerate(passages, start=1)), regenerated=regenerate,
        generation=generation.as_dict(),
        case={"symptoms": case.symptoms, "history": case.history, "findings": case.findings} if case else None,
    )
    if not verdict.relevant:
        provenance = provenance.with_updates(finish=MessageStatus.not_in_knowledge_base.value,
                                             notice=NOT_IN_KB_MESSAGE, passages=())
        return _store(ctx, db, conversation_id, mode, MessageStatus.not_in_knowledge_base, NOT_IN_KB_MESSAGE, (),
                      provenance, None, "")
    if answer_mode is AnswerMode.grounded:
        return _grounded(ctx, db, kb, conversation_id, mode, question, case, passages, provenance)
    return _generative(ctx, model, db, conversation_id, mode, question, case, passages, provenance, generation)


def _grounded(ctx, db, kb, conversation_id, mode, question, case, passages, provenance) -> AnswerResult:
    """Quote the passages: no model writes anything, so every sentence carries its exact citation."""
    ctx.partial(StreamEvent("sources", list(passages)))
    ctx.report(0.3, "Selecting the passage sentences that answer the question")
    started = time.perf_counter()
    scorer = _scorer(kb)
    differential: tuple[dict[str, Any], ...] = ()
    if case is not None:
        items = grounded_differential(case, passages, scorer)
        differential = tuple(i.as_dict() for i in items)
        text = "\n".join(f"{i.rank}. {i.diagnosis} — {i.rationale} [{i.citations[0]}]" for i in items)
        sentences = check_answer(" ".join(f"{i.rationale} [{i.citations[0]}]" for i in items if i.rationale),
                                 [f"{p.title}\n{p.text}" for p in passages])
    else:
        text = quotes_text(select_quotes(question, passages, scorer))
        sentences = check_answer(text, [f"{p.title}\n{p.text}" for p in passages])
    ctx.check()
    for piece in text.split(" "):
        ctx.partial(StreamEvent("token", piece + " "))
    status = MessageStatus.complete if text else MessageStatus.error
    notice = " ".join(filter(None, [
        "" if text else "No sentence of the retrieved passages answers this question.", injection_notice(passages)]))
    provenance = provenance.with_updates(
        model={"backend": "extractive", "name": "grounded quotes", "selector": _selector_name(kb),
               "question_type": classify(question).kind.value if case is None else "differential"},
        raw_text=text, sentences=sentences, differential=differential, finish=status.value, notice=notice,
        timing={"first_token_s": time.perf_counter() - started, "total_s": time.perf_counter() - started},
    )
    return _store(ctx, db, conversation_id, mode, status, text, passages, provenance, None, "")


def _selector_name(kb) -> str:
    embedder = getattr(kb, "embedder", None)
    return getattr(embedder(), "name", "embedder") if callable(embedder) else "word overlap"


def _generative(ctx, model, db, conversation_id, mode, question, case, passages, provenance,
                generation) -> AnswerResult:
    """The model writes; its markup is stripped, its citations validated and every sentence checked.

    ``model``: (loaded backend, its registry version id or None)."""
    backend, model_version_id = model
    history: list[dict[str, str]] = []
    earlier = convo.load_messages(db, conversation_id)
    last_user = max((i for i, m in enumerate(earlier) if m.role is MessageRole.user), default=len(earlier))
    earlier = earlier[:last_user]  # this question (just stored, or asked again) is not history
    if mode == "chat":
        history = convo.history_for_prompt(earlier)
    system, instruction = (REASONING_SYSTEM_PROMPT, REASONING_INSTRUCTION) if case else (SYSTEM_PROMPT, "")
    fitted = fit_prompt(
        lambda ps, hist: build_messages(question, ps, hist, system_prompt=system, instruction=instruction),
        backend.count_chat_tokens, passages, history, n_ctx=backend.n_ctx, answer_tokens=generation.max_tokens,
    )
    prompt_sha = hashlib.sha256(json.dumps(fitted.messages, sort_keys=True).encode("utf-8")).hexdigest()
    ctx.partial(StreamEvent("sources", list(fitted.passages)))
    ctx.report(0.1, "Generating the answer")

    pieces: list[str] = []
    started = time.perf_counter()
    first_token_s: float | None = None
    status, notice = MessageStatus.complete, ""
    with FOREGROUND.hold():  # background work pauses while the model decodes
        try:
            for piece in backend.stream_chat(ctx, fitted.messages, generation):
                if first_token_s is None:
                    first_token_s = time.perf_counter() - started
                pieces.append(piece)
                ctx.partial(StreamEvent("token", piece))
        except Cancelled:
            status, notice = MessageStatus.stopped, STOPPED_NOTICE
        except Exception as exc:  # the model or server failed mid-answer: keep what came, say why
            status, notice = MessageStatus.error, f"The model failed while answering: {exc}"
    if status is MessageStatus.complete and _hit_limit(backend, len(pieces), generation):
        status, notice = MessageStatus.truncated, TRUNCATED_NOTICE

    raw = "".join(pieces)
    checked = validate_citations(strip_model_markup(raw), len(fitted.passages))
    if status is MessageStatus.complete and not checked.text.strip():
        status, notice = MessageStatus.error, NO_TEXT_MESSAGE
    passage_texts = [f"{p.title}\n{p.text}" for p in fitted.passages]
    differential: tuple[dict[str, Any], ...] = ()
    if case is not None:
        differential = tuple(i.as_dict() for i in parse_differential(checked.text, len(fitted.passages), case,
                                                                      passage_texts))
    provenance = provenance.with_updates(
        model={**backend.describe(), "model_version_id": model_version_id},
        passages=tuple(passage_record(i, p) for i, p in enumerate(fitted.passages, start=1)),
        dropped_context=fitted.dropped_summary(), prompt_tokens=fitted.prompt_tokens,
        token_count_exact=bool(backend.exact_token_count), n_ctx=fitted.n_ctx, raw_text=raw,
        sentences=check_answer(checked.text, passage_texts),
        removed_markers=tuple({"marker": r.marker, "invalid": list(r.invalid)} for r in checked.removed),
        timing={"first_token_s": first_token_s, "total_s": time.perf_counter() - started, "pieces": len(pieces)},
        finish=status.value, notice=notice, differential=differential,
    )
    return _store(ctx, db, conversation_id, mode, status, checked.text, tuple(fitted.passages), provenance,
                  model_version_id, prompt_sha)


def _hit_limit(backend, pieces: int, generation: GenerationSettings) -> bool:
    """True when generation ended at the token limit (the backend's finish reason, else the piece count)."""
    reason = getattr(backend, "last_finish_reason", None)
    return reason == "length" if reason else pieces >= generation.max_tokens


def _store(ctx, db, conversation_id, mode, status, text, passages, provenance, model_version_id,
           prompt_sha) -> AnswerResult:
    if status is MessageStatus.complete and mode == "chat":
        # a case lists many findings no passage names; a chat question's missing words are worth saying
        cited = {c for s in provenance.sentences for c in s.citations}
        scope = unmentioned_notice(provenance.retrieval.get("query", ""), text,
                                   [p.title for i, p in enumerate(passages, start=1) if i in cited])
        if scope:
            provenance = provenance.with_updates(notice=" ".join(filter(None, [scope, provenance.notice])))
    message_id = convo.add_message(
        db, conversation_id, MessageRole.assistant, text, status=status, mode=mode,
        model_version_id=model_version_id, kb_version_id=provenance.kb_version_id, prompt_sha256=prompt_sha,
        provenance=provenance,
    )
    if status is MessageStatus.stopped:
        raise Cancelled()
    ctx.report(1.0, {MessageStatus.complete: "Answer complete"}.get(status, provenance.notice))
    return AnswerResult(message_id, conversation_id, status, text, tuple(passages), provenance)
