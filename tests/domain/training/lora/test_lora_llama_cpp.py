"""LoRA end to end on the embedded SmolLM2: train a few steps, load the GGUF adapter in llama.cpp, draft.

The numerical checks compare llama.cpp (Q4_1 weights, 8-bit activations in its matrix products)
with the float32 torch model. The base models already differ by up to ~1.3 logits, so adapters are
compared through the change they cause (logits with adapter minus logits without), which must
correlate across runtimes; a q/k adapter written without llama.cpp's row reordering must not.
"""

from __future__ import annotations

import numpy as np
import pytest

from medstation.jobs import Cancelled, JobContext
from medstation.llm.backends.base import GenerationSettings
from medstation.llm.backends.local import LocalLlamaBackend
from medstation.training.lora import gguf_adapter
from medstation.training.lora.gguf_adapter import read_lora_adapter, write_lora_adapter
from medstation.training.lora.model import (ATTENTION_MODULES, MLP_MODULES, GGUFTokenizer, add_lora, base_shape,
                                            default_base_gguf, drafting_messages, load_base_model, lora_pairs)
from medstation.training.lora.train import ADAPTER_FILE, RESULT_FILE, train_lora

pytestmark = pytest.mark.slow

PAIRS = [
    ("[doctor] what brings you in today ?\n[patient] my right knee hurts when i climb stairs .\n"
     "[doctor] any swelling ?\n[patient] a little in the evening .",
     "CHIEF COMPLAINT\n\nRight knee pain.\n\nHISTORY OF PRESENT ILLNESS\n\nPain on stairs with evening swelling."),
    ("[doctor] how is the cough ?\n[patient] still there after two weeks , worse at night .\n"
     "[doctor] any fever ?\n[patient] no fever .",
     "CHIEF COMPLAINT\n\nCough.\n\nHISTORY OF PRESENT ILLNESS\n\nTwo weeks of nocturnal cough. Denies fever."),
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    steps = []
    ctx = JobContext(on_partial=steps.append)
    out = tmp_path_factory.mktemp("lora")
    result = train_lora(ctx, PAIRS, out, epochs=2, rank=4, alpha=8, lr=1e-3, max_tokens=128, max_steps=3)
    return result, steps, out


def test_training_reports_each_step_and_writes_a_llama_adapter(trained):
    result, steps, out = trained
    assert [s["step"] for s in steps] == [1, 2, 3] and all(s["kind"] == "lora_step" for s in steps)
    assert all(np.isfinite(s["loss"]) and s["loss"] > 0 for s in steps)
    assert result.steps == result.steps_planned == 3 and len(result.losses) == 3 and not result.stopped_early
    assert result.adapter_path == str(out / ADAPTER_FILE) and (out / RESULT_FILE).is_file()
    info = read_lora_adapter(result.adapter_path)
    assert (info.architecture, info.alpha, info.rank) == ("llama", 8.0, 4)
    assert len(info.tensors) == 30 * len(ATTENTION_MODULES + MLP_MODULES)
    assert info.tensors["blk.0.attn_q.weight"] == ((4, 576), (576, 4))
    assert info.tensors["blk.0.attn_k.weight"] == ((4, 576), (192, 4))
    assert info.tensors["blk.29.ffn_down.weight"] == ((4, 1536), (576, 4))


def test_llama_cpp_loads_the_trained_adapter_and_drafts_a_note(trained):
    result, _, _ = trained
    backend = LocalLlamaBackend(default_base_gguf(), n_ctx=1024, lora_path=result.adapter_path)
    try:
        assert backend.describe()["adapter"] == ADAPTER_FILE
        settings = GenerationSettings(max_tokens=24, temperature=0.0, seed=0)
        draft = "".join(backend.stream_chat(JobContext(), drafting_messages(PAIRS[0][0]), settings))
    finally:
        backend.close()
    assert len(draft.split()) >= 3


def test_cancelling_mid_training_writes_no_adapter(tmp_path):
    seen = []

    def cancel_after_first_step(step):
        seen.append(step)
        ctx.cancel()

    ctx = JobContext(on_partial=cancel_after_first_step)
    with pytest.raises(Cancelled):
        train_lora(ctx, PAIRS, tmp_path, rank=2, max_tokens=96, max_steps=5)
    assert len(seen) == 1
    assert not (tmp_path / ADAPTER_FILE).exists() and not (tmp_path / RESULT_FILE).exists()


# --- torch (peft) against llama.cpp on the same tokens --------------------------------------------

@pytest.fixture(scope="module")
def peft_setup():
    import torch

    torch.manual_seed(0)
    base = default_base_gguf()
    tokenizer = GGUFTokenizer(base)
    ids = tokenizer.encode(tokenizer.render(drafting_messages(PAIRS[0][0])))
    tokenizer.close()
    model = load_base_model(base)
    peft_model = add_lora(model, rank=8, alpha=16, modules=ATTENTION_MODULES + MLP_MODULES)
    peft_model.eval()
    return base, ids, peft_model, base_shape(model)


def set_lora_b(peft_model, modules, std):
    """Random B (seeded) on LoRA layers whose name contains one of ``modules``, zero elsewhere."""
    import torch

    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, module in peft_model.named_modules():
            if hasattr(module, "lora_B") and "default" in module.lora_B:
                weight = module.lora_B["default"].weight
                on = any(name.endswith(m) for m in modules)
                weight.copy_(torch.randn(weight.shape, generator=generator) * std if on else torch.zeros_like(weight))


def torch_logits(peft_model, ids, *, adapter=True):
    import contextlib

    import torch

    context = contextlib.nullcontext() if adapter else peft_model.disable_adapter()
    with torch.no_grad(), context:
        return peft_model(input_ids=torch.tensor([ids])).logits[0].numpy()


def llama_cpp_logits(base, ids, adapter=None):
    from llama_cpp import Llama

    extra = {"lora_path": str(adapter)} if adapter is not None else {}
    llama = Llama(model_path=str(base), n_ctx=256, n_threads=2, logits_all=True, verbose=False, **extra)
    try:
        llama.eval(ids)
        return np.array(llama.scores[: len(ids)])
    finally:
        llama.close()


def write(peft_model, shape, path):
    return write_lora_adapter(path, lora_pairs(peft_model), alpha=16, n_heads=shape.n_heads,
                              n_kv_heads=shape.n_kv_heads)


def correlation(a, b):
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def test_zero_b_adapter_changes_nothing_in_llama_cpp(peft_setup, tmp_path):
    base, ids, peft_model, shape = peft_setup
    set_lora_b(peft_model, (), 0.0)
    plain = llama_cpp_logits(base, ids)
    with_zero = llama_cpp_logits(base, ids, write(peft_model, shape, tmp_path / "zero.gguf"))
    assert np.array_equal(plain, with_zero)
    assert np.array_equal(torch_logits(peft_model, ids), torch_logits(peft_model, ids, adapter=False))


def test_adapter_moves_llama_cpp_logits_as_peft_moves_torch_logits(peft_setup, tmp_path, monkeypatch):
    base, ids, peft_model, shape = peft_setup
    torch_base, cpp_base = torch_logits(peft_model, ids, adapter=False), llama_cpp_logits(base, ids)
    assert (torch_base.argmax(-1) == cpp_base.argmax(-1)).mean() >= 0.9  # same base model, two runtimes

    set_lora_b(peft_model, ("v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"), 0.05)
    torch_delta = torch_logits(peft_model, ids) - torch_base
    cpp_tuned = llama_cpp_logits(base, ids, write(peft_model, shape, tmp_path / "mlp.gguf"))
    assert correlation(torch_delta, cpp_tuned - cpp_base) > 0.9
    assert (torch_logits(peft_model, ids).argmax(-1) == cpp_tuned.argmax(-1)).mean() >= 0.9

    # q/k only: this is where llama.cpp's row order matters.
    set_lora_b(peft_model, ("q_proj", "k_proj"), 0.2)
    torch_delta = torch_logits(peft_model, ids) - torch_base
    cpp_delta = llama_cpp_logits(base, ids, write(peft_model, shape, tmp_path / "qk.gguf")) - cpp_base
    assert correlation(torch_delta, cpp_delta) > 0.8
    monkeypatch.setattr(gguf_adapter, "to_llama_cpp_rows", lambda rows, n_heads: rows)
    unordered = llama_cpp_logits(base, ids, write(peft_model, shape, tmp_path / "qk-unordered.gguf")) - cpp_base
    assert correlation(torch_delta, unordered) < 0.5
