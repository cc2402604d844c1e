import threading
from pathlib import Path

import pytest

from faq_index import (
    Decision,
    FaqSearcher,
    QueryError,
    SearchSettings,
    build_index,
    decide,
    load_sources,
)
from faq_index.store import current_version


@pytest.fixture(scope="module")
def searcher(small_index):
    return FaqSearcher(small_index)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("where's my parcel right now", "order_track"),
        ("how many days until my money comes back", "refund_time"),
        ("I can't log in, lost my password", "password_reset"),
        ("can you send me a receipt", "invoice"),
    ],
)
def test_english_paraphrases_rank_the_right_entry_first(searcher, query, expected):
    result = searcher.search(query)
    assert result.language == "en"
    assert result.matches[0].id == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("我的快递怎么还没到", "order_track"),
        ("退款一般几天能到账", "refund_time"),
        ("密码不记得了怎么登录", "password_reset"),
        ("我要开电子发票", "invoice"),
    ],
)
def test_chinese_paraphrases_rank_the_right_entry_first(searcher, query, expected):
    result = searcher.search(query)
    assert result.language == "zh"
    assert result.matches[0].id == expected


def test_exact_question_is_answered(searcher):
    result = searcher.search("How long does a refund take?")
    assert result.decision is Decision.ANSWER
    assert result.matches[0].score > 0.8


@pytest.mark.parametrize("query", ["What is the capital of France?", "今天北京天气怎么样"])
def test_unrelated_questions_are_escalated(searcher, query):
    assert searcher.search(query).decision is Decision.ESCALATE


def test_results_are_entries_sorted_by_score(searcher):
    result = searcher.search("refund", top_k=4)
    ids = [m.id for m in result.matches]
    assert len(ids) == len(set(ids)) == 4
    scores = [m.score for m in result.matches]
    assert scores == sorted(scores, reverse=True)
    assert result.to_json()["results"][0] == {"id": ids[0], "score": round(scores[0], 4)}


def test_decide_follows_the_thresholds_of_the_language():
    settings = SearchSettings(
        answer_threshold_en=0.7,
        clarify_threshold_en=0.4,
        clarify_margin_en=0.05,
        answer_threshold_zh=0.5,
        clarify_threshold_zh=0.2,
        clarify_margin_zh=0.05,
    )
    assert decide([0.9, 0.5], settings) is Decision.ANSWER
    assert decide([0.9, 0.88], settings) is Decision.CLARIFY  # two close candidates
    assert decide([0.55, 0.2], settings) is Decision.CLARIFY  # a middling score
    assert decide([0.3, 0.1], settings) is Decision.ESCALATE
    assert decide([], settings) is Decision.ESCALATE
    assert decide([0.55, 0.2], settings, "zh") is Decision.ANSWER
    assert decide([0.3, 0.1], settings, "zh") is Decision.CLARIFY
    assert decide([0.1], settings, "zh") is Decision.ESCALATE


def test_two_entries_sharing_a_question_clarify(tmp_path, embedder):
    source = tmp_path / "twins.yml"
    source.write_text(
        "entries:\n"
        "  - id: a\n    category: c\n    en: {questions: [order problem, cancel my order], answer: A}\n"
        "  - id: b\n    category: c\n    en: {questions: [order problem, change my order], answer: B}\n",
        encoding="utf-8",
    )
    build_index(load_sources([source]), tmp_path / "index", embedder=embedder)
    result = FaqSearcher(tmp_path / "index").search("order problem")
    assert result.decision is Decision.CLARIFY
    assert {m.id for m in result.matches[:2]} == {"a", "b"}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "empty"),
        ("   \t ", "empty"),
        ("x" * 10_240, "10240 characters long; the limit is 1000"),
        (b"\xff\xfe bad", "not valid UTF-8"),
        (None, "must be text"),
        ("退款\ud800", "not valid text"),  # a lone surrogate: OpenCC raised on it
    ],
)
def test_bad_queries_get_a_clear_error_and_change_nothing(searcher, query, message):
    with pytest.raises(QueryError, match=message):
        searcher.search(query)
    assert searcher.search("Where is my order?").matches[0].id == "order_track"


def test_utf8_bytes_are_accepted(searcher):
    assert searcher.search("退款进度".encode()).matches[0].id == "refund_time"


def _add_entry(faq_dir: Path) -> None:
    with open(faq_dir / "faq.yml", "a", encoding="utf-8") as f:
        f.write(
            "  - id: gift_card\n    category: payment\n"
            '    en: {questions: ["Do you sell gift cards?", Buy a gift card], answer: Yes.}\n'
            "    zh: {questions: [有礼品卡吗, 怎么买礼品卡], answer: 有。}\n"
        )


def test_reload_switches_to_a_new_version(tmp_path, faq_dir, embedder):
    index_dir = tmp_path / "index"
    build_index(load_sources([faq_dir]), index_dir, embedder=embedder)
    searcher = FaqSearcher(index_dir)
    old = searcher.version
    assert searcher.reload() is False
    assert searcher.search("Do you sell gift cards?").matches[0].id != "gift_card"

    _add_entry(faq_dir)
    build_index(load_sources([faq_dir]), index_dir, embedder=embedder)
    assert searcher.reload() is True
    assert searcher.version != old
    assert searcher.search("Do you sell gift cards?").matches[0].id == "gift_card"


def test_watching_searcher_switches_without_failing_a_request(tmp_path, faq_dir, embedder):
    index_dir = tmp_path / "index"
    build_index(load_sources([faq_dir]), index_dir, embedder=embedder)
    searcher = FaqSearcher(index_dir, SearchSettings(reload_interval=0.05))
    searcher.watch()
    errors: list[BaseException] = []
    answered = []
    stop = threading.Event()

    def keep_searching() -> None:
        while not stop.is_set():
            try:
                answered.append(searcher.search("Do you sell gift cards?").matches[0].id)
            except BaseException as exc:
                errors.append(exc)

    worker = threading.Thread(target=keep_searching)
    worker.start()
    try:
        _add_entry(faq_dir)
        new = build_index(load_sources([faq_dir]), index_dir, embedder=embedder).version
        for _ in range(200):  # until requests in flight have moved to the new version too
            if searcher.version == new and answered and answered[-1] == "gift_card":
                break
            threading.Event().wait(0.05)
    finally:
        stop.set()
        worker.join()
        searcher.close()
    assert not errors
    assert searcher.version == new
    assert answered[-1] == "gift_card"
    assert answered[0] != "gift_card"


def test_a_broken_new_version_keeps_the_old_one(tmp_path, faq_dir, embedder):
    index_dir = tmp_path / "index"
    build_index(load_sources([faq_dir]), index_dir, embedder=embedder)
    searcher = FaqSearcher(index_dir)
    (index_dir / "CURRENT").write_text("does-not-exist\n")
    assert searcher.reload() is False
    assert current_version(index_dir) == "does-not-exist"
    assert searcher.search("Where is my order?").matches[0].id == "order_track"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("I forgot my pasword", "password_reset"),
        ("how long dose a refnd take", "refund_time"),
        ("can u send me an invoce pls", "invoice"),
        ("wheres my pakage", "order_track"),
    ],
)
def test_typos_find_their_entry(searcher, query, expected):
    result = searcher.search(query)
    assert result.matches[0].id == expected
    assert result.decision is not Decision.ESCALATE
    assert result.query == query  # the customer's text, not the corrected one


def test_a_typo_scores_like_the_word_it_stands_for(searcher):
    typo = searcher.search("I forgot my pasword").matches[0]
    right = searcher.search("I forgot my password").matches[0]
    assert typo.score == pytest.approx(right.score, abs=1e-6)
