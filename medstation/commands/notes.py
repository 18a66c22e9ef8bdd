"""``medstation notes draft|eval``: headless note drafting and its ROUGE evaluation (a fixed interface).

* ``notes draft TRANSCRIPT --template soap|dap|birp|NAME [--out FILE] [--json]`` prints or writes the
  draft; JSON holds sections, sentences with evidence line numbers, flags and provenance.
* ``notes eval --csv FILE --out DIR [--template soap] [--limit N] [--model-version ID]`` writes
  ``DIR/drafts.jsonl`` and ``DIR/summary.json`` (ROUGE of the pipeline beside two baselines).

Exit codes: 0 done, 2 refused (bad transcript, unknown template, missing model version).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser("notes", help="draft session notes from transcripts; evaluate drafting with ROUGE")
    nsub = p.add_subparsers(dest="notes_command", required=True)
    d = nsub.add_parser("draft", help="draft a note from a transcript file (.txt, .vtt, .srt, .csv, .json)")
    d.add_argument("transcript", help="transcript file")
    d.add_argument("--template", default="soap", help="soap, dap, birp or the name of a custom template")
    d.add_argument("--out", default="", help="write the draft here instead of printing it")
    d.add_argument("--json", action="store_true", help="JSON: sections, sentences with evidence, flags, provenance")
    _model_args(d)
    d.add_argument("--swap-speakers", choices=("auto", "yes", "no"), default="auto",
                   help="swap clinician/client labels: auto = when the client asks most questions (default)")
    d.set_defaults(func=run)
    e = nsub.add_parser("eval", help="draft every row of an aci-bench or MTS-Dialog CSV and score it with ROUGE")
    e.add_argument("--csv", required=True, help="CSV with 'dialogue' and 'note' or 'section_text' columns")
    e.add_argument("--out", required=True, help="folder for drafts.jsonl and summary.json")
    e.add_argument("--template", default="soap", help="soap, dap, birp or a custom template name (default soap)")
    e.add_argument("--limit", type=int, default=None, help="only the first N rows")
    _model_args(e)
    e.set_defaults(func=run)


def _model_args(p) -> None:
    p.add_argument("--model-version", type=int, default=None,
                   help="registry id of the LLM version to draft with (default: the active/embedded model)")
    p.add_argument("--max-rewrites", type=int, default=3,
                   help="model rewrites per section (0: extractive only, no model)")
    p.add_argument("--budget-s", type=float, default=25.0, help="seconds of model time per draft at most (default 25)")


def _backend_factory(args, settings, db):
    """(factory, model_info): a lazily loaded backend for the chosen model, and its description."""
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.notes.model_choice import load_backend, resolve_version

    if args.model_version is not None:
        choice = resolve_version(db, args.model_version)
        cache: dict = {}

        def factory():
            if "b" not in cache:
                cache["b"] = load_backend(choice, settings)
            return cache["b"]

        return factory, choice.describe(), lambda: cache.get("b") and cache["b"].close()
    from medstation.store.model_registry import ModelRegistry
    from medstation.llm.service import LLMService

    llm = LLMService(settings, db, registry=ModelRegistry(db))
    path = llm.model_path()
    info = {"version_id": None, "name": path.stem if path else "", "file": path.name if path else None,
            "adapter": None}

    def factory():
        backend, version_id = llm.loaded_model()  # one read: the model that writes is the one named
        if info["version_id"] is None:
            info["version_id"] = version_id
            path = getattr(backend, "path", None)
            if isinstance(path, Path):
                info["name"], info["file"] = path.stem, path.name
        return backend

    return factory, info, llm.close


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.config import Settings
    from medstation.errors import UserFacingError
    from medstation.jobs import JobContext
    from medstation.notes.drafting import DraftOptions
    from medstation.notes.template_store import TemplateStore
    from medstation.access.encryption import open_database, open_store

    settings = Settings()
    settings.ensure_dirs()
    db = open_store(settings)
    close = None
    try:
        template = TemplateStore(db).get(args.template)
        options = DraftOptions(use_model=args.max_rewrites > 0, max_rewrites=max(0, args.max_rewrites),
                               budget_s=args.budget_s)
        factory, model_info, close = _backend_factory(args, settings, db) if options.use_model else (None, {}, None)

        def progress(_f: float, message: str) -> None:
            print(f"… {message}", file=sys.stderr, flush=True)

        ctx = JobContext(on_progress=progress)
        if args.notes_command == "eval":
            from medstation.notes.evaluation import evaluate_csv

            summary = evaluate_csv(ctx, Path(args.csv), Path(args.out), template, backend_factory=factory,
                                   model_info=model_info, options=options, limit=args.limit)
            print(json.dumps({k: summary[k] for k in ("rows", "pipeline", "baselines", "elapsed_s")}, indent=2))
            return 0
        from medstation.notes.drafting import draft_note
        from medstation.notes.transcript import parse_transcript

        path = Path(args.transcript)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UserFacingError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
        transcript = parse_transcript(data, path.name)
        if args.swap_speakers == "yes" or (args.swap_speakers == "auto" and transcript.roles_look_swapped()):
            transcript = transcript.with_roles_swapped()
            print("… speaker labels swapped (clinician <-> client)", file=sys.stderr)
        draft = draft_note(ctx, transcript, template, backend_factory=factory, model_info=model_info,
                           options=options)
        if args.json:
            payload = draft.to_dict()
            payload["transcript"] = {"lines": len(transcript.lines), "format": transcript.source_format,
                                     "roles_swapped": transcript.roles_swapped, "sha256": transcript.sha256}
            out = json.dumps(payload, indent=2, default=str)
        else:
            out = f"{draft.label}\n\n{draft.to_text()}\n"
            flags = [r for r in draft.risks if r.needs_acknowledgement]
            if flags:
                out += "\nRISK FLAGS (acknowledge before signing):\n" + "".join(
                    f"- {r.label} (lines {', '.join(map(str, r.lines))}): {r.why}\n" for r in flags)
        if args.out:
            Path(args.out).write_text(out, encoding="utf-8")
            print(f"wrote {args.out}", file=sys.stderr)
        else:
            sys.stdout.write(out if out.endswith("\n") else out + "\n")
        return 0
    except UserFacingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    finally:
        if close is not None:
            close()
        db.close()
