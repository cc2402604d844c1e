"""ONNX Runtime must embed queries and builds exactly as sentence-transformers does."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from faq_index import FaqSearcher, SearchSettings
from faq_index.onnx_embedding import GRAPH_FILE, OnnxEmbedder, load_onnx_embedder
from faq_index.sources import load_sources
from faq_index.store import build_index

QUERIES = [
    "where's my parcel right now",
    "退款多久到账？",
    "Kann ich meine Bestellung stornieren?",
    "x",
    "why " * 400,  # longer than the model's 256 tokens: both sides must truncate alike
]


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("onnx")


@pytest.fixture(scope="module")
def onnx_embedder(embedder, onnx_cache):
    onnx_embedder = embedder.onnx_embedder(onnx_cache)
    assert onnx_embedder is not None, "the default model must export to ONNX"
    return onnx_embedder


@pytest.mark.parametrize("query", QUERIES)
def test_onnx_vectors_match_pytorch(embedder, onnx_embedder, query):
    expected = embedder.encode_query(query)
    got = onnx_embedder.encode_query(query)
    assert got.shape == expected.shape == (1, embedder.dimension)
    assert got.dtype == np.float32
    assert float(np.linalg.norm(got)) == pytest.approx(1.0, abs=1e-5)
    assert float(got[0] @ expected[0]) > 0.9999


def test_the_export_is_written_once_and_reused(embedder, onnx_embedder, onnx_cache):
    exports = [p for p in onnx_cache.iterdir() if not p.name.startswith(".")]
    assert len(exports) == 1 and (exports[0] / GRAPH_FILE).is_file()
    written = (exports[0] / GRAPH_FILE).stat().st_mtime_ns
    assert load_onnx_embedder(embedder._model, onnx_cache) is not None
    assert (exports[0] / GRAPH_FILE).stat().st_mtime_ns == written
    assert [p.name for p in onnx_cache.iterdir()] == [exports[0].name]  # no staging left over


def test_a_damaged_export_falls_back_to_pytorch(
    embedder, onnx_embedder, onnx_cache, tmp_path, caplog
):
    export = next(p for p in onnx_cache.iterdir() if not p.name.startswith("."))
    damaged = tmp_path / export.name
    damaged.mkdir()
    (damaged / GRAPH_FILE).write_bytes(b"not an onnx graph")
    with caplog.at_level(logging.WARNING, logger="faq_index.onnx_embedding"):
        assert load_onnx_embedder(embedder._model, tmp_path) is None
    assert "queries stay on PyTorch" in caplog.text


def test_an_unsupported_pipeline_falls_back_to_pytorch(embedder, tmp_path, caplog):
    truncated = type(embedder._model)(modules=[embedder._model[0]], device="cpu")  # no pooling
    with caplog.at_level(logging.WARNING, logger="faq_index.onnx_embedding"):
        assert load_onnx_embedder(truncated, tmp_path) is None
    assert "is not Transformer, Pooling" in caplog.text
    assert not any(tmp_path.iterdir())


def test_search_ranks_and_scores_the_same_on_either_runtime(small_index, onnx_embedder, onnx_cache):
    on_onnx = FaqSearcher(small_index, SearchSettings(onnx_cache_dir=str(onnx_cache)))
    on_torch = FaqSearcher(small_index, SearchSettings(onnx_cache_dir=""))
    assert on_onnx._snapshot.encode_query.__self__ is onnx_embedder
    for query in [*QUERIES[:3], "how do I get an invoice", "忘记密码"]:
        fast, slow = on_onnx.search(query), on_torch.search(query)
        assert fast.decision == slow.decision
        assert [m.id for m in fast.matches] == [m.id for m in slow.matches]
        assert [m.score for m in fast.matches] == pytest.approx(
            [m.score for m in slow.matches], abs=1e-4
        )


def test_batches_embed_like_pytorch_in_the_callers_order(embedder, onnx_embedder):
    texts = [*QUERIES, "运费怎么算", "How long does a refund take?", "", "a b"]
    expected = embedder.encode(texts)  # sentence-transformers
    got = onnx_embedder.encode(texts, batch_size=3)
    assert got.shape == expected.shape and got.dtype == np.float32
    assert np.einsum("ij,ij->i", got, expected).min() > 0.9999


def test_a_build_embeds_with_the_export_once_it_exists(
    embedder, onnx_embedder, onnx_cache, faq_dir, tmp_path, monkeypatch
):
    entries = load_sources([faq_dir])
    torch_built = build_index(entries, tmp_path / "torch", embedder=embedder)
    calls = []
    original = OnnxEmbedder.encode
    monkeypatch.setattr(
        OnnxEmbedder,
        "encode",
        lambda self, texts, batch_size=64: calls.append(len(texts)) or original(self, texts),
    )
    onnx_built = build_index(
        entries, tmp_path / "onnx", embedder=embedder, onnx_cache_dir=onnx_cache
    )
    assert calls == [onnx_built.variants]
    vectors = [np.load(result.path / "vectors.npy") for result in (torch_built, onnx_built)]
    assert np.einsum("ij,ij->i", *vectors).min() > 0.9999
    empty = tmp_path / "no-export-yet"
    build_index(entries, tmp_path / "first", embedder=embedder, onnx_cache_dir=empty, force=True)
    assert calls == [onnx_built.variants]  # nothing to use yet: PyTorch, then the export is made
    assert any(empty.iterdir())
