"""The viewer's embedding prefetch waits while a chat answer streams, then carries on."""

from __future__ import annotations

import threading
import time

from medstation.foreground import FOREGROUND
from medstation.jobs import Cancelled, JobContext
from medstation.segmentation.cache import EmbeddingCache
from medstation.segmentation.slices import VolumeSegmenter, precompute_embeddings
from tests.seg_support import synthetic_volume


class CountingEncoder:
    """Stands in for the image encoder: records when each slice is embedded (the gate, not the model, is tested)."""

    model_version = "counting-encoder"

    def __init__(self) -> None:
        self.calls: list[float] = []

    def embed(self, image):
        self.calls.append(time.monotonic())
        return ("embedding", image.shape)


def _run_in_thread(ctx, segmenter, indices):
    outcome: dict = {}

    def work():
        try:
            outcome["done"] = precompute_embeddings(ctx, segmenter, indices)
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            outcome["error"] = exc

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread, outcome


def test_prefetch_waits_while_an_answer_streams_and_proceeds_once_it_ends():
    volume, _ = synthetic_volume(shape=(4, 32, 32))
    encoder = CountingEncoder()
    segmenter = VolumeSegmenter(encoder, volume, EmbeddingCache(8))
    with FOREGROUND.hold():
        thread, outcome = _run_in_thread(JobContext(), segmenter, [0, 1, 2])
        time.sleep(0.6)
        assert encoder.calls == [] and thread.is_alive()  # not one slice encoded while the answer holds the gate
        released = time.monotonic()
    thread.join(timeout=5)
    assert outcome == {"done": [0, 1, 2]}
    assert len(encoder.calls) == 3 and encoder.calls[0] >= released


def test_a_waiting_prefetch_is_cancelled_at_once():
    volume, _ = synthetic_volume(shape=(3, 32, 32))
    encoder = CountingEncoder()
    ctx = JobContext()
    with FOREGROUND.hold():
        thread, outcome = _run_in_thread(ctx, VolumeSegmenter(encoder, volume, EmbeddingCache(8)), [0, 1])
        time.sleep(0.3)
        ctx.cancel()  # the user scrolled on: the waiting job must not linger until the answer ends
        thread.join(timeout=2)
        assert not thread.is_alive()
    assert isinstance(outcome.get("error"), Cancelled) and encoder.calls == []


def test_cached_slices_do_not_wait():
    volume, _ = synthetic_volume(shape=(2, 32, 32))
    encoder = CountingEncoder()
    segmenter = VolumeSegmenter(encoder, volume, EmbeddingCache(8))
    precompute_embeddings(JobContext(), segmenter, [0, 1])
    with FOREGROUND.hold():
        started = time.monotonic()
        assert precompute_embeddings(JobContext(), segmenter, [0, 1]) == []  # nothing to compute: no wait
        assert time.monotonic() - started < 0.5
