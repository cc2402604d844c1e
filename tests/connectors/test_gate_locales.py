"""The input gate's refusals in Traditional Chinese for Taiwan and Hong Kong: the gate's own reading
of the script (connectors/locales.py) checked against faq_index.chinese, which search uses."""

from __future__ import annotations

import re

import pytest

from connectors.gate import REPLIES, Refused, admit, reply_for, reply_language
from connectors.locales import CANTONESE, message_locale
from connectors.wechat_mp.render import NUMBER_HINTS, render_messages
from faq_index.chinese import (
    _CANTONESE_CHARS,
    Script,
    detect_script,
    script_counts,
    search_form,
    to_traditional,
)

TAIWAN_LONG = "我的包裹到哪裡了？已經等了十天，訂單號碼是 12345。" * 40
HONG_KONG_LONG = "我嘅包裹幾時到？已經等咗十日，訂單號碼係 12345。" * 40


@pytest.mark.parametrize(
    ("text", "metadata", "locale"),
    [
        ("我的包裹到哪裡了", None, "zh-TW"),
        ("忘記密碼怎麼辦", {"language": "zh-HK"}, "zh-HK"),  # a Hong Kong page
        ("忘記密碼怎麼辦", {"language": "zh-Hant-HK"}, "zh-HK"),
        ("我嘅包裹幾時到", {"language": "zh-TW"}, "zh-HK"),  # written Cantonese
        ("冇收到", None, "zh-HK"),
        ("我的包裹还没到", {"language": "zh-TW"}, "zh"),  # Simplified text
        ("", {"language": "zh-TW"}, "zh-TW"),  # no text: the page decides
        ("", {"language": "zh_Hant_HK"}, "zh-HK"),
        ("", {"language": "zh"}, "zh"),
        ("", {"language": "fr"}, "en"),
        ("where is my order", {"language": "zh-TW"}, "zh-TW"),  # no Chinese: the page
        ("where is my order", None, "en"),
        (None, "not a mapping", "en"),
        (42, {"language": "zh-HK"}, "zh-HK"),
    ],
)
def test_the_reply_language_is_the_texts_script_or_the_pages_locale(text, metadata, locale):
    assert reply_language(text, metadata) == locale


def test_an_over_long_traditional_message_is_refused_in_traditional():
    for text, metadata, expected in [
        (TAIWAN_LONG, None, "您的訊息太長了"),
        (HONG_KONG_LONG, None, "您的消息太長了"),
        (TAIWAN_LONG, {"language": "zh-HK"}, "您的消息太長了"),  # the Hong Kong page's words
    ]:
        with pytest.raises(Refused) as refused:
            admit("web-1", text, metadata, max_chars=1000)
        assert refused.value.code == "too_long"
        assert refused.value.reply.startswith(expected)
        assert f"（{len(text)} 個字" in refused.value.reply and "1000 個字" in refused.value.reply


def test_an_empty_message_from_a_taiwan_page_is_asked_for_in_traditional():
    with pytest.raises(Refused) as refused:
        admit("web-1", "   ", {"language": "zh-TW"}, max_chars=1000)
    assert refused.value.reply == "沒有收到文字內容，請輸入您的問題。"


def test_a_locale_without_replies_of_its_own_gets_its_languages():
    assert reply_for("empty", "zh-SG") == REPLIES["empty"]["zh"]
    assert reply_for("empty", "fr") == REPLIES["empty"]["en"]


@pytest.mark.parametrize("code", sorted(REPLIES))
@pytest.mark.parametrize("locale", ["zh-TW", "zh-HK"])
def test_the_traditional_replies_say_what_the_simplified_ones_say(code, locale):
    traditional, simplified = REPLIES[code][locale], REPLIES[code]["zh"]
    assert detect_script(traditional) is Script.TRADITIONAL
    assert re.findall(r"{\w+}", traditional) == re.findall(r"{\w+}", simplified)
    assert search_form(traditional) == simplified  # back to Simplified, the same text
    converted = to_traditional(simplified, locale)  # OpenCC's, but Taiwan writes 帳號
    assert traditional == (converted.replace("賬號", "帳號") if locale == "zh-TW" else converted)


def test_the_gate_knows_the_cantonese_markers_search_knows():
    assert CANTONESE <= _CANTONESE_CHARS


@pytest.mark.parametrize(
    "text",
    [
        "我的包裹到哪裡了",
        "忘記密碼怎麼辦",
        "請問可以用信用卡付款嗎",
        "退款要多久才會到帳",
        "訂單取消後多久退款",
        "我的帳號被鎖了",
        "你哋幾時發貨？",
        "我的包裹到哪里了",
        "忘记密码怎么办",
        "退款多久到账",
        "发票怎么开",
        "优惠券用不了",
    ],
)
def test_the_channels_tell_the_scripts_apart_as_the_actions_do(text):
    traditional = script_counts(text).is_traditional
    assert message_locale(text, None).startswith("zh-") == traditional


def test_wechat_tells_how_to_choose_in_the_messages_script():
    taiwan = to_traditional("这个回答对您有帮助吗？", "zh-TW")
    rendered = render_messages(
        [{"text": taiwan, "buttons": [{"title": "有幫助", "payload": "/a"}]}]
    )
    assert rendered.texts == [f"{taiwan}\n1. 有幫助\n{NUMBER_HINTS['zh-TW']}"]
    simplified = render_messages(
        [{"text": "有帮助吗？", "buttons": [{"title": "有", "payload": "/a"}]}]
    )
    assert simplified.texts[0].endswith("（回复数字即可选择）")


def test_a_lone_surrogate_next_to_chinese_is_refused_in_the_hinted_language():
    """Found by the gate's fuzz test: OpenCC raised on text that is not UTF-8."""
    with pytest.raises(Refused) as refused:
        admit("web-1", "㐀\ud800", {"language": "zh-HK"}, max_chars=1000)
    assert refused.value.status == 400
    assert refused.value.reply == reply_for(refused.value.code, "zh-HK")
