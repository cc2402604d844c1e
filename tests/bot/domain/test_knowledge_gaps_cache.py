"""The gap page's question vectors: embedded once, the same as without the cache, bounded."""

from __future__ import annotations

import numpy as np
import pytest

from bot.domain.faq_lookup import FaqLookup
from bot.domain.knowledge_gaps import EmbeddingCache, embed
from faq_index import Embedder, SearchSettings


@pytest.fixture()
def lookup(small_index, embedder):
    found = FaqLookup(SearchSettings(index_dir=small_index, onnx_cache_dir=""))
    yield found
    found.close()


@pytest.fixture()
def encoded(monkeypatch):
    """The lists of texts the model was asked to embed, in order."""
    calls: list[list[str]] = []
    encode = Embedder.encode

    def spy(self, texts, *args, **kwargs):
        calls.append(list(texts))
        return encode(self, texts, *args, **kwargs)

    monkeypatch.setattr(Embedder, "encode", spy)
    return calls


async def test_questions_embedded_before_are_not_embedded_again(lookup, embedder, encoded):
    cache = EmbeddingCache()
    first = await embed(lookup, ["Can I pay with PayPal?", "Do you ship to Canada?"], cache)
    again = await embed(
        lookup,
        ["Do you ship to Canada?", "gift cards?", "Can I pay with PayPal?", "gift cards?"],
        cache,
    )
    assert encoded == [["Can I pay with PayPal?", "Do you ship to Canada?"], ["gift cards?"]]
    assert again.shape == (4, first.shape[1])
    np.testing.assert_array_equal(again[0], first[1])
    np.testing.assert_array_equal(again[2], first[0])
    np.testing.assert_array_equal(again[1], again[3])
    uncached = embedder.encode(["gift cards?"])[0]
    np.testing.assert_allclose(again[1], uncached, atol=1e-6)


async def test_the_cache_keeps_at_most_its_limit_and_still_answers_every_text(lookup, encoded):
    cache = EmbeddingCache(limit=2)
    vectors = await embed(lookup, ["one question", "another one", "a third one"], cache)
    assert vectors.shape[0] == 3 and np.all(np.abs(np.linalg.norm(vectors, axis=1) - 1) < 1e-4)
    assert len(cache) == 2
    await embed(lookup, ["one question"], cache)  # the oldest was dropped: embedded again
    assert encoded[-1] == ["one question"]


async def test_no_questions_no_model_call(lookup, encoded):
    vectors = await embed(lookup, [], EmbeddingCache())
    assert vectors.shape[0] == 0 and encoded == []


def test_vectors_of_another_model_are_kept_apart():
    cache = EmbeddingCache()
    cache.put("model-a|torch", "hello", np.ones(3, dtype=np.float32))
    assert cache.get("model-b|torch", "hello") is None
    assert cache.get("model-a|onnx", "hello") is None
