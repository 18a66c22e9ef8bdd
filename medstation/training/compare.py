"""A/B comparison: candidate and baseline (the active version) on the same held-out cases.

Segmentation: both models segment every test-split item of a snapshot from its
box, through the viewer's engine (ONNX Runtime); per-case Dice and NSD (surface
Dice at ``tolerance_mm``, converted with the item's pixel size; items without one
use the tolerance in pixels and the result says so). Notes: per-case ROUGE-L and
edit similarity of each model's draft to the signed note.

:func:`decide` applies the decision rule (:class:`DecisionRule`, a setting): promote
only when the lower bound of the overall paired difference is above zero and no
modality (template) drops by more than ``max_group_drop``; the golden set must
not regress by more than ``golden_margin``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field

import numpy as np

from medstation.jobs import JobContext
from medstation.segmentation import images, metrics
from medstation.training.stats import PairedSummary, edit_similarity, paired_summary, rouge_l

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class DecisionRule:
    """``primary``: the metric the CI must favour; margins are absolute (Dice / ROUGE-L units)."""

    primary: str = "dice"
    max_group_drop: float = 0.02
    golden_margin: float = 0.01
    min_cases: int = 3


@dataclass(frozen=True)
class ComparisonResult:
    """Stored in ``model_comparison.result``. ``groups``: modality or template → metric → PairedSummary json."""

    kind: str
    candidate_id: int
    baseline_id: int
    primary: str
    overall: dict
    groups: dict
    cases: list[dict]
    golden: dict | None = None
    notes: list[str] = field(default_factory=list)
    recommend_promote: bool = False
    reason: str = ""
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> dict:
        return asdict(self)


def _summaries(cases: list[dict], metric_names: tuple[str, ...]) -> tuple[dict, dict]:
    overall = {m: paired_summary([c[f"{m}_candidate"] for c in cases], [c[f"{m}_baseline"] for c in cases]).to_json()
               for m in metric_names}
    by_group: dict[str, list[dict]] = defaultdict(list)
    for c in cases:
        by_group[c["group"]].append(c)
    groups = {g: {m: paired_summary([c[f"{m}_candidate"] for c in cs], [c[f"{m}_baseline"] for c in cs]).to_json()
                  for m in metric_names} for g, cs in sorted(by_group.items())}
    return overall, groups


def score_segmentation(ctx: JobContext, engine, rows: list[dict], tolerance_mm: float, *, fraction=(0.0, 1.0)):
    """Per-item {case_key, group, dice, nsd} of ``engine`` on manifest ``rows`` (absolute paths)."""
    out = []
    embedded = None
    lo, hi = fraction
    for n, row in enumerate(rows):
        ctx.check()
        ctx.report(lo + (hi - lo) * n / max(1, len(rows)), f"{engine.model_version}: item {n + 1}/{len(rows)}")
        if embedded is None or embedded[0] != row["image"]:
            embedded = (row["image"], engine.embed(images.read_image(row["image"])))
        pred = engine.decode(embedded[1], box=row["bbox_xyxy"]).mask
        truth = images.read_mask(row["mask"])
        tolerance = tolerance_mm / row["pixel_mm"] if row.get("pixel_mm") else tolerance_mm
        out.append({"case_key": row["case_key"], "group": row.get("modality") or row.get("source", ""),
                    "dice": metrics.dice(pred, truth), "nsd": metrics.normalized_surface_dice(pred, truth, tolerance),
                    "mm": bool(row.get("pixel_mm"))})
    return out


def pair_by_case(candidate_items: list[dict], baseline_items: list[dict], metric_names: tuple[str, ...]) -> list[dict]:
    """Average items per case for both models, paired by case key (same items, same order)."""
    sums: dict[str, dict] = {}
    for cand, base in zip(candidate_items, baseline_items):
        entry = sums.setdefault(cand["case_key"], {"case_key": cand["case_key"], "group": cand["group"], "n": 0,
                                                   **{f"{m}_{w}": 0.0 for m in metric_names
                                                      for w in ("candidate", "baseline")}})
        entry["n"] += 1
        for m in metric_names:
            entry[f"{m}_candidate"] += cand[m]
            entry[f"{m}_baseline"] += base[m]
    cases = []
    for entry in sums.values():
        for m in metric_names:
            for w in ("candidate", "baseline"):
                entry[f"{m}_{w}"] = round(entry[f"{m}_{w}"] / entry["n"], 5)
        cases.append(entry)
    return cases


def compare_segmentation(ctx: JobContext, candidate_engine, baseline_engine, rows: list[dict], *, candidate_id: int,
                         baseline_id: int, tolerance_mm: float = 2.0, golden_rows: list[dict] | None = None,
                         rule: DecisionRule = DecisionRule()) -> ComparisonResult:
    names = ("dice", "nsd")
    parts = [rows] + ([golden_rows] if golden_rows else [])
    total = sum(len(p) for p in parts) * 2 or 1
    done = 0

    def run(engine, subset):
        nonlocal done
        scored = score_segmentation(ctx, engine, subset, tolerance_mm, fraction=(done / total, (done + len(subset)) / total))
        done += len(subset)
        return scored

    cases = pair_by_case(run(candidate_engine, rows), run(baseline_engine, rows), names)
    overall, groups = _summaries(cases, names)
    golden = None
    if golden_rows:
        gcases = pair_by_case(run(candidate_engine, golden_rows), run(baseline_engine, golden_rows), names)
        golden = _summaries(gcases, names)[0]
    notes = []
    if any(not r.get("pixel_mm") for r in rows):
        notes.append(f"NSD tolerance {tolerance_mm:g} taken in pixels for items without a known pixel size")
    result = ComparisonResult("segmentation", candidate_id, baseline_id, "dice", overall, groups, cases, golden, notes)
    return decide(result, rule)


def compare_notes(candidate_drafts: list[str], baseline_drafts: list[str], rows: list[dict], *, candidate_id: int,
                  baseline_id: int, golden: tuple[list[str], list[str], list[dict]] | None = None,
                  rule: DecisionRule = DecisionRule(primary="rougeL")) -> ComparisonResult:
    """``rows``: note-dataset rows (``case_key``, ``template``, ``note``) in the drafts' order."""
    names = ("rougeL", "edit_similarity")

    def items(drafts, subset):
        return [{"case_key": r["case_key"], "group": r.get("template", ""), "rougeL": rouge_l(d, r["note"]),
                 "edit_similarity": edit_similarity(d, r["note"])} for d, r in zip(drafts, subset)]

    cases = pair_by_case(items(candidate_drafts, rows), items(baseline_drafts, rows), names)
    overall, groups = _summaries(cases, names)
    golden_summary = None
    if golden is not None:
        gc, gb, grows = golden
        golden_summary = _summaries(pair_by_case(items(gc, grows), items(gb, grows), names), names)[0]
    result = ComparisonResult("llm", candidate_id, baseline_id, "rougeL", overall, groups, cases, golden_summary)
    return decide(result, rule)


def compare_cases(kind: str, cases: list[dict], metric_names: tuple[str, ...], *, candidate_id: int,
                  baseline_id: int, rule: DecisionRule, notes: list[str] | None = None) -> ComparisonResult:
    """A/B result from already paired per-case rows (``{case_key, group, <m>_candidate, <m>_baseline}``, as
    :func:`pair_by_case` makes them), e.g. shadow cases scored against what the user accepted
    (:func:`medstation.training.shadow_outcomes.paired_cases`)."""
    overall, groups = _summaries(cases, metric_names)
    result = ComparisonResult(kind, candidate_id, baseline_id, rule.primary, overall, groups, cases, None,
                              list(notes or []))
    return decide(result, rule)


def decide(result: ComparisonResult, rule: DecisionRule) -> ComparisonResult:
    """The result with ``recommend_promote`` and a one-sentence ``reason`` filled in by ``rule``."""
    import dataclasses

    primary = result.overall[result.primary]
    reasons = []
    if primary["n"] < rule.min_cases:
        reasons.append(f"only {primary['n']} held-out cases (at least {rule.min_cases} needed)")
    elif primary["ci_low"] is None or primary["ci_low"] <= 0:
        reasons.append(f"the 95% CI of the {result.primary} difference "
                       f"[{primary['ci_low']:+.3f}, {primary['ci_high']:+.3f}] does not lie above zero")
    for group, summary in result.groups.items():
        if summary[result.primary]["mean_diff"] < -rule.max_group_drop:
            reasons.append(f"{group} drops by {-summary[result.primary]['mean_diff']:.3f} "
                           f"(more than {rule.max_group_drop:.3f})")
    if result.golden is not None and result.golden[result.primary]["mean_diff"] < -rule.golden_margin:
        reasons.append(f"the golden set regresses by {-result.golden[result.primary]['mean_diff']:.3f}")
    if reasons:
        return dataclasses.replace(result, recommend_promote=False, reason="Keep the active model: " + "; ".join(reasons) + ".")
    return dataclasses.replace(result, recommend_promote=True, reason=(
        f"Promote: {result.primary} +{primary['mean_diff']:.3f} (95% CI {primary['ci_low']:+.3f} to "
        f"{primary['ci_high']:+.3f}, Wilcoxon p={primary['p_value'] if primary['p_value'] is not None else float('nan'):.2g}) "
        f"on {primary['n']} cases; no modality drops by more than {rule.max_group_drop:.3f}."))


def summary_matrix(result: ComparisonResult, metric: str | None = None) -> tuple[list[str], np.ndarray]:
    """(group names, mean differences) for the heatmap of one metric (rows: groups, one column)."""
    metric = metric or result.primary
    names = list(result.groups)
    return names, np.array([[result.groups[g][metric]["mean_diff"]] for g in names], float)
