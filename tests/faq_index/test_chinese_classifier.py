import json

import numpy as np
import pytest

from faq_index import IndexNotFoundError, build_index, load_index, load_sources
from faq_index.chinese_classifier import ChineseEntryClassifier
from faq_index.store import chinese_training_texts

# Two entries sharing most of their characters (退款, 到账): only 多久/几天 and 成功/没 tell
# them apart.
REFUND_TIME = ["退款多久到账", "退款几天能到账", "退款什么时候到账"]
REFUND_MISSING = ["退款成功了没到账", "显示退款成功但是没到账", "退款成功钱没收到"]


@pytest.fixture(scope="module")
def classifier() -> ChineseEntryClassifier:
    texts = REFUND_TIME + REFUND_MISSING + ["怎么查物流", "快递到哪了"]
    labels = [0] * 3 + [1] * 3 + [2] * 2
    return ChineseEntryClassifier.train(texts, labels, entries=3)


def test_separates_entries_that_share_most_characters(classifier):
    time_asked = classifier.probabilities("退款要多久才到账")
    missing = classifier.probabilities("退款成功了可是没到账")
    assert time_asked.sum() == pytest.approx(1.0, abs=1e-5)
    assert int(np.argmax(time_asked)) == 0 and int(np.argmax(missing)) == 1
    assert time_asked[0] > 0.5 and missing[1] > 0.5


def test_a_question_about_something_else_gets_no_confident_entry(classifier):
    on_topic = classifier.probabilities("快递到哪了").max()
    elsewhere = classifier.probabilities("北京明天的天气预报怎么样")
    assert elsewhere.max() < 0.5 < on_topic


def test_without_chinese_text_every_entry_is_equally_likely():
    classifier = ChineseEntryClassifier.train([], [], entries=4)
    assert np.allclose(classifier.probabilities("退款多久到账"), 0.25)


def test_save_and_load_keep_the_probabilities(classifier, tmp_path):
    classifier.save(tmp_path)
    loaded = ChineseEntryClassifier.load(tmp_path)
    for query in ("退款多久到账", "没到账", "hello", "快递"):
        assert np.allclose(loaded.probabilities(query), classifier.probabilities(query))


def test_learns_from_questions_and_answer_sentences(faq_dir):
    entries = load_sources([faq_dir])
    texts, labels = chinese_training_texts(entries)
    assert len(texts) == len(labels)
    first = entries[0].search_texts()["zh"]
    assert texts[: len(first.questions)] == list(first.questions)
    assert any(
        sentence in first.answer for sentence in texts[len(first.questions) : labels.count(0)]
    )


def test_a_built_index_searches_chinese_with_its_own_classifier(tmp_path, faq_dir, embedder):
    build_index(load_sources([faq_dir]), tmp_path / "index", embedder=embedder)
    index = load_index(tmp_path / "index")
    texts, labels = chinese_training_texts(index.entries)
    predicted = [int(np.argmax(index.chinese_classifier.probabilities(t))) for t in texts]
    assert np.mean(np.array(predicted) == np.array(labels)) > 0.9


def test_an_index_of_the_previous_format_is_refused_with_a_clear_error(tmp_path, faq_dir, embedder):
    result = build_index(load_sources([faq_dir]), tmp_path / "index", embedder=embedder)
    meta_file = result.path / "meta.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    meta["format"] = 3  # before the Chinese classifier: no chinese_head.* files
    meta_file.write_text(json.dumps(meta), encoding="utf-8")
    for name in ("chinese_head.npz", "chinese_head_vocab.json"):
        (result.path / name).unlink()
    with pytest.raises(IndexNotFoundError, match="format 3, rebuild it"):
        load_index(tmp_path / "index")


def test_a_large_faq_keeps_only_its_most_frequent_features(monkeypatch):
    monkeypatch.setattr("faq_index.chinese_classifier.MAX_WEIGHTS", 2 * 3)
    classifier = ChineseEntryClassifier.train(
        ["退款到账", "退款多久", "退款成功"], [0, 1, 2], entries=3
    )
    assert set(classifier.vocabulary) == {"w:退款", "c:退"}
    assert classifier.weights.shape == (2, 3)
