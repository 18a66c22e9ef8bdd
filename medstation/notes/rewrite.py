"""The model's one job in a draft: turn a client's first-person sentence into note style, and prove it kept the facts.

SmolLM2-135M cannot write a note, but with two examples it reliably turns
"My knee hurts when I climb stairs." into "The patient reports knee pain when
climbing stairs." (few-shot prompt below; the shared prefix stays in
llama.cpp's KV cache, so each call pays only for its own sentence). Every
rewrite is then checked deterministically (:func:`check_rewrite`): it must keep
most of the source's content words, add almost none, stay short, pass the
invented-fact check, and keep the meaning (:func:`meaning_verdict`, the same
polarity rules as the chat's support check, :mod:`medstation.llm.meaning`): no
negation dropped or added ("not", "never", "no longer", "denies", "stopped",
"hasn't"), no direction flipped (before/after, more/less, better/worse), no
quantifier or modal changed, every number, dose, unit, date and name kept, and
nobody swapped (who did what to whom). The change of person is not a swap:
the client's I/me/myself are the client, and in the note "Client reports",
"she"/"he"/"they" and object "her"/"him"/"them" are the client too. A rewrite
that fails any check is discarded and the cleaned transcript sentence is used instead.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from medstation.llm.backends.base import GenerationSettings, Message
from medstation.llm.meaning import Verdict, compare
from medstation.llm.polarity import Analysis, analyse, stem
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


_FRAME = re.compile(r"^(?:the\s+)?(?:client|patient)(?P<possessive>'s)?\s+(?P<verb>(?:reports|reported|states|stated|"
                    r"says|said|notes|noted|describes|described|mentions|mentioned|indicates|indicated|shares|shared|"
                    r"explains|explained|endorses|endorsed|admits|admitted|expresses|expressed)\s+(?:that\s+)?)?",
                    re.IGNORECASE)
#: Words after "her" that show it is an object ("hit her last week"), not a possessive ("her sister").
_NOT_POSSESSED = frozenset("""last this next every each yesterday today tonight again now then often always anymore
too up down out back off away home enough""".split())
# Words that set one statement against another or limit it: not content words, so the word checks above do
# not see them, yet "running helps" and "running, but also helps" or "drinks only on weekends" differ.
_CONTRAST_AND_FOCUS = frozenset("but however although though yet also only even except merely solely".split())
_CLIENT_PRONOUNS = frozenset("she he they him them herself himself themselves".split())
_NOTE_STEMS = frozenset(stem(w) for w in NOTE_STYLE_WORDS)


def note_analysis(rewrite: str) -> Analysis:
    """The rewrite with its reporting frame removed ("Client reports (that) ...") and the client's pronouns
    read as the client; an omitted subject ("Client reports hitting ...") is the client."""
    text = rewrite.strip()
    frame = _FRAME.match(text)
    body = text[frame.end():] if frame else text
    if frame and frame.group("possessive"):
        body = "her " + body  # "The client's mother ..." -> "her mother ...": a possessive, not a person
    elif frame and not frame.group("verb"):
        body = "she " + body  # "The client hit her brother": the client is the subject
    elif body and re.match(r"(?i)^(?:(?:\w+ly|sometimes|often|always|never|still|also|not|no longer|rarely|now)\s+)*"
                         r"(?:\w+ing|denies|denied)\b", body):
        body = "she " + body
    analysis = analyse(body)
    tokens = analysis.tokens
    for i, t in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        after = tokens[i + 2] if i + 2 < len(tokens) else None
        # "her financially." / "her regularly": an adverb ending the clause follows an object, not a possessive
        # ("her lovely daughter" and "her family doctor" go on to their noun)
        adverb_next = nxt is not None and nxt.text.endswith("ly") and (
            after is None or after.clause != nxt.clause or not (after.content or after.role))
        object_her = t.text == "her" and (nxt is None or nxt.clause != t.clause or nxt.text in _NOT_POSSESSED or
                                          adverb_next or not (nxt.content or nxt.role or nxt.direction))
        if t.text in _CLIENT_PRONOUNS or object_her:
            t.role = "client"
    return analysis


def _names(analysis: Analysis) -> set[str]:
    """Numbers (with their units), names (capitalised words) and dates a sentence states."""
    out = {f"{t.number:g}" for t in analysis.tokens if t.number is not None}
    out |= {t.stem for t in analysis.tokens if t.capitalised and t.text not in ("i", "dr", "client", "patient")}
    return out


def meaning_verdict(source: str, rewrite: str) -> Verdict:
    """Whether ``rewrite`` (note style) says what the client's ``source`` sentence says, no more and no less."""
    src, out = analyse(source, first_person=True), note_analysis(rewrite)
    kept = {t.stem for t in out.tokens}
    lost = sorted(n for n in _names(src) if n not in kept)
    if lost:
        return Verdict(False, "changed or dropped: " + ", ".join(lost), tuple(lost))
    src_keys = {t.role or t.stem for t in src.tokens}
    novel = [t.text for t in out.tokens if t.content and not t.role and t.stem not in src_keys and t.stem not in
             _NOTE_STEMS]
    content = [t for t in out.tokens if t.content and t.stem not in _NOTE_STEMS]
    if content and len(novel) / len(content) > MAX_NOVEL:
        return Verdict(False, "added words: " + ", ".join(novel[:4]), tuple(novel))
    out_keys = {t.role or t.stem for t in out.tokens}
    dropped = [t.text for t in src.tokens if t.content and (t.role or t.stem) not in out_keys]
    if novel and dropped:  # one word put in another's place: a changed fact (drug, unit, month, place ...)
        return Verdict(False, f"word changed: {dropped[0]} -> {novel[0]}", (novel[0],))
    added = sorted(n for n in _names(out) if n not in src_keys)
    if added:
        return Verdict(False, "invented: " + ", ".join(added), tuple(added))
    said = set(re.findall(r"[a-z']+", source.lower()))
    framed = [w for w in re.findall(r"[a-z']+", rewrite.lower()) if w in _CONTRAST_AND_FOCUS and w not in said]
    if framed:  # "..., but also helps": a contrast or a limit ("only") the client did not state
        return Verdict(False, f"added '{framed[0]}'", (framed[0],))
    src_content = {t.role or t.stem for t in src.tokens if t.content}
    if src_content and len(src_content & out_keys) / len(src_content) < MIN_RECALL:
        return Verdict(False, "dropped facts: " + ", ".join(sorted(src_content - out_keys)[:4]))
    return compare(out, src, strict=True, free=[t.stem for t in out.tokens if t.content])


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
    verdict = meaning_verdict(source, text)
    if not verdict.ok:
        return RewriteCheck(False, text, verdict.reason)
    flags = facts.check(text)
    if flags:
        return RewriteCheck(False, text, "invented: " + ", ".join(f.text for f in flags))
    if not text.endswith((".", "!", "?")):
        text += "."
    return RewriteCheck(True, text[0].upper() + text[1:])
