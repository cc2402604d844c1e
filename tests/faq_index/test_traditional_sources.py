"""FAQ entries with their own Traditional Chinese text (``zh-Hant``), and what the index makes
of Traditional text: searched in Simplified, existing indexes untouched."""

from __future__ import annotations

import hashlib
import json
import textwrap
from pathlib import Path

import pytest

from faq_index import FaqEntry, FaqSearcher, SourceError, build_index, load_index, load_sources
from faq_index.embedding import DEFAULT_MODEL
from faq_index.store import DEFAULT_ANN_THRESHOLD, FORMAT_VERSION, fingerprint
from faq_index.text import TOKENIZER_VERSION

REPO = Path(__file__).resolve().parents[2]

WARRANTY = textwrap.dedent(
    """\
    entries:
      - id: warranty_policy
        category: warranty
        zh:
          questions: ["商品保修多久？", "有保修吗"]
          answer: 电子产品自签收之日起保修 1 年。
        en:
          questions: ["How long is the warranty?"]
          answer: Electronics have a one-year warranty from delivery.
        zh-Hant:
          questions: ["商品保固多久？", "有沒有保固"]
          answer: 電子產品自簽收日起保固一年，請保留統一發票。
      - id: order_track
        category: orders
        zh:
          questions: ["我的订单到哪了？", "怎么查物流"]
          answer: 登录后进入「我的订单」即可查看物流。
        zh-Hant:
          answer: 登入後進入「我的訂單」即可查看物流（台灣地區由黑貓宅急便配送）。
      - id: store_pickup
        category: orders
        zh-Hant:
          questions: ["可以超商取貨嗎？", "7-11 取貨"]
          answer: 可以，結帳時選擇超商取貨，到貨後會以簡訊通知。
    """
)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture()
def entries(tmp_path):
    return {e.id: e for e in load_sources([write(tmp_path / "faq.yml", WARRANTY)])}


def test_zh_hant_text_is_loaded_next_to_zh_and_en(entries):
    warranty = entries["warranty_policy"]
    assert set(warranty.texts) == {"zh", "en"}
    assert warranty.hant.questions == ("商品保固多久？", "有沒有保固")
    assert entries["order_track"].hant.questions == ()  # an answer alone is enough with zh
    assert entries["store_pickup"].texts == {}  # Traditional only


def test_the_zh_hant_text_wins_and_simplified_only_text_is_converted(entries):
    warranty, order = entries["warranty_policy"], entries["order_track"]
    assert warranty.localized("zh-TW")[1] == warranty.hant
    assert warranty.localized("zh-HK")[1] == warranty.hant
    assert warranty.localized("zh")[1] == warranty.texts["zh"]
    _, taiwan = order.localized("zh-TW")
    assert taiwan.answer == order.hant.answer
    assert taiwan.questions == ("我的訂單到哪了？", "怎麼查物流")  # converted (s2twp)
    # only Traditional: Simplified customers get it converted, English ones as it is
    pickup = entries["store_pickup"]
    language, simplified = pickup.localized("zh")
    assert (language, simplified.questions[0]) == ("zh", "可以超商取货吗？")  # words as written
    assert pickup.localized("en") == ("zh-Hant", pickup.hant)


def test_zh_hant_questions_are_searched_in_simplified(entries):
    searched = entries["warranty_policy"].search_texts()
    assert searched["zh"].questions == ("商品保修多久？", "有保修吗", "有没有保修")
    assert searched["zh"].answer == entries["warranty_policy"].texts["zh"].answer
    assert searched["en"] == entries["warranty_policy"].texts["en"]
    pickup = entries["store_pickup"].search_texts()
    assert pickup["zh"].questions == ("可以便利店取货吗？", "7-11 取货")
    assert entries["order_track"].search_texts() == dict(entries["order_track"].texts)


def test_traditional_text_written_as_zh_is_searched_in_simplified():
    entry = FaqEntry.from_dict(
        {"id": "x", "category": "c", "zh": {"questions": ["退貨運費誰出？"], "answer": "我們出。"}}
    )
    assert entry.search_texts()["zh"].questions == ("退货运费谁出？",)
    assert entry.texts["zh"].questions == ("退貨運費誰出？",)  # shown as written
    assert entry.converts_chinese


def test_entries_survive_the_round_trip_through_the_index_metadata(entries):
    for entry in entries.values():
        assert FaqEntry.from_dict(entry.to_dict()) == entry
    assert (
        "zh-Hant"
        not in FaqEntry.from_dict(
            {"id": "x", "category": "c", "en": {"questions": ["q"], "answer": "a"}}
        ).to_dict()
    )


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("zh-Hant: {questions: [問題]}", "zh-Hant.answer"),
        ("zh-Hant: {answer: 答案}", "zh-Hant.questions are needed when there is no zh text"),
        ("zh-Hant: {questions: [], answer: 答案}", "zh-Hant.questions must list at least one"),
        ("zh-Hant: 答案", "zh-Hant must be a mapping"),
        ("zh-TW: {questions: [問題], answer: 答案}", "unknown keys"),
    ],
)
def test_malformed_zh_hant_blocks_are_refused(tmp_path, block, message):
    path = write(tmp_path / "bad.yml", f"entries:\n  - id: a\n    category: c\n    {block}\n")
    with pytest.raises(SourceError, match=message):
        load_sources([path])


def test_csv_rows_may_carry_zh_hant(tmp_path):
    path = write(
        tmp_path / "faq.csv",
        "id,lang,question,answer\n"
        "warranty,zh,保修多久,一年\n"
        "warranty,zh-Hant,保固多久,一年\n"
        "warranty,ZH-HANT,有沒有保固,\n",
    )
    (entry,) = load_sources([path])
    assert entry.hant.questions == ("保固多久", "有沒有保固")
    assert entry.hant.answer == "一年"


def _fingerprint_before_zh_hant(entries, model, ann_threshold):
    """The fingerprint as it was computed before Traditional Chinese: existing index versions
    keep their names, so a build of unchanged sources is still "up to date"."""
    payload = json.dumps(
        {
            "format": FORMAT_VERSION,
            "model": model,
            "ann_threshold": ann_threshold,
            "tokenizer": TOKENIZER_VERSION,
            "entries": [entry.to_dict() for entry in entries],
        },
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def test_the_shipped_faq_is_indexed_as_before():
    shipped = load_sources([REPO / "data" / "faq"])
    assert all(entry.search_texts() == dict(entry.texts) for entry in shipped)
    assert fingerprint(shipped, DEFAULT_MODEL, DEFAULT_ANN_THRESHOLD) == (
        _fingerprint_before_zh_hant(shipped, DEFAULT_MODEL, DEFAULT_ANN_THRESHOLD)
    )


def test_what_opencc_converts_is_part_of_the_version(entries):
    listed = list(entries.values())
    assert fingerprint(listed, "m", 1) != _fingerprint_before_zh_hant(listed, "m", 1)
    without = [FaqEntry(e.id, e.category, e.texts) for e in listed if e.texts]
    assert fingerprint(without, "m", 1) == _fingerprint_before_zh_hant(without, "m", 1)


def test_an_index_with_zh_hant_text_finds_and_answers_in_traditional(tmp_path, embedder):
    sources = write(tmp_path / "faq.yml", WARRANTY)
    result = build_index(load_sources([sources]), tmp_path / "index", embedder=embedder)
    index = load_index(tmp_path / "index")
    assert index.version == result.version
    assert index.entry("warranty_policy").hant.answer.startswith("電子產品")
    searcher = FaqSearcher(tmp_path / "index")
    try:
        assert searcher.search("可以超商取貨嗎").matches[0].id == "store_pickup"
        assert searcher.search("可以便利店取货吗").matches[0].id == "store_pickup"
        assert searcher.search("有沒有保固").matches[0].id == "warranty_policy"
    finally:
        searcher.close()
