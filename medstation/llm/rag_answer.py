"""The cited-answer job: retrieve, fence, fit, stream, check citations, store with provenance.

``answer_question(ctx, llm, kb, db, question, ...)`` runs in the ``llm`` lane
(retrieval too: the embedder and the model then never compete for the CPU).
It streams :class:`StreamEvent` partials — first ``sources`` (the numbered
passages), then ``token`` pieces — and returns an :class:`AnswerResult`.

Citations: markers the model wrote are validated (``cited``, ``removed_markers``);
sentences it left uncited are matched to passages by word overlap
(``matched``, shown as ``[≈n]``; see :mod:`medstation.llm.attribution`);
``uncited`` lists passages neither cited nor matched.

Every outcome is stored as a ``ChatMessage`` (role ``assistant``,
``review_status="draft"``): ``complete``, ``stopped`` (the user pressed Stop;
the partial text is kept and :class:`~medstation.jobs.Cancelled` re-raised so
the runner reports a cancellation) or ``error`` (the model failed or wrote
nothing). Refusals before any work (empty question, empty knowledge base)
raise :class:`~medstation.llm.errors.LLMError` and store nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from medstation.jobs import Cancelled
from medstation.llm import conversations as convo
from medstation.llm.attribution import match_sentences
from medstation.llm.backend import GenerationSettings
from medstation.llm.budget import fit_prompt
from medstation.llm.citations import RemovedMarker, validate_citations
from medstation.llm.errors import LLMError
from medstation.llm.prompt import SYSTEM_PROMPT, build_messages
from medstation.llm.reasoning import REASONING_INSTRUCTION, REASONING_SYSTEM_PROMPT, CaseDescription, parse_differential

AI_DRAFT_LABEL = "AI draft — decision support, verify against the sources"
MAX_QUESTION_CHARS = 4000
EMPTY_KB_MESSAGE = (
    "Knowledge base is empty — ingest documents with `medstation kb ingest PATH` or the Ingest… button."
)
NO_TEXT_MESSAGE = "The model produced no text for this question. Try rephrasing it or choose another model."


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
    status: str
    text: str
    passages: tuple[Any, ...]
    cited: tuple[int, ...]
    uncited: tuple[int, ...]
    removed: tuple[RemovedMarker, ...]
    notice: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)


def check_question(question: str) -> None:
    """Raise :class:`QuestionRejected` for an empty or over-long question."""
    if not question.strip():
        raise QuestionRejected("Type a question first.")
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionRejected(
            f"The question is {len(question):,} characters long; the limit is {MAX_QUESTION_CHARS:,}. "
            "Shorten it to the clinical question itself."
        )


def _passage_record(number: int, p: Any) -> dict[str, Any]:
    return {"n": number, "chunk_id": p.chunk_id, "doc_id": p.doc_id, "title": p.title, "url": p.url,
            "source": p.source, "score": float(p.score), "rank": int(p.rank), "scores": dict(p.scores or {}),
            "text": p.text}


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
) -> AnswerResult:
    """Job: answer ``question`` (or the reasoning ``case``) from the knowledge base, streaming tokens.

    ``regenerate`` answers the conversation's last question again without storing it a second time.
    """
    mode = "reasoning" if case is not None else "chat"
    if case is not None:
        if case.is_empty():
            raise QuestionRejected("Describe the case first: symptoms, history or findings.")
        question = case.as_question()
    check_question(question)
    if kb is None or kb.is_empty():
        raise QuestionRejected(EMPTY_KB_MESSAGE)
    generation = generation or llm.generation_defaults()

    ctx.report(0.05, "Searching the knowledge base")
    query = case.search_query() if case is not None else question
    passages = kb.search(query, k=k, mode=search_mode)
    ctx.check()
    if not passages:
        raise QuestionRejected("No passage in the knowledge base matches this question, so it cannot be answered "
                               "with citations. Rephrase it or ingest documents that cover it.")
    kb_version = kb.current_version()
    backend = llm.backend(ctx)
    model_version_id = llm.model_version_id(ctx)
    ctx.check()

    history: list[dict[str, str]] = []
    if conversation_id is not None:
        earlier = convo.load_messages(db, conversation_id)
        if regenerate:  # the last question is asked again: drop it (and its old answer) from the history
            last_user = max((i for i, m in enumerate(earlier) if m.role == "user"), default=len(earlier))
            earlier = earlier[:last_user]
        history = convo.history_for_prompt(earlier) if mode == "chat" else []
    system, instruction = (REASONING_SYSTEM_PROMPT, REASONING_INSTRUCTION) if case else (SYSTEM_PROMPT, "")
    fitted = fit_prompt(
        lambda ps, hist: build_messages(question, ps, hist, system_prompt=system, instruction=instruction),
        backend.count_chat_tokens, passages, history, n_ctx=backend.n_ctx, answer_tokens=generation.max_tokens,
    )
    if conversation_id is None:
        conversation_id = convo.create_conversation(db, question if case is None else f"Differential: {case.symptoms}")
    if not regenerate:
        convo.add_message(db, conversation_id, "user", question, mode=mode, review_status="")
    prompt_sha = hashlib.sha256(json.dumps(fitted.messages, sort_keys=True).encode("utf-8")).hexdigest()
    provenance: dict[str, Any] = {
        "label": AI_DRAFT_LABEL,
        "model": {**backend.describe(), "model_version_id": model_version_id},
        "kb_version_id": kb_version.id if kb_version else None,
        "retrieval": {"query": query, "k": k, "mode": search_mode},
        "passages": [_passage_record(i, p) for i, p in enumerate(fitted.passages, start=1)],
        "dropped_context": fitted.dropped_summary(),
        "prompt_tokens": fitted.prompt_tokens,
        "token_count_exact": bool(backend.exact_token_count),
        "n_ctx": fitted.n_ctx,
        "generation": generation.as_dict(),
        "regenerated": regenerate,
    }
    ctx.partial(StreamEvent("sources", list(fitted.passages)))
    ctx.report(0.1, "Generating the answer")

    pieces: list[str] = []
    started = time.perf_counter()
    first_token_s: float | None = None
    status, notice = "complete", ""
    try:
        for piece in backend.stream_chat(ctx, fitted.messages, generation):
            if first_token_s is None:
                first_token_s = time.perf_counter() - started
            pieces.append(piece)
            ctx.partial(StreamEvent("token", piece))
    except Cancelled:
        status, notice = "stopped", "Stopped by the user; the answer is incomplete."
    except Exception as exc:  # the model or server failed mid-answer: keep what came, say why
        status, notice = "error", f"The model failed while answering: {exc}"

    raw = "".join(pieces)
    checked = validate_citations(raw.strip(), len(fitted.passages))
    if status == "complete" and not checked.text.strip():
        status, notice = "error", NO_TEXT_MESSAGE
    matches = match_sentences(checked.text, [p.text for p in fitted.passages])
    supported = set(checked.cited) | {m.n for m in matches}
    provenance.update({
        "raw_text": raw,
        "cited": list(checked.cited),
        "cited_chunk_ids": [fitted.passages[n - 1].chunk_id for n in checked.cited],
        "matched": [m.as_dict() for m in matches],
        "uncited": [n for n in checked.uncited if n not in supported],
        "removed_markers": [{"marker": r.marker, "invalid": list(r.invalid)} for r in checked.removed],
        "timing": {"first_token_s": first_token_s, "total_s": time.perf_counter() - started, "pieces": len(pieces)},
        "notice": notice,
    })
    if case is not None:
        provenance["case"] = {"symptoms": case.symptoms, "history": case.history, "findings": case.findings}
        provenance["differential"] = [i.as_dict() for i in parse_differential(checked.text, len(fitted.passages))]
    message_id = convo.add_message(
        db, conversation_id, "assistant", checked.text, status=status, mode=mode,
        model_version_id=model_version_id, kb_version_id=provenance["kb_version_id"], prompt_sha256=prompt_sha,
        provenance=provenance,
    )
    if status == "stopped":
        raise Cancelled()
    ctx.report(1.0, "Answer complete" if status == "complete" else notice)
    return AnswerResult(message_id, conversation_id, status, checked.text, tuple(fitted.passages), checked.cited,
                        tuple(provenance["uncited"]), checked.removed, notice, provenance)
