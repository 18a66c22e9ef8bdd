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


# derandomize: CI runs the same 100 mutants every time (a new random crash must not block a landing);
# explore more locally with `pytest --hypothesis-seed=N -k mutated` and pin what it finds as a test below.
@settings(max_examples=100, deadline=5000, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
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


def test_every_element_with_an_unknown_vr_is_loaded_or_reported(tmp_path, seed_bytes):
    """Found by the fuzz test: pydicom decodes lazily, so a corrupt VR (here SeriesNumber, then
    WindowCenter) raised on first access, outside the loader's per-file checks. Every explicit-VR
    element of the seed file gets an unknown VR in turn."""
    import re

    vr_pattern = re.compile(rb"(?<=[\x00-\xff]{4})(AE|AS|CS|DA|DS|DT|IS|LO|LT|PN|SH|ST|TM|UI|US|SS|FD|FL|SQ|OW|OB|UL)")
    positions = [m.start() for m in vr_pattern.finditer(seed_bytes) if m.start() >= 136]  # after preamble + DICM
    assert len(positions) > 20
    for pos in positions:
        path = tmp_path / f"vr_{pos}.dcm"
        path.write_bytes(seed_bytes[:pos] + b"I\x00" + seed_bytes[pos + 2:])
        try:
            volume = load_series(JobContext(), [path], workers=1)
            assert volume.pixels.ndim == 3
        except ImagingError as exc:
            assert str(exc)
        ds, reason = read_header(path)
        assert (ds is None) == (reason is not None)
