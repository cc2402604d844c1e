"""Spelling correction of query words towards the words of the index."""

from __future__ import annotations

import pytest

from faq_index.spelling import Speller, edit_distance, english_lexicon, english_words
from faq_index.text import normalize

INDEXED = [
    "I forgot my password",
    "How do I cancel my order?",
    "Can I change the shipping address?",
    "When will I receive my delivery?",
    "How long does a refund take? Your money comes back within 7 days.",
    "I can't log in to my account",
    "Where is my package? It won't arrive",
    "What's the weather like for shipping to remote areas",
]


@pytest.fixture(scope="module")
def speller() -> Speller:
    return Speller.from_texts(INDEXED)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("pasword", "password"),
        ("recieve", "receive"),  # a transposition is one edit
        ("adress", "address"),
        ("cancell", "cancel"),
        ("refnd", "refund"),
        ("delivry", "delivery"),
        ("shiping", "shipping"),
        ("acount", "account"),
        ("pakage", "package"),
        ("mony", "money"),  # a dropped letter beats a changed one ("many" is one edit too)
    ],
)
def test_typos_of_indexed_words_are_corrected(speller, typed, meant):
    assert speller.correct(f"help {typed} now") == f"help {meant} now"


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("can u help pls", "can you help please"),
        ("i dont know, it wont come", "i don't know, it won't come"),
        ("wheres my stuff", "where's my stuff"),
    ],
)
def test_informal_spellings_are_expanded(speller, typed, meant):
    assert speller.correct(typed) == meant


def test_words_the_index_or_english_knows_are_left_alone(speller):
    assert "sweater" in english_lexicon()
    assert speller.correct("is the sweater warm") == "is the sweater warm"  # not "weather"
    assert speller.correct("Where is my order?") == normalize("Where is my order?")


def test_short_words_numbers_and_far_words_are_left_alone(speller):
    assert speller.correct("the bag 12345 xyzzy") == "the bag 12345 xyzzy"
    assert speller.suggest("zpassword") is None  # a different first letter


def test_words_are_counted_once_per_text():
    speller = Speller.from_texts(["refund refund", "refund"], lexicon=frozenset())
    assert speller.counts == {"refund": 2}
    assert english_words("Won't RETURN it") == ["won't", "return", "it"]


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("recieve", "receive", 1), ("adress", "address", 1), ("kitten", "sitting", 3)],
)
def test_edit_distance_counts_adjacent_transpositions_once(a, b, distance):
    assert edit_distance(a, b, limit=5) == distance
    assert edit_distance(a, b, limit=distance - 1) == distance  # above the limit: limit + 1
