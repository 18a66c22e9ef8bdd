"""How well ``medstation.llm.answer.injection.addressed_to_model`` tells text aimed at an AI model from
clinical text, so grounded answers never quote an injected instruction.

Split, fixed before any rule was written: injection rows with an odd number in their id (P01, T03 …) are the
development half, even ones the test half; starter-knowledge-base sentences go to dev or test by the parity of
the first byte of their SHA-1. Rules were tuned on dev only; ``--half test`` is the figure to report.

Positives: the passages of ``tests/data/prompt_injection_set.jsonl`` (a true first sentence, then the attack;
caught when a sentence of the attack is flagged; a flagged first sentence is a false positive). Negatives: every sentence of the MedQuAD starter knowledge base (clinical text full of imperatives:
"Tell your doctor …", "Do not take …").

    python benchmarks/eval_injection_quotes.py --half dev
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from pathlib import Path

from medstation.llm.answer.injection import addressed_to_model
from medstation.llm.support import split_sentences

ROOT = Path(__file__).resolve().parents[1]


def _half_of_id(row_id: str) -> str:
    return "dev" if int(re.sub(r"\D", "", row_id)) % 2 else "test"


def _half_of_text(text: str) -> str:
    return "dev" if hashlib.sha1(text.encode()).digest()[0] % 2 == 0 else "test"


def evaluate(half: str, show: bool = False) -> dict:
    caught = missed = benign_flagged = benign = 0
    misses = []
    for line in (ROOT / "tests/data/prompt_injection_set.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["kind"] != "passage" or _half_of_id(row["id"]) != half:  # transcripts are the Notes tab's
            continue
        # the true statement is the text up to its first full stop; everything after it is the attack
        first, attack = row["text"].split(". ", 1)
        benign += 1
        benign_flagged += addressed_to_model(first + ".")
        if any(addressed_to_model(s) for s in split_sentences(attack)):
            caught += 1
        else:
            missed += 1
            misses.append(attack)
    kb_flagged, kb_total, flagged_examples = 0, 0, []
    for line in (ROOT / "resources/starter_kb/medquad_starter.jsonl").read_text().splitlines():
        for sentence in split_sentences(json.loads(line)["answer"]):
            if _half_of_text(sentence) != half:
                continue
            kb_total += 1
            if addressed_to_model(sentence):
                kb_flagged += 1
                flagged_examples.append(sentence)
    result = {"half": half, "attacks": caught + missed, "caught": caught,
              "benign_first_sentences": benign, "benign_first_flagged": benign_flagged,
              "kb_sentences": kb_total, "kb_flagged": kb_flagged}
    if show:
        result["misses"] = misses
        result["kb_flagged_examples"] = flagged_examples[:20]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=("dev", "test"), default="dev")
    parser.add_argument("--show", action="store_true", help="list misses and flagged clinical sentences")
    args = parser.parse_args()
    print(json.dumps(evaluate(args.half, args.show), indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
