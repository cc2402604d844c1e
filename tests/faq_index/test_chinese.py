"""Traditional Chinese: script detection, regions, OpenCC conversions, and search of
Traditional queries against the shipped FAQ."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from faq_index import FaqSearcher, build_index, load_sources
from faq_index.chinese import (
    HONG_KONG,
    TAIWAN,
    Script,
    cantonese_markers,
    converter,
    detect_script,
    has_traditional,
    is_traditional,
    region_of,
    script_counts,
    search_form,
    to_simplified,
    to_traditional,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("我的包裹到哪里了", Script.SIMPLIFIED),
        ("我的包裹到哪裡了", Script.TRADITIONAL),
        ("忘記密碼怎麼辦", Script.TRADITIONAL),
        ("退款多久到账", Script.SIMPLIFIED),
        ("我的包裹到哪裡了，怎么办", Script.MIXED),
        ("保固多久", Script.COMMON),  # Taiwan's word, in characters both scripts write
        ("你好", Script.COMMON),
        ("著名品牌的手机", Script.SIMPLIFIED),  # 著 is Simplified too in 著名
        ("Where is my order?", Script.NONE),
        ("12345 👍", Script.NONE),
        ("", Script.NONE),
        ("iPhone 保修多久", Script.COMMON),
        ("iPhone 的保固期是幾年", Script.TRADITIONAL),
    ],
)
def test_the_script_is_read_from_the_characters_only_one_script_writes(text, script):
    assert detect_script(text) is script


def test_mixed_text_counts_each_script_and_the_majority_decides():
    counts = script_counts("我的包裹到哪裡了，怎么办")
    assert (counts.traditional, counts.simplified) == (1, 2)
    assert not counts.is_traditional
    assert is_traditional("請問運費怎么算")  # 請 問 運 費 vs 么
    assert not is_traditional("保固多久") and not is_traditional("where")
    assert has_traditional("顯著") and not has_traditional("著名")


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("我想問下點樣退貨，係咪要自己付運費？", HONG_KONG),  # written Cantonese
        ("你哋幾時發貨？", HONG_KONG),
        ("包裹冇收到", HONG_KONG),
        ("唔該", HONG_KONG),
        ("包裹裏面的東西壞了", HONG_KONG),  # 裏: Hong Kong's form (Taiwan writes 裡)
        ("滑鼠壞了可以換嗎", TAIWAN),  # 滑鼠: Taiwan's word (鼠标)
        ("軟體更新後不能用", TAIWAN),
        ("忘記密碼怎麼辦", None),  # nothing says where
        ("沒關係，謝謝", None),  # 係 of Mandarin's 關係 is not Cantonese
    ],
)
def test_the_region_is_read_from_cantonese_and_the_regions_own_forms(text, region):
    assert region_of(text) == region


def test_cantonese_markers_are_counted_outside_mandarin_words():
    assert cantonese_markers("我想問下點樣退貨，係咪要自己付運費？") == 2
    assert cantonese_markers("關係數據") == 0
    assert cantonese_markers("where is it") == 0


@pytest.mark.parametrize(
    ("traditional", "simplified", "locale"),
    [
        ("我的包裹到哪裡了", "我的包裹到哪里了", TAIWAN),
        ("忘記密碼怎麼辦", "忘记密码怎么办", TAIWAN),
        ("軟體", "软件", TAIWAN),  # phrase level: Taiwan's word becomes the mainland's
        ("滑鼠和印表機", "鼠标和打印机", TAIWAN),
        ("請問運費怎麼算", "请问运费怎么算", HONG_KONG),
        ("網上付款", "网上付款", HONG_KONG),
    ],
)
def test_traditional_text_is_converted_to_simplified_with_the_regions_words(
    traditional, simplified, locale
):
    assert to_simplified(traditional, locale) == simplified


def test_without_a_locale_the_region_is_guessed():
    assert to_simplified("軟體") == "软件"  # Taiwan (tw2sp)
    assert to_simplified("你哋幾時發貨") == "你哋几时发货"  # Hong Kong (hk2s): characters only


@pytest.mark.parametrize(
    ("simplified", "locale", "expected"),
    [
        ("登录后进入我的订单", TAIWAN, "登入後進入我的訂單"),  # s2twp: Taiwan's words too
        ("软件和鼠标", TAIWAN, "軟體和滑鼠"),
        ("我在知识库里没有找到", TAIWAN, "我在知識庫裡沒有找到"),
        ("我在知识库里没有找到", HONG_KONG, "我在知識庫裏沒有找到"),  # s2hk: Hong Kong's forms
        ("信息", HONG_KONG, "信息"),  # Hong Kong keeps the word Taiwan calls 資訊
        ("信息", TAIWAN, "資訊"),
    ],
)
def test_simplified_text_is_converted_for_taiwan_and_hong_kong(simplified, locale, expected):
    assert to_traditional(simplified, locale) == expected


def test_a_locale_without_a_traditional_conversion_is_refused():
    with pytest.raises(ValueError, match="zh-TW"):
        to_traditional("你好", "zh")


def test_converters_are_built_once_per_config():
    assert converter("s2twp") is converter("s2twp")
    assert converter("s2twp") is not converter("s2hk")


@pytest.mark.parametrize(
    ("query", "searched"),
    [
        ("我的包裹到哪裡了", "我的包裹到哪里了"),
        ("你哋幾時發貨？", "你们什么时候发货？"),  # Cantonese into Mandarin, then Simplified
        ("收唔到驗證碼", "收不到验证码"),
        ("保固多久", "保修多久"),  # Taiwan's shop word into the mainland's
        ("我的帳號被鎖了", "我的账号被锁了"),  # 帐/账: the FAQ writes 账
        ("換貨要等幾耐", "换货要等多久"),  # 幾耐: how long (written Cantonese)
        ("運費要幾多錢", "运费要多少钱"),
        ("你哋點樣處理我啲訂單", "你们怎样处理我的订单"),  # 啲 after a person: possessive
        ("買咗啲衫", "买了些衫"),  # elsewhere: some
        ("部電話保養期係一年咩", "部电话保修期是一年什么"),  # Hong Kong's 保養: a warranty
        ("車子的保養期多久", "车子的保养期多久"),  # Taiwan's: upkeep
        ("退款幾時入帳", "退款什么时候到账"),
        ("退款多久到账", "退款多久到账"),  # Simplified: unchanged
        ("点数怎么用", "点数怎么用"),  # Simplified: the mainland's own word, unchanged
        ("How long is the warranty?", "How long is the warranty?"),
    ],
)
def test_queries_are_searched_in_simplified_with_the_mainlands_words(query, searched):
    assert search_form(query) == searched


# --- search of Traditional queries against the shipped FAQ --------------------------------------


@pytest.fixture(scope="module")
def shipped_searcher(tmp_path_factory, embedder):
    index = tmp_path_factory.mktemp("shipped") / "index"
    build_index(load_sources([REPO / "data" / "faq"]), index, embedder=embedder)
    searcher = FaqSearcher(index)
    yield searcher
    searcher.close()


@pytest.mark.parametrize(
    ("traditional", "simplified"),
    [
        ("我的包裹到哪裡了", "我的包裹到哪里了"),
        ("忘記密碼怎麼辦", "忘记密码怎么办"),
        ("退貨運費誰出", "退货运费谁出"),
        ("可以開電子發票嗎", "可以开电子发票吗"),
    ],
)
def test_a_traditional_query_is_searched_as_its_simplified_twin(
    shipped_searcher, traditional, simplified
):
    asked, twin = shipped_searcher.search(traditional), shipped_searcher.search(simplified)
    assert asked.query == traditional  # the result names what was asked
    assert asked.language == "zh"
    assert asked.decision is twin.decision
    assert [(m.id, round(m.score, 6)) for m in asked.matches] == [
        (m.id, round(m.score, 6)) for m in twin.matches
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("我的包裹到哪裡了", "order_track"),
        ("忘記密碼怎麼辦", "account_password_reset"),
        ("保固多久", "warranty_policy"),  # the three examples
        ("請問可以用信用卡付款嗎", "payment_methods"),
        ("退款要多久才會到帳", "return_refund_time"),
        ("我的帳號被鎖了", "account_locked"),
        ("你哋幾時發貨？", "shipping_dispatch"),  # Hong Kong
        ("收唔到驗證碼", "account_verification_code"),
    ],
)
def test_traditional_questions_rank_the_right_entry_first(shipped_searcher, query, expected):
    assert shipped_searcher.search(query).matches[0].id == expected


def test_the_query_command_understands_traditional_chinese(small_index):
    done = subprocess.run(
        [sys.executable, "-m", "faq_index", "query", "--index", str(small_index)],
        input="我的訂單到哪了？\n忘記密碼怎麼辦\n".encode(),
        capture_output=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    first, second = (json.loads(line) for line in done.stdout.decode().splitlines())
    assert first["query"] == "我的訂單到哪了？" and first["decision"] == "answer"
    assert first["results"][0]["id"] == "order_track"
    assert second["results"][0]["id"] == "password_reset"
