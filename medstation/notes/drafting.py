"""The drafting pipeline: evidence selection, bounded model rewriting, checks, risk statements, fallback.

``draft_note(ctx, transcript, template, backend=...)`` is a job (llm lane).
Steps, each deterministic except the model call:

1. risk detection over the whole transcript (:mod:`medstation.notes.risk`);
2. evidence selection per section (:mod:`medstation.notes.evidence`);
3. for each section, the chosen sentences in transcript order; up to
   ``max_rewrites`` client sentences per section are rewritten by the model
   and kept only if :func:`~medstation.notes.rewrite.check_rewrite` passes;
4. every sentence is fact-checked against the transcript;
5. each risk flag gets an explicit statement (so the draft always mentions it);
6. if the model cannot be loaded or raises, the whole draft becomes an
   extractive draft of verbatim transcript quotes, labelled as such.

Streaming: ``ctx.partial(NoteEvent)`` with kinds ``section`` (a section
starts), ``sentence`` (pass 1: every transcript sentence, at once, so a usable
draft shows before any model call), ``token`` (a model piece), ``revised`` (a
sentence the model rewrote and the checks passed) and ``done``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from medstation.jobs import Cancelled
from medstation.notes import rewrite
from medstation.notes.draft import Draft, DraftSection, DraftSentence, Provenance, SentenceOrigin
from medstation.notes.evidence import SectionEvidence, Unit, select_evidence
from medstation.notes.facts import TranscriptFacts
from medstation.notes.risk import RiskFlag, RiskStatus, detect_risks, risk_flags
from medstation.notes.templates import NoteTemplate
from medstation.notes.transcript import SpeakerRole, Transcript
from medstation.notes.voicing import voiced_sentence

NO_EVIDENCE = "No evidence in the transcript for this section."
AI_LABEL = "AI draft — built from transcript sentences; every sentence links to the lines it rests on."
FALLBACK_LABEL = "Extractive draft: verbatim transcript quotes only (no model text)"


@dataclass(frozen=True)
class NoteEvent:
    """A streamed piece of a draft. ``kind``: section | token | sentence | done."""

    kind: str
    section: str = ""
    text: str = ""
    sentence: DraftSentence | None = None


@dataclass(frozen=True)
class DraftOptions:
    """``max_rewrites``: model rewrites per section (0: extractive only); ``budget_s``: wall-clock cap on
    all model calls of one draft, after which the remaining sentences stay transcript excerpts."""

    use_model: bool = True
    max_rewrites: int = 3
    budget_s: float = 25.0  # keeps a full SOAP draft under 30 s on 2 cores


def _risk_sentence(flag: RiskFlag, transcript: Transcript) -> DraftSentence:
    first = flag.lines[0]
    quote = transcript.line(first).text
    if len(quote.split()) > 30:
        quote = " ".join(quote.split()[:30]) + " …"
    lines = ", ".join(str(n) for n in flag.lines)
    if flag.status is RiskStatus.denied:
        text = f"Documented denial of {flag.label} (line {lines})."
    elif flag.status is RiskStatus.unclear:
        text = f"Risk: {flag.label} was raised and the answer is unclear (line {lines}): \"{quote}\""
    else:
        text = f"Risk: {flag.label} mentioned (line {lines}): \"{quote}\""
    return DraftSentence(text, flag.lines, SentenceOrigin.risk, source_text=quote)


def _quote(unit: Unit, transcript: Transcript) -> DraftSentence:
    speaker = transcript.line(unit.line).speaker
    if unit.question_line:
        asked = transcript.line(unit.question_line)
        return DraftSentence(f"{asked.speaker.capitalize()}: \"{asked.text}\" {speaker.capitalize()}: \"{unit.raw}\"",
                             unit.evidence, SentenceOrigin.quote, source_text=unit.raw)
    return DraftSentence(f"{speaker.capitalize()}: \"{unit.raw}\"", (unit.line,), SentenceOrigin.quote,
                         source_text=unit.raw)


class _Rewriter:
    """Runs the model on one sentence at a time within the draft's time budget (counted from the draft's start)."""

    def __init__(self, ctx, backend, options: DraftOptions, facts: TranscriptFacts, started: float) -> None:
        self.ctx, self.backend, self.options, self.facts = ctx, backend, options, facts
        self.started = started
        self.first_token_s: float | None = None
        self.accepted = self.rejected = 0
        self.reasons: dict[str, int] = {}
        self.budget_hit = False

    def rewrite(self, section_key: str, source: str) -> str | None:
        if time.monotonic() - self.started > self.options.budget_s:
            self.budget_hit = True
            return None
        pieces: list[str] = []
        for piece in self.backend.stream_chat(self.ctx, rewrite.rewrite_messages(source),
                                              rewrite.generation_for(source)):
            if self.first_token_s is None:
                self.first_token_s = time.monotonic() - self.started
            pieces.append(piece)
            self.ctx.partial(NoteEvent("token", section_key, piece))
            if "\n" in piece:
                break
            if time.monotonic() - self.started > self.options.budget_s:
                self.budget_hit = True  # cut short: not a failed check, just out of time
                return None
        check = rewrite.check_rewrite(source, "".join(pieces), self.facts)
        if check.ok:
            self.accepted += 1
            return check.text
        self.rejected += 1
        key = check.reason.split(":")[0]
        self.reasons[key] = self.reasons.get(key, 0) + 1
        return None


def _extract_sentences(ctx, evidence: SectionEvidence, transcript: Transcript,
                       facts: TranscriptFacts) -> list[DraftSentence]:
    """Pass 1: the section's sentences in clinical voice (deterministic, checked), streamed at once."""
    out = []
    for unit in evidence.units:
        ctx.check()
        sentence = voiced_sentence(unit, transcript, facts)
        out.append(sentence)
        ctx.partial(NoteEvent("sentence", evidence.key, sentence.text, sentence))
    return out


def _refine(ctx, evidence: SectionEvidence, sentences: list[DraftSentence], rewriter: _Rewriter,
            options: DraftOptions) -> list[DraftSentence]:
    """Pass 2: up to ``max_rewrites`` client sentences rewritten by the model; a rewrite replaces the
    deterministic clinical-voice sentence of pass 1 only if it passes the checks."""
    out, rewrites = [], 0
    for unit, sentence in zip(evidence.units, sentences):
        ctx.check()
        if unit.role is SpeakerRole.client and rewrites < options.max_rewrites:
            rewrites += 1
            new = rewriter.rewrite(evidence.key, unit.text)
            if new is not None:
                sentence = DraftSentence(new, unit.evidence, SentenceOrigin.model, source_text=unit.text)
                ctx.partial(NoteEvent("revised", evidence.key, new, sentence))
        out.append(sentence)
    return out


def draft_note(ctx, transcript: Transcript, template: NoteTemplate, *,
               backend_factory: Callable[[], Any] | None = None, model_info: dict[str, Any] | None = None,
               options: DraftOptions = DraftOptions(), transcript_version_id: int | None = None) -> Draft:
    """Draft ``template`` from ``transcript``. ``backend_factory()`` returns a loaded chat backend (or raises)."""
    t0 = time.monotonic()
    facts = TranscriptFacts(transcript.full_text())
    flags = risk_flags(detect_risks(transcript))
    evidence = select_evidence(transcript, template)
    ctx.report(0.05, f"Selected evidence for {len(template.sections)} sections")
    backend, failure = None, ""
    if options.use_model and options.max_rewrites > 0 and backend_factory is not None:
        try:
            backend = backend_factory()
        except Cancelled:
            raise
        except Exception as exc:  # any load failure means: no model text in this draft
            failure = f"the model could not be loaded ({exc})"
    rewriter = _Rewriter(ctx, backend, options, facts, t0) if backend is not None else None
    extracted = []
    for spec, ev in zip(template.sections, evidence):
        ctx.partial(NoteEvent("section", spec.key, spec.title))
        extracted.append(_extract_sentences(ctx, ev, transcript, facts))
    sections = [DraftSection(spec.key, spec.title, tuple(x), "" if x else NO_EVIDENCE, ev.uncovered)
                for spec, x, ev in zip(template.sections, extracted, evidence)]
    try:
        if rewriter is not None:
            for i, (spec, ev) in enumerate(zip(template.sections, evidence)):
                ctx.report(0.1 + 0.85 * i / max(1, len(evidence)), f"Refining {spec.title} with the model")
                refined = _refine(ctx, ev, extracted[i], rewriter, options)
                sections[i] = DraftSection(spec.key, spec.title, tuple(refined), sections[i].note, ev.uncovered)
    except Cancelled:
        raise
    except Exception as exc:  # the model failed mid-draft: nothing it wrote is kept
        failure = f"the model failed while drafting ({exc})"
    fallback = bool(failure)
    if fallback:
        sections = [DraftSection(spec.key, spec.title, tuple(_quote(u, transcript) for u in ev.units),
                                 "" if ev.units else NO_EVIDENCE, ev.uncovered)
                    for spec, ev in zip(template.sections, evidence)]
    sections = _add_risk_statements(sections, template, flags, transcript)
    sections = [DraftSection(s.key, s.title, tuple(_checked(x, facts) for x in s.sentences), s.note, s.uncovered)
                for s in sections]
    draft = _assemble(template, sections, flags, fallback, failure, rewriter, model_info or {}, options,
                      transcript, transcript_version_id, time.monotonic() - t0)
    ctx.partial(NoteEvent("done"))
    ctx.report(1.0, "Draft ready")
    return draft


def _checked(sentence: DraftSentence, facts: TranscriptFacts) -> DraftSentence:
    flags = tuple(facts.check(sentence.text))
    return DraftSentence(sentence.text, sentence.evidence, sentence.origin, flags, bool(sentence.evidence),
                         sentence.source_text)


def _add_risk_statements(sections: list[DraftSection], template: NoteTemplate, flags: list[RiskFlag],
                         transcript: Transcript) -> list[DraftSection]:
    """Every risk flag (and documented denial) stated in the assessment-like section, first."""
    if not flags or not sections:
        return sections
    target = next((i for i, spec in enumerate(template.sections) if "assessment" in spec.cues), 0)
    risk = tuple(_risk_sentence(f, transcript) for f in flags if f.lines)  # a detector notice has no line
    s = sections[target]
    sections = list(sections)
    sections[target] = DraftSection(s.key, s.title, risk + s.sentences, "", s.uncovered)
    return sections


def _assemble(template, sections, flags, fallback, failure, rewriter, model_info, options, transcript,
              transcript_version_id, elapsed) -> Draft:
    evidence_map = {f"{s.key}:{i}": list(x.evidence) for s in sections for i, x in enumerate(s.sentences)}
    all_sentences = [x for s in sections for x in s.sentences]
    checks = {
        "invented_facts": sum(len(x.fact_flags) for x in all_sentences),
        "unsupported_sentences": sum(1 for x in all_sentences if not x.supported),
        "rewrites_accepted": rewriter.accepted if rewriter else 0,
        "rewrites_rejected": rewriter.rejected if rewriter else 0,
        "rejection_reasons": dict(rewriter.reasons) if rewriter else {},
        "rewrite_budget_reached": bool(rewriter and rewriter.budget_hit),
        "risk_flags": [{"category": f.category, "status": f.status.value, "lines": list(f.lines)} for f in flags],
        "risks_needing_acknowledgement": sum(1 for f in flags if f.needs_acknowledgement),
    }
    model = dict(model_info)
    model["used"] = rewriter is not None and not fallback
    timings = {"total_s": round(elapsed, 3)}
    if rewriter is not None and rewriter.first_token_s is not None:
        timings["first_model_token_s"] = round(rewriter.first_token_s, 3)
    provenance = Provenance(
        model=model, template=template.name, template_version=template.version,
        prompt_sha256=rewrite.prompt_sha256(), transcript_sha256=transcript.sha256,
        transcript_version_id=transcript_version_id, evidence_map=evidence_map, checks=checks,
        generation={"prompt_version": rewrite.PROMPT_VERSION, "temperature": 0.0,
                    "max_rewrites_per_section": options.max_rewrites, "budget_s": options.budget_s},
        created_at=datetime.now(timezone.utc).isoformat(), timings=timings,
        fallback_reason=failure, schema_version=1)
    if fallback:
        label = f"{FALLBACK_LABEL} — {failure}."
    elif rewriter is None:
        label = "Extractive draft: cleaned transcript sentences (no model used)."
    else:
        label = (f"{AI_LABEL} {rewriter.accepted} sentence(s) rewritten by the model passed the checks; "
                 f"{rewriter.rejected} rewrite(s) failed them and were replaced by the transcript sentence.")
        if rewriter.budget_hit:
            label += (f" The model's {options.budget_s:.0f} s budget ran out; the other sentences are transcript "
                      "sentences.")
    return Draft(template.name, tuple(sections), tuple(flags), label, fallback, provenance)
