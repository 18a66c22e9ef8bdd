"""A/B comparison: candidate and baseline (the active version) on the same held-out cases.

Segmentation: both models segment every test-split item of a snapshot from its
box, through the viewer's engine (ONNX Runtime); per-case Dice and NSD (surface
Dice at ``tolerance_mm``, converted with the item's pixel size; items without one
use the tolerance in pixels and the result says so). Notes: per-case ROUGE-L and
edit similarity of each model's draft to the signed note.

:func:`decide` applies the decision rule (:class:`DecisionRule`, settings). It
recommends promotion only when every check holds, and writes each check in plain
words (``ComparisonResult.checks``):

* every modality (template) of the dataset has at least ``min_group_cases``
  held-out cases (a modality without them cannot be judged, so nothing is promoted);
* the 95 % bootstrap CI of the overall paired difference lies above zero, **and**
  the two-sided Wilcoxon signed-rank test gives p < ``alpha`` (the same two
  statistics the README names, both required);
* no modality (template) drops by more than ``max_group_drop``;
* the golden set does not regress by more than ``golden_margin``;
* nothing else made the scores meaningless (``blockers``, e.g. drafts that fell back).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from medstation.jobs import JobContext
from medstation.segmentation import images, metrics
from medstation.training.comparison.stats import PairedSummary, edit_similarity, paired_summary, rouge_l

SCHEMA_VERSION = 2  # 2: checks, expected_groups, blockers and context (what the comparison was made on)


@dataclass(frozen=True)
class DecisionRule:
    """``primary``: the metric the CI must favour; margins are absolute (Dice / ROUGE-L units).

    ``min_group_cases``: held-out cases every modality (template) needs before the comparison can judge
    it; ``alpha``: the Wilcoxon p-value the overall difference must stay below."""

    primary: str = "dice"
    max_group_drop: float = 0.02
    golden_margin: float = 0.01
    min_group_cases: int = 20
    alpha: float = 0.05


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
    checks: list[dict] = field(default_factory=list)  # [{"check", "passed", "text"}], in plain words
    expected_groups: list[str] = field(default_factory=list)  # every modality/template of the dataset
    blockers: list[str] = field(default_factory=list)  # reasons the scores do not measure the model
    context: dict = field(default_factory=dict)  # candidate/baseline sha256, dataset version, golden set

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> ComparisonResult:
        """A stored result (any schema version; unknown keys are ignored)."""
        return cls(**{k: v for k, v in dict(data).items() if k in cls.__dataclass_fields__})

    @property
    def group_word(self) -> str:
        return "template" if self.kind == "llm" else "modality"


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
    (:func:`medstation.training.canary.outcomes.paired_cases`)."""
    overall, groups = _summaries(cases, metric_names)
    result = ComparisonResult(kind, candidate_id, baseline_id, rule.primary, overall, groups, cases, None,
                              list(notes or []))
    return decide(result, rule)


def _fmt_p(p) -> str:
    return "n/a" if p is None else (f"{p:.2g}" if p >= 0.001 else "< 0.001")


def decision_checks(result: ComparisonResult, rule: DecisionRule) -> list[dict]:
    """Each check of ``rule`` on ``result``: ``{"check", "passed", "text"}``, the text in plain words."""
    metric = {"dice": "Dice", "rougeL": "ROUGE-L"}.get(result.primary, result.primary)
    word = result.group_word
    primary = result.overall[result.primary]
    checks = []

    def add(name: str, passed: bool, text: str) -> None:
        checks.append({"check": name, "passed": bool(passed), "text": text})

    counts = {g: s[result.primary]["n"] for g, s in result.groups.items()}
    missing = sorted(set(result.expected_groups) - set(counts))
    short = {g: n for g, n in counts.items() if n < rule.min_group_cases}
    for g in missing:
        add("cases", False, f"{g}: no held-out cases, so this comparison cannot judge {g}")
    for g, n in sorted(short.items()):
        add("cases", False, f"{g}: only {n} held-out case{'s' * (n != 1)}; at least {rule.min_group_cases} per "
                            f"{word} are needed to judge it")
    if not missing and not short:
        add("cases", bool(counts), f"every {word} has at least {rule.min_group_cases} held-out cases "
                                   f"({', '.join(f'{g} {n}' for g, n in sorted(counts.items())) or 'none'})")
    low, high = primary["ci_low"], primary["ci_high"]
    if low is None:
        add("interval", False, f"too few cases ({primary['n']}) for a confidence interval of the {metric} difference")
    else:
        above = low > 0
        add("interval", above, f"the 95% CI of the {result.primary} difference [{low:+.3f}, {high:+.3f}] "
                               + ("lies above zero" if above else "does not lie above zero"))
    p = primary["p_value"]
    significant = p is not None and p < rule.alpha and primary["mean_diff"] > 0
    if p is None:
        add("wilcoxon", False, "no case changed between the two models, so there is nothing to test")
    else:
        add("wilcoxon", significant, f"Wilcoxon signed-rank p = {_fmt_p(p)}" + (
            f" is below {rule.alpha:g}" if significant else f" is not below {rule.alpha:g}: the difference "
                                                             "could be chance"))
    drops = {g: -s[result.primary]["mean_diff"] for g, s in result.groups.items()
             if s[result.primary]["mean_diff"] < -rule.max_group_drop}
    for g, drop in sorted(drops.items()):
        add("group_drop", False, f"{g} drops by {drop:.3f} (more than {rule.max_group_drop:.3f})")
    if not drops:
        add("group_drop", True, f"no {word} drops by more than {rule.max_group_drop:.3f}")
    if result.golden is None:
        add("golden", True, "no golden set to check")
    else:
        gdiff = result.golden[result.primary]["mean_diff"]
        ok = gdiff >= -rule.golden_margin
        add("golden", ok, (f"the golden set changes by {gdiff:+.3f}" if ok else
                           f"the golden set regresses by {-gdiff:.3f}") + f" (margin {rule.golden_margin:.3f})")
    for blocker in result.blockers:
        add("blocker", False, blocker)
    return checks


def decide(result: ComparisonResult, rule: DecisionRule) -> ComparisonResult:
    """The result with ``checks``, ``recommend_promote`` and a one-sentence ``reason`` filled in by ``rule``."""
    checks = decision_checks(result, rule)
    failed = [c["text"] for c in checks if not c["passed"]]
    if failed:
        return replace(result, checks=checks, recommend_promote=False,
                                   reason="Keep the active model: " + "; ".join(failed) + ".")
    primary = result.overall[result.primary]
    return replace(result, checks=checks, recommend_promote=True, reason=(
        f"Promote: {result.primary} {primary['mean_diff']:+.3f} (95% CI {primary['ci_low']:+.3f} to "
        f"{primary['ci_high']:+.3f}, Wilcoxon p = {_fmt_p(primary['p_value'])}) on {primary['n']} cases; every "
        f"{result.group_word} has at least {rule.min_group_cases} cases and none drops by more than "
        f"{rule.max_group_drop:.3f}."))


def summary_matrix(result: ComparisonResult, metric: str | None = None) -> tuple[list[str], np.ndarray]:
    """(group names, mean differences) for the heatmap of one metric (rows: groups, one column)."""
    metric = metric or result.primary
    names = list(result.groups)
    return names, np.array([[result.groups[g][metric]["mean_diff"]] for g in names], float)
