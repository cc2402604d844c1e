"""Traditional Chinese: tell the scripts apart, guess the region, convert with OpenCC.

The index is searched in Simplified Chinese. A query written in Traditional characters is
converted first, with OpenCC's phrase-level configurations (:data:`TO_SIMPLIFIED`: ``tw2sp`` also
turns Taiwan's words into the mainland's, 軟體 → 软件; ``hk2s`` for Hong Kong), and an answer the
FAQ has only in Simplified is converted into the customer's script and region
(:data:`FROM_SIMPLIFIED`: ``s2twp`` for Taiwan, ``s2hk`` for Hong Kong).

The script is read from the characters only one script writes: a Traditional-only character
is one that OpenCC's ``t2s`` changes (in context: 著名 stays, 著 alone does not), a
Simplified-only one is one that ``s2t``, ``s2tw`` and ``s2hk`` all change (台 and 温 are also
written in Hong Kong, so they are not). Text with neither (你好, 保固多久) is :attr:`Script.COMMON`.

>>> detect_script("我的包裹到哪裡了"), detect_script("我的包裹到哪里了"), detect_script("Where is it?")
(<Script.TRADITIONAL: 'Hant'>, <Script.SIMPLIFIED: 'Hans'>, <Script.NONE: 'none'>)
>>> to_simplified("忘記密碼怎麼辦"), to_simplified("軟體更新")
('忘记密码怎么办', '软件更新')
>>> region_of("我嘅包裹幾時到？"), to_traditional("登录后进入我的订单", TAIWAN)
('zh-HK', '登入後進入我的訂單')
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import Enum

import opencc

TAIWAN = "zh-TW"
HONG_KONG = "zh-HK"
TRADITIONAL_LOCALES = (TAIWAN, HONG_KONG)
# Traditional text of a region to Simplified (with the mainland's words), and back.
TO_SIMPLIFIED = {TAIWAN: "tw2sp", HONG_KONG: "hk2s"}
FROM_SIMPLIFIED = {TAIWAN: "s2twp", HONG_KONG: "s2hk"}

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Written Cantonese: words Mandarin does not use. 係 only outside the Mandarin words that
# contain it (關係, 係數), which are taken out before counting.
_CANTONESE_WORDS = ("點樣", "點解", "幾時", "幾耐", "幾多", "邊度", "邊個", "而家", "唔該", "乜嘢")
_CANTONESE_CHARS = frozenset("係唔嘅咗冇啲嘢佢喺嚟睇咩嗰哋噉攞搵揾諗畀啱嘞喎咁")
_MANDARIN_WITH_MARKERS = re.compile("關係|聯係|係數")

# What a query is searched with beyond OpenCC's conversion: words its tables leave alone.
# Written Cantonese into Mandarin (Traditional forms, before the conversion); Mandarin words
# that contain a Cantonese character map to themselves, so that they stay as they are.
_CANTONESE_TO_MANDARIN = {
    **{word: word for word in ("關係", "沒關係", "係數", "聯係")},
    **{"唔該": "謝謝", "唔使": "不用", "唔好": "不要", "係咪": "是不是", "係唔係": "是不是"},
    **{"點樣": "怎樣", "點解": "為什麼", "幾時": "什麼時候", "邊度": "哪裡", "邊個": "哪個"},
    **{"乜嘢": "什麼", "而家": "現在", "你哋": "你們", "我哋": "我們", "佢哋": "他們"},
    **{"唔": "不", "係": "是", "嘅": "的", "咗": "了", "冇": "沒有", "啲": "些", "嘢": "東西"},
    **{"咩": "什麼", "佢": "他", "喺": "在", "嚟": "來", "睇": "看", "搵": "找", "揾": "找"},
    **{"攞": "拿", "畀": "給", "俾": "給", "諗": "想", "啱": "對", "信用咭": "信用卡"},
    **{"點算": "怎麼辦", "俾錢": "付款", "畀錢": "付款", "幾耐": "多久", "幾多": "多少"},
    **{"保養期": "保修期"},  # Hong Kong's 保養 is a warranty (Taiwan's: upkeep)
    # 啲 after a person is a possessive (我啲嘢: my things), elsewhere "some".
    **{"我啲": "我的", "你啲": "你的", "佢啲": "他的", "我哋啲": "我們的", "你哋啲": "你們的"},
}
# Taiwan's (and some Hong Kong) shop words into the mainland's, after the conversion to
# Simplified: the FAQ is written with the latter. 帐/账 are both Simplified; the FAQ writes 账.
_MAINLAND_WORDS = {
    **{"保固": "保修", "退费": "退款", "出货": "发货", "品质": "质量", "宅配": "快递"},
    **{"超商": "便利店", "折价券": "优惠券", "点数": "积分", "红利": "积分"},
    **{"帐号": "账号", "帐户": "账户", "到帐": "到账", "转帐": "转账", "入帐": "到账"},
}


# Taiwan's shop words written in characters both scripts share (保固多久 is Taiwan's
# Mandarin in neither script): they tell the region where the characters cannot.
_TAIWAN_COMMON_WORDS = ("保固", "宅配", "超商")


def _word_replacer(words: dict[str, str]) -> re.Pattern[str]:
    return re.compile("|".join(sorted(map(re.escape, words), key=len, reverse=True)))


_CANTONESE_PATTERN = _word_replacer(_CANTONESE_TO_MANDARIN)
_MAINLAND_PATTERN = _word_replacer(_MAINLAND_WORDS)


class Script(str, Enum):
    """Which script a text is written in."""

    SIMPLIFIED = "Hans"
    TRADITIONAL = "Hant"
    MIXED = "mixed"  # characters only Simplified writes and characters only Traditional writes
    COMMON = "common"  # Chinese, in characters both scripts share (你好, 保固多久)
    NONE = "none"  # no Chinese characters (English, digits, emoji)


@dataclass(frozen=True)
class ScriptCounts:
    """How many of a text's characters are Chinese, Traditional-only and Simplified-only."""

    han: int
    traditional: int
    simplified: int

    @property
    def script(self) -> Script:
        if not self.han:
            return Script.NONE
        if self.traditional and self.simplified:
            return Script.MIXED
        if self.traditional:
            return Script.TRADITIONAL
        return Script.SIMPLIFIED if self.simplified else Script.COMMON

    @property
    def is_traditional(self) -> bool:
        """Whether Traditional-only characters outnumber Simplified-only ones."""
        return self.traditional > self.simplified


@functools.cache
def converter(config: str) -> opencc.OpenCC:
    """The OpenCC converter of ``config`` (``"tw2sp"``, ``"s2hk"`` ...), built once per config."""
    return opencc.OpenCC(config)


def convert(text: str, config: str) -> str:
    """``text`` converted with OpenCC's configuration ``config`` (phrases first, then characters).

    >>> convert("鼠标和软件", "s2twp")
    '滑鼠和軟體'
    """
    return converter(config).convert(text) if text else text


def _changed(text: str, config: str) -> set[int]:
    """Positions of the Chinese characters of ``text`` that ``config`` changes."""
    converted = convert(text, config)
    if len(converted) == len(text):
        pairs = zip(text, converted, strict=True)
        return {i for i, (a, b) in enumerate(pairs) if a != b and _HAN.match(a)}
    # A phrase changed length: judge the characters one by one (no context).
    return {i for i, c in enumerate(text) if _HAN.match(c) and convert(c, config) != c}


def script_counts(text: str) -> ScriptCounts:
    """Count the Chinese, Traditional-only and Simplified-only characters of ``text``.

    >>> script_counts("我的包裹到哪裡了 怎么办")
    ScriptCounts(han=11, traditional=1, simplified=2)
    """
    han = len(_HAN.findall(text))
    if not han:
        return ScriptCounts(0, 0, 0)
    simplified = _changed(text, "s2t") & _changed(text, "s2tw") & _changed(text, "s2hk")
    return ScriptCounts(han, len(_changed(text, "t2s")), len(simplified))


def detect_script(text: str) -> Script:
    """The script ``text`` is written in; see :class:`Script`."""
    return script_counts(text).script


def has_traditional(text: str) -> bool:
    """Whether ``text`` has a character only Traditional writes (one conversion: fast).

    >>> has_traditional("著名的品牌"), has_traditional("顯著")
    (False, True)
    """
    return convert(text, "t2s") != text


def is_traditional(text: str) -> bool:
    """Whether ``text`` is mostly written in Traditional characters.

    >>> is_traditional("保固多久"), is_traditional("請問運費多少"), is_traditional("运费多少")
    (False, True, False)
    """
    return script_counts(text).is_traditional


@functools.cache
def _hong_kong_variant(char: str) -> bool:
    """Whether ``char`` is a form Hong Kong's standard writes and Taiwan's does not (裏 着 峯,
    綫 説: Taiwan writes 裡 著 峰 線 說). The other way round says little: Hong Kong's
    keyboards type Taiwan's forms (說 衛 溫) as often as their own."""
    if convert(char, "t2tw") != char and convert(char, "t2hk") == char:
        return True
    return convert(char, "hk2t") != char and convert(char, "tw2t") == char


def cantonese_markers(text: str) -> int:
    """How many words of written Cantonese ``text`` has (係 唔 嘅 咗 冇 啲 嘢 點樣 幾時 ...).

    >>> cantonese_markers("我想問下點樣退貨，係咪要自己付運費？"), cantonese_markers("沒關係，謝謝")
    (2, 0)
    """
    text = _MANDARIN_WITH_MARKERS.sub("", text)
    words = sum(text.count(word) for word in _CANTONESE_WORDS)
    return words + sum(1 for c in text if c in _CANTONESE_CHARS)


def taiwan_words(text: str) -> int:
    """How many of Taiwan's shop words written in characters both scripts share ``text`` has.

    >>> taiwan_words("保固多久"), taiwan_words("保修多久")
    (1, 0)
    """
    return sum(text.count(word) for word in _TAIWAN_COMMON_WORDS)


def region_of(text: str) -> str | None:
    """:data:`HONG_KONG` or :data:`TAIWAN` when Traditional ``text`` says where it was
    written, else None.

    Written Cantonese means Hong Kong. Otherwise Hong Kong's own character forms (裏 綫) are
    weighed against Taiwan's own words (軟體, 滑鼠: what ``tw2sp`` changes beyond ``t2s``;
    保固, 超商: :func:`taiwan_words`).

    >>> region_of("唔該，我想退貨"), region_of("滑鼠的保固多久"), region_of("忘記密碼怎麼辦")
    ('zh-HK', 'zh-TW', None)
    """
    if cantonese_markers(text):
        return HONG_KONG
    hong_kong = sum(1 for c in text if _HAN.match(c) and _hong_kong_variant(c))
    taiwan = int(convert(text, "tw2sp") != convert(text, "t2s") or taiwan_words(text) > 0)
    if hong_kong == taiwan:
        return None
    return HONG_KONG if hong_kong > taiwan else TAIWAN


def to_simplified(text: str, locale: str | None = None) -> str:
    """``text`` in Simplified characters and the mainland's words.

    ``locale`` (:data:`TAIWAN` or :data:`HONG_KONG`) says which region's words to expect;
    without it, :func:`region_of` guesses, and Taiwan's conversion is used when it cannot.
    """
    region = locale if locale in TO_SIMPLIFIED else region_of(text)
    return convert(text, TO_SIMPLIFIED[region or TAIWAN])


def to_traditional(text: str, locale: str) -> str:
    """Simplified ``text`` in the Traditional characters and words of ``locale``.

    Raises:
        ValueError: ``locale`` is not one of :data:`TRADITIONAL_LOCALES`.
    """
    if locale not in FROM_SIMPLIFIED:
        raise ValueError(f"no Traditional conversion for {locale!r}: one of {TRADITIONAL_LOCALES}")
    return convert(text, FROM_SIMPLIFIED[locale])


def search_form(text: str) -> str:
    """The form of ``text`` the index is searched with: Traditional characters converted to
    Simplified (mixed text too: its Simplified part stays as it is), written Cantonese into
    Mandarin and Taiwan's shop words into the mainland's (保固 → 保修); Simplified Chinese and
    other languages unchanged. Queries and the index's Chinese texts both go through it.

    >>> search_form("我的包裹到哪裡了"), search_form("你哋幾時發貨？"), search_form("保固多久")
    ('我的包裹到哪里了', '你们什么时候发货？', '保修多久')
    >>> search_form("退款多久到账"), search_form("点数怎么用"), search_form("refund")
    ('退款多久到账', '点数怎么用', 'refund')
    """
    if not _HAN.search(text):
        return text
    traditional, cantonese = has_traditional(text), cantonese_markers(text) > 0
    if not (traditional or cantonese or _MAINLAND_PATTERN.search(text)):
        return text  # Simplified, or Chinese of neither script with nothing to change
    if not (traditional or cantonese) and script_counts(text).simplified:
        return text  # Simplified after all: its words are the mainland's
    region = HONG_KONG if cantonese else region_of(text)
    if cantonese:
        text = _CANTONESE_PATTERN.sub(lambda m: _CANTONESE_TO_MANDARIN[m.group()], text)
    if has_traditional(text):
        text = to_simplified(text, region)
    return _MAINLAND_PATTERN.sub(lambda m: _MAINLAND_WORDS[m.group()], text)
