"""The model's one job in a draft: turn a client's first-person sentence into note style, and prove it kept the facts.

SmolLM2-135M cannot write a note, but with two examples it reliably turns
"My knee hurts when I climb stairs." into "The patient reports knee pain when
climbing stairs." (few-shot prompt below; the shared prefix stays in
llama.cpp's KV cache, so each call pays only for its own sentence). Every
rewrite is then checked deterministically (:func:`check_rewrite`): it must keep
most of the source's content words, add almost none, stay short, and pass the
invented-fact check. A rewrite that fails any check is discarded and the
cleaned transcript sentence is used instead.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from medstation.llm.backend import GenerationSettings, Message
from medstation.notes.evidence import content_words
from medstation.notes.facts import TranscriptFacts

PROMPT_VERSION = "rewrite-v1"
SYSTEM = "Rewrite the patient's words in the third person, as in a clinical note."
EXAMPLES = (
    ("I have had a headache for two days.", "The patient reports a headache for two days."),
    ("My knee hurts when I climb stairs.", "The patient reports knee pain when climbing stairs."),
)
#: Words a rewrite may add without adding a fact.
NOTE_STYLE_WORDS = frozenset("""patient client reports reported states stated notes describes describing feels
feeling experiencing experiences having has been they them their he she his her that which also currently recently
endorses denies admits says mentions who whom times""".split())
#: Least share of the source's content words a rewrite must keep.
MIN_RECALL = 0.7
#: Most share of the rewrite's content words that may be new.
MAX_NOVEL = 0.2


def rewrite_messages(sentence: str) -> list[Message]:
    messages: list[Message] = [{"role": "system", "content": SYSTEM}]
    for source, target in EXAMPLES:
        messages += [{"role": "user", "content": source}, {"role": "assistant", "content": target}]
    messages.append({"role": "user", "content": sentence})
    return messages


def generation_for(sentence: str) -> GenerationSettings:
    """Greedy decoding, at most twice the source's length in tokens (plus room for "The patient reports")."""
    return GenerationSettings(max_tokens=min(96, 2 * len(sentence.split()) + 12), temperature=0.0,
                              repeat_penalty=1.1, seed=0)


def prompt_sha256() -> str:
    """Hash of the prompt design (system text, examples, version): part of every draft's provenance."""
    blob = json.dumps({"version": PROMPT_VERSION, "system": SYSTEM, "examples": EXAMPLES}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _stem(word: str) -> str:
    return word[:5]


@dataclass(frozen=True)
class RewriteCheck:
    ok: bool
    text: str
    reason: str = ""


def check_rewrite(source: str, output: str, facts: TranscriptFacts) -> RewriteCheck:
    """Accept ``output`` as a note-style form of ``source`` only if it keeps the facts and adds none."""
    text = output.strip().split("\n")[0].strip().strip('"').strip()
    text = re.sub(r"^(?:the patient said|patient said|rewritten)\s*:\s*", "", text, flags=re.IGNORECASE).strip('" ')
    if not text:
        return RewriteCheck(False, "", "empty")
    if text.lower().rstrip(".") == source.lower().rstrip("."):
        return RewriteCheck(False, text, "echo")
    n_src, n_out = len(source.split()), len(text.split())
    if n_out < 3 or n_out > 2 * n_src + 6:
        return RewriteCheck(False, text, "length")
    src = {_stem(w) for w in content_words(source)}
    out = [w for w in content_words(text) if w not in NOTE_STYLE_WORDS]
    out_stems = {_stem(w) for w in out}
    if src and len(src & out_stems) / len(src) < MIN_RECALL:
        return RewriteCheck(False, text, "dropped facts")
    novel = [w for w in out if _stem(w) not in src]
    if out and len(novel) / len(out) > MAX_NOVEL:
        return RewriteCheck(False, text, "added words: " + ", ".join(novel[:4]))
    flags = facts.check(text)
    if flags:
        return RewriteCheck(False, text, "invented: " + ", ".join(f.text for f in flags))
    if not text.endswith((".", "!", "?")):
        text += "."
    return RewriteCheck(True, text[0].upper() + text[1:])
