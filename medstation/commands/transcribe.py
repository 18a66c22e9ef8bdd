"""``medstation transcribe AUDIO [--out FILE.txt|FILE.json] [--model NAME]`` (a fixed interface).

Transcribes a session recording on this machine (faster-whisper, Whisper base by default).
Text output: one ``[speaker] text`` line per turn; JSON: ``{"segments": [{start, end, speaker,
text, words}], "provenance": {...}}``. Without ``--out`` the text goes to stdout. Speaker turns
are split by pauses (no voice model): rename or reassign them in the Notes tab.

Exit codes: 0 done, 2 refused (unreadable/silent/too-long recording, missing model).
"""

from __future__ import annotations

import argparse
import sys


def add_parser(sub) -> None:
    p = sub.add_parser("transcribe", help="transcribe a session recording (WAV, MP3, M4A, OGG/Opus, FLAC) locally")
    p.add_argument("audio", help="recording file")
    p.add_argument("--out", default="", help="write FILE.txt ([speaker] text lines) or FILE.json (segments, words)")
    p.add_argument("--model", default="", help="whisper-base (bundled, default) or a CTranslate2 folder in models/")
    p.add_argument("--language", default=None, help="language code, e.g. en (default: detected)")
    p.add_argument("--threads", type=int, default=2, help="CPU threads (default 2)")
    p.add_argument("--pause", type=float, default=None, help="pause in seconds that starts a new speaker turn")
    p.set_defaults(func=run)


def write_atomically(path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file, so a failure never leaves half a transcript."""
    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.fileio import atomic_write

    atomic_write(path, text)


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    # lazy: a command's handler loads its services only when it runs (--help stays light)
    from medstation.config import Settings
    from medstation.errors import UserFacingError
    from medstation.jobs import JobContext
    from medstation.notes.audio.model import model_for_settings
    from medstation.notes.audio.recognise import transcribe
    from medstation.notes.audio.speakers import DEFAULT_PAUSE_S, to_json_dict, to_text

    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() not in (".txt", ".json"):
        raise UserFacingError(f"--out must end in .txt or .json, not {out.suffix or 'nothing'}.")
    settings = Settings()
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    model = model_for_settings(settings, args.model)

    def progress(_f: float, message: str) -> None:
        print(f"… {message}", file=sys.stderr, flush=True)

    result = transcribe(JobContext(on_progress=progress), Path(args.audio), model, language=args.language,
                        threads=args.threads, pause_s=DEFAULT_PAUSE_S if args.pause is None else args.pause)
    if out is not None and out.suffix.lower() == ".json":
        text = json.dumps(to_json_dict(result.turns, result.provenance), indent=2, ensure_ascii=False) + "\n"
    else:
        text = to_text(result.turns)
    if out is None:
        sys.stdout.write(text)
    else:
        write_atomically(out, text)
        print(f"wrote {out} ({len(result.turns)} turns, {result.dropped} segments dropped by the guards)",
              file=sys.stderr)
    return 0
