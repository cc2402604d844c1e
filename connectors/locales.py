"""The customer's reply locale as the channels can tell it, before anything reaches Rasa.

The input gate answers refusals in the customer's language, so it reads the script from the
characters themselves with OpenCC (installed in Rasa's environment too): characters that the
Traditional-to-Simplified conversion changes are Traditional-only, those the opposite one
changes are Simplified-only. Written Cantonese (:data:`CANTONESE`) means Hong Kong.
``faq_index.chinese`` decides the same way for search; the tests check that they agree.

>>> message_locale("我的包裹到哪裡了", None), message_locale("我嘅包裹幾時到", None)
('zh-TW', 'zh-HK')
>>> message_locale("包裹还没到", "zh-TW"), message_locale("ok", "zh-Hant-HK"), message_locale("hi", None)
('zh', 'zh-HK', 'en')
"""

from __future__ import annotations

import re
from functools import cache

from opencc import OpenCC

from vocabulary import TRADITIONAL_LOCALES, base_language, locale_from_tag

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
CANTONESE = frozenset("唔嘅咗冇啲嘢佢喺嚟睇咩嗰哋噉攞搵揾諗畀啱嘞喎")


@cache
def _converter(config: str) -> OpenCC:
    return OpenCC(config)


def _changed(text: str, config: str) -> set[str]:
    """The Chinese characters of ``text`` that the conversion ``config`` replaces."""
    converted = set(_converter(config).convert(text))
    return {c for c in text if _HAN.match(c) and c not in converted}


def round_trips(value: str) -> bool:
    """Whether ``value`` encodes as UTF-8 (no lone surrogates). OpenCC takes UTF-8 only, and
    the gate refuses text that does not."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def message_locale(text: object, hint: object) -> str:
    """The locale to answer ``text`` in: its script (and Cantonese: Hong Kong) when it has
    Chinese, else the channel's ``hint`` (a language tag), else English."""
    hinted = locale_from_tag(hint)
    if not isinstance(text, str) or not _HAN.search(text) or not round_trips(text):
        return hinted or "en"
    traditional = len(_changed(text, "t2s"))
    # Simplified-only: what every Simplified-to-Traditional conversion replaces (s2t alone
    # also "corrects" a few characters Taiwan and Hong Kong write as they are).
    simplified = len(_changed(text, "s2t") & _changed(text, "s2tw") & _changed(text, "s2hk"))
    if simplified > traditional:
        return "zh"
    if any(c in CANTONESE for c in text):
        return "zh-HK"
    if traditional > simplified:
        return hinted if hinted in TRADITIONAL_LOCALES else "zh-TW"
    return hinted if hinted is not None and base_language(hinted) == "zh" else "zh"
