"""A minimal whole-note drafting call and its ROUGE-L, for comparing a LoRA adapter with the base model.

This is not the Notes pipeline (which drafts section by section from selected transcript lines and
checks facts): it is the one prompt the adapter is trained on — system instruction + transcript —
answered greedily by llama.cpp, with and without the adapter, scored against the reference note
with rouge-score's ROUGE-L F1 (stemming on). It measures what LoRA training taught the model
under the prompt it was trained with.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from medstation.training.lora_model import drafting_messages


@dataclass(frozen=True)
class DraftingScore:
    """ROUGE-L F1 per case (0-1) and their mean; ``drafts`` in case order."""

    adapter: str  # adapter file name, "" for the base model
    rouge_l: tuple[float, ...]
    drafts: tuple[str, ...]
    seconds: float

    @property
    def mean(self) -> float:
        return sum(self.rouge_l) / len(self.rouge_l) if self.rouge_l else 0.0


def draft_and_score(
    ctx,
    pairs: list[tuple[str, str]],
    *,
    adapter_path: str | Path | None = None,
    base_gguf: str | Path | None = None,
    transcript_tokens: int = 1536,
    max_new_tokens: int = 512,
    threads: int = 2,
) -> DraftingScore:
    """Draft a note for each (transcript, reference) pair and score it. Transcripts longer than
    ``transcript_tokens`` are cut by whole lines as in training (``lora_data.fit_transcript``)."""
    import time

    from rouge_score import rouge_scorer

    from medstation.llm.backend import GenerationSettings
    from medstation.llm.local import LocalLlamaBackend
    from medstation.training.lora_data import fit_transcript
    from medstation.training.lora_model import GGUFTokenizer, default_base_gguf

    base = Path(base_gguf) if base_gguf is not None else default_base_gguf()
    tokenizer = GGUFTokenizer(base)
    backend = LocalLlamaBackend(base, n_ctx=transcript_tokens + max_new_tokens + 128, n_threads=threads,
                                lora_path=adapter_path)
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    settings = GenerationSettings(max_tokens=max_new_tokens, temperature=0.0, seed=0)
    scores, drafts = [], []
    start = time.perf_counter()
    try:
        for index, (transcript, reference) in enumerate(pairs):
            ctx.check()
            text, _, _ = fit_transcript(transcript, transcript_tokens, tokenizer)
            draft = "".join(backend.stream_chat(ctx, drafting_messages(text), settings)).strip()
            drafts.append(draft)
            scores.append(scorer.score(reference, draft)["rougeL"].fmeasure)
            ctx.report((index + 1) / len(pairs), f"Drafted {index + 1}/{len(pairs)}: ROUGE-L {scores[-1]:.3f}")
    finally:
        backend.close()
        tokenizer.close()
    return DraftingScore(adapter=Path(adapter_path).name if adapter_path else "", rouge_l=tuple(scores),
                         drafts=tuple(drafts), seconds=time.perf_counter() - start)


def paired_difference(before: DraftingScore, after: DraftingScore, *, resamples: int = 9999, seed: int = 0) -> dict:
    """Mean per-case difference (after - before) with a 95 % paired bootstrap interval (scipy.stats)."""
    import numpy as np
    from scipy import stats

    diff = np.array(after.rouge_l) - np.array(before.rouge_l)
    if diff.size < 2:
        return {"mean_difference": float(diff.mean()) if diff.size else 0.0, "ci95": None, "cases": int(diff.size)}
    interval = stats.bootstrap((diff,), np.mean, n_resamples=resamples, confidence_level=0.95,
                               random_state=np.random.default_rng(seed), method="percentile").confidence_interval
    wilcoxon = stats.wilcoxon(diff) if np.any(diff) else None
    return {"mean_difference": float(diff.mean()), "ci95": [float(interval.low), float(interval.high)],
            "wilcoxon_p": float(wilcoxon.pvalue) if wilcoxon is not None else None, "cases": int(diff.size)}
