from __future__ import annotations

import pytest

from medstation.jobs import Cancelled, JobContext, run_job


def count_to(ctx, n):
    out = []
    for i in range(n):
        ctx.check()
        out.append(i)
        ctx.partial(i)
        ctx.report((i + 1) / n, f"step {i + 1}")
    return out


def test_job_reports_progress_and_partials():
    progress, partials = [], []
    ctx = JobContext(on_progress=lambda f, m: progress.append((f, m)), on_partial=partials.append)
    assert run_job(count_to, 4, ctx=ctx) == [0, 1, 2, 3]
    assert partials == [0, 1, 2, 3]
    assert progress[-1] == (1.0, "step 4")
    assert [f for f, _ in progress] == sorted(f for f, _ in progress)


def test_cancel_stops_job_at_next_check():
    seen = []

    def on_partial(i):
        seen.append(i)
        if i == 2:
            ctx.cancel()

    ctx = JobContext(on_partial=on_partial)
    with pytest.raises(Cancelled):
        run_job(count_to, 10, ctx=ctx)
    assert seen == [0, 1, 2]


def test_report_clamps_fraction():
    ctx = JobContext()
    ctx.report(1.7, "over")
    assert ctx.fraction == 1.0
    ctx.report(-3, "under")
    assert ctx.fraction == 0.0


def test_sub_maps_progress_into_its_share_and_shares_cancellation():
    progress, partials = [], []
    ctx = JobContext(on_progress=lambda f, m: progress.append((round(f, 3), m)), on_partial=partials.append)
    step = ctx.sub(0.5, 0.75, "trial 2")
    assert count_to(step, 2) == [0, 1]
    assert progress == [(0.625, "trial 2: step 1"), (0.75, "trial 2: step 2")]
    assert partials == [0, 1]
    ctx.sub(0.0, 1.0, partials=False).partial("dropped")
    assert partials == [0, 1]
    ctx.cancel()
    with pytest.raises(Cancelled):
        step.check()


def test_quiet_keeps_progress_inside_and_on_check_runs_after_each_check():
    progress, waits = [], []
    ctx = JobContext(on_progress=lambda f, m: progress.append(m))
    assert count_to(ctx.quiet(), 3) == [0, 1, 2]
    assert progress == []
    background = ctx.sub(on_check=lambda c: waits.append(c.fraction))
    count_to(background, 2)
    assert len(waits) == 2 and progress == ["step 1", "step 2"]
    background.cancel()  # cancelling the step cancels the job it belongs to
    with pytest.raises(Cancelled):
        ctx.check()
