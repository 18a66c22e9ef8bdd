"""The Admin tab's training notice: said plainly when the training libraries are missing, silent otherwise."""

from __future__ import annotations

import importlib.util

from medstation.training import availability


def test_training_is_available_in_the_source_install():
    assert availability.missing_training_packages() == []
    assert availability.training_unavailable_reason() == ""


def test_a_bundle_without_torch_says_training_is_not_available_and_why(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in ("torch", "peft") else real(name, *a))
    monkeypatch.setattr("sys.frozen", True, raising=False)
    reason = availability.training_unavailable_reason()
    assert reason.startswith("Training is not available here.")
    assert "inference bundle" in reason and "torch, peft" in reason and "--with-training" in reason
