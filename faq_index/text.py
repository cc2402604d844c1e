"""Text handling shared by indexing and search: normalisation, language detection, lexical tokens.

Chinese has no spaces, so the lexical channel indexes both jieba words (precise when the
segmentation agrees) and character bigrams (robust when it does not: 退款 vs 退钱款).
English gets lowercased word tokens with a light suffix stemmer and no stop words.
"""

from __future__ import annotations

import itertools
import logging
import re
import unicodedata
from collections.abc import Iterator

import jieba

jieba.setLogLevel(logging.WARNING)

LANGUAGES = ("zh", "en")
# Bump when lexical_tokens or the lexical index's files change: it is part of every index
# version's fingerprint (3: the index keeps its English words, for spelling correction).
TOKENIZER_VERSION = 3

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_CJK}]+|[a-z0-9]+(?:['’][a-z]+)?")
_CJK_CHAR = re.compile(rf"[{_CJK}]")
_LATIN_WORD = re.compile(r"[a-zA-Z]{2,}")

_EN_STOP = frozenset(
    (
        "a an the i me my we our you your it its is are was were be been am do does did to of in "
        "on for at by with from and or but if so that this these those there here can could would "
        "should will shall may might must have has had how what when where which who why please "
        "hi hello"
    ).split()
)
_ZH_STOP_WORDS = frozenset(
    "的 了 吗 呢 吧 啊 呀 嘛 么 是 我 你 您 请问 一下 可以 能 怎么 如何 什么 为什么 哪 在 有 和 就 都 也 还 要".split()
)
_ZH_STOP_CHARS = frozenset("的了吗呢吧啊呀嘛么是我你您请问一下怎样哪什为如何这那个")


def normalize(text: str) -> str:
    """Fold width and case, collapse white space: the form every other function works on."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def detect_language(text: str, default: str = "en") -> str:
    """Return ``"zh"`` when Chinese characters dominate the text, ``"en"`` when Latin words do.

    A text with neither (digits, emoji, a button payload) gets ``default``.

    >>> detect_language("我的订单到哪了"), detect_language("where is my order"), detect_language("iPhone 保修多久")
    ('zh', 'en', 'zh')
    """
    cjk = len(_CJK_CHAR.findall(text))
    latin_words = len(_LATIN_WORD.findall(text))
    if cjk == 0 and latin_words == 0:
        return default
    # A Chinese word is about two characters long.
    return "zh" if cjk / 2 >= latin_words else "en"


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _cjk_tokens(run: str) -> Iterator[str]:
    for word in jieba.lcut(run):
        if word not in _ZH_STOP_WORDS:
            yield f"w:{word}"
    for a, b in itertools.pairwise(run):
        if a not in _ZH_STOP_CHARS and b not in _ZH_STOP_CHARS:
            yield f"b:{a}{b}"
    for char in run:
        if char not in _ZH_STOP_CHARS:
            yield f"c:{char}"


def lexical_tokens(text: str) -> list[str]:
    """Tokens for the lexical index; prefixes keep words, bigrams and characters apart.

    >>> lexical_tokens("Refund 退款")
    ['e:refund', 'w:退款', 'b:退款', 'c:退', 'c:款']
    """
    tokens: list[str] = []
    for run in _RUN.findall(normalize(text)):
        if _CJK_CHAR.match(run):
            tokens.extend(_cjk_tokens(run))
        elif run not in _EN_STOP:
            tokens.append(f"e:{_stem(run)}")
    return tokens


def chinese_tokens(text: str) -> list[str]:
    """The features of :mod:`faq_index.chinese_classifier`: :func:`lexical_tokens` without
    its bigrams, and every character bigram and trigram of the Chinese runs, stop characters
    included (the classifier learns what they are worth: 到哪 says "where is it", 没收到 a
    parcel that did not come, where jieba reads 没收).

    >>> chinese_tokens("没收到货")
    ['w:没收', 'w:到货', 'c:没', 'c:收', 'c:到', 'c:货', 'b:没收', 'b:收到', 'b:到货', 't:没收到', 't:收到货']
    """
    tokens = [token for token in lexical_tokens(text) if not token.startswith("b:")]
    for run in _RUN.findall(normalize(text)):
        if _CJK_CHAR.match(run):
            tokens.extend(f"b:{run[i : i + 2]}" for i in range(len(run) - 1))
            tokens.extend(f"t:{run[i : i + 3]}" for i in range(len(run) - 2))
    return tokens
