"""Clinical files referenced by sha256: accepted masks, note exports, model files.

Clinic mode (``shared_data_root`` set): every workstation writes the files the records point to
into one mounted folder, **content-addressed**: ``ROOT/objects/ab/abcdef….<suffix>`` where
``abcdef…`` is the sha256 of the bytes (written whole or not at all, :mod:`medstation.fileio`).
The row that refers to a file stores its path and its sha256; every read hashes the bytes again
and refuses a file that is missing or differs (:class:`FileIntegrityError`): a mask that cannot be
read is an error, never an empty mask. One workstation alone keeps its files in its data folder,
with the same sha256 check wherever a row recorded one.

Model files follow the registry: a version's file that is not on this machine is fetched from the
shared root into the local cache (``cache_dir/models/<sha256><suffix>``) and verified against the
registry's sha256 before it is used (:func:`local_model_file`).

This module is Qt-free and imports only :mod:`medstation.fileio` and :mod:`medstation.errors`.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from medstation.errors import UserFacingError
from medstation.fileio import atomic_write, file_sha256, part_path

OBJECTS = "objects"  # the content-addressed folder under the shared root
MODELS = "models"  # the training agent's uploads: models/<kind>-<sha256[:16]><suffix>


class FileIntegrityError(UserFacingError):
    """A file a record refers to is missing or its bytes are not the ones recorded (sha256)."""


@dataclass(frozen=True)
class StoredFile:
    """A file written for a record: where it is, and the sha256 of its bytes (hex)."""

    path: Path
    sha256: str
    relpath: str = ""  # under the shared root ("objects/ab/ab….npz"); "" for a file in a data folder


def object_relpath(sha256: str, suffix: str = "") -> str:
    """``objects/ab/<sha256><suffix>``: where a file with these bytes lives under the shared root."""
    return f"{OBJECTS}/{sha256[:2]}/{sha256}{suffix}"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put_object(root: Path, data: bytes, suffix: str = "") -> StoredFile:
    """Write ``data`` content-addressed under the shared ``root``; an existing copy is re-used only when its
    bytes verify (a damaged copy is replaced). Returns the stored file (absolute path, sha256, relpath)."""
    sha = _sha(data)
    rel = object_relpath(sha, suffix)
    path = Path(root) / rel
    if not (path.is_file() and file_sha256(path) == sha):
        atomic_write(path, data)
    return StoredFile(path, sha, rel)


def put_file(folder: Path, name: str, data: bytes) -> StoredFile:
    """Write ``data`` as ``folder/name`` (one workstation's data folder) and return its sha256."""
    path = atomic_write(Path(folder) / name, data)
    return StoredFile(path, _sha(data))


def read_verified(path: str | Path, sha256: str = "", *, what: str = "file") -> bytes:
    """The bytes at ``path``, after checking they hash to ``sha256`` (skipped only when no sha256 was recorded).

    Raises :class:`FileIntegrityError` naming ``what`` when the file is missing or differs."""
    if not path or not Path(path).is_file():
        raise FileIntegrityError(f"The {what} {path or '(no path recorded)'} is missing: it may not have been "
                                 "copied to this machine or the shared data root is not mounted.")
    data = Path(path).read_bytes()
    if sha256 and _sha(data) != sha256:
        raise FileIntegrityError(f"The {what} {path} does not match the sha256 recorded for it "
                                 f"({_sha(data)[:12]}…, recorded {sha256[:12]}…): it was changed or damaged; "
                                 "it is not used.")
    return data


# --- model files -------------------------------------------------------------------------------------


def shared_model_candidates(root: Path, sha256: str, kind: str, suffix: str) -> list[Path]:
    """Where the shared root may hold a model file with this sha256: the content-addressed object, then the
    training agent's upload name (``models/<kind>-<sha256[:16]><suffix>``)."""
    root = Path(root)
    return [root / object_relpath(sha256, suffix), root / MODELS / f"{kind}-{sha256[:16]}{suffix}"]


def publish_model(root: Path, source: Path, sha256: str) -> StoredFile:
    """Copy a model file into the shared root, content-addressed (verified after the copy)."""
    source = Path(source)
    rel = object_relpath(sha256, source.suffix)
    dest = Path(root) / rel
    if not (dest.is_file() and file_sha256(dest) == sha256):
        _copy_verified(source, dest, sha256, what="model file")
    return StoredFile(dest, sha256, rel)


_VERIFIED: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns) -> sha256 already computed here


def _model_sha(path: Path) -> str:
    """sha256 of a model file, remembered per (path, size, mtime) so a model resolved per answer is hashed once;
    a file rewritten or replaced gets a new key and is hashed again."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _VERIFIED:
        _VERIFIED[key] = file_sha256(path)
    return _VERIFIED[key]


def shared_model_path(shared_root: Path | None, path: Path, sha256: str) -> Path:
    """Where a newly trained model file is registered: clinic mode, its verified copy in the shared root
    (content-addressed, so every workstation finds it); else ``path`` itself."""
    return publish_model(shared_root, path, sha256).path if shared_root is not None else Path(path)


def _copy_verified(source: Path, dest: Path, sha256: str, *, what: str) -> None:
    """Copy ``source`` to a ``.part`` beside ``dest``, hash the copy, and rename only when it matches."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = part_path(dest)
    try:
        shutil.copyfile(source, partial)
        got = file_sha256(partial)
        if got != sha256:
            raise FileIntegrityError(f"The {what} {source} does not match the registry's sha256 "
                                     f"({got[:12]}…, registered {sha256[:12]}…); it was not used.")
        partial.replace(dest)
    finally:
        partial.unlink(missing_ok=True)


def local_model_file(path: str | Path, sha256: str, *, kind: str, shared_root: Path | None,
                     cache_dir: Path) -> Path:
    """A file on this machine with the registered model's bytes, verified against ``sha256``.

    ``path`` (the registry's) is used when it is here and verifies; otherwise the shared root's copy is
    fetched into ``cache_dir/models/<sha256><suffix>`` (every resolve re-checks the file: it is hashed again
    whenever its size or modification time changed, so a changed cache file is refused, not loaded).
    Raises :class:`FileIntegrityError` when no verified copy can be found."""
    path = Path(path)
    if path.is_file():
        got = _model_sha(path)
        if got == sha256:
            return path
        if shared_root is None:
            raise FileIntegrityError(f"The model file {path} does not match the registry's sha256 ({got[:12]}…, "
                                     f"registered {sha256[:12]}…): it was changed or damaged; it is not loaded.")
    cached = Path(cache_dir) / MODELS / f"{sha256}{path.suffix}"
    if cached.is_file():
        got = _model_sha(cached)
        if got == sha256:
            return cached
        raise FileIntegrityError(f"The cached model file {cached} does not match the registry's sha256 "
                                 f"({got[:12]}…, registered {sha256[:12]}…); it is not loaded. Delete it to "
                                 "fetch a fresh copy from the shared data root.")
    if shared_root is None:
        raise FileIntegrityError(f"The model file {path} is not on this machine (and no shared data root is set "
                                 "to fetch it from).")
    for source in shared_model_candidates(shared_root, sha256, kind, path.suffix):
        if source.is_file():
            _copy_verified(source, cached, sha256, what="shared model file")
            return cached
    raise FileIntegrityError(f"The model file {path.name} (sha256 {sha256[:12]}…) is neither on this machine nor "
                             f"in the shared data root {shared_root}.")
