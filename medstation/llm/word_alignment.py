"""Claim words that the evidence states in other words: the same word family, a WordNet synonym or derivation
(:mod:`medstation.llm.lexicon`), an abbreviation (:mod:`medstation.llm.abbreviations`), or a near neighbour in the
bundled sentence embedder's space (all-MiniLM-L6-v2), never an opposite.

:func:`align` returns a copy of the claim in which such a word takes the evidence word's stem, so every later
rule of :func:`medstation.llm.meaning.compare` (negation scope, directions, roles, hedges) reads the claim as
if it had used the passage's word: "Treatment does not begin at once" against "Treatment starts at once" is
then a dropped negation, not a new word that escapes the negation rule.

What may be matched, and why so little:

* only content words (no numbers, people, direction, quantifier, modal or negation words: those carry the
  polarity that the rules compare, and stay exact);
* a word family: one stem is the other plus at most three letters ("weak"/"weaken", "remov"/"removal"),
  unless the longer one ends in a suffix that turns the meaning ("harm"/"harmless");
* a WordNet synonym (a shared synset among the words' frequent senses: "seldom"/"rarely", a phrasal verb
  "set off"/"trigger") or derivation ("dependent"/"dependence"), never a pair WordNet calls antonyms; a synonym of
  a passage *direction* word ("set off" for "triggers"), or of exactly one listed direction value ("lessen": amount
  down), takes that direction, so the direction rules compare it. Up to :data:`MORE_BY_LEXICON` more words than
  the embedding limit may be matched this way;
* an embedding neighbour at cosine >= :data:`SIMILAR` (0.80). Single-word MiniLM vectors put many opposites
  close together ("safe"/"unsafe" 0.81, "effective"/"ineffective" 0.77, "strong"/"weak" 0.78), so a pair
  that differs by a negating prefix, or that :data:`OPPOSITES` lists, is never matched; the threshold was
  set from generic word pairs before any evaluation item ("begins"/"starts" 0.85, "shortly"/"soon" 0.81,
  "medication"/"drug" 0.84 in; "tired"/"exhausted" 0.77 and all the opposites above out).

Without the embedder (package missing, weights unreadable) only word families and the lexicon are matched; without
the lexicon file, families and embeddings.
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import replace

import numpy as np

from medstation.llm.abbreviations import acronym_matches
from medstation.llm.durations import duration_matches
from medstation.llm.lexicon import Lexicon, shared_lexicon
from medstation.llm.polarity import Analysis, Token, stem
from medstation.llm.polarity_words import DIRECTION

log = logging.getLogger(__name__)

SIMILAR = 0.80
#: At most this many claim words may be reworded against one evidence unit (more is another statement).
MAX_REWORDED = 2
#: More claim words (beyond :data:`MAX_REWORDED`) that may be reworded when a word family or WordNet synset, not
#: an embedding neighbour, states them.
MORE_BY_LEXICON = 2
FAMILY_EXTRA = 3
_TURNING_SUFFIXES = ("less", "ful", "free")
_NEGATING_PREFIXES = ("un", "in", "im", "il", "ir", "non", "dis", "ab", "anti", "mis", "de", "a")
#: Opposites that no prefix shows (both directions are checked); stems, see :func:`stem`.
OPPOSITES = frozenset(frozenset((stem(a), stem(b))) for a, b in (
    ("safe", "dangerous"), ("safe", "harmful"), ("safe", "risky"), ("harmless", "dangerous"),
    ("harmless", "harmful"), ("strong", "weak"), ("full", "empty"), ("same", "different"), ("present", "absent"),
    ("sudden", "gradual"), ("start", "stop"), ("begin", "end"), ("open", "close"), ("wet", "dry"),
    ("hard", "soft"), ("heavy", "light"), ("true", "false"), ("easy", "difficult"), ("easy", "hard"),
    ("win", "lose"), ("accept", "reject"), ("allow", "forbid"), ("allow", "ban"), ("include", "exclude"),
    ("inside", "outside"), ("internal", "external"), ("upper", "lower"), ("front", "back"), ("arm", "leg"),
    ("hand", "foot"), ("viral", "bacterial"), ("virus", "bacterium"), ("virus", "bacteria"), ("plant", "animal"),
    ("male", "female"), ("day", "night"), ("sleep", "wake"), ("awake", "asleep"), ("alive", "dead"),
    ("live", "die"), ("survive", "die"), ("stay", "leave"), ("remain", "leave"), ("gain", "lose"),
    ("success", "failure"), ("pass", "fail"), ("cure", "kill"), ("healthy", "sick"), ("healthy", "ill"),
    ("clean", "dirty"), ("clear", "cloudy"), ("thick", "thin"), ("wide", "narrow"), ("deep", "shallow"),
    ("tight", "loose"), ("active", "passive"), ("active", "inactive"), ("natural", "artificial"),
    ("sterile", "contaminated"), ("cancerous", "noncancerous"), ("tumor", "cyst"), ("cancer", "tumor"),
    ("ingest", "inhale"), ("swallow", "inhale"), ("oral", "intravenous"), ("mouth", "nose"),
))


def same_family(a: str, b: str) -> bool:
    """Stems of one word family: one is the other plus at most :data:`FAMILY_EXTRA` letters, not "-less"."""
    short, long_ = sorted((a, b), key=len)
    if len(short) < 4 or not long_.startswith(short) or len(long_) - len(short) > FAMILY_EXTRA:
        return False
    return not long_.endswith(_TURNING_SUFFIXES) or short.endswith(_TURNING_SUFFIXES)


def opposite(a: str, b: str) -> bool:
    """Whether two words (surface forms) may mean opposite things: a listed pair, or a negating prefix."""
    if frozenset((stem(a), stem(b))) in OPPOSITES:
        return True
    for x, y in ((a, b), (b, a)):
        for prefix in _NEGATING_PREFIXES:
            rest = x[len(prefix):]
            if x.startswith(prefix) and len(rest) >= 3 and (stem(rest) == stem(y) or y.startswith(rest[:4])):
                return True
    return False


class WordVectors:
    """Unit vectors of single words from the bundled embedder, computed on demand and cached per process."""

    def __init__(self, embedder=None) -> None:
        self._embedder = embedder
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self._failed = False

    def _model(self):
        if self._embedder is None and not self._failed:
            try:
                from medstation.rag.embedder import Embedder

                self._embedder = Embedder(batch_size=128, max_tokens=16)
            except Exception as exc:  # no package or weights: families only, and say so once
                log.warning("word embeddings unavailable, support check matches word families only: %s", exc)
                self._failed = True
        return self._embedder

    def vectors(self, words: list[str]) -> dict[str, np.ndarray] | None:
        """``word -> (384,)`` for ``words``; None when no embedder can be loaded."""
        with self._lock:
            todo = [w for w in dict.fromkeys(words) if w not in self._vectors]
            if todo:
                model = self._model()
                if model is None:
                    return None
                try:
                    encoded = model.encode(todo, threads=1)
                except Exception as exc:
                    log.warning("word embeddings failed, support check matches word families only: %s", exc)
                    self._failed, self._embedder = True, None
                    return None
                self._vectors.update(zip(todo, encoded))
            return {w: self._vectors[w] for w in words}


_SHARED = WordVectors()


def _candidate(t: Token) -> bool:
    return t.content and not t.role and t.number is None


def align(claim: Analysis, evidence: Analysis, vectors: WordVectors | None = _SHARED,
          limit: int = MAX_REWORDED, lexicon: Lexicon | None | bool = True) -> Analysis:
    """``claim`` with up to ``limit`` uncovered content words replaced by the evidence words that state them
    (same family first, then the nearest embedding neighbour at >= :data:`SIMILAR`, never an opposite).

    Unchanged when more than ``limit`` words are uncovered or none can be matched."""
    if lexicon is True:
        lexicon = shared_lexicon()
    vocab = evidence.vocabulary()
    missing = [i for i, t in enumerate(claim.tokens) if t.content and (t.role or t.stem) not in vocab]
    if not missing or len(missing) > limit + MORE_BY_LEXICON or any(not _candidate(claim.tokens[i]) for i in missing):
        return claim
    claim_stems = {t.stem for t in claim.tokens}
    pool = {t.stem: t.text for t in evidence.tokens if _candidate(t) and t.stem not in claim_stems}
    replaced: dict[int, str] = {}
    for i in missing:
        word = claim.tokens[i]
        family = [s for s, text in pool.items() if same_family(word.stem, s) and not opposite(word.text, text)]
        if family:
            replaced[i] = family[0]
    left = [i for i in missing if i not in replaced]
    if left and lexicon is not None:
        replaced.update(synonym_matches(claim, evidence, left, pool, lexicon))
        left = [i for i in missing if i not in replaced]
    if left:
        replaced.update(acronym_matches(claim, evidence, left))
        left = [i for i in missing if i not in replaced]
    retimed = duration_matches(claim, evidence, left) if left else {}  # before embeddings: "hours" ~ "minutes"
    left = [i for i in left if i not in retimed]
    addressed = next((u.stem for u in evidence.tokens if u.text in ("you", "your")), None)
    for i in [i for i in left if addressed and claim.tokens[i].stem == stem("person")]:
        replaced[i] = addressed  # "people with X should ..." / "if you have X, ...": advice to whoever reads it
        left.remove(i)
    named = sorted(evidence.topic | evidence.antecedent)
    for i in [i for i in left if named and _refers_back(claim.tokens, i)]:
        replaced[i] = named[0]  # "slow the disease" in a passage about COPD: "the disease" is its topic
        left.remove(i)
    if left and vectors is not None and pool and len(left) <= limit:
        texts = list(dict.fromkeys(pool.values()))
        table = vectors.vectors([claim.tokens[i].text for i in left] + texts)
        if table is not None:
            matrix = np.stack([table[w] for w in texts])
            for i in left:
                word = claim.tokens[i].text
                scores = matrix @ table[word]
                for j in np.argsort(-scores):
                    if scores[j] < SIMILAR:
                        break
                    if not opposite(word, texts[j]):
                        replaced[i] = stem(texts[j])
                        break
    left = [i for i in missing if i not in replaced]
    directed = direction_matches(claim, evidence, left, lexicon) if left and lexicon is not None else {}
    if not replaced and not directed and not retimed:
        return claim
    tokens = [replace(t, stem=replaced[i]) if i in replaced else
              replace(t, stem=directed[i].stem, direction=directed[i].direction, content=False) if i in directed else
              retimed.get(i, t) for i, t in enumerate(claim.tokens)]
    return Analysis(claim.text, tokens, claim.n_clauses, claim.title_stems)


def direction_matches(claim: Analysis, evidence: Analysis, indices: list[int], lexicon: Lexicon) -> dict[int, Token]:
    """``claim token index -> evidence direction word`` for claim content words that are WordNet synonyms of a
    direction word of the evidence ("set off" / "triggers", "cut" / "reduces"). The claim word takes that word's
    direction, so the direction rules compare it as if the claim had said the evidence word: a synonym of
    "triggers" never supports "prevents" (another value of the same group) where the passage says that."""
    out: dict[int, Token] = {}
    targets = [u for u in evidence.tokens if u.direction and u.direction[0] != "bound"]
    for i in indices:
        t = claim.tokens[i]
        nxt = claim.tokens[i + 1] if i + 1 < len(claim.tokens) else None
        phrase = lexicon.phrase_senses(t.text, nxt.text, main=True) if nxt is not None and nxt.clause == t.clause \
            else frozenset()
        for u in targets:
            single = lexicon.synonyms(t.text, u.text, main=True)  # "keep" prevents only in a minor sense
            if not (single or (phrase and phrase & lexicon.senses(u.text))) or opposite(t.text, u.text) or \
                    lexicon.antonyms(t.text, u.text):
                continue
            out[i] = u
            if not single and i + 1 in indices:
                out[i + 1] = u
            break
        else:
            value = direction_of(t.text, lexicon)  # "lessen" is a synonym of the listed "decrease": amount/down
            said = next((u for u in targets if u.direction == value and not lexicon.antonyms(t.text, u.text)), None)
            if said is not None and not opposite(t.text, said.text):
                out[i] = said
    return out


@functools.lru_cache(maxsize=4)  # keyed by the lexicon itself (kept alive here), never by a reusable id()
def _direction_senses(lexicon: Lexicon) -> dict[tuple[str, str], frozenset[int]]:
    """Direction value -> the synsets of the words listed for it."""
    table: dict[tuple[str, str], frozenset[int]] = {}
    for listed, value in DIRECTION.items():
        table[value] = table.get(value, frozenset()) | lexicon.senses(listed)
    return table


def direction_of(word: str, lexicon: Lexicon) -> tuple[str, str] | None:
    """The one direction value (group, value) whose listed words (:data:`medstation.llm.polarity_words.DIRECTION`)
    ``word`` is a WordNet synonym of; None when none, or more than one (an ambiguous word carries no direction)."""
    table = _direction_senses(lexicon)
    senses = lexicon.main_senses(word)
    values = [value for value, listed in table.items() if senses & listed] if senses else []
    return values[0] if len(values) == 1 else None


def synonym_matches(claim: Analysis, evidence: Analysis, indices: list[int], pool: dict[str, str],
                    lexicon: Lexicon) -> dict[int, str]:
    """``claim token index -> evidence stem`` for the claim words at ``indices`` that share a WordNet synset with
    an evidence word (:mod:`medstation.llm.lexicon`), never an opposite. A phrasal verb on either side counts as one
    word: the claim's "set off" matches the passage's "triggers" (both claim words take its stem), the claim's
    "learn" matches the passage's "find out"."""
    tokens = evidence.tokens
    phrases = [(lexicon.phrase_senses(t.text, u.text), t.stem, t.text) for t, u in zip(tokens, tokens[1:])
               if _candidate(t) and u.clause == t.clause and t.stem in pool]
    out: dict[int, str] = {}
    for i in indices:
        word = claim.tokens[i].text
        nxt = claim.tokens[i + 1] if i + 1 < len(claim.tokens) else None
        phrase = lexicon.phrase_senses(word, nxt.text) if nxt is not None and nxt.clause == claim.tokens[i].clause \
            else frozenset()
        before = claim.tokens[i - 1] if i > 0 else None
        if before is not None and before.clause == claim.tokens[i].clause and not before.content:
            phrase |= lexicon.phrase_senses(before.text, word)  # "go back" -> "return": the verb is a light word
        for target, text in pool.items():
            single = lexicon.related(word, text)
            if not (single or (phrase and phrase & lexicon.senses(text))) or opposite(word, text) or \
                    lexicon.antonyms(word, text):
                continue
            out[i] = target  # "set off" -> "trigger": the particle is part of the word
            if not single and i + 1 in indices:
                out[i + 1] = target
            break
        else:
            for senses, target, text in phrases:  # "learn" -> the passage's "find out"
                if senses & (lexicon.senses(word) | phrase) and not opposite(word, text):
                    out[i] = target
                    break
    return out


def synonyms_of(said: list[Token], instead: list[Token], lexicon: Lexicon | None | bool = True,
                main: bool = False) -> bool:
    """Whether every word of ``said`` (or ``said`` as one phrasal verb) shares a WordNet synset (``main``: of its main
    sense) with a word of ``instead`` (or with ``instead`` as one phrasal verb), and none is an opposite of them:
    "completely" for "altogether", "set off" for "triggers", "see" for "seen"."""
    if lexicon is True:
        lexicon = shared_lexicon()
    if lexicon is None or not said or not instead:
        return False
    if any(opposite(t.text, u.text) or lexicon.antonyms(t.text, u.text) for t in said for u in instead):
        return False

    theirs = [lexicon.senses(u.text) for u in instead]
    phrase = lexicon.phrase_senses(instead[0].text, instead[1].text) if len(instead) == 2 else frozenset()
    if len(said) == 2 and any(lexicon.phrase_senses(said[0].text, said[1].text, main) & s for s in theirs + [phrase]):
        return True
    mine = lexicon.main_senses if main else lexicon.senses
    return all(any(lexicon.synonyms(t.text, u.text, main) or lexicon.derived(t.text, u.text) for u in instead)
               or mine(t.text) & phrase for t in said)  # "learn" for "find out"


def same_direction(said: list[Token], instead: list[Token], lexicon: Lexicon | None | bool = True) -> bool:
    """Whether the claim's one word ``said`` is a WordNet synonym of a listed direction word with the value of the
    evidence's one direction word ``instead`` ("lessen" / "reduces"), and no opposite of it."""
    if lexicon is True:
        lexicon = shared_lexicon()
    if lexicon is None or len(said) != 1 or len(instead) != 1 or opposite(said[0].text, instead[0].text):
        return False
    return direction_of(said[0].text, lexicon) == instead[0].direction and \
        not lexicon.antonyms(said[0].text, instead[0].text)



#: Nouns a claim uses to refer back to what the passage is about ("the condition", "this illness").
ANAPHORIC_NOUNS = frozenset("condition disease illness disorder".split())


def _refers_back(tokens: list[Token], i: int) -> bool:
    """``tokens[i]`` is a referring noun right after a definite determiner ("the disease", "this condition")."""
    return tokens[i].text in ANAPHORIC_NOUNS and i > 0 and tokens[i - 1].text in ("the", "this", "that", "its")
