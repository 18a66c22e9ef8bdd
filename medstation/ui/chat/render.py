"""HTML for the conversation view: questions, answers with citation links, differentials.

Pure functions (no widgets) so the markup is testable. A citation ``[n]`` in
an answer becomes a link ``cite:<key>:<n>`` where ``key`` is the message id
(or ``live`` while an answer streams); the tab resolves the link to the
passage stored in that message's provenance. Everything the model or the user
wrote is HTML-escaped first: model text is never trusted as markup.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from medstation.llm.citations import split_by_markers
from medstation.llm.conversations import MessageRecord
from medstation.llm.rag_answer import AI_DRAFT_LABEL

STYLE = """
<style>
 .q { background:#eef3fb; border-radius:6px; padding:6px; margin:8px 0 2px 0; }
 .a { padding:4px 6px; margin:0 0 6px 0; }
 .draft { color:#8a5a00; font-size:small; }
 .notice { color:#a33; font-size:small; }
 .meta { color:#777; font-size:small; }
 a.cite { color:#1656b8; font-weight:bold; text-decoration:none; }
 a.match { color:#5b7fa8; text-decoration:none; }
</style>
"""
STATUS_WORDS = {"stopped": "stopped by the user — incomplete", "error": "failed"}


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


def _text_with_matches(text: str, key: str, n_passages: int, matches: list[dict]) -> str:
    """Like :func:`_text_with_links`, plus an ``[≈n]`` link after each sentence matched by word overlap."""
    out: list[str] = []
    position = 0
    for match in sorted(matches, key=lambda m: m["end"]):
        end = int(match["end"])
        if not position <= end <= len(text) or not 1 <= match["n"] <= n_passages:
            continue
        out.append(_text_with_links(text[position:end], key, n_passages))
        out.append(f' <a class="match" href="cite:{key}:{match["n"]}" title="matched by word overlap '
                   f'({match["overlap"]:.0%}), not cited by the model">[≈{match["n"]}]</a>')
        position = end
    out.append(_text_with_links(text[position:], key, n_passages))
    return "".join(out)


def render_question(text: str) -> str:
    return f'<div class="q"><b>Question</b><br>{html.escape(text).replace(chr(10), "<br>")}</div>'


def _differential_html(message: MessageRecord, n_passages: int) -> str:
    items = message.provenance.get("differential") or []
    if not items:
        return ('<p class="notice">The model did not write a numbered differential; its text is shown as is.</p>'
                + _text_with_links(message.content, str(message.id), n_passages))
    rows = []
    for item in items:
        cites = "".join(f' <a class="cite" href="cite:{message.id}:{n}">[{n}]</a>' for n in item["citations"])
        rationale = html.escape(item["rationale"]) or '<span class="meta">no rationale given</span>'
        rows.append(f"<li><b>{html.escape(item['diagnosis'])}</b> — {rationale}{cites}</li>")
    return ('<p class="meta">Differential for a clinician to weigh — not a diagnosis.</p><ol>'
            + "".join(rows) + "</ol>")


def render_answer(message: MessageRecord) -> str:
    """One stored assistant message: label, text with links, status and review state."""
    prov = message.provenance or {}
    n_passages = len(prov.get("passages") or [])
    if message.mode == "reasoning":
        body = _differential_html(message, n_passages)
    else:
        body = _text_with_matches(message.content, str(message.id), n_passages, prov.get("matched") or [])
    parts = [f'<div class="a"><span class="draft">{AI_DRAFT_LABEL}</span><br>{body}']
    if message.status in STATUS_WORDS:
        parts.append(f'<br><span class="notice">Answer {STATUS_WORDS[message.status]}. '
                     f'{html.escape(prov.get("notice", ""))}</span>')
    if prov.get("matched") and not prov.get("cited"):
        parts.append('<br><span class="meta">The model cited no passage itself; [≈n] marks the passage each '
                     "sentence repeats (matched by word overlap).</span>")
    removed = prov.get("removed_markers") or []
    if removed:
        markers = ", ".join(html.escape(m["marker"]) for m in removed)
        parts.append(f'<br><span class="notice">Removed citations pointing at no retrieved passage: {markers}</span>')
    model = (prov.get("model") or {}).get("name", "")
    review = {"accepted": "accepted by " + html.escape(message.reviewed_by), "rejected":
              "rejected by " + html.escape(message.reviewed_by)}.get(message.review_status, "not yet reviewed")
    parts.append(f'<br><span class="meta">{html.escape(model)} · {review}</span></div>')
    return "".join(parts)


def render_live(text: str, n_passages: int) -> str:
    """The answer while it streams (raw model text; citations checked when it ends)."""
    return (f'<div class="a"><span class="draft">{AI_DRAFT_LABEL} — generating…</span><br>'
            f"{_text_with_links(text, 'live', n_passages)}</div>")


def render_conversation(messages: Iterable[MessageRecord], live: str = "") -> str:
    parts = [STYLE]
    for message in messages:
        parts.append(render_question(message.content) if message.role == "user" else render_answer(message))
    if live:
        parts.append(live)
    return "".join(parts)


PASSAGE_STATES = {
    "cited": "cited by the model",
    "matched": "matched to an answer sentence by word overlap",
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
