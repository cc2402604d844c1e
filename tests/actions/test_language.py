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
    ],
)
def test_choose_language(text, previous, hint, expected):
    assert choose_language(text, previous, hint) == expected
