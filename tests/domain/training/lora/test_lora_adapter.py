"""GGUF LoRA adapter layout and training-example cutting, without training or loading a model."""

from __future__ import annotations

import numpy as np
import pytest

from medstation.training.lora.data import OMITTED_LINE, build_example, fit_transcript, read_aci_bench_pairs
from medstation.training.lora.gguf_adapter import (AdapterFormatError, LoraPair, gguf_tensor_name, read_lora_adapter,
                                                   to_hf_rows, to_llama_cpp_rows, write_lora_adapter)
from medstation.training.lora.model import GGUFTokenizer, default_base_gguf, drafting_messages


def test_q_k_rows_are_interleaved_per_head_like_llama_cpp():
    # Two heads of size 4: HF pairs rows (0, 2) and (1, 3) of each head; llama.cpp wants pairs adjacent.
    rows = np.arange(8)[:, None] * np.ones((1, 3))
    assert to_llama_cpp_rows(rows, 2)[:, 0].tolist() == [0, 2, 1, 3, 4, 6, 5, 7]
    assert np.array_equal(to_hf_rows(to_llama_cpp_rows(rows, 2), 2), rows)
    with pytest.raises(AdapterFormatError):
        to_llama_cpp_rows(np.zeros((6, 2)), 4)


def test_module_names_map_to_base_gguf_tensors():
    assert gguf_tensor_name("base_model.model.model.layers.7.self_attn.q_proj") == "blk.7.attn_q.weight"
    assert gguf_tensor_name("model.layers.12.mlp.down_proj") == "blk.12.ffn_down.weight"
    with pytest.raises(AdapterFormatError):
        gguf_tensor_name("model.embed_tokens")


def test_adapter_file_declares_lora_and_keeps_peft_shapes(tmp_path):
    rng = np.random.default_rng(0)
    pairs = {
        "model.layers.0.self_attn.q_proj": LoraPair(a=rng.normal(size=(4, 16)), b=rng.normal(size=(16, 4))),
        "model.layers.0.self_attn.k_proj": LoraPair(a=rng.normal(size=(4, 16)), b=rng.normal(size=(8, 4))),
        "model.layers.1.mlp.up_proj": LoraPair(a=rng.normal(size=(4, 16)), b=rng.normal(size=(32, 4))),
    }
    path = write_lora_adapter(tmp_path / "a.gguf", pairs, alpha=8, n_heads=4, n_kv_heads=2,
                              extra={"base_model": "tiny.gguf"})
    info = read_lora_adapter(path)
    assert (info.architecture, info.alpha, info.rank) == ("llama", 8.0, 4)
    assert info.tensors == {"blk.0.attn_q.weight": ((4, 16), (16, 4)), "blk.0.attn_k.weight": ((4, 16), (8, 4)),
                            "blk.1.ffn_up.weight": ((4, 16), (32, 4))}
    assert info.metadata == {"base_model": "tiny.gguf"}
    assert not (tmp_path / "a.gguf.partial").exists()


def test_reordered_b_of_q_is_stored_and_a_is_not(tmp_path):
    import gguf

    a, b = np.arange(8, dtype=np.float32).reshape(1, 8), np.arange(8, dtype=np.float32).reshape(8, 1)
    path = write_lora_adapter(tmp_path / "q.gguf", {"model.layers.0.self_attn.q_proj": LoraPair(a=a, b=b)},
                              alpha=1, n_heads=2, n_kv_heads=1)
    stored = {t.name: np.array(t.data).reshape(-1) for t in gguf.GGUFReader(str(path)).tensors}
    assert stored["blk.0.attn_q.weight.lora_a"].tolist() == list(range(8))
    assert stored["blk.0.attn_q.weight.lora_b"].tolist() == [0, 2, 1, 3, 4, 6, 5, 7]


def test_rank_mismatch_and_empty_adapters_are_refused(tmp_path):
    with pytest.raises(AdapterFormatError):
        write_lora_adapter(tmp_path / "x.gguf", {}, alpha=1, n_heads=1, n_kv_heads=1)
    bad = {"model.layers.0.mlp.up_proj": LoraPair(a=np.zeros((4, 8)), b=np.zeros((8, 2)))}
    with pytest.raises(AdapterFormatError):
        write_lora_adapter(tmp_path / "x.gguf", bad, alpha=1, n_heads=1, n_kv_heads=1)
    with pytest.raises(AdapterFormatError):
        read_lora_adapter(default_base_gguf())  # a model, not an adapter


@pytest.fixture(scope="module")
def tokenizer():
    loaded = GGUFTokenizer(default_base_gguf())
    yield loaded
    loaded.close()


TRANSCRIPT = "\n".join(f"[doctor] question number {i} about the knee pain ." if i % 2 == 0 else
                       f"[patient] answer number {i} , it hurts on the stairs ." for i in range(60))


def test_long_transcripts_keep_their_start_and_end(tokenizer):
    text, kept, total = fit_transcript(TRANSCRIPT, 120, tokenizer)
    lines = text.splitlines()
    assert total == 60 and kept == len(lines) - 1 < 60
    assert lines[0].startswith("[doctor] question number 0 ") and lines[-1].startswith("[patient] answer number 59 ")
    assert OMITTED_LINE in lines
    assert len(tokenizer.encode(text)) <= 120


def test_example_puts_loss_on_the_note_and_ends_whole_notes(tokenizer):
    note = "CHIEF COMPLAINT\n\nKnee pain."
    example = build_example(TRANSCRIPT, note, tokenizer, max_tokens=200)
    prompt = list(example.input_ids[: example.prompt_length])
    assert tokenizer.vocab.detokenize(prompt, special=True).decode().endswith("<|im_start|>assistant\n")
    assert list(example.input_ids[example.prompt_length:]) == tokenizer.encode(note) + [tokenizer.eos_id]
    assert not example.note_truncated and len(example.input_ids) <= 200 + 8
    long_note = " ".join(["The patient reports knee pain."] * 80)
    cut = build_example(TRANSCRIPT, long_note, tokenizer, max_tokens=200)
    assert cut.note_truncated and cut.target_tokens == 100
    assert tokenizer.eos_id not in cut.input_ids[cut.prompt_length:]


def test_prompt_matches_what_llama_cpp_python_renders(tokenizer):
    rendered = tokenizer.render(drafting_messages("[doctor] hello ."))
    assert rendered.startswith("<|im_start|>system\nYou are a clinical scribe.")
    assert "<|im_start|>user\n[doctor] hello .<|im_end|>" in rendered


def test_aci_bench_csv_needs_its_columns(tmp_path):
    from medstation.errors import UserFacingError

    good = tmp_path / "good.csv"
    good.write_text('dataset,encounter_id,dialogue,note\nx,D1,"[doctor] hi .\n[patient] hi .",NOTE\nx,D2,,\n')
    assert read_aci_bench_pairs(good) == [("[doctor] hi .\n[patient] hi .", "NOTE")]
    bad = tmp_path / "bad.csv"
    bad.write_text("dialogue,section_text\na,b\n")
    with pytest.raises(UserFacingError, match="'dialogue' and 'note'"):
        read_aci_bench_pairs(bad)
