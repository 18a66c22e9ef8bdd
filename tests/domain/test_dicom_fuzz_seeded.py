"""Bounded fuzz run for CI, seeded with pydicom's and pydicom-data's files (long run: benchmarks/fuzz_dicom.py)."""

from __future__ import annotations

import random
import signal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.dicom_targets import exercise, mutate, seed_files

SEEDS = seed_files()


class _Hang(Exception):
    pass


def _alarm(_signum, _frame):
    raise _Hang()


def test_there_are_seeds():
    assert len(SEEDS) > 100


# derandomized: CI runs the same mutants each time; explore with benchmarks/fuzz_dicom.py --seed N
@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed_index=st.integers(0, 10**6), mutation_seed=st.integers(0, 2**32 - 1))
def test_mutated_seed_files_are_loaded_or_reported(tmp_path_factory, seed_index, mutation_seed):
    seed = SEEDS[seed_index % len(SEEDS)]
    data = mutate(seed.read_bytes(), random.Random(mutation_seed))
    path = tmp_path_factory.mktemp("fuzz") / "mutant.dcm"
    path.write_bytes(data)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(10)  # the hang limit of the long run
    try:
        assert exercise(path) in ("loaded", "reported")
    except _Hang:
        pytest.fail(f"hang > 10 s on a mutant of {seed.name} (mutation seed {mutation_seed})")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
