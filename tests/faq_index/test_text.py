import pytest

from faq_index.text import detect_language, lexical_tokens, normalize


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("我的订单到哪了", "zh"),
        ("Where is my order?", "en"),
        ("iPhone 保修多久", "zh"),
        ("我想 return 这个 order", "zh"),
        ("can I pay with 支付宝", "en"),
        ("12345 !!!", "en"),
    ],
)
def test_detect_language(text, language):
    assert detect_language(text) == language


def test_detect_language_uses_the_default_when_there_is_no_text():
    assert detect_language("👍 123", default="zh") == "zh"


def test_normalize_folds_width_case_and_spaces():
    assert normalize("  ＡＢＣ　Refund\t退款 ") == "abc refund 退款"


def test_lexical_tokens_cover_chinese_words_bigrams_and_english_stems():
    tokens = lexical_tokens("Tracking 我的快递")
    assert "e:track" in tokens
    assert "w:快递" in tokens and "b:快递" in tokens and "c:快" in tokens
    assert "c:我" not in tokens  # stop characters carry no topic
    assert lexical_tokens("the of and") == []
