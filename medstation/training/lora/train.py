"""LoRA fine-tuning of the default LLM for note drafting, written as a GGUF adapter llama.cpp loads.

``train_lora(ctx, pairs, out_dir)`` is a job (run it in a child process through the process lane):
it builds the torch model from the base GGUF, trains peft LoRA layers on (transcript, note) pairs with
the loss on the note tokens, and writes ``out_dir/adapter.gguf`` (see ``gguf_adapter``) plus
``out_dir/training.json``. Nothing is written unless training finishes; a cancelled job leaves
``out_dir`` without an adapter.

Progress: ``ctx.report(fraction, message)``; after every optimizer step ``ctx.partial(dict)`` with
keys ``kind="lora_step"``, ``step``, ``steps``, ``epoch``, ``loss`` (mean cross-entropy per note
token, nats), ``lr``, ``tokens`` (sequence length) and ``tokens_per_second`` (running mean).
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from medstation.training.lora.data import build_example
from medstation.training.lora.gguf_adapter import write_lora_adapter
from medstation.training.lora.model import (ATTENTION_MODULES, MLP_MODULES, GGUFTokenizer, add_lora, base_shape,
                                            default_base_gguf, load_base_model, lora_pairs)

ADAPTER_FILE = "adapter.gguf"
RESULT_FILE = "training.json"
DEFAULT_MAX_SECONDS = 15 * 60  # the bound is 20 minutes on 2 cores for the whole command
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class LoraResult:
    """What one training run produced. ``losses``: one per optimizer step, nats per note token."""

    adapter_path: str
    base_gguf: str
    rank: int
    alpha: float
    lr: float
    epochs: int
    max_tokens: int
    modules: tuple[str, ...]
    examples: int
    steps: int
    steps_planned: int
    tokens_seen: int  # all tokens fed forward (prompt + note)
    target_tokens_seen: int  # note tokens the loss was taken on
    seconds: float  # training loop only (not model loading or writing)
    losses: tuple[float, ...]
    stopped_early: str = ""  # why fewer steps than planned ran ("" when all ran)
    schema_version: int = SCHEMA_VERSION
    extra: dict = field(default_factory=dict)

    @property
    def tokens_per_second(self) -> float:
        return self.tokens_seen / self.seconds if self.seconds > 0 else 0.0

    def hyperparameters(self) -> dict:
        return {"rank": self.rank, "alpha": self.alpha, "lr": self.lr, "epochs": self.epochs,
                "max_tokens": self.max_tokens, "modules": list(self.modules), "base": Path(self.base_gguf).name}

    def metrics(self) -> dict:
        head = self.losses[: max(1, len(self.losses) // 10)]
        tail = self.losses[-max(1, len(self.losses) // 10):]
        return {"train_loss_first": sum(head) / len(head), "train_loss_last": sum(tail) / len(tail),
                "steps": self.steps, "steps_planned": self.steps_planned, "examples": self.examples,
                "tokens_per_second": round(self.tokens_per_second, 2), "train_seconds": round(self.seconds, 1),
                "stopped_early": self.stopped_early}

    def to_json(self) -> str:
        data = asdict(self)
        data["tokens_per_second"] = self.tokens_per_second
        return json.dumps(data, indent=1)


def train_lora(
    ctx,
    pairs: list[tuple[str, str]],
    out_dir: str | Path,
    *,
    epochs: int = 1,
    rank: int = 8,
    alpha: float = 16.0,
    lr: float = 3e-4,
    max_tokens: int = 768,
    base_gguf: str | Path | None = None,
    modules: tuple[str, ...] = ATTENTION_MODULES + MLP_MODULES,
    max_seconds: float | None = DEFAULT_MAX_SECONDS,
    max_steps: int | None = None,
    threads: int = 2,
    seed: int = 0,
) -> LoraResult:
    """Train a LoRA drafting adapter on ``pairs`` = [(transcript, signed note), ...]; see the module docstring.

    ``max_tokens``: tokens per training sequence (prompt + note), cut as ``lora_data`` describes.
    ``max_seconds``: wall-clock budget of the training loop; when reached, training stops after the
    current step and the result says so in ``stopped_early`` (None: no budget). ``max_steps``: cap
    on optimizer steps (tests). One step = one pair (batch of one: sequences differ in length).
    """
    import torch


    if not pairs:
        raise ValueError("LoRA training needs at least one (transcript, note) pair")
    if epochs < 1 or rank < 1 or max_tokens < 64:
        raise ValueError("epochs and rank must be >= 1 and max_tokens >= 64")
    base_path = Path(base_gguf) if base_gguf is not None else default_base_gguf()
    out_dir = Path(out_dir)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        ctx.report(0.0, f"Reading tokenizer of {base_path.name}")
        tokenizer = GGUFTokenizer(base_path)
        try:
            examples = []
            for transcript, note in pairs:
                ctx.check()
                examples.append(build_example(transcript, note, tokenizer, max_tokens))
        finally:
            tokenizer.close()
        ctx.report(0.02, f"Loading {base_path.name} as a torch model")
        model = load_base_model(base_path)
        shape = base_shape(model)
        torch.manual_seed(seed)
        peft_model = add_lora(model, rank=rank, alpha=alpha, modules=tuple(modules))
        ctx.check()
        result = _train_loop(ctx, peft_model, examples, epochs=epochs, lr=lr, max_seconds=max_seconds,
                             max_steps=max_steps, seed=seed)
        losses, seconds, tokens, targets, stopped = result
        ctx.report(0.97, "Writing the GGUF adapter")
        adapter = write_lora_adapter(
            out_dir / ADAPTER_FILE, lora_pairs(peft_model), alpha=alpha, n_heads=shape.n_heads,
            n_kv_heads=shape.n_kv_heads, name=f"LoRA drafting adapter for {base_path.stem}",
            extra={"base_model": base_path.name, "rank": str(rank), "steps": str(len(losses)),
                   "purpose": "note drafting"})
    finally:
        torch.set_num_threads(previous_threads)
    planned = _planned_steps(len(examples), epochs, max_steps)
    outcome = LoraResult(
        adapter_path=str(adapter), base_gguf=str(base_path), rank=rank, alpha=float(alpha), lr=lr, epochs=epochs,
        max_tokens=max_tokens, modules=tuple(modules), examples=len(examples), steps=len(losses),
        steps_planned=planned, tokens_seen=tokens, target_tokens_seen=targets, seconds=seconds,
        losses=tuple(losses), stopped_early=stopped,
        extra={"notes_truncated": sum(e.note_truncated for e in examples),
               "transcripts_cut": sum(e.transcript_lines_kept < e.transcript_lines_total for e in examples)})
    (out_dir / RESULT_FILE).write_text(outcome.to_json())
    ctx.report(1.0, f"LoRA adapter written: {len(losses)} steps, last loss {losses[-1]:.3f}")
    return outcome


def _planned_steps(n_examples: int, epochs: int, max_steps: int | None) -> int:
    planned = n_examples * epochs
    return min(planned, max_steps) if max_steps is not None else planned


def _train_loop(ctx, peft_model, examples, *, epochs, lr, max_seconds, max_steps, seed):
    """AdamW, linear warm-up then linear decay to 10 %; gradient norm clipped at 1. Returns
    (losses, seconds, tokens seen, target tokens seen, stopped_early)."""
    import torch
    import torch.nn.functional as F

    planned = _planned_steps(len(examples), epochs, max_steps)
    params = [p for p in peft_model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    warmup = max(1, min(10, planned // 10))

    def lr_at(step: int) -> float:
        if step < warmup:
            return lr * (step + 1) / warmup
        return lr * (1.0 - 0.9 * (step - warmup) / max(1, planned - warmup))

    llama = peft_model.get_base_model()  # LlamaForCausalLM with the LoRA layers injected
    order_rng = random.Random(seed)
    losses: list[float] = []
    tokens = targets = 0
    stopped = ""
    start = time.perf_counter()
    peft_model.train()
    for epoch in range(epochs):
        order = list(range(len(examples)))
        order_rng.shuffle(order)
        for index in order:
            if len(losses) >= planned:
                break
            ctx.check()
            example = examples[index]
            ids = torch.tensor([example.input_ids], dtype=torch.long)
            hidden = llama.model(input_ids=ids).last_hidden_state[0]
            # Logits only where the note is predicted: the 49k-word head is a fifth of the model's
            # compute, and prompt positions carry no loss.
            predicting = hidden[example.prompt_length - 1: -1]
            logits = llama.lm_head(predicting)
            loss = F.cross_entropy(logits.float(), ids[0, example.prompt_length:])
            if not math.isfinite(loss.item()):
                raise FloatingPointError(f"training diverged at step {len(losses) + 1} (loss {loss.item()})")
            for group in optimizer.param_groups:
                group["lr"] = lr_at(len(losses))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            losses.append(float(loss.item()))
            tokens += len(example.input_ids)
            targets += example.target_tokens
            elapsed = time.perf_counter() - start
            ctx.partial({"kind": "lora_step", "step": len(losses), "steps": planned, "epoch": epoch + 1,
                         "loss": losses[-1], "lr": lr_at(len(losses) - 1), "tokens": len(example.input_ids),
                         "tokens_per_second": tokens / elapsed})
            ctx.report(0.05 + 0.9 * len(losses) / planned,
                       f"LoRA step {len(losses)}/{planned}, epoch {epoch + 1}, loss {losses[-1]:.3f}")
            if max_seconds is not None and elapsed >= max_seconds and len(losses) < planned:
                stopped = f"time budget of {max_seconds:.0f} s reached after {len(losses)} of {planned} steps"
                break
        if stopped or len(losses) >= planned:
            break
    peft_model.eval()
    return losses, time.perf_counter() - start, tokens, targets, stopped
