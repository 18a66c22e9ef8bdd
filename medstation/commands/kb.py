"""``medstation kb ingest|query|eval|status``: the knowledge base without the window.

A fixed interface for outside evaluations:

* ``kb ingest PATH`` — file or folder; prints the knowledge-base version when done;
* ``kb query "TEXT" [--k 5] [--json] [--mode hybrid|dense|bm25]`` — ranked passages;
* ``kb eval --questions FILE.jsonl --k 5 --out DIR [--mode ...]`` — hit@1, hit@k, MRR;
* ``kb status`` — the current version and counts.
"""

from __future__ import annotations

import argparse
import sys

MODES = ("hybrid", "dense", "bm25")


def add_parser(sub) -> None:
    p = sub.add_parser("kb", help="local medical knowledge base: ingest, query, eval, status")
    actions = p.add_subparsers(dest="kb_action", required=True)

    ingest = actions.add_parser("ingest", help="add/update documents from a file or folder (md, txt, html, pdf, MedQuAD jsonl)")
    ingest.add_argument("path", help="file or folder to ingest")

    query = actions.add_parser("query", help="search the knowledge base")
    query.add_argument("text", help="what to search for")
    query.add_argument("--k", type=int, default=5, help="passages to return (default 5)")
    query.add_argument("--mode", choices=MODES, default="hybrid", help="retrieval: hybrid (default), dense or bm25")
    query.add_argument("--json", action="store_true", help="print JSON instead of text")

    ev = actions.add_parser("eval", help="retrieval hit@1/hit@k/MRR over a JSONL file of {question, doc_id}")
    ev.add_argument("--questions", required=True, help="JSONL file, one {question, doc_id} per line")
    ev.add_argument("--k", type=int, default=5, help="cut-off for hit@k (default 5)")
    ev.add_argument("--out", required=True, help="folder for the per-question results and summary")
    ev.add_argument("--mode", choices=MODES, default="hybrid", help="retrieval: hybrid (default), dense or bm25")

    actions.add_parser("status", help="show the current knowledge-base version")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.app import build_services
    from medstation.rag.types import KnowledgeBaseError

    services = build_services()
    try:
        kb = services.kb
        handler = {"ingest": _ingest, "query": _query, "eval": _eval, "status": _status}[args.kb_action]
        return handler(kb, args)
    except KnowledgeBaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        services.close()


def _ingest(kb, args) -> int:
    from pathlib import Path

    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.jobs import Cancelled, print_progress_context

    ctx = print_progress_context()
    try:
        info = kb.ingest_job(ctx, Path(args.path))
    except (Cancelled, KeyboardInterrupt):
        print("ingestion stopped; finished documents are kept and the next run resumes", file=sys.stderr)
        return 130
    print(info.describe())
    print(f"added {info.added_docs}, unchanged {info.skipped_docs}, removed {info.removed_docs} documents")
    return 0


def _query(kb, args) -> int:
    import json

    if kb.is_empty():
        print(kb.empty_message(), file=sys.stderr)
        if args.json:
            print(json.dumps({"query": args.text, "mode": args.mode, "passages": [], "error": "empty knowledge base"}))
        return 1
    passages = kb.search(args.text, k=args.k, mode=args.mode)
    version = kb.current_version()
    if args.json:
        out = {
            "query": args.text, "mode": args.mode, "kb_version": version.id if version else None,
            "passages": [
                {"rank": p.rank, "score": p.score, "doc_id": p.doc_id, "source": p.source, "title": p.title,
                 "url": p.url, "chunk_id": p.chunk_id, "section": p.section, "scores": p.scores, "text": p.text}
                for p in passages
            ],
        }
        print(json.dumps(out, indent=2))
        return 0
    if not passages:
        print("no passage matches this query")
    for p in passages:
        snippet = " ".join(p.text.split())[:240]
        print(f"{p.rank}. [{p.score:.4f}] {p.title} — {p.source} doc_id={p.doc_id}\n   {p.url}\n   {snippet}\n")
    return 0


def _eval(kb, args) -> int:
    import json
    from pathlib import Path

    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.jobs import print_progress_context
    from medstation.rag.evaluation import evaluate
    from medstation.rag.types import KnowledgeBaseEmpty

    if kb.is_empty():
        raise KnowledgeBaseEmpty(kb.empty_message())
    summary = evaluate(print_progress_context(), kb, Path(args.questions), Path(args.out), k=args.k, mode=args.mode)
    print(json.dumps(summary.as_json(), indent=2))
    return 0


def _status(kb, args) -> int:
    version = kb.current_version()
    if version is None:
        print("no knowledge-base version yet; " + kb.empty_message())
        return 0
    print(version.describe())
    print(f"stored chunks now: {kb.store().count()} ({kb.store().description})")
    return 0
