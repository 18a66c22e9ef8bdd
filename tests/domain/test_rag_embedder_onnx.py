"""The ONNX sentence embedder: pooling, tokenising, the export's checksum, agreement with the
torch model on shipped starter-KB chunks, and what a knowledge base ingested with torch does."""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np
import pytest

from medstation.access.roles import Actor, Role, UserSession
from medstation.config import resources_dir
from medstation.jobs import JobContext
from medstation.rag import embedder_onnx
from medstation.rag.embedder import MAX_TOKENS, Embedder, model_dir
from medstation.rag.embedder_check import cosines, kb_chunk_texts
from tests.domain.test_rag_sources import shared_embedder, write_corpus

STARTER = resources_dir() / "starter_kb" / "medquad_starter.jsonl"


@lru_cache(maxsize=1)
def torch_embedder():
    from medstation.rag.embedder_torch import TorchEmbedder

    return TorchEmbedder()

ADMIN = UserSession(Actor("ada", Role.admin))  # services take who acts; the composition root passes it


def test_mean_pool_ignores_padding_and_returns_unit_vectors():
    hidden = np.array([[[1.0, 0.0], [3.0, 0.0], [100.0, 100.0]],
                       [[0.0, 2.0], [0.0, 2.0], [0.0, 2.0]]], dtype=np.float32)
    mask = np.array([[1, 1, 0], [1, 1, 1]])
    pooled = embedder_onnx.mean_pool(hidden, mask)
    assert pooled.shape == (2, 2) and pooled.dtype == np.float32
    np.testing.assert_allclose(pooled, [[1.0, 0.0], [0.0, 1.0]], atol=1e-6)


def test_tokenizer_pads_to_the_batch_and_truncates_at_max_tokens():
    tokenizer = embedder_onnx.load_tokenizer(model_dir(), MAX_TOKENS)
    short = embedder_onnx.tokenize(tokenizer, ["gout", "chest pain on exertion"])
    assert short["input_ids"].shape[1] < 16  # the shipped tokenizer.json pads to 128; we must not
    assert short["attention_mask"][0].sum() < short["attention_mask"][1].sum()
    long = embedder_onnx.tokenize(tokenizer, ["word " * 500])
    assert long["input_ids"].shape == (1, MAX_TOKENS)


def test_a_tampered_or_foreign_export_is_not_trusted(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"graph bytes")
    record = embedder_onnx.record_path(path)
    record.write_text(json.dumps({"weights_sha256": "w1", "onnx_sha256": embedder_onnx.file_sha256(path)}))
    assert embedder_onnx.verified(path, "w1")
    assert not embedder_onnx.verified(path, "w2")  # exported from other weights
    path.write_bytes(b"graph bytes, half written")
    assert not embedder_onnx.verified(path, "w1")  # checksum no longer matches
    record.unlink()
    assert not embedder_onnx.verified(path, "w1")  # no record: an interrupted export


def test_onnx_vectors_agree_with_sentence_transformers_on_starter_chunks():
    texts = kb_chunk_texts(STARTER, 100)
    assert len(texts) == 100
    onnx_vectors = shared_embedder().encode(texts)
    torch_vectors = torch_embedder().encode(texts)
    assert onnx_vectors.shape == torch_vectors.shape == (100, 384) and onnx_vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-5)
    assert cosines(onnx_vectors, torch_vectors).min() >= 0.999
    # and the query path (single-threaded session) agrees with the batch path
    query = "What are the symptoms of gout ?"
    assert float(shared_embedder().encode_query(query) @ torch_embedder().encode_query(query)) >= 0.999


def test_onnx_is_the_default_and_its_identity_differs_from_torch(settings, db):
    from medstation.rag.service import KnowledgeBaseService

    kb = KnowledgeBaseService(settings, db, session=ADMIN)
    default = kb.embedder()  # constructing loads nothing
    assert isinstance(default, Embedder) and "onnx" in default.name
    assert default.cache_dir is None  # the export goes to the shared cache, not under MEDSTATION_HOME
    assert default.sha256 == torch_embedder().sha256  # same weights
    assert default.identity != torch_embedder().identity


def test_a_base_ingested_with_torch_is_re_embedded_by_the_next_ingest(tmp_path, settings, db):
    from medstation.rag.service import KnowledgeBaseService

    corpus = write_corpus(tmp_path / "corpus")
    old = KnowledgeBaseService(settings, db, session=ADMIN, embedder=torch_embedder())
    first = old.ingest_job(JobContext(), corpus)
    old.close()
    assert first.status == "complete" and first.added_docs == first.doc_count > 0
    new = KnowledgeBaseService(settings, db, session=ADMIN, embedder=shared_embedder())
    try:
        second = new.ingest_job(JobContext(), corpus)
        assert second.skipped_docs == 0 and second.added_docs == first.doc_count  # nothing kept from torch
        assert second.chunk_count == first.chunk_count == new.store().count()  # replaced, not duplicated
        assert "onnx" in second.embedding_model
        third = new.ingest_job(JobContext(), corpus)
        assert third.skipped_docs == first.doc_count and third.added_docs == 0
        assert new.search("urate crystals deposited in the big toe joint", k=1, mode="dense")
    finally:
        new.close()


def test_a_shipped_graph_is_used_only_when_its_record_matches_the_weights(tmp_path, monkeypatch):
    import medstation.config
    from medstation.rag.embedder import SHIPPED_ONNX

    shipped = tmp_path / "resources" / SHIPPED_ONNX
    shipped.parent.mkdir(parents=True)
    shipped.write_bytes(b"a graph a frozen build exported")
    monkeypatch.setattr(medstation.config, "resources_dir", lambda: tmp_path / "resources")
    embedder = Embedder(cache_dir=tmp_path / "cache")
    record = {"weights_sha256": embedder.sha256, "onnx_sha256": embedder_onnx.file_sha256(shipped)}
    embedder_onnx.record_path(shipped).write_text(json.dumps(record))
    assert embedder.graph_path() == shipped
    record["weights_sha256"] = "0" * 64  # exported from other weights: not used (the cache export is)
    embedder_onnx.record_path(shipped).write_text(json.dumps(record))
    exported = []
    monkeypatch.setattr(embedder_onnx, "export_minilm", lambda src, path, sha: exported.append(path) or path)
    path = embedder.graph_path()
    assert path == tmp_path / "cache" / "onnx" / f"minilm-{embedder.sha256[:16]}" / "model.onnx"
    assert exported == [path]


def test_a_fresh_data_folder_reuses_the_shared_export(tmp_path, monkeypatch):
    """Each MEDSTATION_HOME used to export its own graph (~20 s per test); now one export serves all."""
    monkeypatch.setenv(embedder_onnx.CACHE_ENV, str(tmp_path / "shared"))
    exported = []

    def fake_export(src, path, sha):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"graph")
        embedder_onnx.record_path(path).write_text(json.dumps(
            {"weights_sha256": sha, "onnx_sha256": embedder_onnx.file_sha256(path)}))
        exported.append(path)
        return path

    monkeypatch.setattr(embedder_onnx, "export_minilm", fake_export)
    paths = []
    for home in ("a", "b"):
        monkeypatch.setenv("MEDSTATION_HOME", str(tmp_path / home))
        paths.append(Embedder().graph_path())
    assert paths[0] == paths[1] and paths[0].is_relative_to(tmp_path / "shared")
    assert len(exported) == 1
