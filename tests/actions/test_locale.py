"""Answering in the customer's script and region: the reply locale and the localized answers."""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.dialogue import ActionBeginTurn
from actions.faq import ActionAnswerFaq, answer_text
from actions.language import choose_language
from faq_index import FaqEntry, LocalizedFaq
from faq_index.chinese import Script, detect_script, to_traditional
from vocabulary import LOCALES, base_language, locale_from_tag


@pytest.mark.parametrize(
    ("text", "previous", "hint", "expected"),
    [
        # Traditional: Taiwan unless something says Hong Kong
        ("我的包裹到哪裡了", None, None, "zh-TW"),
        ("忘記密碼怎麼辦", "zh", None, "zh-TW"),  # a script of its own overrides the previous one
        ("忘記密碼怎麼辦", "en", None, "zh-TW"),
        ("滑鼠壞了可以換嗎", "zh-HK", None, "zh-TW"),  # Taiwan's word
        ("我想問下點樣退貨", None, None, "zh-HK"),  # written Cantonese
        ("收唔到驗證碼", "zh-TW", None, "zh-HK"),
        ("冇收到", None, None, "zh-HK"),  # Cantonese in shared characters
        ("忘記密碼怎麼辦", None, "zh-HK", "zh-HK"),  # the page is Hong Kong's
        ("忘記密碼怎麼辦", None, "zh-Hant-HK", "zh-HK"),
        ("忘記密碼怎麼辦", "zh-HK", None, "zh-HK"),  # the conversation is Hong Kong's
        ("忘記密碼怎麼辦", None, "zh", "zh-TW"),
        # Simplified
        ("我的包裹到哪里了", "zh-TW", None, "zh"),
        ("怎么退货", "zh-HK", "zh-HK", "zh"),
        # Chinese in characters both scripts share keeps the conversation's Chinese
        ("你好", "zh-HK", None, "zh-HK"),
        ("保固多久", "zh-TW", None, "zh-TW"),
        ("你好", None, "zh-TW", "zh-TW"),
        ("你好", "en", None, "zh"),
        ("你好", None, None, "zh"),
        # no language of its own: the conversation's locale, the hint, English
        ("ok", "zh-TW", None, "zh-TW"),
        ('/choose_faq{"faq_choice": "order_track"}', "zh-HK", None, "zh-HK"),
        ("👍", None, "zh-Hant-TW", "zh-TW"),
        ("👍", None, "zh_HK", "zh-HK"),
        ("👍", "fr", "de", "en"),
        ("where is my order", "zh-TW", "zh-TW", "en"),
    ],
)
def test_choose_language_returns_the_reply_locale(text, previous, hint, expected):
    assert choose_language(text, previous, hint) == expected
    assert expected in LOCALES


def test_locales_and_their_base_languages():
    assert LOCALES == ("en", "zh", "zh-TW", "zh-HK")
    assert [base_language(locale) for locale in LOCALES] == ["en", "zh", "zh", "zh"]
    assert locale_from_tag("zh-Hans-HK") == "zh"  # Simplified, even in Hong Kong
    assert locale_from_tag("zh-MO") == "zh-HK"
    assert locale_from_tag(None) is None and locale_from_tag(42) is None


SIMPLIFIED_ONLY = FaqEntry(
    "software_update",
    "account",
    {
        "zh": LocalizedFaq(
            ("软件怎么更新？", "软件更新"), "在「设置」里打开软件更新，登录后即可下载。"
        ),
        "en": LocalizedFaq(("How do I update the app?",), "Open Settings > Update."),
    },
    links=("https://shop.example.com/app",),
)
WITH_HANT = FaqEntry(
    "warranty",
    "warranty",
    {"zh": LocalizedFaq(("保修多久？",), "电子产品保修 1 年。")},
    hant=LocalizedFaq(("保固多久？",), "電子產品保固一年，請保留發票。"),
)
HANT_ANSWER_ONLY = FaqEntry(
    "warranty_claim",
    "warranty",
    {"zh": LocalizedFaq(("怎么申请保修？",), "在订单里申请售后。")},
    hant=LocalizedFaq((), "在訂單裡申請售後服務（台灣與香港的顧客請附上發票）。"),
)


def test_a_simplified_answer_is_converted_to_the_customers_script_and_region():
    taiwan = answer_text(SIMPLIFIED_ONLY, "zh-TW")
    hong_kong = answer_text(SIMPLIFIED_ONLY, "zh-HK")
    assert taiwan == "在「設定」裡開啟軟體更新，登入後即可下載。\nhttps://shop.example.com/app"
    assert hong_kong.startswith("在「設置」裏打開軟件更新，登錄後即可下載。")
    for text in (taiwan, hong_kong):
        assert detect_script(text) is Script.TRADITIONAL
    assert answer_text(SIMPLIFIED_ONLY, "zh").startswith("在「设置」里打开软件更新")
    assert answer_text(SIMPLIFIED_ONLY, "en").startswith("Open Settings")


def test_the_entrys_own_traditional_text_wins():
    for locale in ("zh-TW", "zh-HK"):
        assert answer_text(WITH_HANT, locale) == "電子產品保固一年，請保留發票。"
        assert WITH_HANT.localized(locale) == (locale, WITH_HANT.hant)
    assert answer_text(WITH_HANT, "zh") == "电子产品保修 1 年。"
    # an answer without questions: the buttons' questions are converted
    _, text = HANT_ANSWER_ONLY.localized("zh-TW")
    assert text.answer == HANT_ANSWER_ONLY.hant.answer
    assert text.questions == (to_traditional("怎么申请保修？", "zh-TW"),)


def test_an_entry_without_chinese_answers_in_english_whatever_the_locale():
    english = FaqEntry("x", "c", {"en": LocalizedFaq(("q",), "An answer.")})
    assert english.localized("zh-TW") == ("en", english.texts["en"])
    assert answer_text(english, "zh-HK") == "An answer."


def tracker(text: str, **slots) -> Tracker:
    ranked = {"name": "ask_question", "confidence": 1.0}
    message = {"text": text, "intent": ranked, "intent_ranking": [ranked], "metadata": {}}
    return Tracker("customer", slots, message, [], False, None, {}, "action_listen")


async def test_the_action_answers_a_traditional_question_in_traditional(small_searcher):
    dispatcher = CollectingDispatcher()
    await ActionAnswerFaq().run(dispatcher, tracker("忘記密碼怎麼辦", language="zh-TW"), {})
    simplified = small_searcher.index.entry("password_reset").texts["zh"].answer
    assert dispatcher.messages[0]["text"] == to_traditional(simplified, "zh-TW")
    assert dispatcher.messages[0]["text"] != simplified


async def test_a_traditional_message_sets_the_locale_slot():
    dispatcher = CollectingDispatcher()
    events = await ActionBeginTurn().run(dispatcher, tracker("我的包裹到哪裡了"), {})
    assert {"event": "slot", "name": "language", "value": "zh-TW"} in [
        {k: e.get(k) for k in ("event", "name", "value")} for e in events
    ]
