"""The promotion gate: may this candidate replace the active version, and why (not)?

A stored A/B comparison counts for a candidate only while it still describes the
choice the admin is making now:

* its baseline is the version that is active **now** (a comparison against a model
  that has since been replaced says nothing about the new one);
* its candidate is this version, with the same weights (sha256);
* it was made on the candidate's own dataset version (whose test split the
  candidate never trained on) when the candidate names one;
* it used the golden set the clinic has now (a newer golden snapshot, or a first
  one, needs a new comparison).

The newest comparison that counts is then judged again by today's decision rule
(:func:`medstation.training.comparison.ab.decide`: enough cases per modality, the CI and
the Wilcoxon test, no modality or golden-set drop), so a stored verdict made
under an older, weaker rule cannot promote anything. :class:`PromotionVerdict`
says all of this in plain words for the Admin tab and the command line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import select

from medstation.store.model_registry import ModelVersionInfo
from medstation.store.tables import ModelComparison, ModelKind, ModelStatus
from medstation.training import datasets
from medstation.training.comparison.ab import ComparisonResult, DecisionRule, decide
from medstation.training.comparison.notes import shipped_golden_rows

GATED_KINDS = (ModelKind.segmentation, ModelKind.llm)  # kinds whose promotion needs a recommending A/B


@dataclass(frozen=True)
class PromotionVerdict:
    """Whether ``version_id`` may be promoted without force; ``reasons`` are sentences for a person."""

    version_id: int
    allowed: bool
    reasons: list[str] = field(default_factory=list)
    comparison_id: int | None = None
    result: ComparisonResult | None = None

    def text(self) -> str:
        head = (f"#{self.version_id} may be promoted" if self.allowed
                else f"#{self.version_id} cannot be promoted without force")
        return head + (": " + "; ".join(self.reasons) + "." if self.reasons else ".")


def comparison_context(candidate: ModelVersionInfo, baseline: ModelVersionInfo, dataset_version_id: int | None,
                       golden: str) -> dict:
    """What a comparison was made on, stored with it (``ComparisonResult.context``) for the gate to check."""
    return {"candidate_sha256": candidate.sha256, "baseline_sha256": baseline.sha256,
            "dataset_version_id": dataset_version_id, "golden": golden}


def expected_groups(kind: ModelKind, version, result: ComparisonResult) -> list[str]:
    """Every modality (notes: template) of the dataset a comparison used (``version``; None: a CSV, whose groups
    are all present): one without held-out cases cannot be judged, and the decision says so."""
    if version is None:
        return sorted(result.groups)
    if ModelKind(kind) == ModelKind.llm:
        return sorted({r.get("template", "") for r in datasets.note_rows(version)})
    return sorted({r.get("modality") or r.get("source", "") for r in datasets.seg_rows(version)})


def golden_identity(db, kind: ModelKind | str, name: str) -> str:
    """Which golden set comparisons of ``kind`` use now: the newest snapshot of dataset ``name``, else (notes) the
    shipped golden notes by their content hash, else ``"none"``."""
    found = [v for v in datasets.list_versions(db) if v.name == name]
    if found:
        return f"dataset version {found[-1].id} ({found[-1].content_sha256[:12]})"
    if ModelKind(kind) == ModelKind.llm:
        import hashlib
        import json


        rows = json.dumps(shipped_golden_rows(), sort_keys=True).encode()
        return f"shipped golden notes ({hashlib.sha256(rows).hexdigest()[:12]})"
    return "none"


def stored_comparisons(db, candidate_id: int) -> list[tuple[int, int, int | None, ComparisonResult]]:
    """(comparison id, baseline id, dataset version id, result) of ``candidate_id``, newest first."""
    with db.session() as s:
        rows = s.exec(select(ModelComparison).where(ModelComparison.candidate_id == candidate_id)
                      .order_by(ModelComparison.id.desc())).all()
        return [(int(r.id), int(r.baseline_id), r.dataset_version_id, ComparisonResult.from_json(r.result))
                for r in rows]


def why_stale(version: ModelVersionInfo, active: ModelVersionInfo, baseline_id: int, dataset_version_id,
              result: ComparisonResult, golden: str) -> str | None:
    """Why a stored comparison no longer counts for promoting ``version`` over ``active`` (None: it counts)."""
    ctx = result.context or {}
    if baseline_id != active.id:
        return (f"it was made against #{baseline_id}, but #{active.id} is the active version now; compare again "
                f"with the active version")
    if ctx.get("candidate_sha256") not in (None, version.sha256) or result.candidate_id != version.id:
        return "it was made with other weights than this version's"
    trained_on = version.meta.get("dataset_version_id")
    if trained_on is not None and dataset_version_id is not None and int(dataset_version_id) != int(trained_on):
        return (f"it used dataset version {dataset_version_id}, but the candidate was trained on dataset version "
                f"{trained_on}; compare on the candidate's own held-out cases")
    if "golden" not in ctx:
        return "it does not record which golden set it used (made before the gate checked it); compare again"
    if ctx["golden"] != golden:
        return "the golden set has changed since it was made; compare again"
    return None


def promotion_verdict(db, version: ModelVersionInfo, active: ModelVersionInfo | None, rule: DecisionRule,
                      golden: str) -> PromotionVerdict:
    """The gate's verdict for promoting ``version`` now (``golden``: the identity of today's golden set)."""
    if version.kind not in GATED_KINDS:
        return PromotionVerdict(version.id, True, [f"{version.kind.value} models are not gated by an A/B"])
    if version.status != ModelStatus.candidate:
        return PromotionVerdict(version.id, False, [f"it is {version.status.value}; only candidates are promoted"])
    if active is None:
        return PromotionVerdict(version.id, True, [f"no {version.kind.value} model is active, so there is nothing "
                                                   "to compare it with"])
    comparisons = stored_comparisons(db, version.id)
    if not comparisons:
        return PromotionVerdict(version.id, False, [f"it has not been compared with the active version #{active.id} "
                                                    "yet; run Compare first"])
    stale = []
    for comparison_id, baseline_id, dataset_version_id, result in comparisons:
        why = why_stale(version, active, baseline_id, dataset_version_id, result, golden)
        if why is not None:
            stale.append((comparison_id, why))
            continue
        judged = decide(result, rule)  # today's rule, not the one in force when it was stored
        if judged.recommend_promote:
            return PromotionVerdict(version.id, True, [f"comparison #{comparison_id} recommends it: "
                                                       + judged.reason.removeprefix("Promote: ")],
                                    comparison_id, judged)
        failed = [c["text"] for c in judged.checks if not c["passed"]]
        return PromotionVerdict(version.id, False, [f"comparison #{comparison_id} advises against it"] + failed,
                                comparison_id, judged)
    newest_id, why = stale[0]
    return PromotionVerdict(version.id, False, [f"comparison #{newest_id} no longer counts: {why}"], newest_id)
