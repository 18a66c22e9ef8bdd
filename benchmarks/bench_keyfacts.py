"""Key-fact recall of the Notes drafting pipeline on the written therapy sessions (issue 18).

    python benchmarks/bench_keyfacts.py [--repo PATH] [--split test|dev|all] [--templates soap,dap,birp]
                                        [--show ID] [--json OUT]

``--repo`` picks the checkout whose pipeline drafts (e.g. ``/work/main`` for today's pipeline); the
scorer and the sessions always come from this checkout, so both pipelines are graded by the same rule
(``medstation/notes/keyfacts.py``). Drafts are extractive/deterministic (no model), so the figure is
reproducible. Prints recall overall and per kind, and the facts missed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def _load_scorer():
    spec = importlib.util.spec_from_file_location("keyfacts_scorer", HERE / "medstation" / "notes" / "keyfacts.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["keyfacts_scorer"] = module
    spec.loader.exec_module(module)
    return module


def _load_as(name: str, path: Path) -> None:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--repo", default=str(HERE))
    p.add_argument("--split", default="test", choices=("test", "dev", "all"))
    p.add_argument("--templates", default="soap,dap,birp")
    p.add_argument("--show", default="", help="print the drafts of this session id")
    p.add_argument("--json", default="")
    p.add_argument("--check-from", default="", help="load notes/rewrite.py (and llm/meaning.py, polarity.py) "
                   "from this checkout: the voice measured under another branch's rewrite check")
    args = p.parse_args()
    kf = _load_scorer()
    sys.path.insert(0, str(Path(args.repo).resolve()))
    if args.check_from:
        import medstation.notes.evidence  # noqa: F401  (the rewrite module imports it)
        root = Path(args.check_from)
        for name in ("polarity_words", "polarity", "meaning"):
            if (root / "medstation" / "llm" / f"{name}.py").exists():
                _load_as(f"medstation.llm.{name}", root / "medstation" / "llm" / f"{name}.py")
        _load_as("medstation.notes.rewrite", root / "medstation" / "notes" / "rewrite.py")
    from medstation.jobs import JobContext
    from medstation.notes.drafting import DraftOptions, draft_note
    from medstation.notes.templates import BUILTIN_TEMPLATES
    from medstation.notes.transcript import parse_transcript

    import medstation
    print(f"pipeline from {Path(medstation.__file__).parent}", file=sys.stderr)
    sessions = [s for s in kf.load_sessions(HERE / "tests" / "data" / "keyfact_sessions" / "sessions.json")
                if args.split == "all" or kf.split_of(s.id) == args.split]
    report = {"split": args.split, "sessions": len(sessions), "templates": {}}
    for name in args.templates.split(","):
        template = BUILTIN_TEMPLATES[name]
        titles = {s.key: s.title for s in template.sections}
        rows, missed = [], []
        for session in sessions:
            draft = draft_note(JobContext(), parse_transcript(session.transcript), template,
                               options=DraftOptions(use_model=False))
            text = draft.to_text()
            if session.id == args.show:
                print(f"--- {session.id} {name}\n{text}\n")
            sections = kf.sections_from_text(text, titles)
            for fact in session.facts:
                ok = kf.fact_present(fact, sections, name)
                rows.append((session, fact, ok))
                if not ok:
                    missed.append(f"{session.id} [{fact.kind}] {fact.fact}")
        result = kf.recall(rows)
        result["missed"] = missed
        report["templates"][name] = result
        print(f"{name}: recall {result['recall']} ({result['present']}/{result['facts']}) per kind "
              f"{result['per_kind']}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
