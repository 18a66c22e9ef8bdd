"""Issue 18, voice and content: reported speech that keeps negations and names, whole sentences, named
drugs, templates that differ in substance, coverage notes, regenerate that respects human edits, and
key-fact recall on the written therapy sessions (test half)."""

from __future__ import annotations

from pathlib import Path

import pytest

from medstation.jobs import JobContext
from medstation.notes import rewrite, voice
from medstation.notes.draft import SentenceOrigin
from medstation.notes.drafting import DraftOptions, draft_note
from medstation.notes.facts import TranscriptFacts
from medstation.notes.templates import BUILTIN_TEMPLATES
from medstation.notes.transcript import parse_transcript, split_sentences

EXTRACTIVE = DraftOptions(use_model=False)
SESSION = """T: How has your sleep been since we last met?
C: I haven't been sleeping well, maybe four hours a night, and I wake up at 3 a.m.
C: I stopped taking the sertraline two weeks ago and I didn't tell Dr. Okafor.
C: I've been on it for three years and it made me feel numb.
T: Any thoughts of hurting yourself?
C: No, nothing like that.
T: Today we practised 4-6 breathing, in for four and out for six.
C: That helped, I feel calmer.
T: I'd like you to call Dr. Okafor's office by Friday, e.g. before lunch, and keep a sleep diary.
C: Okay, I can do that.
T: We'll meet again on March 14.
"""


def _draft(template: str = "soap", text: str = SESSION):
    return draft_note(JobContext(), parse_transcript(text), BUILTIN_TEMPLATES[template], options=EXTRACTIVE)


def _candidates(draft, sentence):
    from medstation.notes.evidence import split_units
    from medstation.notes.voicing import candidates

    transcript = parse_transcript(SESSION)
    units = [u for u in split_units(transcript) if u.text == sentence.source_text]
    return [c for u in units for c in candidates(u, transcript) if c.text.rstrip(".") == sentence.text.rstrip(".")]


def _section(draft, key: str) -> list[str]:
    return [s.text for s in next(x for x in draft.sections if x.key == key).sentences]


@pytest.mark.parametrize("source,expected", [
    ("I haven't been sleeping well.", "Client reports not sleeping well."),
    ("I have not been sleeping well.", "Client reports not sleeping well."),
    ("I've been sleeping about four hours a night and waking at 3 a.m.",
     "Client reports sleeping about four hours a night and waking at 3 a.m."),
    ("I don't want to die.", "Client reports they do not want to die."),
    ("I'm no longer having panic attacks at work.", "Client reports no longer having panic attacks at work."),
    ("I stopped taking the sertraline and I didn't tell Dr. Okafor.",
     "Client reports they stopped taking the sertraline and they did not tell Dr. Okafor."),
    ("My husband yells at me when he drinks.", "Client reports their husband yells at them when he drinks."),
    ("I never drink during the week, only two beers on Saturday.",
     "Client reports they never drink during the week, only two beers on Saturday."),
])
def test_client_sentence_becomes_reported_speech_with_negations_names_and_numbers_kept(source, expected):
    assert voice.client_reported(source) == expected


def test_reported_speech_keeps_who_did_what_to_whom():
    assert voice.client_reported("I was pushed by my boyfriend.") == \
        "Client reports they were pushed by their boyfriend."
    assert voice.client_reported("My boss criticized me in front of everyone.") == \
        "Client reports their boss criticized them in front of everyone."
    assert voice.client_reported("I hit my brother last week.", pronouns="she") == \
        "Client reports she hit her brother last week."


def test_clinician_turns_become_interventions_and_plan_items():
    assert voice.clinician_item("We practised 4-6 breathing.") == "Practised 4-6 breathing."
    assert voice.clinician_item("I'd like you to keep a sleep diary.", client_agreed=True) == \
        "Client agreed to keep a sleep diary."
    assert voice.clinician_item("You seem restless today and you don't make eye contact.") == \
        "Client seems restless today and client does not make eye contact."
    assert voice.clinician_item("I wan na go ahead and increase your lasix to 80 mg.".replace("wan na", "want to"),
                                client="patient", clinician="doctor", pronouns="he") == \
        "Increase his lasix to 80 mg."


def test_draft_is_in_clinical_voice_with_evidence_on_every_sentence():
    """Fails on 1c99c71: the Subjective section was the client's first-person sentences pasted in order."""
    draft = _draft()
    subjective = _section(draft, "subjective")
    assert "Client reports not sleeping well, maybe four hours a night, and they wake up at 3 a.m." in subjective
    # a client's first-person words appear only inside an attributed quote (when the check refused a form)
    assert not any(s.startswith(("I ", "I'", "My ")) for s in subjective)
    plan = _section(draft, "plan")
    assert any("practised 4-6 breathing, in for four and out for six" in s.lower() for s in plan)
    call = next(s for _, _, s in draft.sentences() if "Okafor's office by Friday" in s.text)
    assert call.text.startswith(("Client agreed to call", "Client to call"))
    assert call.evidence in ((9, 10), (9,))  # the client's "okay" joins the evidence of "agreed"
    transcript_facts = TranscriptFacts(parse_transcript(SESSION).full_text())
    for _, _, sentence in draft.sentences():
        assert sentence.evidence and sentence.supported
        if sentence.origin is SentenceOrigin.reported:  # every transformation shown passed the rewrite check
            assert any(rewrite.check_rewrite(c.source, sentence.text, transcript_facts).ok
                       for c in _candidates(draft, sentence))


def test_denial_answer_is_read_with_its_question_and_keeps_the_no():
    draft = _draft()
    assessment = next(s for s in draft.sections if s.key == "assessment").sentences
    denial = next(s for s in assessment if s.evidence == (5, 6) and s.origin is not SentenceOrigin.risk)
    # the denial in clinical voice when the rewrite check accepts it, else the exchange verbatim, each part
    # attributed to who said it (never the therapist's question put in the client's mouth)
    assert denial.text in ('Client denies thoughts of hurting themselves ("No, nothing like that").',
                           'Therapist: "Any thoughts of hurting yourself?" Client: "No, nothing like that."')


def test_sentences_are_not_split_at_titles_or_abbreviations():
    """Fails on 1c99c71: the draft cut "Dr. Okafor" and "e.g." into fragments."""
    assert split_sentences("Call Dr. Okafor by Friday, e.g. before lunch. Then rest.") == \
        ["Call Dr. Okafor by Friday, e.g. before lunch.", "Then rest."]
    assert split_sentences("I wake at 3 a.m. every night. Mr. J. Smith agreed.") == \
        ["I wake at 3 a.m. every night.", "Mr. J. Smith agreed."]
    assert split_sentences("I said no. Next.") == ["I said no.", "Next."]
    texts = [s.text for _, _, s in _draft().sentences()]
    assert any("Dr. Okafor's office by Friday, e.g. before lunch, and keep a sleep diary" in t for t in texts)
    assert not any(t.rstrip(".").endswith((" Dr", " e.g")) for t in texts)


def test_orphan_it_names_the_drug():
    """Fails on 1c99c71: "I've been on it for three years" was pasted with no drug named."""
    named = [s for _, _, s in _draft().sentences() if 4 in s.evidence]
    assert named and "sertraline" in named[0].text and "three years" in named[0].text
    assert named[0].evidence == (3, 4)  # it also rests on the line that named the drug
    assert voice.drug_for_it("It makes me dizzy.", ["The doctor put me on lexapro."], lambda w: w == "lexapro") \
        == "lexapro"
    assert voice.drug_for_it("It makes me dizzy.", ["The weather was hot."], lambda w: w == "lexapro") is None


def test_templates_differ_in_substance_not_only_headings():
    """Fails on 1c99c71: DAP was SOAP with Subjective renamed; interventions had no place of their own."""
    breathing = "practised 4-6 breathing"
    soap, dap, birp = _draft("soap"), _draft("dap"), _draft("birp")
    assert any(breathing in t.lower() for t in _section(soap, "plan"))
    assert any(breathing in t.lower() for t in _section(dap, "data"))  # DAP: what happened in the session
    assert any(breathing in t.lower() for t in _section(birp, "intervention"))
    calmer = "Client reports that helped, they feel calmer."
    assert calmer in _section(soap, "assessment") and calmer in _section(birp, "response")
    assert [s.key for s in dap.sections] == ["data", "assessment", "plan"]


def test_a_therapy_section_says_what_the_transcript_does_not_cover():
    text = _draft().to_text()
    assert "Not discussed in the transcript: substance use, appetite and eating, attendance" in text
    medical = _draft("soap", "Doctor: How is the knee?\nPatient: My knee hurts when I climb stairs.\n")
    assert "Not discussed" not in medical.to_text()


def test_regenerate_never_readds_what_a_human_rewrote_or_deleted():
    """Fails on 1c99c71 (records.section_chunks re-adds every sentence of the redrafted section)."""
    from medstation.notes.records import tracked_from_draft
    from medstation.notes.regenerate import regenerated_chunks
    from medstation.notes.regeneration import regenerated_section

    draft = _draft()
    doc = tracked_from_draft(draft, author="model", at="t0")
    subjective = next(s for s in draft.sections if s.key == "subjective")
    deleted, rewritten, kept = subjective.sentences[0].text, subjective.sentences[1].text, subjective.sentences[2].text
    start = doc.text.index(deleted)
    doc.replace(start, start + len(deleted) + 1, "", author="dr.lee")
    start = doc.text.index(rewritten)
    doc.replace(start, start + len(rewritten), "Client stopped sertraline 2 weeks ago without telling the prescriber.",
                author="dr.lee")
    again = _draft()  # the same transcript redrafted: same sentences
    old = [text for _, text in regenerated_section(again, 1, "subjective", generation=1, author="m", at="t",
                                                   transcript_id=None).chunks]
    assert deleted + "\n" in old and rewritten + "\n" in old  # what today's regenerate would put back
    chunks = regenerated_chunks(again, doc, "subjective", generation=len(doc.ops), original=draft.to_dict())
    texts = [text.strip() for _, text in chunks]
    assert deleted not in texts and rewritten not in texts and kept in texts
    doc.regenerate("subjective", chunks, author="model")
    assert doc.text.count(kept) == 1 and deleted not in doc.text and rewritten not in doc.text
    assert "Client stopped sertraline 2 weeks ago without telling the prescriber." in doc.text


def test_keyfact_rule_needs_every_term_group_in_one_sentence_of_the_right_section():
    from medstation.notes.keyfacts import KeyFact, fact_present

    fact = KeyFact("did not tell prescriber", "report", ("tell|told", "didn't|did not|not$"))
    assert fact_present(fact, {"subjective": ["Client did not tell Dr. Okafor."]}, "soap")
    assert not fact_present(fact, {"subjective": ["Client told Dr. Okafor."]}, "soap")  # negation dropped
    assert not fact_present(fact, {"plan": ["Client did not tell Dr. Okafor."]}, "soap")  # wrong section
    assert not fact_present(fact, {"subjective": ["Client did not sleep.", "Client told her."]}, "soap")
    assert not fact_present(KeyFact("x", "report", ("no$",)), {"subjective": ["nothing"]}, "soap")


def test_keyfact_recall_on_the_written_sessions_test_half():
    """Test half of tests/data/keyfact_sessions (never tuned on): 0.553 on 1c99c71 (SOAP)."""
    from medstation.notes import keyfacts as kf

    sessions = [s for s in kf.load_sessions(Path(__file__).parents[1] / "data" / "keyfact_sessions" /
                                            "sessions.json") if kf.split_of(s.id) == "test"]
    assert len(sessions) == 7
    template = BUILTIN_TEMPLATES["soap"]
    titles = {s.key: s.title for s in template.sections}
    rows = []
    for session in sessions:
        draft = draft_note(JobContext(), parse_transcript(session.transcript), template, options=EXTRACTIVE)
        sections = kf.sections_from_text(draft.to_text(), titles)
        rows += [(session, f, kf.fact_present(f, sections, "soap")) for f in session.facts]
    assert kf.recall(rows)["recall"] >= 0.9


def test_the_regenerated_section_the_tab_applies_never_readds_a_deleted_sentence():
    """The job's value (:class:`RegeneratedSection`) filters at apply time, against the document the user sees."""
    from medstation.notes.records import tracked_from_draft
    from medstation.notes.regeneration import regenerated_section

    draft = _draft()
    doc = tracked_from_draft(draft, author="model", at="t0")
    subjective = next(s for s in draft.sections if s.key == "subjective")
    deleted, kept = subjective.sentences[0].text, subjective.sentences[2].text
    start = doc.text.index(deleted)
    doc.replace(start, start + len(deleted) + 1, "", author="dr.lee")
    section = regenerated_section(_draft(), 1, "subjective", generation=len(doc.ops), author="model:x", at="t1",
                                  transcript_id=None, original=draft.to_dict())
    section.apply_to(doc)
    assert deleted not in doc.text and doc.text.count(kept) == 1
    kept_ids = {span.chunk for span in doc.spans if span.chunk and ":g" in span.chunk}
    assert kept_ids <= set(section.evidence)  # every applied chunk keeps its evidence links
