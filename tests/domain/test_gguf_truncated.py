"""A truncated GGUF in the models folder is listed as unusable, with the reason, before anyone picks it
(breakchat)."""

from __future__ import annotations

from medstation.llm.backends.catalogue import describe_model, embedded_model_path


def test_a_truncated_download_is_listed_as_unusable(tmp_path):
    """7d7286b read only the key/values: a download cut off at half its size listed as a usable model
    ("unknown, 49 MB") and failed only when a question was asked (fails on 7d7286b)."""
    whole = embedded_model_path().read_bytes()
    cut = tmp_path / "half.gguf"
    cut.write_bytes(whole[: len(whole) // 2])
    info = describe_model(cut, "user")
    assert not info.usable and "truncated" in info.error and "unusable" in info.label()
    assert describe_model(embedded_model_path(), "embedded").usable  # the whole file is fine

