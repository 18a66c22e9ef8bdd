"""medstation.fileio: the one atomic write and the one file digest."""

from __future__ import annotations

import hashlib

import pytest

from medstation.fileio import HASH_BLOCK, atomic_write, atomic_writer, file_sha256
from medstation.jobs import Cancelled


def test_atomic_write_replaces_whole_and_leaves_no_part(tmp_path):
    target = tmp_path / "sub" / "header.json"
    atomic_write(target, "first")
    atomic_write(target, b"second")
    assert target.read_bytes() == b"second"
    assert [p.name for p in target.parent.iterdir()] == ["header.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "mask.npz"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_writer(target) as handle:
            handle.write(b"half of the new")
            raise RuntimeError("killed halfway")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["mask.npz"]


class _Ctx:
    def __init__(self, cancel_after: int) -> None:
        self.checks, self.cancel_after = 0, cancel_after

    def check(self) -> None:
        self.checks += 1
        if self.checks > self.cancel_after:
            raise Cancelled()


def test_file_sha256_matches_hashlib_and_checks_the_job_per_block(tmp_path):
    path = tmp_path / "model.bin"
    data = bytes(range(256)) * (HASH_BLOCK // 256 * 2 + 3)  # two whole blocks and a bit
    path.write_bytes(data)
    ctx = _Ctx(cancel_after=10)
    assert file_sha256(path, ctx) == hashlib.sha256(data).hexdigest()
    assert ctx.checks == 3
    with pytest.raises(Cancelled):
        file_sha256(path, _Ctx(cancel_after=1))
