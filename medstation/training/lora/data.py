"""(transcript, note) pairs as token sequences for LoRA training, cut to a token budget.

A visit in aci-bench train is ~1,550 transcript tokens and ~620 note tokens (SmolLM2 tokenizer);
on 2 CPU cores a 135M model trains at tens of tokens per second, so examples are cut:

* the note keeps its first ``max_tokens // 2`` tokens at most (headings and history come first; the
  end-of-turn token is learnt only from notes that fit whole);
* the transcript fills the rest, keeping whole lines from the start (reason for the visit, history)
  and from the end (where clinicians dictate examination, assessment and plan), with a ``[...]``
  line where the middle was dropped.

Loss is taken on the note tokens only: the model learns to write notes, not to predict transcripts.
"""

from __future__ import annotations

from dataclasses import dataclass

from medstation.errors import UserFacingError
from medstation.training.lora.model import GGUFTokenizer, drafting_messages

OMITTED_LINE = "[...]"
HEAD_SHARE = 0.6  # of the transcript budget kept from the start; the rest comes from the end


@dataclass(frozen=True)
class TrainingExample:
    """One sequence: ``input_ids`` (prompt then note), loss on positions ``>= prompt_length``."""

    input_ids: tuple[int, ...]
    prompt_length: int
    transcript_lines_kept: int
    transcript_lines_total: int
    note_truncated: bool

    @property
    def target_tokens(self) -> int:
        return len(self.input_ids) - self.prompt_length


def fit_transcript(transcript: str, budget: int, tokenizer: GGUFTokenizer) -> tuple[str, int, int]:
    """``transcript`` cut to about ``budget`` tokens by whole lines: (text, lines kept, lines in all)."""
    lines = [line for line in transcript.strip().splitlines() if line.strip()]
    costs = [len(tokenizer.encode(line + "\n")) for line in lines]
    if sum(costs) <= budget:
        return "\n".join(lines), len(lines), len(lines)
    head_budget = int(budget * HEAD_SHARE)
    head, used = 0, 0
    while head < len(lines) and used + costs[head] <= head_budget:
        used += costs[head]
        head += 1
    tail, remaining = len(lines), budget - used - len(tokenizer.encode(OMITTED_LINE + "\n"))
    while tail > head and costs[tail - 1] <= remaining:
        remaining -= costs[tail - 1]
        tail -= 1
    kept = lines[:head] + [OMITTED_LINE] + lines[tail:]
    return "\n".join(kept), head + len(lines) - tail, len(lines)


def build_example(transcript: str, note: str, tokenizer: GGUFTokenizer, max_tokens: int) -> TrainingExample:
    """Tokenize one pair into at most ~``max_tokens`` tokens (see the module docstring for the cut)."""
    if not transcript.strip() or not note.strip():
        raise ValueError("a training pair needs both a transcript and a note")
    note_ids = tokenizer.encode(note.strip())
    note_budget = max_tokens // 2
    note_truncated = len(note_ids) > note_budget
    # Whole notes end with the end-of-turn token so the model learns to stop; a cut note must not.
    target = note_ids[:note_budget] if note_truncated else note_ids + [tokenizer.eos_id]
    overhead = len(tokenizer.encode(tokenizer.render(drafting_messages("x"))))
    text, kept, total = fit_transcript(transcript, max(16, max_tokens - len(target) - overhead), tokenizer)
    prompt = tokenizer.encode(tokenizer.render(drafting_messages(text)))
    return TrainingExample(input_ids=tuple(prompt + target), prompt_length=len(prompt),
                           transcript_lines_kept=kept, transcript_lines_total=total,
                           note_truncated=note_truncated)


def read_aci_bench_pairs(csv_path) -> list[tuple[str, str]]:
    """(dialogue, note) rows of an aci-bench-format CSV; a missing column is a clear error."""
    import csv
    from pathlib import Path


    path = Path(csv_path)
    try:
        with path.open(newline="", encoding="utf-8") as stream:
            reader = csv.DictReader(stream)
            if reader.fieldnames is None or not {"dialogue", "note"} <= set(reader.fieldnames):
                raise UserFacingError(f"{path.name}: needs 'dialogue' and 'note' columns (aci-bench format)")
            pairs = [(row["dialogue"], row["note"]) for row in reader
                     if (row.get("dialogue") or "").strip() and (row.get("note") or "").strip()]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UserFacingError(f"{path.name}: cannot be read as a CSV ({exc})") from exc
    if not pairs:
        raise UserFacingError(f"{path.name}: no rows with both a dialogue and a note")
    return pairs
