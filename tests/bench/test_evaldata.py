"""The benchmark's splits: reproducible, disjoint, and draws of variants that differ."""

from __future__ import annotations

from bench.evaldata import split_intents

TEXTS = {f"intent_{i}": [f"question {i}.{n}" for n in range(40)] for i in range(6)}


def test_split_is_reproducible_and_never_indexes_a_query():
    split = split_intents(TEXTS, seed=13)
    again = split_intents(TEXTS, seed=13)
    assert split == again
    queries = {e.text for e in split.dev + split.test}
    pooled = {text for texts in split.pool.values() for text in texts}
    assert not queries & pooled
    assert split != split_intents(TEXTS, seed=14)


def test_draw_zero_is_the_front_of_each_pool():
    split = split_intents(TEXTS, seed=13)
    corpus = split.corpus(5)
    assert corpus.entries == {intent: texts[:5] for intent, texts in split.pool.items()}
    assert split.corpus(None).entries == split.pool


def test_other_draws_are_reproducible_different_choices_from_the_pool():
    split = split_intents(TEXTS, seed=13)
    first, second = split.corpus(5, draw=1), split.corpus(5, draw=2)
    assert first == split_intents(TEXTS, seed=13).corpus(5, draw=1)
    assert first != second != split.corpus(5)
    for intent, texts in first.entries.items():
        assert len(texts) == len(set(texts)) == 5
        assert set(texts) <= set(split.pool[intent])


def test_a_draw_of_more_than_the_pool_takes_the_whole_pool():
    split = split_intents({"tiny": ["a", "b", "c", "d", "e"]}, seed=13)
    assert sorted(split.corpus(20, draw=3).entries["tiny"]) == sorted(split.pool["tiny"])
