"""A/B of note-drafting versions: paired ROUGE-L / edit similarity per case, the decision, and the promotion gate.

The drafters here are tiny fakes (a callable per model that returns a note text), so the statistics and
the gate are tested without an LLM; the slow test in tests/e2e/test_llm_ab_loop.py drafts with the real
Notes pipeline and a trained LoRA adapter.
"""

from __future__ import annotations

import pytest

from medstation.jobs import JobContext
from medstation.training.comparison.ab import DecisionRule
from medstation.training.comparison.notes import (DraftOutcome, compare_llm_versions, drop_trained_on,
                                                  shipped_golden_rows)
from medstation.training.comparison.stats import edit_similarity, rouge_l

REFERENCES = [
    "S: Client slept five hours a night, worried about the new job. P: Keep a sleep diary.",
    "S: Argued with father about money; went for a walk instead of texting. P: Role play next week.",
    "S: Mood better, gym three times; one low day after a meeting. P: Continue thought records.",
    "S: Drinking four beers a night since the divorce; late to work twice. P: Track drinks for a week.",
    "S: Baby up all night; cries when partner leaves; denies self-harm. P: Sister stays on Fridays.",
    "S: Panic attack on the bus on Monday; left at the next stop. P: Practise paced breathing daily.",
]


def _rows(templates=("soap", "soap", "soap", "dap", "dap", "dap")):
    return [{"case_key": f"case{i}", "template": t, "transcript": f"[therapist] hello {i}\n[client] hi",
             "note": ref} for i, (t, ref) in enumerate(zip(templates, REFERENCES))]


def _drafter(texts: dict[str, str], *, fallback: bool = False, seen: list | None = None):
    def draft(ctx, row):
        ctx.check()
        if seen is not None:
            seen.append(row["case_key"])
        return DraftOutcome(texts[row["case_key"]], fallback=fallback)
    return draft


def _half(text: str) -> str:
    words = text.split()
    return " ".join(words[: len(words) // 2])


def test_paired_per_case_metrics_and_a_recommendation():
    rows = _rows()
    good = {r["case_key"]: r["note"].replace(" P:", " Plan:") for r in rows}  # near the reference
    weak = {r["case_key"]: _half(r["note"]) for r in rows}
    seen: list = []
    result = compare_llm_versions(JobContext(), _drafter(good, seen=seen), _drafter(weak), rows,
                                  candidate_id=7, baseline_id=3,
                                  rule=DecisionRule(primary="rougeL", min_group_cases=3))  # (6 written cases)
    assert seen == [r["case_key"] for r in rows]  # every held-out case drafted once, in order
    case = next(c for c in result.cases if c["case_key"] == "case2")
    assert case["rougeL_candidate"] == round(rouge_l(good["case2"], REFERENCES[2]), 5)
    assert case["edit_similarity_baseline"] == round(edit_similarity(weak["case2"], REFERENCES[2]), 5)
    primary = result.overall["rougeL"]
    assert primary["n"] == 6 and primary["mean_diff"] > 0.2 and primary["ci_low"] > 0
    assert set(result.groups) == {"soap", "dap"} and result.groups["dap"]["rougeL"]["n"] == 3
    assert result.kind == "llm" and result.primary == "rougeL" and result.recommend_promote
    assert result.reason.startswith("Promote: rougeL +")


def test_a_template_that_drops_blocks_promotion():
    rows = _rows()
    candidate = {r["case_key"]: (r["note"] if r["template"] == "soap" else _half(_half(r["note"]))) for r in rows}
    baseline = {r["case_key"]: (_half(r["note"]) if r["template"] == "soap" else _half(r["note"])) for r in rows}
    result = compare_llm_versions(JobContext(), _drafter(candidate), _drafter(baseline), rows, candidate_id=2,
                                  baseline_id=1, rule=DecisionRule(primary="rougeL", max_group_drop=0.02))
    assert not result.recommend_promote and "dap drops by" in result.reason
    assert result.groups["soap"]["rougeL"]["mean_diff"] > 0 > result.groups["dap"]["rougeL"]["mean_diff"]


def test_golden_regression_and_fallback_drafts_refuse():
    rows = _rows()
    golden = [{**r, "case_key": f"g{r['case_key']}", "template": "soap"} for r in rows[:3]]
    texts = {r["case_key"]: r["note"] for r in rows + golden}
    worse_golden = {**texts, **{g["case_key"]: _half(g["note"]) for g in golden}}
    weak = {k: _half(v) for k, v in texts.items()}
    weak.update({g["case_key"]: g["note"] for g in golden})
    regress = compare_llm_versions(JobContext(), _drafter(worse_golden), _drafter(weak), rows, candidate_id=2,
                                   baseline_id=1, golden_rows=golden)
    assert regress.overall["rougeL"]["ci_low"] > 0 and regress.golden["rougeL"]["n"] == 3
    assert not regress.recommend_promote and "golden set regresses by" in regress.reason
    fell_back = compare_llm_versions(JobContext(), _drafter(texts, fallback=True), _drafter(weak), rows,
                                     candidate_id=2, baseline_id=1)
    assert not fell_back.recommend_promote and "6 candidate drafts fell back" in fell_back.reason


def test_shipped_golden_set_is_readable_and_kept_out_of_training():
    golden = shipped_golden_rows()
    assert len(golden) == 5 and {g["template"] for g in golden} == {"soap", "dap", "birp"}
    assert all(g["case_key"].startswith("golden:") and len(g["note"]) > 100 for g in golden)
    kept, dropped = drop_trained_on(golden, [{"transcript": golden[1]["transcript"] + "  "}])
    assert dropped == 1 and golden[1] not in kept and len(kept) == 4


def _notes_snapshot(db, settings, n_test: int = 4):
    """A notes snapshot with at least ``n_test`` cases in the test split (the split is a hash of the key)."""
    from medstation.training.datasets import build_snapshot
    from medstation.training.datasets.items import NoteItem
    from medstation.training.datasets.splits import split_of

    items, k = [], 0
    while sum(split_of(i.case_key) == "test" for i in items) < n_test or len(items) < 8:
        key = f"{k:016x}"
        ref = REFERENCES[k % len(REFERENCES)] + f" Session {k}."
        items.append(NoteItem(key, "clinic", "soap", f"[therapist] how was the week {k} ?\n[client] " + ref * 2, ref))
        k += 1
    return build_snapshot(JobContext(), db, settings.home, name="clinic-notes", kind="notes", origin="clinic",
                          items=items)


def test_promote_gate_for_an_llm_candidate(db, settings, monkeypatch):
    from medstation.access.roles import Actor, Role, UserSession
    from medstation.errors import UserFacingError
    from medstation.store.model_registry import ModelRegistry
    from medstation.training import datasets
    from medstation.training.service import TrainingService

    registry = ModelRegistry(db)
    (settings.home / "base.gguf").write_bytes(b"base")
    (settings.home / "lora.gguf").write_bytes(b"adapter")
    version = _notes_snapshot(db, settings, n_test=6)  # six all-better cases: the least giving Wilcoxon p < 0.05
    base = registry.register("llm", "SmolLM2", settings.home / "base.gguf", status="active")
    cand = registry.register("llm", "LoRA", settings.home / "lora.gguf", parent_id=base.id,
                             meta={"adapter": True, "dataset_version_id": version.id})
    settings.ab_min_cases_per_group = 6  # (the default 20 would need 130-odd written notes here)
    service = TrainingService(settings=settings, db=db, session=UserSession(Actor("ann", Role.admin)),
                              registry=registry)
    test_rows = datasets.note_rows(version, ("test",))
    train_keys = {r["case_key"] for r in datasets.note_rows(version, ("train", "val"))}
    drafted: dict[int, list[str]] = {base.id: [], cand.id: []}

    def fake_drafter(v):  # candidate reproduces the signed note; the active model half of it
        def draft(ctx, row):
            drafted[v.id].append(row["case_key"])
            return DraftOutcome(row["note"] if v.id == cand.id else _half(row["note"]))
        return draft

    monkeypatch.setattr(service, "notes_drafter", fake_drafter)
    with pytest.raises(UserFacingError, match=f"#{cand.id} cannot be promoted without force: it has not been "
                                              "compared"):
        service.promote(cand.id)
    with pytest.raises(UserFacingError, match="needs a reason"):
        service.promote(cand.id, force=True)

    comparison_id, result = service.compare(JobContext(), cand.id)
    n_golden = len(shipped_golden_rows())
    for version_id in (base.id, cand.id):  # test split then golden set; never a training case
        assert drafted[version_id][: len(test_rows)] == [r["case_key"] for r in test_rows]
        assert len(drafted[version_id]) == len(test_rows) + n_golden
        assert not set(drafted[version_id]) & train_keys
    assert result.recommend_promote and result.overall["rougeL"]["n"] == len(test_rows)
    assert registry.get(cand.id).metrics["ab_comparison_id"] == comparison_id
    assert service.latest_comparison(cand.id)[0] == comparison_id

    import csv

    train_row = datasets.note_rows(version, ("train",))[0]
    held_out = settings.home / "held_out.csv"
    with held_out.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["dataset", "encounter_id", "dialogue", "note"])
        for n, r in enumerate(test_rows[:3] + [train_row]):
            writer.writerow(["clinic", f"E{n}", r["transcript"], r["note"]])
    _, via_csv = service.compare(JobContext(), cand.id, csv_path=held_out)
    assert via_csv.overall["rougeL"]["n"] == 3 and set(via_csv.groups) == {"clinical note"}
    assert "1 held-out cases were in the candidate's training split and were left out" in via_csv.notes
    with pytest.raises(UserFacingError, match="clinical note: only 3 held-out cases"):  # the newest comparison
        service.promote(cand.id)

    service.compare(JobContext(), cand.id)
    assert service.promote(cand.id).id == cand.id
    assert registry.active("llm").id == cand.id
    actions = [a for (a,) in db.engine.connect().exec_driver_sql("select action from audit_event")]
    assert "model.compare" in actions and "admin.promote" in actions


def test_forced_llm_promotion_is_audited_with_its_reason(db, settings):
    import json

    from medstation.access.roles import Actor, Role, UserSession
    from medstation.store.model_registry import ModelRegistry
    from medstation.training.service import TrainingService

    registry = ModelRegistry(db)
    (settings.home / "base.gguf").write_bytes(b"base")
    (settings.home / "lora.gguf").write_bytes(b"adapter")
    registry.register("llm", "SmolLM2", settings.home / "base.gguf", status="active")
    cand = registry.register("llm", "LoRA", settings.home / "lora.gguf")
    service = TrainingService(settings=settings, db=db, session=UserSession(Actor("ann", Role.admin)),
                              registry=registry)
    service.promote(cand.id, force=True, reason="vendor-validated adapter")
    with db.engine.connect() as conn:
        (detail,) = conn.exec_driver_sql(
            "select detail from audit_event where action = 'admin.promote' order by id desc").first()
    detail = json.loads(detail) if isinstance(detail, str) else detail
    assert detail["forced"] is True and detail["reason"] == "vendor-validated adapter"
