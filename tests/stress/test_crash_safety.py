"""Short crash-safety run: SIGKILL writers at random points; nothing committed is lost or half-written.

The long run (>= 1000 kills) is ``benchmarks/stress_kill.py``.
"""

from __future__ import annotations

import sys

import pytest

from tests.stress.crash_harness import WORKLOADS, run_kills

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs fork and SIGKILL")


@pytest.mark.parametrize("workload", WORKLOADS)
def test_random_kills_lose_nothing_committed(tmp_path, workload):
    report = run_kills(tmp_path / "home", kills_per_workload=6, seed=7, max_delay_s=0.5, workloads=(workload,))
    assert report.failures == []
    assert report.worker_exits == []
    assert report.kills[workload] == 6
    assert report.committed[workload] > 0  # the workers did commit work before being killed
