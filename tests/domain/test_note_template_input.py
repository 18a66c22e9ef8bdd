"""A custom template typed in the Templates… dialog: any JSON a person could type either makes a template
or is refused with a sentence (TemplateError, shown on the status line), never a traceback; a single cue or
keyword written as a string is that one word, not its letters.

Fails on commit 7d7286b (helper "breaknotes"): a JSON list, a number, "sections": "abc", a section that is a
number, "max_sentences": "many" and "keywords": 5 raised AttributeError/TypeError/ValueError (a bug dialog);
"cues": "plan" was refused as the unknown cue groups "p, l, a, n", and "keywords": "homework" became the
eight one-letter keywords h, o, m, e, w, o, r, k.
"""

from __future__ import annotations

import pytest

from medstation.notes.templates import TemplateError, template_from_json

SECTION = {"key": "plan", "title": "Plan"}


@pytest.mark.parametrize("spec", [
    [1], "progress", 42, None,
    {"name": "p", "sections": "abc"},
    {"name": "p", "sections": [1]},
    {"name": "p", "sections": {"key": "plan", "title": "Plan"}},
    {"name": "p", "sections": [dict(SECTION, max_sentences="many")]},
    {"name": "p", "sections": [dict(SECTION, min_sentences=1.5)]},
    {"name": "p", "sections": [dict(SECTION, keywords=5)]},
    {"name": "p", "sections": [dict(SECTION, cues=7)]},
    {"name": ["p"], "sections": [SECTION]},
])
def test_a_malformed_template_gets_a_sentence_not_a_traceback(spec):
    with pytest.raises(TemplateError):
        template_from_json(spec)


def test_a_single_cue_or_keyword_written_as_a_string_is_one_word():
    template = template_from_json({"name": "p", "sections": [dict(SECTION, cues="plan", keywords="homework")]})
    section = template.sections[0]
    assert section.cues == ("plan",) and section.keywords == ("homework",)


def test_whole_numbers_written_as_text_or_floats_are_read():
    section = template_from_json({"name": "p", "sections": [dict(SECTION, min_sentences="1", max_sentences=6.0)]})
    assert (section.sections[0].min_sentences, section.sections[0].max_sentences) == (1, 6)
