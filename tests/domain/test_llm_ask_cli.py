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
    assert main(["ask", "What is asthma?"]) == 2  # nothing ingested yet (starter set off in tests): a plain refusal
    assert "Knowledge base is empty" in capsys.readouterr().err
    assert main(["ask", "What is asthma?", "--json"]) == 2
    refused = json.loads(capsys.readouterr().out)
    assert refused["status"] == "error" and "Knowledge base is empty" in refused["error"]

    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text)
    assert main(["kb", "ingest", str(docs)]) == 0
    capsys.readouterr()

    assert main(["ask", "What are the symptoms of asthma?", "--json", "--k", "2"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "answered" and out["mode"] == "grounded"
    assert out["answer"] == "Symptoms include wheezing, chest tightness, shortness of breath and coughing [1]."
    assert out["sentences"] == [{"text": "Symptoms include wheezing, chest tightness, shortness of breath and "
                                         "coughing.", "supported": True, "citations": [1]}]
    assert [p["n"] for p in out["passages"]] == [1, 2] and out["passages"][0]["doc_id"].endswith("asthma.md")
    assert set(out["passages"][0]) >= {"n", "doc_id", "url", "text"}

    assert main(["ask", "How do I change a bicycle tire?", "--json"]) == 0
    off = json.loads(capsys.readouterr().out)
    assert off["status"] == "not_in_knowledge_base" and off["sentences"] == [] and off["passages"] == []
    assert off["answer"].startswith("Not in the knowledge base.")

    assert main(["ask", "What is diabetes?", "--json", "--answer-mode", "generative", "--max-tokens", "8"]) == 0
    gen = json.loads(capsys.readouterr().out)
    assert gen["mode"] == "generative" and gen["status"] == "answered" and gen["answer"]
    for sentence in gen["sentences"]:
        assert sentence["supported"] == bool(sentence["citations"])
    assert gen["truncated"] == gen["notice"].startswith("The answer reached")
