"""``medstation ask "QUESTION" [--json] [--k 5]``: a cited answer from the local model and knowledge base.

Without ``--json`` the answer streams to stdout as it is generated, followed by
the cited sources; progress goes to stderr. With ``--json`` one JSON object is
printed at the end: answer, status, citations (number, doc_id, url, title),
retrieved-but-uncited passages, removed markers and the full provenance. The
answer is stored in the conversation history like an answer given in the window.
Exit codes: 0 answered, 2 refused (empty knowledge base, bad question, no
model), 130 stopped with Ctrl+C (the partial answer is stored as ``stopped``).
"""

from __future__ import annotations

import argparse
import sys


def add_parser(sub) -> None:
    p = sub.add_parser("ask", help="answer a question from the knowledge base with citations (local LLM)")
    p.add_argument("question", help="the clinical question")
    p.add_argument("--k", type=int, default=5, help="passages to retrieve (default 5)")
    p.add_argument("--mode", choices=("hybrid", "dense", "bm25"), default="hybrid", help="retrieval mode")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of streaming text")
    p.add_argument("--max-tokens", type=int, default=0, help="longest answer in tokens (default: settings)")
    p.add_argument("--model", default="", help="GGUF file to use instead of the active model")
    p.add_argument("--conversation", type=int, default=None, help="continue this conversation id")
    p.set_defaults(func=run)


def _citations(result) -> list[dict]:
    out = []
    for n in result.cited:
        p = result.passages[n - 1]
        out.append({"n": n, "doc_id": p.doc_id, "chunk_id": p.chunk_id, "title": p.title, "url": p.url,
                    "source": p.source, "score": float(p.score)})
    return out


def run(args: argparse.Namespace) -> int:
    import json
    from dataclasses import replace

    from medstation.app import build_services
    from medstation.jobs import Cancelled, JobContext
    from medstation.llm.errors import LLMError
    from medstation.llm.rag_answer import AI_DRAFT_LABEL, answer_question

    services = build_services()
    llm = services.llm
    kb = services.kb
    if args.model:
        llm.select_model(args.model)
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
        result = answer_question(ctx, llm, kb, services.db, args.question, conversation_id=args.conversation,
                                 k=args.k, search_mode=args.mode, generation=generation)
    except LLMError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if args.json:
            print(json.dumps({"question": args.question, "status": "refused", "error": str(exc)}))
        return 2
    except (Cancelled, KeyboardInterrupt):
        print("\nstopped: the partial answer is stored as 'stopped'", file=sys.stderr)
        return 130
    finally:
        services.close()

    citations = _citations(result)
    if args.json:
        print(json.dumps({
            "question": args.question,
            "answer": result.text,
            "status": result.status,
            "notice": result.notice,
            "label": AI_DRAFT_LABEL,
            "citations": citations,
            "uncited": [{"n": n, "doc_id": result.passages[n - 1].doc_id, "title": result.passages[n - 1].title}
                        for n in result.uncited],
            "matched": [{"n": m["n"], "overlap": m["overlap"], "sentence": result.text[m["start"]:m["end"]],
                         "doc_id": result.passages[m["n"] - 1].doc_id, "title": result.passages[m["n"] - 1].title,
                         "url": result.passages[m["n"] - 1].url} for m in result.provenance.get("matched", [])],
            "removed_markers": result.provenance.get("removed_markers", []),
            "message_id": result.message_id,
            "conversation_id": result.conversation_id,
            "provenance": result.provenance,
        }, indent=2, default=str))
        return 0 if result.status == "complete" else 1
    print()
    if result.notice:
        print(f"\n{result.notice}")
    print(f"\n{AI_DRAFT_LABEL}")
    for c in citations:
        print(f"[{c['n']}] {c['title']} — {c['url'] or c['doc_id']}")
    matched = sorted({m["n"] for m in result.provenance.get("matched", [])} - set(result.cited))
    for n in matched:
        p = result.passages[n - 1]
        print(f"[≈{n}] {p.title} — {p.url or p.doc_id} (matched by word overlap, not cited by the model)")
    if result.provenance.get("removed_markers"):
        bad = ", ".join(m["marker"] for m in result.provenance["removed_markers"])
        print(f"Removed citations that pointed at no retrieved passage: {bad}")
    if result.uncited:
        print("Retrieved but not used: " + "; ".join(result.passages[n - 1].title for n in result.uncited))
    return 0 if result.status == "complete" else 1
