import logging
from pathlib import Path

import pytest

from faq_index import SourceError, load_sources
from faq_index.text import LANGUAGES

REPO = Path(__file__).resolve().parents[2]


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_yaml_entries_keep_the_canonical_question_first(faq_dir):
    entries = load_sources([faq_dir])
    assert [e.id for e in entries] == ["order_track", "refund_time", "password_reset", "invoice"]
    language, localized = entries[0].localized("zh")
    assert language == "zh"
    assert localized.questions[0] == "我的订单到哪了？"
    assert entries[0].category == "orders"


def test_csv_rows_sharing_an_id_are_variants_of_one_entry(tmp_path):
    source = write(
        tmp_path / "faq.csv",
        "id,lang,question,answer\n"
        "gift,en,Do you sell gift cards?,Yes: e-gift cards from 50 to 1000 CNY.\n"
        "gift,en,Can I buy a gift card?,\n"
        'gift,zh,有礼品卡吗？,"有，电子礼品卡 50-1000 元。"\n'
        "gift,zh,礼品卡怎么买,有，电子礼品卡 50-1000 元。\n",
    )
    [entry] = load_sources([source])
    assert entry.texts["en"].questions == ("Do you sell gift cards?", "Can I buy a gift card?")
    assert entry.texts["en"].answer == "Yes: e-gift cards from 50 to 1000 CNY."
    assert entry.texts["zh"].questions[1] == "礼品卡怎么买"
    assert entry.category == "general"


def test_csv_conflicting_answers_name_the_entry_and_line(tmp_path):
    source = write(
        tmp_path / "faq.csv",
        "id,lang,question,answer\ngift,en,Gift cards?,Yes.\ngift,en,Any gift cards?,No.\n",
    )
    with pytest.raises(
        SourceError, match=r"faq\.csv: entry 'gift \(line 3\)'.*different en answer"
    ):
        load_sources([source])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("id,lang,question\nx,en,q\n", "CSV needs the columns"),
        ("id,lang,question,answer\nx,fr,q,a\n", "lang must be one of"),
        ("id,lang,question,answer\nx,en,q,\n", "en.answer must be a non-empty string"),
    ],
)
def test_malformed_csv_is_refused(tmp_path, content, message):
    with pytest.raises(SourceError, match=message):
        load_sources([write(tmp_path / "bad.csv", content)])


@pytest.mark.parametrize(
    ("content", "entry", "message"),
    [
        ("entries: [\n", None, "invalid YAML"),
        ("- id: a\n", None, "expected a mapping with an 'entries' list"),
        ("entries:\n  - id: a\n    category: c\n", "a", "needs at least one of zh, en"),
        (
            "entries:\n  - id: a\n    category: c\n    en: {answer: x}\n",
            "a",
            "at least one question",
        ),
        ("entries:\n  - id: a\n    category: c\n    en: {questions: [q]}\n", "a", "en.answer"),
        ("entries:\n  - id: a b\n    category: c\n", "a b", "invalid id"),
        (
            "entries:\n  - id: a\n    category: c\n    question: [q]\n    en: {questions: [q], answer: x}\n",
            "a",
            "unknown keys",
        ),
        ("entries:\n  - id: a\n    en: {questions: [q], answer: x}\n", "a", "category"),
    ],
)
def test_malformed_yaml_names_the_file_and_the_entry(tmp_path, content, entry, message):
    path = write(tmp_path / "broken.yml", content)
    with pytest.raises(SourceError, match=message) as caught:
        load_sources([path])
    assert caught.value.path == str(path)
    assert caught.value.entry == entry
    assert str(path) in str(caught.value)


def test_invalid_utf8_source_is_refused(tmp_path):
    path = write(
        tmp_path / "latin1.yml", "entries:\n  - id: a\n    category: caf\xe9\n".encode("latin-1")
    )
    with pytest.raises(SourceError, match="not valid UTF-8"):
        load_sources([path])


def test_duplicate_ids_across_files_name_both(tmp_path, faq_dir):
    other = write(
        tmp_path / "other.yml",
        "entries:\n  - id: invoice\n    category: c\n    en: {questions: [q], answer: x}\n",
    )
    with pytest.raises(SourceError, match=r"duplicate id, first defined in .*faq\.yml") as caught:
        load_sources([faq_dir, other])
    assert caught.value.entry == "invoice"


def test_entry_missing_a_language_warns_and_falls_back(tmp_path, caplog):
    path = write(
        tmp_path / "en_only.yml",
        "entries:\n  - id: gift\n    category: c\n    en: {questions: ['Gift cards?'], answer: Yes.}\n",
    )
    with caplog.at_level(logging.WARNING, logger="faq_index"):
        [entry] = load_sources([path])
    assert "entry 'gift' has no zh text" in caplog.text
    assert entry.localized("zh") == ("en", entry.texts["en"])


def test_missing_path_and_empty_directory_are_errors(tmp_path):
    with pytest.raises(SourceError, match="no such file"):
        load_sources([tmp_path / "nope.yml"])
    with pytest.raises(SourceError, match=r"no \.yml, \.yaml or \.csv source"):
        load_sources([tmp_path])


def test_shipped_knowledge_base_is_complete(caplog):
    with caplog.at_level(logging.WARNING, logger="faq_index"):
        entries = load_sources([REPO / "data" / "faq"])
    assert not caplog.records, caplog.text
    assert len(entries) >= 60
    categories = {e.category for e in entries}
    assert {
        "orders",
        "shipping",
        "returns",
        "payment",
        "account",
        "membership",
        "warranty",
        "privacy",
        "contact",
    } <= categories
    for entry in entries:
        for lang in LANGUAGES:
            assert len(entry.texts[lang].questions) >= 4, (entry.id, lang)
