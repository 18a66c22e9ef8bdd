"""Is the question covered by the knowledge base at all? Decided before any answer is built.

Two measurable signals over the retrieved passages:

* ``top_similarity``: the best cosine similarity between the question and a
  passage, from the dense retriever (``Passage.scores["dense_sim"]``);
  absent in BM25-only retrieval;
* ``topic_coverage``: the share of the question's *topic terms* — its required
  terms (:func:`medstation.llm.support.required_terms`) minus the words every
  medical question uses ("symptoms", "treatment", "causes" …) — found in the
  titles and texts of the passages.

The question is answered when ``top_similarity >= SURE_SIMILARITY`` (a
passage is plainly about it, whatever words it uses), or when
``top_similarity >= MIN_SIMILARITY`` and ``topic_coverage >= MIN_TOPIC_COVERAGE``.
Without a similarity (BM25-only retrieval) coverage alone decides. The
thresholds were calibrated on MedQuAD questions whose answers are in the
starter knowledge base against held-out MedQuAD and off-topic questions
(``benchmarks/eval_chat_honesty.py calibrate``; figures below).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from medstation.llm.support import required_terms, terms

# Calibrated with benchmarks/eval_chat_honesty.py calibrate on the starter knowledge base (140 questions):
# top similarity of MedQuAD questions answered in it p5 0.60 / p50 0.71; held-out MedQuAD p50 0.48 / p95 0.57;
# off-topic p50 0.24 / p95 0.42. Topic coverage: answered p5 1.00; held-out p50 0.33.
SURE_SIMILARITY = 0.62
MIN_SIMILARITY = 0.40
MIN_TOPIC_COVERAGE = 0.75

QUESTION_WORDS = frozenset(
    "symptom sign treatment treat treated cause caused diagnosis diagnose diagnosed test exam prevent prevention "
    "outlook prognosis risk factor research trial inherited inheritance genetic gene change changes related "
    "frequency common stage complication susceptibility consideration information know learn need needed "
    "disease disorder condition syndrome problem type kind affected affect patient effect side medicine "
    "medication therapy long term available option way get tell explain describe mean work happen someone "
    "list name give show summarise summarize overview are is do".split()
)
# Everyday qualifiers a question may use that no passage needs to repeat: the notice below names only
# what the question is about (a drug, a condition, a population), not how it was phrased.
GENERIC_WORDS = frozenset(
    "good better best worse worst really very much many often usually normal okay fine safe safely help helps "
    "helpful work works working stop start make makes feel feeling take taking taken thing things better "
    "right wrong possible likely best way ways time times still also ever never should could would".split()
)
NOT_IN_KB_MESSAGE = (
    "Not in the knowledge base. No stored passage covers this question, so it is not answered. "
    "Rephrase it, or ingest documents that cover it (Ingest folder… or `medstation kb ingest PATH`)."
)


@dataclass(frozen=True)
class RelevanceVerdict:
    """Whether to answer, with the evidence: similarity (None when unknown), topic terms found and missing."""

    relevant: bool
    top_similarity: float | None
    topic_terms: tuple[str, ...]
    missing_terms: tuple[str, ...]
    min_similarity: float
    min_topic_coverage: float
    sure_similarity: float = SURE_SIMILARITY

    @property
    def topic_coverage(self) -> float:
        if not self.topic_terms:
            return 1.0
        return 1.0 - len(self.missing_terms) / len(self.topic_terms)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "topic_terms": list(self.topic_terms), "missing_terms": list(self.missing_terms),
                "topic_coverage": round(self.topic_coverage, 3)}


def unmentioned_notice(question: str, answer: str, titles: Sequence[str] = ()) -> str:
    """What the question asked about that the answer never mentions ("" when nothing), e.g. a drug.

    A passage can be close enough to answer ("medicines in pregnancy") while the quotes never name the drug
    asked about ("ibuprofen"): they are then general advice, and the reader must be told so. ``titles``:
    the cited passages' titles (a quote from "Pregnancy and Medicines" is about pregnancy)."""
    said = terms(" ".join([answer, *titles]))
    missing = sorted(w for w in topic_terms(question) - said if len(w) >= 4 and w not in GENERIC_WORDS)
    if not missing:
        return ""
    words = ", ".join(f'"{w}"' for w in missing)
    return (f"The answer does not mention {words}: its sources answer the rest of the question and may not "
            f"apply to {'it' if len(missing) == 1 else 'them'}.")


def topic_terms(question: str) -> set[str]:
    return {t for t in required_terms(question) if t not in QUESTION_WORDS and not t.isdigit()}


def judge_relevance(question: str, passages: Sequence[Any], *, min_similarity: float = MIN_SIMILARITY,
                    min_topic_coverage: float = MIN_TOPIC_COVERAGE, sure_similarity: float = SURE_SIMILARITY
                    ) -> RelevanceVerdict:
    """The verdict for ``question`` given the retrieved ``passages`` (``Passage``-like objects)."""
    sims = [float(p.scores["dense_sim"]) for p in passages if "dense_sim" in (getattr(p, "scores", None) or {})]
    top = max(sims) if sims else None
    wanted = topic_terms(question)
    offered: set[str] = set()
    for p in passages:
        offered |= terms(f"{getattr(p, 'title', '')}\n{getattr(p, 'text', '')}")
    missing = tuple(sorted(wanted - offered))
    verdict = RelevanceVerdict(False, top, tuple(sorted(wanted)), missing, min_similarity, min_topic_coverage,
                               sure_similarity)
    covered = verdict.topic_coverage >= min_topic_coverage
    if top is None:
        relevant = covered
    else:
        relevant = top >= sure_similarity or (top >= min_similarity and covered)
    return replace(verdict, relevant=bool(passages) and relevant)
