"""Grounded answers pick the starter knowledge base's units that answer the question's type.

Passages are real chunks of resources/starter_kb/medquad_starter.jsonl, cut by the
ingestion chunker exactly as the knowledge base stores them, handed over in an
order a retriever could return them (the asked-for answer is not always first).
Similarity is the word-overlap scorer (no model load): what is tested is the
question-type cue, list handling, heading/fragment rejection and focus preference.
"""

from __future__ import annotations

from functools import lru_cache

import pytest

from medstation.config import resources_dir
from medstation.llm.answer.grounded import quotes_text, select_quotes
from medstation.llm.answer.passage_units import passage_units
from medstation.llm.answer.question_cues import QuestionType, classify
from medstation.llm.support import check_answer
from medstation.rag.ingest import plan_chunks
from medstation.rag.sources import read_medquad_jsonl
from medstation.rag.types import Passage

CHUNK_CHARS, CHUNK_OVERLAP = 1200, 200  # the settings' defaults (kb_chunk_chars / kb_chunk_overlap)


@lru_cache(maxsize=1)
def _starter_chunks() -> dict:
    path = resources_dir() / "starter_kb" / "medquad_starter.jsonl"
    return {c.chunk_id: c for doc in read_medquad_jsonl(path) for c in plan_chunks(doc, CHUNK_CHARS, CHUNK_OVERLAP)}


def starter(*chunk_ids: str) -> list[Passage]:
    chunks = _starter_chunks()
    return [Passage(cid, chunks[cid].meta["doc_id"], chunks[cid].meta["title"], chunks[cid].meta["url"],
                    chunks[cid].meta["source"], chunks[cid].text, 1.0 / rank, rank)
            for rank, cid in enumerate(chunk_ids, start=1)]


def answer(question: str, passages: list[Passage]) -> str:
    text = quotes_text(select_quotes(question, passages))
    # every quote is exactly cited: the support check finds it in the passage the answer names
    checked = check_answer(text, [f"{p.title}\n{p.text}" for p in passages])
    assert checked and all(s.supported for s in checked), checked
    return text


ASTHMA_MPLUS = "MPlusHealthTopics/0000065#0-0000065-1#0"
ASTHMA_OUTLOOK = "NHLBI/0000010#0-0000010-1#1"  # "Asthma" / "Outlook" headings, "They have few, if any, symptoms."
ASTHMA_SYMPTOMS = "NHLBI/0000010#3-0000010-4#0"
ASTHMA_DIAGNOSIS = "NHLBI/0000010#4-0000010-5#0"


@pytest.mark.parametrize("question, kind, focus", [
    ("What are the symptoms of asthma?", QuestionType.symptoms, {"asthma"}),
    ("What are the treatments for asthma?", QuestionType.treatment, {"asthma"}),
    ("What causes high blood pressure?", QuestionType.causes, {"high", "blood", "pressure"}),
    ("How is anemia diagnosed?", QuestionType.diagnosis, {"anemia"}),
    ("What is the outlook for heart failure?", QuestionType.prognosis, {"heart", "failure"}),
    ("Is hemophilia inherited?", QuestionType.inheritance, {"hemophilia"}),
    ("How can I prevent osteoporosis?", QuestionType.prevention, {"osteoporosis"}),
    ("How many people are affected by sickle cell disease?", QuestionType.frequency, {"sickle", "cell", "disease"}),
    ("What is COPD?", QuestionType.definition, {"copd"}),
])
def test_question_type_and_focus(question, kind, focus):
    intent = classify(question)
    assert intent.kind is kind and intent.focus == frozenset(focus)


def test_inline_list_is_one_unit_with_its_lead_in_and_the_run_on_sentence_is_cut_off():
    units = passage_units(starter(ASTHMA_MPLUS)[0].text)
    listed = [u for u in units if u.is_list]
    assert [u.text for u in listed] == ["Symptoms of asthma include: Wheezing; Coughing, especially early in the "
                                        "morning or at night; Chest tightness; Shortness of breath."]
    # the sentence the MedlinePlus list runs into stands on its own, not glued to the last item
    assert "Not all people who have asthma have these symptoms." in [u.text for u in units]


def test_line_lists_keep_their_lead_in_and_headings_become_sections():
    units = passage_units(starter(ASTHMA_SYMPTOMS)[0].text)
    assert units[0].text == "Common signs and symptoms of asthma include: Coughing; Wheezing; Chest tightness; " \
                            "Shortness of breath."
    outlook = passage_units(starter(ASTHMA_OUTLOOK)[0].text)
    texts = [u.text for u in outlook]
    assert "Asthma" not in texts and "Outlook" not in texts
    assert next(u for u in outlook if u.text == "Asthma has no cure.").section == "Outlook"


def test_symptoms_question_quotes_the_symptom_list_not_a_stray_mention_or_a_heading():
    text = answer("What are the symptoms of asthma?", starter(ASTHMA_MPLUS, ASTHMA_OUTLOOK, ASTHMA_DIAGNOSIS))
    assert text.startswith("Symptoms of asthma include: Wheezing; Coughing, especially early in the morning or at "
                           "night; Chest tightness; Shortness of breath [1].")
    assert "They have few, if any, symptoms" not in text  # names symptoms, answers nothing
    assert "Other times" not in text and "Outlook" not in text and "Diagnosing Asthma in Young Children" not in text
    assert "factors seem to trigger your symptoms" not in text  # what the doctor asks is not a symptom


def test_symptoms_of_the_asked_condition_win_over_a_neighbours_list():
    passages = starter("NHLBI/0000002#3-0000002-5#0", "NHLBI/0000061#3-0000061-5#0")  # anemia first, then heart failure
    text = answer("What are the signs and symptoms of heart failure?", passages)
    assert text.startswith("The most common signs and symptoms of heart failure are: Shortness of breath or trouble "
                           "breathing; Fatigue (tiredness); Swelling in the ankles, feet, legs, abdomen, and veins in "
                           "the neck [2].")
    assert "anemia" not in text


def test_treatment_question_quotes_what_asthma_is_treated_with():
    text = answer("What are the treatments for asthma?", starter(ASTHMA_SYMPTOMS, ASTHMA_MPLUS))
    assert ("Asthma is treated with two kinds of medicines: quick-relief medicines to stop asthma symptoms and "
            "long-term control medicines to prevent symptoms [2].") in text
    assert "Coughing; Wheezing" not in text


def test_causes_question_keeps_the_factor_list_with_its_lead_in():
    text = answer("What causes asthma?", starter(ASTHMA_SYMPTOMS, "NHLBI/0000010#1-0000010-2#0"))
    assert "The exact cause of asthma isn't known [2]." in text
    assert ("These factors include: An inherited tendency to develop allergies, called atopy (AT-o-pe); Parents "
            "who have asthma; Certain respiratory infections during childhood") in text
    assert "The \"Hygiene Hypothesis\"" not in text  # a heading


def test_diagnosis_question_quotes_how_the_doctor_diagnoses():
    passages = starter("NHLBI/0000002#3-0000002-5#0", "NHLBI/0000002#4-0000002-6#0")
    text = answer("How is anemia diagnosed?", passages)
    assert ("Your doctor will diagnose anemia based on your medical and family histories, a physical exam, and "
            "results from tests and procedures [2].") in text
    assert "fatigue" not in text  # the symptom passage came first, but does not say how anemia is diagnosed


def test_prognosis_question_quotes_the_outlook_not_the_overview():
    text = answer("What is the outlook for heart failure?", starter("NHLBI/0000061#0-0000061-1#1"))
    assert "Currently, heart failure has no cure [1]." in text
    assert "The leading causes of heart failure" not in text and "Outlook" not in text


def test_inheritance_question_quotes_that_it_is_inherited():
    passages = starter("NHLBI/0000069#2-0000069-4#0", "MPlusHealthTopics/0000455#0-0000455-1#0")
    text = answer("Is hemophilia inherited?", passages)
    assert "It is usually inherited [2]." in text
    assert "excessive bleeding and easy bruising" not in text


def test_prevention_question_quotes_the_advice():
    text = answer("How can I prevent osteoporosis?", starter("MPlusHealthTopics/0000669#0-0000669-1#0"))
    assert "To keep bones strong, eat a diet rich in calcium and vitamin D, exercise and do not smoke [1]." in text
    assert "Risk factors include" not in text


def test_frequency_question_quotes_the_counts():
    passages = starter("NHLBI/0000117#0-0000117-1#0", "NHLBI/0000117#2-0000117-4#0")
    text = answer("How many people are affected by sickle cell disease?", passages)
    assert "Approximately 100,000 Americans have SCD [2]." in text
    assert "Hemoglobin is a protein" not in text


def test_definition_question_quotes_what_it_is():
    text = answer("What is COPD?", starter("MPlusHealthTopics/0000232#0-0000232-1#0"))
    assert text.startswith("COPD (chronic obstructive pulmonary disease) makes it hard for you to breathe [1].")


def test_every_quoted_piece_is_the_passages_own_words():
    passages = starter(ASTHMA_MPLUS, ASTHMA_SYMPTOMS, "NHLBI/0000010#1-0000010-2#0")
    for question in ("What are the symptoms of asthma?", "What causes asthma?"):
        for quote in select_quotes(question, passages):
            source = passages[quote.n - 1].text
            pieces = quote.text.rstrip(".").split(": ", 1)
            pieces = [pieces[0], *pieces[1].split("; ")] if quote.is_list else [quote.text]
            assert all(piece in source for piece in pieces), quote


def test_a_medquad_label_is_not_quoted_as_part_of_the_sentence():
    """MedQuAD's passages open with a label and a spaced colon ("Summary : Not all medicines ..."); the
    grounded answer quoted it ("Summary : Not all medicines are safe ... [2]"). Fails on ad2cb94."""
    units = passage_units("Summary : Not all medicines are safe to take when you are pregnant. "
                          "Some medicines can harm your baby.")
    assert units[0].text == "Not all medicines are safe to take when you are pregnant."
    assert units[0].section == "Summary"
    # an ordinary colon inside a sentence is the passage's own wording and stays
    assert passage_units("Note: take it with food.")[0].text == "Note: take it with food."


def test_a_quoted_line_list_is_supported_by_its_own_passage():
    """NHLBI lists one item a line ("Coughing. Coughing from asthma often is worse …"); the grounded answer
    quotes the list with its lead-in, and the support check marked that exact quote UNSUPPORTED (ad2cb94:
    "not in the passage: signs, symptoms, coughing"), so a verbatim answer was shown as unsupported."""
    text = answer("What are the symptoms of asthma?", starter(ASTHMA_SYMPTOMS))  # asserts every quote supported
    assert text.startswith("Common signs and symptoms of asthma include: Coughing; Wheezing; Chest tightness;")
    # a list item the passage does not have is still refused
    passage = starter(ASTHMA_SYMPTOMS)[0]
    forged = "Common signs and symptoms of asthma include: Coughing; Fever; Chest tightness; Shortness of breath."
    assert not check_answer(forged, [f"{passage.title}\n{passage.text}"])[0].supported
