"""Paired statistics for A/B comparisons (scipy.stats), and the text metrics for notes.

Differences are candidate − baseline per *case* (items of a case are averaged first:
slices of one segmentation are not independent). The interval is a percentile
bootstrap of the mean difference over cases (fixed seed, so a comparison is
reproducible); the test is a two-sided paired Wilcoxon signed-rank test.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

N_RESAMPLES = 2000


@dataclass(frozen=True)
class PairedSummary:
    """``mean_diff`` with its 95 % bootstrap CI (``ci_low``, ``ci_high``; None below 2 cases) and Wilcoxon ``p``."""

    n: int
    mean_candidate: float
    mean_baseline: float
    mean_diff: float
    ci_low: float | None
    ci_high: float | None
    p_value: float | None

    def to_json(self) -> dict:
        return asdict(self)


def bootstrap_ci(diffs: np.ndarray, confidence: float = 0.95, seed: int = 0) -> tuple[float | None, float | None]:
    from scipy.stats import bootstrap

    diffs = np.asarray(diffs, float)
    if len(diffs) < 2:
        return None, None
    if np.allclose(diffs, diffs[0]):
        return float(diffs[0]), float(diffs[0])
    res = bootstrap((diffs,), np.mean, n_resamples=N_RESAMPLES, confidence_level=confidence, method="percentile",
                    rng=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def paired_summary(candidate, baseline, seed: int = 0) -> PairedSummary:
    """Summary of paired per-case scores (same order in both arrays)."""
    from scipy.stats import wilcoxon

    a, b = np.asarray(candidate, float), np.asarray(baseline, float)
    diffs = a - b
    low, high = bootstrap_ci(diffs, seed=seed)
    p = None
    if len(diffs) >= 2 and np.any(diffs != 0):
        p = float(wilcoxon(a, b).pvalue)
    return PairedSummary(len(diffs), float(a.mean()) if len(a) else 0.0, float(b.mean()) if len(b) else 0.0,
                         float(diffs.mean()) if len(diffs) else 0.0, low, high, p)


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F1 (rouge-score, with stemming)."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    return float(scorer.score(reference, prediction)["rougeL"].fmeasure)


def edit_similarity(prediction: str, reference: str) -> float:
    """1 − word-level Levenshtein distance / longer length: 1.0 = signed as drafted (higher is better)."""
    a, b = prediction.split(), reference.split()
    if not a and not b:
        return 1.0
    previous = list(range(len(b) + 1))
    for i, word in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, other in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word != other))
        previous = current
    return 1.0 - previous[-1] / max(len(a), len(b))
