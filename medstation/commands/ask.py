"""``medstation ask "QUESTION" [--json]``: a cited answer from the knowledge base (fixed interface).

With ``--json`` exactly one JSON object is printed on stdout::

    {"status": "answered" | "not_in_knowledge_base" | "stopped" | "error",
     "mode": "grounded" | "generative",
     "answer": "the text shown",
     "sentences": [{"text": ..., "supported": true, "citations": [1]}, ...],
     "passages": [{"n": 1, "doc_id": ..., "url": ..., "text": ...}, ...],
     ...}

plus informative extras (``truncated``, ``notice``, ``label``, ``message_id``,
``conversation_id``, ``support``, ``relevance``, ``error``). Without ``--json``
the answer streams to stdout, then its sources; progress goes to stderr. On an
empty knowledge base the shipped starter knowledge base is ingested first.
The answer is stored in the conversation history like one given in the window.
Exit codes: 0 answered or not in the knowledge base, 1 failed, 2 refused (bad
question, no model), 130 stopped with Ctrl+C.
"""

from __future__ import annotations

import argparse
import sys

JSON_STATUS = {"complete": "answered", "truncated": "answered", "not_in_knowledge_base": "not_in_knowledge_base",
               "stopped": "stopped", "error": "error"}


def add_parser(sub) -> None:
    p = sub.add_parser("ask", help="answer a question from the knowledge base with citations")
    p.add_argument("question", help="the clinical question")
    p.add_argument("--k", type=int, default=5, help="passages to retrieve (default 5)")
    p.add_argument("--mode", choices=("hybrid", "dense", "bm25"), default="hybrid", help="retrieval mode")
    p.add_argument("--answer-mode", choices=("grounded", "generative"), default=None,
                   help="grounded: quote the passages; generative: the model writes (default: grounded for the "
                        "embedded model, generative for a larger one)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of streaming text")
    p.add_argument("--max-tokens", type=int, default=0, help="longest generated answer in tokens (default: settings)")
    p.add_argument("--model", default="", help="GGUF file to use instead of the active model")
    p.add_argument("--conversation", type=int, default=None, help="continue this conversation id")
    p.set_defaults(func=run)


def answer_json(result) -> dict:
    """The fixed JSON shape of an :class:`~medstation.llm.answer.rag_answer.AnswerResult`."""
    prov = result.provenance
    return {
        "status": JSON_STATUS[result.status.value],
        "mode": prov.answer_mode.value,
        "answer": result.text,
        "sentences": [{"text": s.text, "supported": s.supported, "citations": list(s.citations)}
                      for s in prov.sentences],
        "passages": [{"n": p["n"], "doc_id": p["doc_id"], "url": p["url"], "text": p["text"], "title": p["title"]}
                     for p in prov.passages],
        "truncated": result.status.value == "truncated",
        "notice": prov.notice,
        "label": prov.label,
        "support": prov.support_summary(),
        "relevance": prov.relevance,
        "message_id": result.message_id,
        "conversation_id": result.conversation_id,
    }


def error_json(message: str, mode: str) -> dict:
    return {"status": "error", "mode": mode, "answer": "", "sentences": [], "passages": [], "error": message}


def run(args: argparse.Namespace) -> int:
    import json
    from dataclasses import replace

    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.app import build_services
    from medstation.errors import UserFacingError
    from medstation.jobs import Cancelled, JobContext, print_progress_context
    from medstation.llm.answer.rag_answer import AI_DRAFT_LABEL, answer_question
    from medstation.rag.starter import ATTRIBUTION, ingest_starter_job, needs_starter

    services = build_services()
    llm, kb = services.llm, services.kb
    if args.model:
        llm.select_model(args.model)
    mode = args.answer_mode or llm.default_answer_mode()
    generation = llm.generation_defaults()
    if args.max_tokens > 0:
        generation = replace(generation, max_tokens=args.max_tokens)

    def on_partial(event) -> None:
        if event.kind == "token" and not args.json:
            sys.stdout.write(event.payload)
            sys.stdout.flush()

    def on_progress(_fraction: float, message: str) -> None:
        print(f"… {message}", file=sys.stderr, flush=True)

    ctx = JobContext(on_progress=on_progress, on_partial=on_partial)
    try:
        if needs_starter(kb):
            print(f"… the knowledge base is empty: loading the starter set first. {ATTRIBUTION}", file=sys.stderr)
            ingest_starter_job(print_progress_context(), kb)
        result = answer_question(ctx, llm, kb, services.db, args.question, conversation_id=args.conversation,
                                 k=args.k, search_mode=args.mode, generation=generation, answer_mode=mode)
    except UserFacingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if args.json:
            print(json.dumps(error_json(str(exc), mode)))
        return 2
    except (Cancelled, KeyboardInterrupt):
        print("\nstopped: the partial answer is stored as 'stopped'", file=sys.stderr)
        if args.json:
            print(json.dumps({**error_json("stopped by the user", mode), "status": "stopped"}))
        return 130
    finally:
        services.close()

    if args.json:
        print(json.dumps(answer_json(result), indent=2, default=str))
        return 1 if result.status.value == "error" else 0
    print()
    if result.notice:
        print(f"\n{result.notice}")
    print(f"\n{AI_DRAFT_LABEL} — {result.provenance.answer_mode.value} answer")
    unsupported = [s.text for s in result.provenance.sentences if not s.supported]
    for text in unsupported:
        print(f"UNSUPPORTED (no passage says this): {text}")
    for n in result.provenance.cited:
        p = result.provenance.passages[n - 1]
        print(f"[{n}] {p['title']} — {p['url'] or p['doc_id']}")
    return 1 if result.status.value == "error" else 0
