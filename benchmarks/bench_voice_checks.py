"""How many voiced sentences a rewrite check accepts, on the written therapy sessions (all 14).

    python benchmarks/bench_voice_checks.py [--check-from PATH]

``--check-from`` loads ``medstation/notes/rewrite.py`` (and ``medstation/llm/meaning.py``,
``polarity.py`` when present) from another checkout, so the deterministic clinical voice can be
measured against a newer rewrite check before the branches are merged. Prints accepted / tried per
speaker role and the refused sentences.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))


def _load(name: str, path: Path) -> None:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--check-from", default="")
    p.add_argument("--show", type=int, default=40)
    args = p.parse_args()
    if args.check_from:
        root = Path(args.check_from)
        import medstation.notes.evidence  # noqa: F401  (rewrite imports it: load ours first)
        for name in ("polarity_words", "polarity", "meaning"):
            if (root / "medstation" / "llm" / f"{name}.py").exists():
                _load(f"medstation.llm.{name}", root / "medstation" / "llm" / f"{name}.py")
        _load("medstation.notes.rewrite", root / "medstation" / "notes" / "rewrite.py")
    from medstation.notes import keyfacts as kf
    from medstation.notes import rewrite, voice
    from medstation.notes.evidence import split_units
    from medstation.notes.facts import TranscriptFacts
    from medstation.notes.transcript import parse_transcript
    from medstation.notes.voicing import candidates

    counts: dict[str, list[int]] = {}
    refused = []
    for session in kf.load_sessions(HERE / "tests" / "data" / "keyfact_sessions" / "sessions.json"):
        transcript = parse_transcript(session.transcript)
        facts = TranscriptFacts(transcript.full_text())
        for unit in split_units(transcript):
            kind = "answer" if unit.question_line else unit.role.value
            plain = {voice.spell_out(unit.text).rstrip(".").lower(), unit.text.rstrip(".").lower()}
            cands = [c for c in candidates(unit, transcript) if c.text.rstrip(".").lower() not in plain]
            if not cands:
                continue
            tally = counts.setdefault(kind, [0, 0])
            tally[1] += 1
            results = [rewrite.check_rewrite(c.source, c.text, facts) for c in cands]
            if any(r.ok for r in results):
                tally[0] += 1
            else:
                refused.append(f"[{kind}] {unit.text}  ->  {cands[0].text}  ({results[0].reason})")
    print(f"check from {sys.modules['medstation.notes.rewrite'].__file__}")
    for kind, (ok, n) in counts.items():
        print(f"{kind}: accepted {ok}/{n}")
    print("\n".join(refused[: args.show]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
