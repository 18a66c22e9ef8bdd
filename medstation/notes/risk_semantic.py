"""Semantic risk detection: a classifier on all-MiniLM-L6-v2 sentence embeddings, trained on shipped exemplars.

The exemplars (``risk_exemplars.jsonl`` beside this module, one ``{"text", "kind", "category"}`` per line)
were written apart from the evaluation set: a few hundred short statements across the C-SSRS kinds
(passive wish, active ideation, method, intent, plan, preparatory acts), self-harm, homicidal ideation,
abuse (child, partner, elder, sexual, coercive control, neglect), overdose and lethal means, plus
denials and benign look-alikes ("my back is killing me"), and (session 5) ordinary medical-visit talk
written for this ("I fell off a ladder and landed on my wrist", "I take my pills with breakfast"). Since
session 6 it also trains on every row of the two written statement sets (``risk_exemplars_statements.jsonl``)
and on hard negatives mined from the dev half of aci-bench visits (``risk_exemplars_visits.jsonl``); since
session 7 also on ``risk_exemplars_varied.jsonl`` (about 440 rows written for it, none from an evaluation set:
plans with times and places, preparatory acts, lethal-means access, neglect told by negation; and therapy
talk that is heavy but states no risk: family conflict, grief, exhausted parents, anger, accidents). A
multinomial logistic regression (scikit-learn) over their 384-d unit vectors plus weighted word 1-2-gram
tf-idf gives, for each sentence, the probability that it states a risk; the nearest exemplar (cosine
similarity) names the kind and is shown as the reason. Thresholds and weights are chosen by
cross-validation (benchmarks/cv_risk.py: train without one statement set, measure on it).

Nothing loads at import: the embedder and the classifier are built on the first :meth:`score` call (a
few seconds: the model, then the exemplars' embeddings, cached on disk after the first time). If that fails, :attr:`SemanticRiskModel.error`
says why, and the caller must report that the semantic detector was unavailable.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

EXEMPLARS = Path(__file__).with_name("risk_exemplars.jsonl")
#: The written evaluation statements (tests/data/risk_statements*.jsonl, all rows) as training rows: development
#: data since session 6; generalisation is measured by cross-validation (benchmarks/cv_risk.py).
STATEMENT_EXEMPLARS = Path(__file__).with_name("risk_exemplars_statements.jsonl")
#: Hard negatives: dev-half aci-bench visit sentences the detector read as risky (benchmarks/mine_visit_negatives.py).
VISIT_EXEMPLARS = Path(__file__).with_name("risk_exemplars_visits.jsonl")
#: Session 7: varied everyday wording written for this, none taken from an evaluation set: plans with times,
#: places and notes, preparatory acts, lethal-means access, neglect, passive wishes; and their look-alikes
#: (pills taken as prescribed, things given to charity, bridges, rope, a spouse who helps with the bills,
#: accidents) and denials (means removed, ideation in the past).
VARIED_EXEMPLARS = Path(__file__).with_name("risk_exemplars_varied.jsonl")
NONE_KINDS = ("denial", "benign")
#: Inverse regularisation of the logistic regression (chosen by cross-validation, benchmarks/cv_risk.py).
C = 2.0
#: Weight of the word 1-2-gram tf-idf features beside the embedding (0: embedding only).
WORD_WEIGHT = 3.0
#: A sentence whose risk probability reaches this is flagged (recall first). Session 6: lowered from 0.25
#: on the development half of the fifth independent statement set (v5 dev recall 0.929 -> 0.973, false
#: alarms unchanged at 0.145); its test half was read once before and once after, and reported.
RISK_THRESHOLD = 0.15
#: ... and its nearest risk exemplar must be at least this similar (cosine): far from all of them, the
#: classifier extrapolates (chosen on the dev half and on aci-bench train dialogues, ordinary visit talk).
SIMILARITY_FLOOR = 0.3  # session 6, v5 dev half (was 0.4)
#: A sentence this similar (cosine) to a risk exemplar is read as a risk whatever the classifier says.
NEAR_SIMILARITY = 0.65
#: ... unless the classifier all but rules it out ("I take my medicine daily" is near "I took a lot of my medication").
NEAR_MIN_PROBABILITY = 0.1
#: A sentence of fewer words than this ("so has my son", "very carefully") carries too little meaning for the
#: classifier: it is read as a risk only when near a risk exemplar or at ``SHORT_THRESHOLD`` (session 5:
#: most false alarms on ordinary visit dialogues were such fragments; chosen on the dev data).
SHORT_WORDS = 7
SHORT_THRESHOLD = 0.7
#: A clinician's statement (not a question) is read as a risk only above these (the client's own words carry
#: the risk; a clinician's lines are mostly plans, orders and medication talk).
CLINICIAN_THRESHOLD = 0.6
CLINICIAN_SIMILARITY = 0.55
#: Unless near a risk exemplar, a sentence must be at least this much closer to a risk exemplar than to
#: every denial and benign one (nearest neighbours agree with the classifier).
KNN_MARGIN = -0.1
#: A clause of a sentence with a negation ("I'd never hurt myself, but I have the pills ready") makes the sentence
#: a risk only at this risk probability and nearest-risk-exemplar similarity (session 7: chosen on the tune
#: part of the v5 dev half, written probes of denial-and-risk sentences and the dev half of aci-bench visits).
CLAUSE_THRESHOLD = 0.25
CLAUSE_SIMILARITY = 0.5
#: Below this risk probability the reading is unsure: the nearest risk exemplar must then be at least about as
#: similar as the nearest denial or everyday one (within ``UNSURE_KNN_MARGIN``), even for a sentence near a risk
#: exemplar (session 7: chosen on the tune part of the v5 dev half and written probes).
UNSURE_BELOW = 0.5
UNSURE_KNN_MARGIN = -0.05
#: A sentence is a denial when its denial probability exceeds its risk probability by this much.
DENIAL_MARGIN = 0.15
#: ... and when the nearest risk exemplar is neglect (told by negation: "nobody feeds them"), by this much.
NEGLECT_DENIAL_MARGIN = 0.5
#: A pattern's denial is overridden when the risk probability reaches this (and denial is below 1 - it).
OVERRIDE_THRESHOLD = 0.8
#: A weak pattern ("bought rope") needs at least this risk probability in its sentence.
WEAK_THRESHOLD = 0.2
_WORD = re.compile(r"[A-Za-z][A-Za-z']*")


def word_count(text: str) -> int:
    """Words with letters (tokenised punctuation such as " ." is not a word)."""
    return len(_WORD.findall(text))
#: An everyday idiom ("dying to see it") is not flagged unless the risk probability reaches this.
IDIOM_CEILING = 0.6

# Speech-recognition and corpus transcripts are often tokenised ("i do n't", "well , i") and lower-case; the
# embedder was trained on ordinary text, so spacing is restored before a sentence is embedded.
_DETOKENISE = [(re.compile(r" (n't|'s|'m|'re|'ve|'ll|'d)\b", re.IGNORECASE), r"\1"),
               (re.compile(r" ([,.;:!?])"), r"\1"), (re.compile(r"\bi\b"), "I"),
               (re.compile(r"\bwan na\b"), "wanna"), (re.compile(r"\bgon na\b"), "gonna")]


def detokenise(text: str) -> str:
    """``text`` with tokeniser spacing undone ("i do n't know , really" -> "I don't know, really")."""
    for pattern, repl in _DETOKENISE:
        text = pattern.sub(repl, text)
    return text


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n")
_MIN_WORDS = 2


@dataclass(frozen=True)
class SemanticScore:
    """One sentence. ``p_risk``: probability it states a risk (0..1); ``p_denial``: that it is a denial;
    ``kind``/``category``: of the nearest risk exemplar; ``similarity``: its cosine similarity (-1..1)."""

    text: str
    p_risk: float
    p_denial: float
    kind: str
    category: str
    exemplar: str
    similarity: float
    none_similarity: float = -1.0  # cosine similarity of the nearest denial or benign exemplar


def load_exemplars(path: Path = EXEMPLARS) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not rows or any(not {"text", "kind", "category"} <= row.keys() for row in rows):
        raise ValueError(f"{path.name}: every line needs text, kind and category")
    return rows


#: The category (flag) of each risk kind of the exemplars and statement sets.
KIND_CATEGORY = {**{k: "suicidal_ideation" for k in ("passive_wish", "active_ideation", "method", "intent", "plan",
                                                      "preparatory")},
                 **{k: "abuse" for k in ("abuse_child", "abuse_partner", "abuse_elder", "abuse_sexual",
                                         "coercive_control", "neglect")},
                 "self_harm": "self_harm", "homicidal": "homicidal_ideation", "overdose": "overdose",
                 "lethal_means": "lethal_means"}


def statement_rows(items: list[dict]) -> list[dict]:
    """Evaluation-set statements (``{"text", "label", "category"}``) as training rows (``{"text", "kind",
    "category"}``): a risk statement's category is its kind; a denial or benign line keeps its kind."""
    rows = []
    for item in items:
        if item["label"] == "risk":
            rows.append({"text": item["text"], "kind": item["category"], "category": KIND_CATEGORY[item["category"]]})
        else:
            kind = item["category"] if item["category"] in NONE_KINDS else "benign"
            rows.append({"text": item["text"], "kind": kind, "category": "none"})
    return rows


def split_sentences(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` character spans of the sentences of one transcript line (fragments under two words
    are joined to the next sentence)."""
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        if len(text[start:m.start()].split()) >= _MIN_WORDS:
            spans.append((start, m.start()))
            start = m.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return [(a + len(text[a:b]) - len(text[a:b].lstrip()), b) for a, b in spans if text[a:b].strip()]


# Where one sentence holds two statements ("I would never hurt myself, but I have the pills ready"): commas,
# semicolons, dashes and contrastive conjunctions. Fragments of fewer than ``_MIN_CLAUSE_WORDS`` words are joined
# to the next clause (a list, "well, ...").
_CLAUSE_BREAK = re.compile(r"\s*[,;:]\s*(?:(?:but|though|although|however|yet|except|and)\s+)?|\s+-+\s+|"
                           r"\s+(?:but|though|although|however|except that|yet)\s+", re.IGNORECASE)
_MIN_CLAUSE_WORDS = 3


def split_clauses(sentence: str) -> list[tuple[int, int]]:
    """``(start, end)`` spans of the clauses of one sentence, or ``[]`` when it has only one."""
    spans, start = [], 0
    for m in _CLAUSE_BREAK.finditer(sentence):
        if word_count(sentence[start:m.start()]) >= _MIN_CLAUSE_WORDS:
            spans.append((start, m.start()))
            start = m.end()
    if word_count(sentence[start:]) >= _MIN_CLAUSE_WORDS or not spans:
        spans.append((start, len(sentence)))
    else:
        spans[-1] = (spans[-1][0], len(sentence))  # a short tail ("..., really") stays with its clause
    return spans if len(spans) > 1 else []


def _training_vectors(embedder, texts: list[str]) -> np.ndarray:
    """``(n, d)`` unit vectors of the training rows. With the bundled embedder (it has an ``identity``) they
    are cached on disk, keyed by the model's identity and the texts: embedding ~2000 rows takes seconds to
    tens of seconds on a 2-core machine, the cached file a few milliseconds."""
    identity = getattr(embedder, "identity", None)
    if not isinstance(identity, str):
        return np.asarray(embedder.encode(texts), dtype=np.float32)
    import hashlib

    from medstation.rag.embedder_onnx import shared_cache_dir

    key = hashlib.sha256("\n".join([identity, *texts]).encode("utf-8")).hexdigest()[:24]
    path = Path(shared_cache_dir()) / f"risk-exemplars-{key}.npy"
    try:
        cached = np.load(path, allow_pickle=False)
        if cached.shape[0] == len(texts):
            return cached.astype(np.float32)
    except (OSError, ValueError):
        pass  # not cached yet, or unreadable: embed again
    vectors = np.asarray(embedder.encode(texts), dtype=np.float32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, vectors)
        tmp.replace(path)
    except OSError:
        pass  # a read-only cache folder only costs the next start the same seconds
    return vectors


class SemanticRiskModel:
    """Lazily built embedder + classifier; thread-safe. ``embedder``: anything with ``encode(list[str])``
    returning unit vectors ``(n, d)`` (default: :class:`medstation.rag.embedder.Embedder`)."""

    def __init__(self, embedder=None, exemplars: tuple[Path, ...] = (EXEMPLARS, STATEMENT_EXEMPLARS, VISIT_EXEMPLARS,
                                                           VARIED_EXEMPLARS),
                 rows: list[dict] | None = None) -> None:
        self._embedder = embedder
        self._exemplar_path = exemplars
        self._rows = rows  # training rows given directly (cross-validation), instead of the shipped files
        self._lock = threading.Lock()
        self._ready = False
        self.error = ""  # why the detector is unavailable ("" while it works or has not been tried)

    def _build(self) -> None:
        from sklearn.linear_model import LogisticRegression

        if self._embedder is None:
            from medstation.rag.embedder import Embedder

            self._embedder = Embedder()
        rows = self._rows if self._rows is not None else [r for p in self._exemplar_path for r in load_exemplars(p)]
        vectors = _training_vectors(self._embedder, [r["text"] for r in rows])
        # Three classes (risk / denial / benign): the sixteen risk kinds pooled, so the risk probability
        # is not inflated by summing many small classes; the kind comes from the nearest exemplar.
        labels = np.array([r["kind"] if r["kind"] in NONE_KINDS else "risk" for r in rows])
        self._words = None
        if WORD_WEIGHT > 0:
            from sklearn.feature_extraction.text import TfidfVectorizer

            self._words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=True,
                                          token_pattern=r"[a-z][a-z']*").fit([r["text"] for r in rows])
        self._clf = LogisticRegression(C=C, max_iter=3000, class_weight="balanced").fit(
            self._features(vectors, [r["text"] for r in rows]), labels)
        risky = labels == "risk"
        self._risk_vectors, self._risk_rows = vectors[risky], [r for r, keep in zip(rows, risky) if keep]
        self._none_vectors = vectors[~risky]
        self._risk_class = np.array([c == "risk" for c in self._clf.classes_])
        self._denial_class = np.array([c == "denial" for c in self._clf.classes_])

    def _features(self, vectors: np.ndarray, texts: list[str]):
        """The classifier's input: the unit embedding, plus weighted word 1-2-gram tf-idf when enabled."""
        if self._words is None:
            return vectors
        from scipy.sparse import csr_matrix, hstack

        return hstack([csr_matrix(vectors), WORD_WEIGHT * self._words.transform(texts)]).tocsr()

    def ensure_loaded(self) -> bool:
        """Build on first use; False (with :attr:`error` set) when the model or exemplars cannot load."""
        with self._lock:
            if self._ready:
                return True
            if self.error:
                return False
            try:
                self._build()
            except Exception as exc:  # missing package, unreadable weights, bad exemplar file
                self.error = f"{type(exc).__name__}: {exc}"
                return False
            self._ready = True
            return True

    def score(self, texts: list[str]) -> list[SemanticScore]:
        """One :class:`SemanticScore` per text (raises RuntimeError when the detector is unavailable)."""
        if not texts:
            return []
        if not self.ensure_loaded():
            raise RuntimeError(f"semantic risk detector unavailable: {self.error}")
        vectors = np.asarray(self._embedder.encode([detokenise(t) for t in texts]), dtype=np.float32)
        probs = self._clf.predict_proba(self._features(vectors, [detokenise(t) for t in texts]))
        sims = vectors @ self._risk_vectors.T
        none_sims = (vectors @ self._none_vectors.T).max(axis=1)
        out = []
        for text, p, s, ns in zip(texts, probs, sims, none_sims):
            best = int(np.argmax(s))
            row = self._risk_rows[best]
            out.append(SemanticScore(text, float(p[self._risk_class].sum()), float(p[self._denial_class].sum()),
                                     row["kind"], row["category"], row["text"], float(s[best]), float(ns)))
        return out


_DEFAULT: SemanticRiskModel | None = None
_DEFAULT_LOCK = threading.Lock()


def default_model() -> SemanticRiskModel:
    """The process-wide detector on the bundled embedder (built on first use, then shared)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = SemanticRiskModel()
        return _DEFAULT
