"""Checkpoint files: find them, hash them, refuse the wrong ones.

A checkpoint that is missing, truncated, has the wrong sha256 or does not
unpickle into the expected state dict raises :class:`CheckpointError` with a
sentence a clinician can read; no mask is ever produced from it.
"""

from __future__ import annotations

from pathlib import Path

from medstation.config import project_models_dir
from medstation.errors import UserFacingError
from medstation.fileio import file_sha256


class CheckpointError(UserFacingError, RuntimeError):
    """The model file cannot be used (missing, corrupt, or not the expected weights)."""


def verify_checkpoint(path: str | Path, expected_sha256: str | None = None) -> str:
    """Return the file's sha256 after checking it exists, is non-empty and matches ``expected_sha256``."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"model file not found: {path}")
    if path.stat().st_size == 0:
        raise CheckpointError(f"model file is empty: {path}")
    sha = file_sha256(path)
    if expected_sha256 and sha != expected_sha256:
        raise CheckpointError(
            f"model file {path.name} is corrupt or not the expected weights "
            f"(sha256 {sha[:12]}…, expected {expected_sha256[:12]}…)"
        )
    return sha


def load_state_dict(path: str | Path) -> dict:
    """``torch.load`` on CPU with ``weights_only`` (no code runs from the file); unwraps {"model": …}."""
    import torch

    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated zip, garbage bytes, pickled code
        raise CheckpointError(f"model file {Path(path).name} could not be read: {exc.__class__.__name__}: {exc}") from exc
    if isinstance(state, dict):
        for key in ("model", "state_dict"):
            if key in state and isinstance(state[key], dict):
                state = state[key]
    if not isinstance(state, dict) or not state:
        raise CheckpointError(f"model file {Path(path).name} holds no weights")
    return state


def search_dirs(models_dir: Path) -> list[Path]:
    """Where user-supplied checkpoints are looked for: settings.models_dir, then the project's models/."""
    return [models_dir, project_models_dir()]


def find_file(name: str, models_dir: Path) -> Path | None:
    for folder in search_dirs(models_dir):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None
