"""Helpers for tests that start a real server process (llama_cpp.server, chroma)."""

from __future__ import annotations

import subprocess


def stop_process(process: subprocess.Popen, grace_s: float = 10.0) -> None:
    """Ask ``process`` to exit; kill it if it has not after ``grace_s`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
