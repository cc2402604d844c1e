import pytest

from actions.language import choose_language


@pytest.mark.parametrize(
    ("text", "previous", "hint", "expected"),
    [
        ("怎么退货", "en", None, "zh"),
        ("where is my order", "zh", None, "en"),
        ('/choose_faq{"faq_choice": "order_track"}', "zh", None, "zh"),
        ("ok", "zh", None, "zh"),
        ("ok", None, None, "en"),
        ("👍", None, "zh", "zh"),
        ("", None, "fr", "en"),
        ("hello there", "zh", "zh", "en"),
        # Taiwan's shop words in characters both scripts share: Taiwan's reply (issue 14)
        ("保固期多久", None, None, "zh-TW"),
        ("保固多长", None, None, "zh"),  # Simplified-only characters: the mainland
        ("超商取貨可以嗎", None, "zh-Hant-HK", "zh-TW"),
        ("你好", None, None, "zh"),
    ],
)
def test_choose_language(text, previous, hint, expected):
    assert choose_language(text, previous, hint) == expected
