"""Test doubles for candidate models in the shadow and blind-preference tests (no Qt here).

They stand in for a real candidate so the mechanics (what is run, stored, scored) can be checked in
seconds; the real GGUF drafting path runs in ``tests/e2e/test_shadow_notes_e2e.py``.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np


class ThirdPersonBackend:
    """A chat backend that rewrites the last user message as "The client reports …" (passes the rewrite checks)."""

    closed = False

    def stream_chat(self, ctx, messages, settings):
        source = messages[-1]["content"].rstrip(".")
        text = "The client reports " + source[0].lower() + source[1:] + "."
        for word in text.split(" "):
            ctx.check()
            yield word + " "

    def close(self):
        self.closed = True


class BoxEngine:
    """A segmentation engine whose mask is the box shrunk by ``inset`` pixels on each side."""

    name = "boxfill"

    def __init__(self, inset: int) -> None:
        self.inset = inset
        self.model_version = f"boxfill:{inset}"

    def embed(self, image):
        return np.asarray(image)

    def decode(self, embedding, box, points=None, labels=None):
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        mask = np.zeros(np.asarray(embedding).shape[:2], bool)
        mask[y0 + self.inset:y1 - self.inset, x0 + self.inset:x1 - self.inset] = True
        record = {"box": list(box), "points": [], "box_margin_model_px": 0.0}
        return SimpleNamespace(mask=mask, box=tuple(float(v) for v in box), points=[], score=0.5, seconds=0.0,
                               box_margin=0.0, empty=not mask.any(), prompt_record=lambda: record)
