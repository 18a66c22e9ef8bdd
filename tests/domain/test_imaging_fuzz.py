"""Hostile bytes: mutated DICOM files must be reported or loaded, never crash or hang the loader."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medstation.imaging.headers import ImagingError
from medstation.imaging.indexer import read_header
from medstation.imaging.loader import load_series
from medstation.imaging.synthetic import SeriesSpec, write_series
from medstation.jobs import JobContext



@pytest.fixture(scope="module")
def seed_bytes(tmp_path_factory) -> bytes:
    path = write_series(tmp_path_factory.mktemp("seed"), SeriesSpec(n_slices=1, rows=8, columns=8))[0]
    return path.read_bytes()


mutation = st.one_of(
    st.tuples(st.just("flip"), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=12)),
    st.tuples(st.just("truncate"), st.integers(0, 10**6)),
    st.tuples(st.just("insert"), st.tuples(st.integers(0, 10**6), st.binary(min_size=1, max_size=16))),
)


def _mutate(data: bytes, op) -> bytes:
    kind, arg = op
    buf = bytearray(data)
    if not buf:
        return bytes(arg[1]) if kind == "insert" else b""
    if kind == "flip":
        for pos, value in arg:
            buf[pos % len(buf)] = value
    elif kind == "truncate":
        buf = buf[: arg % len(buf)]
    else:
        pos, blob = arg
        buf[pos % len(buf) : pos % len(buf)] = blob
    return bytes(buf)


class _Hang(Exception):
    pass


def _alarm(_signum, _frame):
    raise _Hang()


@settings(max_examples=100, deadline=5000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(mutation, min_size=1, max_size=3))
def test_mutated_dicom_is_loaded_or_reported(tmp_path_factory, seed_bytes, ops):
    data = seed_bytes
    for op in ops:
        data = _mutate(data, op)
    path = tmp_path_factory.mktemp("fuzz") / "mutant.dcm"
    path.write_bytes(data)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(5)  # a hang is a failure, not a stuck test run
    try:
        try:
            vol = load_series(JobContext(), [path], workers=1)
            assert vol.pixels.ndim == 3
        except ImagingError as exc:
            assert str(exc)
        ds, reason = read_header(path)
        assert (ds is None) == (reason is not None)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
