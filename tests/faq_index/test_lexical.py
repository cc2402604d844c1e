"""The lexical index keeps its documents' English words for spelling correction."""

from __future__ import annotations

from faq_index.lexical import LexicalIndex

DOCUMENTS = ["I forgot my password", "How long does a refund take?", "退款多久到账"]


def test_words_are_saved_and_loaded(tmp_path):
    index = LexicalIndex.build(DOCUMENTS)
    assert index.words["password"] == 1 and "退款" not in index.words
    index.save(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    assert loaded.words == index.words
    assert loaded.correct("forgot my pasword") == "forgot my password"


def test_a_corrected_typo_scores_like_the_word():
    index = LexicalIndex.build(DOCUMENTS)
    assert index.scores("pasword")[0] == 0.0
    assert index.scores(index.correct("pasword"))[0] == index.scores("password")[0] > 0.5


def test_an_index_saved_without_words_only_expands_informal_spellings(tmp_path):
    LexicalIndex.build(DOCUMENTS).save(tmp_path)
    (tmp_path / "lexical_words.json").unlink()
    loaded = LexicalIndex.load(tmp_path)
    assert loaded.correct("u forgot my pasword") == "you forgot my pasword"
