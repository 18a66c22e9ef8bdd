"""``medstation ask`` end to end: a real (tiny) knowledge base, the real embedded model, JSON out."""

from __future__ import annotations

import json

from medstation.cli import main

DOCS = {
    "asthma.md": "# Asthma\n\nAsthma is a chronic disease that inflames and narrows the airways of the lungs. "
                 "Symptoms include wheezing, chest tightness, shortness of breath and coughing.\n",
    "diabetes.md": "# Diabetes\n\nDiabetes is a disease in which blood glucose levels are too high. Insulin, a hormone "
                   "made by the pancreas, helps glucose get into cells.\n",
}


def test_ask_answers_with_sources_from_a_real_knowledge_base(tmp_path, capsys):
    assert main(["ask", "What is asthma?"]) == 2  # nothing ingested yet: a plain refusal, no model run
    assert "Knowledge base is empty" in capsys.readouterr().err

    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text)
    assert main(["kb", "ingest", str(docs)]) == 0
    capsys.readouterr()

    assert main(["ask", "What are the symptoms of asthma?", "--json", "--k", "2", "--max-tokens", "24"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "complete" and out["answer"]
    prov = out["provenance"]
    assert prov["passages"][0]["title"] == "Asthma"  # the real retriever ranked the right document first
    assert prov["kb_version_id"] >= 1 and prov["model"]["model_version_id"] >= 1
    assert prov["retrieval"]["k"] == 2 and len(prov["passages"]) == 2
    for citation in out["citations"] + out["matched"]:
        assert citation["doc_id"].endswith(".md") and citation["title"] in ("Asthma", "Diabetes")
    assert out["label"].startswith("AI draft")

