"""Settings: one pydantic-settings class, read from the environment (prefix ``MEDSTATION_``).

``MEDSTATION_HOME`` holds everything the app writes: the database, caches, the
knowledge base, logs and user-supplied models. Read-only assets shipped with the
app (the sample study) are found through ``importlib.resources`` or next to the
package, so the same code works from a source checkout and a PyInstaller bundle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    return Path(platformdirs.user_data_dir("MedStation", appauthor=False))


class Settings(BaseSettings):
    """Every tunable of the workstation, with where it lives and why."""

    model_config = SettingsConfigDict(env_prefix="MEDSTATION_", extra="ignore")

    home: Path = Field(default_factory=_default_home, description="Root folder for all data the app writes.")
    log_level: str = Field("INFO", description="Logging level for the rotating log file.")
    sample_study: bool = Field(True, description="Index and open the bundled sample CT on first run.")

    # Access
    db_encryption: Literal["off", "passphrase", "keyring"] = Field(
        "off", description="Encrypt a NEW data folder's database with SQLCipher: the key from an admin passphrase "
                           "(MEDSTATION_DB_PASSPHRASE or the window's dialog) or kept in the OS keyring (falls back "
                           "to the passphrase where there is none). Existing stores: `medstation db encrypt`.")
    # Clinic mode (docs/CLINIC.md): one PostgreSQL server and one shared folder for every workstation
    database_url: str = Field("", description=(
        "Empty: the data folder's SQLite store (one workstation). postgresql+psycopg://USER:PASS@HOST:PORT/DB: "
        "the clinic's PostgreSQL server (TLS required off loopback); a server that cannot be reached is an "
        "error, never a fallback to a local store."))
    shared_data_root: Path | None = Field(None, description=(
        "Clinic mode: the mounted folder every workstation shares (clinical files referenced by sha256, "
        "model files, the audit anchor)."))
    idle_lock_minutes: float = Field(15, description="Lock the window after this many idle minutes (0 = never); "
                                                     "unsaved work stays, the password is asked again.")

    # Segmentation
    seg_engine: str = Field("litemedsam", description="Default segmentation engine: litemedsam or medsam_vit_b.")
    seg_threads: int = Field(2, description="torch intra-op threads for the segmentation lane.")
    seg_cache_slices: int = Field(64, description="Image embeddings kept in the LRU cache (about 4 MB each).")

    # Training and promotion (Admin tab)
    train_seg_epochs: int = Field(6, description="Default LiteMedSAM fine-tuning epochs (early stopping may end sooner).")
    ab_max_modality_drop: float = Field(0.02, description="A/B gate: no modality may lose more mean Dice than this.")
    ab_golden_margin: float = Field(0.01, description="A/B gate: the golden set may lose at most this much mean Dice.")
    ab_min_cases_per_group: int = Field(20, ge=1, description=(
        "A/B gate: held-out cases every modality (notes: template) needs before a comparison can judge it; "
        "with fewer, promotion needs force and a reason."))
    ab_alpha: float = Field(0.05, gt=0, lt=1, description=(
        "A/B gate: the Wilcoxon signed-rank p-value the overall difference must stay below (besides a 95% CI "
        "above zero)."))
    split_min_heldout_cases: int = Field(5, ge=1, description=(
        "Dataset splits: cases of each modality (notes: template) held out for validation and for test "
        "when the modality has enough cases (training keeps at least a third)."))
    auto_rollback_margin: float = Field(0.15, description="Roll back when the acceptance rate falls this far below the predecessor's.")
    auto_rollback_min_cases: int = Field(20, description="Cases a promoted model must see before automatic rollback can act.")
    # Shadow (canary) mode and blind preference: how candidates meet real requests (medstation.training.canary.shadow)
    shadow_share_segmentation: float = Field(0.0, ge=0.0, le=1.0, description=(
        "Share of viewer box prompts (0..1; 0 = off) for which the newest segmentation candidate also runs in "
        "the background; its mask is stored beside the active one, never shown."))
    shadow_share_notes: float = Field(0.0, ge=0.0, le=1.0, description=(
        "Share of note drafts (0..1; 0 = off) for which the newest drafting (LLM) candidate also drafts in the "
        "background; its draft is stored beside the active one, never shown."))
    blind_preference_segmentation: bool = Field(False, description=(
        "Viewer: a box prompt shows the active and the candidate mask unlabelled, in random order; the user picks."))
    blind_preference_notes: bool = Field(False, description=(
        "Notes: Draft shows the active and the candidate draft unlabelled, in random order; the therapist picks."))

    # LLM
    llm_backend: Literal["local", "openai"] = Field("local", description="local = llama.cpp in-process; openai = HTTP server.")
    llm_model: str = Field("", description="GGUF file name in models/ or empty for the embedded SmolLM2-135M.")
    llm_n_ctx: int = Field(4096, description="Context window in tokens for the local model.")
    llm_threads: int = Field(2, description="CPU threads for llama.cpp.")
    llm_max_tokens: int = Field(384, description="Longest answer in tokens.")
    openai_base_url: str = Field("http://127.0.0.1:8000/v1", description="OpenAI-compatible server (llama.cpp, vLLM, Ollama).")
    openai_model: str = Field("", description="Model name sent to the OpenAI-compatible server.")
    openai_api_key: str = Field("not-needed", description="Bearer token if the server wants one.")
    allow_remote_llm: bool = Field(False, description=(
        "Allow llm_backend=openai to use a server that is not on this machine (not 127.0.0.1, ::1 or localhost). "
        "Questions, knowledge-base passages and transcripts are then sent to that server; off by default."))

    # De-identification (PS3.15 Table E.1-1 options for exports made from the window; the CLI takes --option)
    deid_options: list[
        Literal["retain-dates", "retain-patient-characteristics", "clean-descriptors", "retain-device-id"]
    ] = Field(default_factory=list, description='Options applied to de-identified exports, e.g. ["retain-dates"].')

    # Knowledge base
    kb_mode: Literal["persistent", "http"] = Field("persistent", description="chromadb on disk, or a shared chroma server.")
    kb_host: str = Field("127.0.0.1", description="chroma server host when kb_mode=http.")
    kb_port: int = Field(8001, description="chroma server port when kb_mode=http.")
    kb_chunk_chars: int = Field(1200, description="Characters per chunk.")
    kb_chunk_overlap: int = Field(200, description="Characters shared by neighbouring chunks.")
    kb_starter: bool = Field(True, description="Ingest the shipped MedQuAD starter set into an empty knowledge base.")

    @property
    def db_path(self) -> Path:
        return self.home / "medstation.db"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    @property
    def models_dir(self) -> Path:
        """User-supplied models: GGUF files, medsam_vit_b.pth, fine-tuned versions."""
        return self.home / "models"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def kb_dir(self) -> Path:
        return self.home / "kb"

    @property
    def exports_dir(self) -> Path:
        return self.home / "exports"

    def ensure_dirs(self) -> None:
        for path in (self.home, self.log_dir, self.models_dir, self.cache_dir, self.kb_dir, self.exports_dir):
            path.mkdir(parents=True, exist_ok=True)


def resources_dir() -> Path:
    """Read-only assets shipped beside the package (``resources/`` in a checkout or bundle)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "resources", here.parent / "resources"):
        if candidate.is_dir():
            return candidate
    return here.parent / "resources"


def project_models_dir() -> Path:
    """The checkout's ``models/`` folder (beside the ``medstation`` package): models shipped with a
    source checkout, searched after ``Settings.models_dir``. The one place this path is spelled."""
    return Path(__file__).resolve().parent.parent / "models"


def sample_study_dir() -> Path:
    return resources_dir() / "sample_ct"
