"""Training progress (issue 20.4): one bar through named phases that never goes backwards (on 1c99c71 the
percentage fell from 10 % to 2 % when validation images started embedding), stored for other windows."""

from __future__ import annotations

from medstation.training.runs.progress import PhasedProgress


def test_progress_is_monotonic_and_names_its_phase():
    sent: list[tuple[float, str]] = []
    progress = PhasedProgress(lambda f, m: sent.append((f, m)))
    embed = progress.phase("embedding")
    for n in range(4):  # training images, then validation images: one phase, one bar
        embed(n / 4, f"embedding image {n + 1}/4")
    progress.report("validating the base model", 0.0)
    progress.report("training", 0.5, "epoch 1/2 step 3/3 loss 0.4")
    progress.report("embedding", 0.0, "late report")  # an out-of-order report cannot pull the bar back
    fractions = [f for f, _ in sent]
    assert fractions == sorted(fractions) and 0.5 < fractions[-2] < 0.6
    assert sent[0][1] == "embedding: embedding image 1/4" and sent[-2][1].startswith("training: epoch 1/2")


def test_progress_is_stored_for_a_window_that_did_not_start_the_run(db, settings):
    from medstation.training import runs

    run = runs.enqueue(db, settings.home, kind="segmentation", dataset_version_id=None, base_model_id=None,
                       params={}, actor="cli")
    clock = [0.0]
    writer = runs.ProgressWriter(db, run.id, interval_s=2.0)
    writer._clock = lambda: clock[0]
    writer(0.05, "embedding: embedding image 1/9")
    clock[0] = 1.0
    writer(0.06, "embedding: embedding image 2/9")  # within 2 s, same phase: not written
    assert runs.get(db, run.id).progress["message"] == "embedding: embedding image 1/9"
    writer(0.16, "validating the base model: 9 validation examples")  # a new phase: written at once
    assert runs.get(db, run.id).progress["fraction"] == 0.16
    clock[0] = 3.5
    writer(0.2, "validating the base model: done")
    assert runs.get(db, run.id).progress["message"] == "validating the base model: done"
