"""The starter knowledge base: a MedQuAD subset shipped in ``resources/starter_kb/``, ingested on first start.

So that Chat answers on a fresh data folder, the app (in the background lane,
with progress) and ``medstation ask`` (before its first answer) ingest
``medquad_starter.jsonl`` when the knowledge base is empty: 1,540 NIH answers
from MedQuAD's MedlinePlus Health Topics and NHLBI collections, about 2,800
chunks. It is ordinary ingested content: incremental, versioned, and removable
like any other source. Built by ``scripts/build_starter_kb.py``.
"""

from __future__ import annotations

from pathlib import Path

from medstation.config import resources_dir

ATTRIBUTION = (
    "Starter knowledge base: 1,540 answers from MedQuAD (Ben Abacha & Demner-Fushman, \"A question-entailment "
    "approach to question answering\", BMC Bioinformatics 2019), MedlinePlus Health Topics and NHLBI "
    "collections; CC BY 4.0."
)


def starter_path() -> Path | None:
    """The shipped starter file, or None when this build has none."""
    path = resources_dir() / "starter_kb" / "medquad_starter.jsonl"
    return path if path.is_file() else None


def needs_starter(kb) -> bool:
    """True when the knowledge base is empty, a starter file ships with this build and
    ``settings.kb_starter`` allows it (``kb`` is a ``KnowledgeBaseService``)."""
    settings = getattr(kb, "settings", None)
    if settings is None or not settings.kb_starter or not hasattr(kb, "ingest_job"):
        return False
    return starter_path() is not None and kb.is_empty()


def ingest_starter_job(ctx, kb):
    """Job: ingest the starter file into ``kb`` (a ``KnowledgeBaseService``); returns its ``KbVersionInfo``."""
    path = starter_path()
    if path is None:
        raise FileNotFoundError("this build ships no starter knowledge base (resources/starter_kb/)")
    ctx.report(0.0, "Loading the starter knowledge base (MedQuAD, CC BY 4.0)")
    return kb.ingest_job(ctx, path)
