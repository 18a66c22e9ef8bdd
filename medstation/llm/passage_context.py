"""What a passage sentence takes from its context: the subject a pronoun names, and the passage's topic.

A leaflet says its topic once ("Gout is caused by uric acid crystals ...") and then leaves it implied
("Allopurinol is taken every day to prevent future attacks"); a sentence opening with "They" names the previous
sentence's subject. The support check (:mod:`medstation.llm.support`) counts those words as said by the
sentence (:class:`medstation.llm.polarity.Analysis` ``antecedent`` and ``topic``), with one limit: the topic is
implied as an argument, so a claim may not make it the subject of a sentence that has a subject of its own.

Subjects are read without a parser: the words before the first auxiliary within six words, else the content
words a sentence opens with, up to one that reads as a verb (a lower-case word ending in -s after a noun).
"""

from __future__ import annotations

from collections.abc import Sequence

from medstation.llm.polarity import Analysis, Token, analyse

_SUBJECT_END = frozenset("""is are was were can could may might must should will would has have had does do
""".split())


def opens_with_pronoun(analysis: Analysis) -> bool:
    """"It causes a rash", "They can make ...", "This is ...": the sentence's subject is the previous one's."""
    words = [t.text for t in analysis.tokens[:2]]
    return bool(words) and (words[0] in ("it", "they") or
                            (words[0] in ("this", "these") and words[1:2] != [] and words[1] in _SUBJECT_END))


def _before_auxiliary(tokens: Sequence[Token]) -> frozenset[str]:
    for i, t in enumerate(tokens[:7]):
        if t.text in _SUBJECT_END:
            return frozenset(u.stem for u in tokens[:i] if u.content or u.number is not None)  # "type 1"
    return frozenset()


#: Direction groups whose word may open a name ("low blood sugar", "high blood pressure", "acute kidney injury").
_NOUN_QUALITIES = frozenset({"amount", "course", "severity", "temperature", "malignancy"})


def _opening_nouns(tokens: Sequence[Token]) -> frozenset[str]:
    words: list[str] = []
    for t in tokens[:4]:
        if not t.content:
            if not words and t.direction and t.direction[0] in _NOUN_QUALITIES:
                words.append(t.stem)  # "Low blood sugar ...", "High blood pressure ...": part of the name
                continue
            if words or t.direction or t.cue or t.modal or t.quantifier or t.number is not None:
                break
            continue  # "The", "A": before the noun
        if words and t.text.endswith("s") and not t.capitalised:
            break  # "makes", "causes": the verb
        words.append(t.stem)
    return frozenset(words)


def subject(previous: Analysis) -> frozenset[str]:
    """Stems of a sentence's subject by its auxiliary ("Iron tablets are usually taken ..." -> iron, tablet);
    a pronoun subject passes its own antecedent on; empty when no auxiliary comes within six words."""
    if previous.antecedent and opens_with_pronoun(previous):
        return previous.antecedent
    return _before_auxiliary(previous.tokens)


def sentence_subject(sentence: Analysis) -> frozenset[str]:
    """Stems of a sentence's own subject (by its auxiliary, else its opening nouns)."""
    return _before_auxiliary(sentence.tokens) or _opening_nouns(sentence.tokens)


#: Words that open a frame naming a procedure or event the passage is about ("After a hip replacement, ...").
_TOPIC_FRAMES = frozenset("after before during following".split())


def _frame(first: Analysis) -> frozenset[str]:
    """Content stems of a leading time frame closed by a comma ("After anterior cruciate ligament (ACL)
    reconstruction, most people ..." -> anterior, cruciate, ligament, acl, reconstruction); empty without one."""
    words = first.text.split(",", 1)
    if len(words) < 2 or not first.tokens or first.tokens[0].text not in _TOPIC_FRAMES or len(words[0].split()) > 8:
        return frozenset()
    n = len(words[0].replace("(", " ").replace(")", " ").split())
    return frozenset(t.stem for t in first.tokens[1:n] if t.content)


def topic_frame(sentence: str) -> tuple[frozenset[str], Analysis] | None:
    """A claim opening with a time frame ("After a hip replacement, a therapist will ..."): (the frame's content
    stems, the analysis of the claim without it), else None. Against a passage whose topic is that frame, the rest
    is what the claim states of the later sentence."""
    head, _, rest = sentence.partition(",")
    first = analyse(head) if rest.strip() else None
    if first is None or not first.tokens or first.tokens[0].text not in _TOPIC_FRAMES or len(head.split()) > 8:
        return None
    return frozenset(t.stem for t in first.tokens[1:] if t.content), analyse(rest.strip())


def topic(first: Analysis) -> frozenset[str]:
    """What a passage is about: its first sentence's subject ("Gout is caused by ..." -> gout; "Eczema makes the
    skin dry" -> eczema), and the procedure a leading time frame names ("After a hip replacement, most people ...":
    hip, replacement)."""
    return (subject(first) or _opening_nouns(first.tokens)) | _frame(first)


def topic_in_subject_slot(claim: Analysis, unit: Analysis) -> bool:
    """The claim makes the passage topic the subject of a statement whose own subject the claim moves elsewhere
    ("Levothyroxine can reduce how much calcium is absorbed" from "Calcium supplements can reduce how much is
    absorbed" in a passage on levothyroxine). What a pronoun names is no topic: "They" is its subject."""
    said = sentence_subject(claim)
    if not unit.topic or not said or not said <= unit.topic or said <= unit.antecedent or \
            said & {t.stem for t in unit.tokens}:
        return False
    own = unit.subjects - unit.topic - unit.antecedent
    return bool(own & {t.stem for t in claim.tokens})
