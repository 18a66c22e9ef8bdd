"""HTML for the conversation view: questions, answers with citation links, differentials.

Pure functions (no widgets) so the markup is testable. An answer is drawn from
its checked sentences (``AnswerProvenance.sentences``): a supported sentence
ends with a link ``cite:<message id>:<n>`` to the passage that says it, an
unsupported one is marked ``[unsupported]`` and says which terms no passage
has. While an answer streams, the tab appends the raw tokens as plain text
after :func:`render_live_header` (no re-render per token). Everything the model
or the user wrote is HTML-escaped first: model text is never trusted as markup.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from medstation.llm.answer.citations import split_by_markers
from medstation.llm.answer.message_store import MessageRecord, MessageRole, MessageStatus, ReviewStatus
from medstation.llm.answer.provenance import AnswerMode, AnswerProvenance
from medstation.llm.answer.rag_answer import AI_DRAFT_LABEL
from medstation.llm.support import SentenceSupport

STYLE = """
<style>
 .q { background:#eef3fb; border-radius:6px; padding:6px; margin:8px 0 2px 0; }
 .a { padding:4px 6px; margin:0 0 6px 0; }
 .draft { color:#8a5a00; font-size:small; }
 .notice { color:#a33; font-size:small; }
 .meta { color:#777; font-size:small; }
 .unsupported { color:#a33; background:#fdeeee; }
 .nikb { color:#6b4e00; background:#fff6dd; }
 a.cite { color:#1656b8; font-weight:bold; text-decoration:none; }
</style>
"""
STATUS_WORDS = {
    MessageStatus.stopped: "stopped by the user — incomplete",
    MessageStatus.error: "failed",
    MessageStatus.truncated: "cut short at the token limit — incomplete",
}
MODE_WORDS = {
    AnswerMode.grounded: "Grounded answer: sentences quoted from the sources, each with its citation",
    AnswerMode.generative: "Generative answer: the model's own words, each sentence checked against the sources",
}


def _text_with_links(text: str, key: str, n_passages: int) -> str:
    """Escaped ``text`` with valid ``[n]`` markers as links; markers to nothing stay plain (and are flagged)."""
    out: list[str] = []
    for part in split_by_markers(text):
        if isinstance(part, str):
            out.append(html.escape(part).replace("\n", "<br>"))
            continue
        links = [f'<a class="cite" href="cite:{key}:{n}">{n}</a>' if 1 <= n <= n_passages else str(n) for n in part]
        out.append("[" + ", ".join(links) + "]")
    return "".join(out)


def _sentence_html(sentence: SentenceSupport, key: str) -> str:
    """A checked sentence: its text with the passage that says it, or marked unsupported."""
    if sentence.supported:
        cites = ", ".join(f'<a class="cite" href="cite:{key}:{n}">{n}</a>' for n in sentence.citations)
        text, end = (sentence.text[:-1], sentence.text[-1]) if sentence.text[-1:] in ".!?" else (sentence.text, "")
        return f"{html.escape(text)} [{cites}]{end}"
    missing = ", ".join(sentence.missing[:6])
    why = f"no retrieved passage says this (missing: {missing})" if missing else "no retrieved passage says this"
    return (f'<span class="unsupported" title="{html.escape(why)}">{html.escape(sentence.text)} '
            "<b>[unsupported]</b></span>")


def render_question(text: str) -> str:
    return f'<div class="q"><b>Question</b><br>{html.escape(text).replace(chr(10), "<br>")}</div>'


def _differential_html(message: MessageRecord, prov: AnswerProvenance) -> str:
    items = prov.differential
    if not items:
        return ('<p class="notice">No differential: no retrieved passage names a condition for this case; '
                "the text is shown as is.</p>" + _text_with_links(message.content, str(message.id), len(prov.passages)))
    rows = []
    for item in items:
        cites = "".join(f' <a class="cite" href="cite:{message.id}:{n}">[{n}]</a>' for n in item["citations"])
        rationale = html.escape(item["rationale"]) or '<span class="meta">no rationale given</span>'
        extra = ""
        if item.get("supporting_findings"):
            extra += f'<br><span class="meta">fits: {html.escape(", ".join(item["supporting_findings"]))}</span>'
        if item.get("absent_findings_named"):
            extra += ('<br><span class="meta">the passage names findings absent in this case: '
                      f'{html.escape(", ".join(item["absent_findings_named"]))}</span>')
        rows.append(f"<li><b>{html.escape(item['diagnosis'])}</b> — {rationale}{cites}{extra}</li>")
    return ('<p class="meta">Differential for a clinician to weigh — not a diagnosis. Conditions are those named '
            "in the retrieved passages.</p><ol>" + "".join(rows) + "</ol>")


def _kb_words(message: MessageRecord, prov: AnswerProvenance) -> str:
    kb_version = message.kb_version_id if message.kb_version_id is not None else prov.kb_version_id
    return f"knowledge base v{kb_version}" if kb_version is not None else "knowledge base version not recorded"


def _model_words(message: MessageRecord, prov: AnswerProvenance) -> str:
    """What wrote the answer: the model's name and registry version, or the sentence selector of a grounded one."""
    name = prov.model.get("name", "")
    if prov.model.get("selector"):
        name += f", sentences chosen by {prov.model['selector']}"
    version = message.model_version_id if message.model_version_id is not None else prov.model.get("model_version_id")
    return f"{name} (model version {version})" if version is not None else name


def render_answer(message: MessageRecord) -> str:
    """One stored assistant message: label, checked sentences with links, status, provenance (model and its
    registry version, knowledge-base version) and review state."""
    prov = message.provenance or AnswerProvenance()
    key = str(message.id)
    if message.status is MessageStatus.not_in_knowledge_base:
        head, _, rest = (message.content or prov.notice).partition(". ")
        return (f'<div class="a"><span class="nikb"><b>{html.escape(head)}.</b> {html.escape(rest)}</span>'
                f'<br><span class="meta">{html.escape(_kb_words(message, prov))}</span></div>')

    if message.mode == "reasoning":
        body = _differential_html(message, prov)
    elif prov.sentences:
        body = " ".join(_sentence_html(s, key) for s in prov.sentences)
    else:
        body = _text_with_links(message.content, key, len(prov.passages))
    parts = [f'<div class="a"><span class="draft">{AI_DRAFT_LABEL}</span><br>'
             f'<span class="meta">{MODE_WORDS[prov.answer_mode]}.</span><br>{body}']
    if message.status in STATUS_WORDS:
        parts.append(f'<br><span class="notice">Answer {STATUS_WORDS[message.status]}. '
                     f"{html.escape(prov.notice)}</span>")
    elif prov.notice:  # a complete answer's caveat (what it does not mention) stays with the answer
        parts.append(f'<br><span class="notice">{html.escape(prov.notice)}</span>')
    if prov.unsupported_count:
        parts.append(f'<br><span class="notice">{prov.unsupported_count} of {len(prov.sentences)} sentences are '
                     "not supported by any retrieved passage: do not rely on them.</span>")
    if prov.removed_markers:
        markers = ", ".join(html.escape(m["marker"]) for m in prov.removed_markers)
        parts.append(f'<br><span class="notice">Removed citations pointing at no retrieved passage: {markers}</span>')
    model = f"{_model_words(message, prov)} · {_kb_words(message, prov)}"
    review = {ReviewStatus.accepted: "accepted by " + html.escape(message.reviewed_by), ReviewStatus.rejected:
              "rejected by " + html.escape(message.reviewed_by)}.get(message.review_status, "not yet reviewed")
    parts.append(f'<br><span class="meta">{html.escape(model)} · {review}</span></div>')
    return "".join(parts)


def render_live_header() -> str:
    """The opening of the answer being streamed; tokens are appended after it as plain text."""
    return f'<div class="a"><span class="draft">{AI_DRAFT_LABEL} — generating…</span><br></div>'


def render_conversation(messages: Iterable[MessageRecord], live: bool = False) -> str:
    parts = [STYLE]
    for message in messages:
        parts.append(render_question(message.content) if message.role is MessageRole.user else render_answer(message))
    if live:
        parts.append(render_live_header())
    return "".join(parts)


PASSAGE_STATES = {
    "cited": "says a sentence of the answer",
    "uncited": "retrieved but not cited",
}


def render_passage(passage: dict, n: int, state: str) -> str:
    """The side panel's view of one passage (a provenance record: title, url, source, text, score).

    ``state`` is a key of :data:`PASSAGE_STATES`.
    """
    url = html.escape(passage.get("url") or "")
    link = f'<a href="{url}">{url}</a>' if url.startswith(("http://", "https://")) else url
    state = PASSAGE_STATES.get(state, state)
    return (f"<h3>[{n}] {html.escape(passage.get('title') or passage.get('doc_id') or '')}</h3>"
            f'<p class="meta">{link}<br>{html.escape(passage.get("source") or "")} · score '
            f"{float(passage.get('score') or 0):.3f} · {state}</p>"
            f"<p>{html.escape(passage.get('text') or '').replace(chr(10), '<br>')}</p>")
