"""Retrieval metrics on known cases, and the fixed ``medstation kb`` command-line interface."""

from __future__ import annotations

import json

import pytest

from medstation.cli import main
from medstation.jobs import JobContext
from medstation.rag.evaluation import dedupe, evaluate, reciprocal_rank
from medstation.rag.types import Passage
from tests.domain.test_rag_sources import write_corpus


class RankedAnswers:
    """A service whose search returns fixed document rankings per question (tests the arithmetic only)."""

    def __init__(self, rankings):
        self.rankings = rankings

    def search(self, query, k=5, mode="hybrid"):
        return [
            Passage(chunk_id=f"{d}#{i}", doc_id=d, title="", url="", source=src, text="", score=1.0 / i, rank=i)
            for i, (src, d) in enumerate(self.rankings[query][:k], 1)
        ]

    def current_version(self):
        return None


def test_metrics_are_exact_on_a_known_ranking(tmp_path):
    questions = tmp_path / "q.jsonl"
    rows = [
        {"question": "first", "doc_id": "A", "source": "S1"},   # rank 1
        {"question": "second", "doc_id": "B", "source": "S1"},  # rank 2 after deduping A twice; strict rank 3
        {"question": "third", "doc_id": "C"},                   # absent
        {"question": "", "doc_id": "D"},                        # skipped: no question
        {"doc_id": "E"},                                        # skipped
    ]
    questions.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    service = RankedAnswers({
        "first": [("S1", "A"), ("S1", "B")],
        "second": [("S1", "A"), ("S1", "A"), ("S2", "B"), ("S1", "B")],
        "third": [("S1", "A"), ("S1", "B")],
    })
    summary = evaluate(JobContext(), service, questions, tmp_path / "out", k=5, mode="bm25")
    assert (summary.n, summary.skipped, summary.k, summary.mode) == (3, 2, 5, "bm25")
    assert summary.hit_at_1 == pytest.approx(1 / 3)
    assert summary.hit_at_k == pytest.approx(2 / 3)
    assert summary.mrr == pytest.approx((1 + 1 / 2 + 0) / 3)
    assert summary.strict_n == 2 and summary.strict_mrr == pytest.approx((1 + 1 / 3) / 2)
    per_q = [json.loads(line) for line in (tmp_path / "out" / "per_question.jsonl").read_text().splitlines()]
    assert [r["retrieved"] for r in per_q] == [["A", "B"], ["A", "B"], ["A", "B"]]
    assert [r["rank"] for r in per_q] == [1, 2, None]
    saved = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert saved["hit@1"] == pytest.approx(1 / 3) and saved["hit@5"] == pytest.approx(2 / 3)


def test_dedupe_and_reciprocal_rank():
    assert dedupe(["a", "b", "a", "c", "b"]) == ["a", "b", "c"]
    assert reciprocal_rank("c", ["a", "b", "c"]) == pytest.approx(1 / 3)
    assert reciprocal_rank("z", ["a"]) == 0.0


def test_cli_ingest_query_eval_status(tmp_path, capsys):
    assert main(["kb", "status"]) == 0
    assert "no knowledge-base version" in capsys.readouterr().out
    assert main(["kb", "query", "gout", "--json"]) == 1
    assert "empty" in capsys.readouterr().err

    corpus = write_corpus(tmp_path / "corpus")
    assert main(["kb", "ingest", str(corpus)]) == 0
    out = capsys.readouterr().out
    assert "knowledge base v1 (complete): 7 documents" in out and "added 7" in out

    assert main(["kb", "query", "Borrelia tick bite", "--k", "2", "--json", "--mode", "dense"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["mode"] == "dense" and result["kb_version"] == 1 and len(result["passages"]) == 2
    top = result["passages"][0]
    assert (top["doc_id"], top["source"], top["url"], top["rank"]) == ("0000101", "CDC", "https://cdc.example/lyme", 1)

    questions = tmp_path / "questions.jsonl"
    questions.write_text("\n".join(json.dumps(r) for r in [
        {"question": "Which crystals cause arthritis of the big toe?", "doc_id": str(corpus.resolve() / "gout.html")},
        {"question": "How is Lyme disease spread?", "doc_id": "0000101", "source": "CDC"},
        {"question": "What is progeria?", "doc_id": "not-in-the-knowledge-base"},
        {"doc_id": "0000202"},
    ]) + "\n")
    assert main(["kb", "eval", "--questions", str(questions), "--k", "3", "--out", str(tmp_path / "ev")]) == 0
    capsys.readouterr()
    summary = json.loads((tmp_path / "ev" / "summary.json").read_text())
    assert (summary["n"], summary["skipped"], summary["mode"]) == (3, 1, "hybrid")
    assert summary["hit@1"] == pytest.approx(2 / 3) and summary["mrr"] == pytest.approx(2 / 3)
    assert summary["kb_version"]["id"] == 1 and summary["kb_version"]["doc_count"] == 7
    assert len((tmp_path / "ev" / "per_question.jsonl").read_text().splitlines()) == 3

    assert main(["kb", "status"]) == 0
    assert "knowledge base v1 (complete)" in capsys.readouterr().out
