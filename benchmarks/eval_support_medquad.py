"""Support check on real MedQuAD text, with contradictions made by rule (a robustness check beside the
hand-written sets of ``eval_support_check.py``, whose figures are the ones reported).

    python benchmarks/eval_support_medquad.py ../shared/data/medquad/medquad.jsonl [--n 400]

For sentences sampled (fixed seed) from MedQuAD answers, each passage is the answer the sentence came from,
and the claim is the sentence changed by one edit: a negation added ("is" -> "is not", "can" -> "cannot")
or removed, a direction word swapped (more/less, before/after, increase/decrease, higher/lower ...), or a
number changed (n -> n + 1). Every such claim contradicts its passage; the share marked supported is
printed per edit. Faithful edits (a parenthesis dropped, a list shortened, a connective dropped) and the
unchanged sentence (a verbatim quote) are the controls that should be supported.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from medstation.llm.support import check_claim, passage_sentences  # noqa: E402

SWAPS = {"more": "less", "less": "more", "before": "after", "after": "before", "increase": "decrease",
         "decrease": "increase", "increases": "decreases", "decreases": "increases", "higher": "lower",
         "lower": "higher", "high": "low", "low": "high", "left": "right", "right": "left", "dominant": "recessive",
         "recessive": "dominant", "men": "women", "women": "men", "children": "adults", "adults": "children",
         "always": "sometimes", "usually": "rarely", "most": "few", "all": "some", "should": "may", "must": "may",
         "may": "must", "often": "rarely", "common": "rare", "rare": "common", "above": "below", "below": "above"}


def edits(sentence: str) -> list[tuple[str, str]]:
    """(kind, contradicting claim) pairs made from ``sentence`` by one edit each."""
    out = []
    if re.search(r"\b(?:is|are) not\b|\bcannot\b|\bdo(?:es)? not\b", sentence):
        dropped = re.sub(r"\b(is|are) not\b", r"\1", sentence, count=1)
        dropped = re.sub(r"\bcannot\b", "can", dropped, count=1)
        out.append(("negation_dropped", re.sub(r"\bdo(?:es)? not (\w+)", r"\1s", dropped, count=1)))
    elif re.search(r"\b(?:is|are|can)\b", sentence):
        out.append(("negation_added", re.sub(r"\b(is|are|can)\b", lambda m: {"can": "cannot"}.get(m.group(1),
                                                                              m.group(1) + " not"), sentence, count=1)))
    words = re.findall(r"[A-Za-z]+", sentence)
    for word in words:
        if word.lower() in SWAPS and word.islower():
            kind = "role" if word in ("men", "women", "children", "adults") else (
                "quantifier_modality" if word in ("always", "usually", "most", "all", "should", "must", "may",
                                                  "often") else "direction")
            out.append((kind, re.sub(rf"\b{word}\b", SWAPS[word], sentence, count=1)))
            break
    number = re.search(r"\b(\d+)\b", sentence)
    if number:
        out.append(("number", sentence[:number.start()] + str(int(number.group()) + 1) + sentence[number.end():]))
    return [(kind, claim) for kind, claim in out if claim != sentence]


def faithful_edits(sentence: str) -> list[tuple[str, str]]:
    """(kind, claim the passage still states): a parenthesis dropped, a list shortened to its first and last
    items, an opening connective ("However,", "In addition,") dropped."""
    out = []
    no_paren = re.sub(r"\s*\([^()]*\)", "", sentence)
    if no_paren != sentence:
        out.append(("faithful: parenthesis dropped", no_paren))
    item = r"[\w-]+(?: [\w-]+){0,3}"
    listed = re.search(rf"\b(include|includes|such as|are|is)\s+((?:{item}, ){{2,}}(?:and |or )?{item})\.$", sentence)
    if listed:
        items = [i.strip() for i in re.split(r",\s*(?:and |or )?", listed.group(2)) if i.strip()]
        if len(items) >= 3:
            out.append(("faithful: list shortened", sentence[:listed.start(2)] + f"{items[0]} and {items[-1]}."))
    opener = re.match(r"^(?:However|In addition|Also|For example|In general|Sometimes|Usually|Often),\s+(\w)", sentence)
    if opener and not opener.group(0).startswith(("Sometimes", "Usually", "Often")):
        out.append(("faithful: connective dropped", opener.group(1).upper() + sentence[opener.end():]))
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("medquad")
    parser.add_argument("--n", type=int, default=400, help="answers to sample")
    args = parser.parse_args()
    rows = [json.loads(line) for line in Path(args.medquad).read_text().splitlines() if line.strip()]
    rng = random.Random(19)
    accepted, total = Counter(), Counter()
    for row in rng.sample(rows, args.n):
        passage = " ".join(row["answer"].split())
        _, sentences = passage_sentences(passage)
        candidates = [s for s in sentences if 8 <= len(s.split()) <= 35 and s[:1].isupper() and s.endswith(".")]
        if not candidates:
            continue
        sentence = rng.choice(candidates)
        total["verbatim (control)"] += 1
        accepted["verbatim (control)"] += check_claim(sentence, [passage])[0] is not None
        for kind, claim in edits(sentence) + faithful_edits(sentence):
            total[kind] += 1
            accepted[kind] += check_claim(claim, [passage])[0] is not None
    for kind in sorted(total):
        print(f"{kind:22s} supported {accepted[kind]:4d}/{total[kind]:<4d} = {accepted[kind] / total[kind]:.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
