"""The strict support check, grounded quoting, the not-in-knowledge-base gate, markup removal, case findings."""

from __future__ import annotations

from medstation.llm.answer.citations import validate_citations
from medstation.llm.answer.grounded import quotes_text, select_quotes
from medstation.llm.answer.markup import strip_model_markup
from medstation.llm.answer.reasoning import CaseDescription, grounded_differential, keep_item, parse_differential
from medstation.llm.answer.relevance import judge_relevance
from medstation.llm.support import check_answer, cited_in
from medstation.rag.types import Passage

PV = ("Polycythemia vera is a rare blood disease in which your body makes too many red blood cells. "
      "Signs and symptoms include headache, dizziness, itching and tiredness. Treatment may include phlebotomy. "
      "The disease is found in 2 of 100,000 people.")


def passage(n, title, text, sim=None):
    return Passage(f"c{n}", f"d{n}", title, f"https://x/{n}", "test", text, 1.0 / n, n,
                   {"dense_sim": sim} if sim is not None else {})


def test_overlapping_words_are_not_support_only_the_passage_saying_it_is():
    texts = [f"Polycythemia Vera\n{PV}"]
    invented, true, number, negated = check_answer(
        "Polycythemia vera is treated with erythropoietin [1]. Symptoms include headache and dizziness [12]. "
        "It is found in 3 of 100,000 people. Polycythemia vera does not include itching.", texts)
    # shares most words with the passage (the old 60 % overlap called it supported), but "erythropoietin" is not there
    assert not invented.supported and invented.citations == () and "erythropoietin" in invented.missing
    assert invented.model_citations == (1,)
    # supported, and [12] (no such passage) never counts as citing passage 1
    assert true.supported and true.citations == (1,) and true.model_citations == ()
    assert not number.supported and number.missing == ("3",)
    assert not negated.supported and negated.missing == ("not",)


def test_citation_numbers_are_parsed_not_prefix_matched():
    assert cited_in("Fact [12].") == (12,) and cited_in("Fact [1, 3-4].") == (1, 3, 4)
    assert 1 not in cited_in("Fact [12].")


def test_grounded_answer_quotes_passage_sentences_with_exact_citations():
    passages = [passage(1, "Asthma", "Asthma is a chronic disease of the airways. Symptoms include wheezing, "
                                     "coughing and chest tightness."),
                passage(2, "Polycythemia Vera", PV)]
    quotes = select_quotes("What are the symptoms of polycythemia vera?", passages)
    text = quotes_text(quotes)
    assert "Signs and symptoms include headache, dizziness, itching and tiredness [2]." in text
    for sentence in check_answer(text, [f"{p.title}\n{p.text}" for p in passages]):
        assert sentence.supported and sentence.citations[0] == next(q.n for q in quotes if q.text[:20] in
                                                                     sentence.text + ".")


def test_relevance_gate_refuses_off_topic_and_uncovered_questions():
    passages = [passage(1, "Polycythemia Vera", PV, sim=0.72)]
    assert judge_relevance("What are the symptoms of polycythemia vera?", passages).relevant
    off = judge_relevance("What is the capital of France?", [passage(1, "Asthma", "Asthma ...", sim=0.2)])
    assert not off.relevant and off.missing_terms == ("capital", "france")
    uncovered = judge_relevance("What are the symptoms of Zellweger syndrome?", [passage(1, "Asthma", "x", 0.48)])
    assert not uncovered.relevant and uncovered.topic_coverage == 0.0
    assert not judge_relevance("asthma?", []).relevant


def test_model_markup_never_reaches_the_answer():
    raw = '<passage id="1" title="Asthma" source="x">Asthma narrows airways.</passage> <|im_end|>Done [2].'
    cleaned = strip_model_markup(raw)
    assert "<" not in cleaned and "passage" not in cleaned and "im_end" not in cleaned
    assert validate_citations(cleaned, 2).cited == (1, 2)


def test_absent_findings_are_never_present_and_differential_items_are_not_the_symptoms():
    case = CaseDescription(symptoms="fatigue, night sweats", findings="no lymphadenopathy, splenomegaly")
    present = {f.text: f.present for f in case.findings_list()}
    assert present == {"fatigue": True, "night sweats": True, "lymphadenopathy": False, "splenomegaly": True}
    passages = [passage(1, "Fatigue", "Fatigue is tiredness. Many conditions cause fatigue and night sweats."),
                passage(2, "Hodgkin Lymphoma", "Hodgkin lymphoma causes swollen lymph nodes, night sweats and "
                                               "fatigue. Lymphadenopathy is common in Hodgkin lymphoma."),
                passage(3, "Polycythemia Vera", PV + " An enlarged spleen (splenomegaly) and night sweats occur.")]
    items = grounded_differential(case, passages, lambda q, texts: [len(t) for t in texts])
    assert [i.diagnosis for i in items] == ["Hodgkin Lymphoma", "Polycythemia Vera"]  # "Fatigue" is a symptom
    hodgkin = items[0]
    assert "lymphadenopathy" not in hodgkin.supporting_findings and hodgkin.absent_findings_named == ("lymphadenopathy",)
    assert hodgkin.citations == (2,)
    texts = [p.text for p in passages]
    parsed = parse_differential("1. Night sweats — common\n2. Hodgkin lymphoma — fits [2]\n3. CMML — hair cells [1]",
                                3, case, texts)
    assert [i.diagnosis for i in parsed] == ["Hodgkin lymphoma"]  # the symptom and the invented one are dropped
    assert not keep_item("Lymphadenopathy", case, texts)


def test_contradictions_from_issue_19_are_not_supported():
    # fails on 1c99c71: the bag-of-words check supported all three (negation, before/after, swapped roles)
    texts = ["Reye Syndrome\nAspirin is not recommended for children and teenagers under 16.",
             "Take the tablet 30 minutes before meals.",
             "Women are more likely than men to develop lupus."]
    wrong = check_answer("Aspirin is recommended for children. Take the tablet 30 minutes after meals. "
                         "Men are more likely than women to develop lupus.", texts)
    assert [s.supported for s in wrong] == [False, False, False]
    assert "not recommended" in wrong[0].reason and "before" in wrong[1].reason and "swapped" in wrong[2].reason
    right = check_answer("Aspirin is not recommended for children under 16 [1]. Women are more likely than men "
                         "to develop lupus [1].", texts)
    assert [(s.supported, s.citations) for s in right] == [(True, (1,)), (True, (3,))]  # citation corrected


def test_a_rationale_keeps_its_citation_only_when_the_passage_states_it():
    texts = ["Gout\nGout is caused by uric acid crystals in the joints. It is more common in men than in women."]
    case = CaseDescription(symptoms="painful swollen toe")
    items = parse_differential("1. Gout — more common in women than in men [1]\n"
                               "2. Gout — caused by uric acid crystals in the joints [1]", 1, case, texts)
    assert [(i.citations, i.rationale_supported) for i in items] == [((), False), ((1,), True)]
