"""Which locale to answer in, decided per message and kept in the ``language`` slot."""

from __future__ import annotations

from faq_index import detect_language
from faq_index.chinese import TAIWAN, cantonese_markers, region_of, script_counts, taiwan_words
from vocabulary import LOCALES, TRADITIONAL_LOCALES, base_language, locale_from_tag


def choose_language(text: str | None, previous: str | None, hint: str | None = None) -> str:
    """The reply locale for a customer message: ``en``, ``zh``, ``zh-TW`` or ``zh-HK``.

    Chinese characters mean Chinese, and the script says which: Simplified-only characters
    ``zh``; Traditional-only ones (or written Cantonese) Hong Kong when the text is written
    Cantonese or uses Hong Kong's variants, Taiwan when it uses Taiwan's words, else the
    conversation's Traditional locale, the channel's hint, or Taiwan. Chinese in characters
    both scripts share keeps the conversation's Chinese locale (你好), unless it uses Taiwan's
    words (保固多久: Taiwan). A message with no language of its own
    (a button payload, an emoji, a single word like "ok") keeps the conversation's locale,
    else the channel's hint (the widget's page language: "zh-Hant-HK" means ``zh-HK``), else
    English.

    >>> choose_language("怎么退货", previous="en")
    'zh'
    >>> choose_language("/choose_faq{...}", previous="zh"), choose_language("ok", previous="zh")
    ('zh', 'zh')
    >>> choose_language("where is my order", previous="zh")
    'en'
    >>> choose_language("我的包裹到哪裡了", previous=None), choose_language("點樣退貨？", "zh-TW")
    ('zh-TW', 'zh-HK')
    >>> choose_language("忘記密碼怎麼辦", previous=None, hint="zh-Hant-HK")
    'zh-HK'
    >>> choose_language("你好", previous="zh-HK"), choose_language("ok", previous="zh-TW")
    ('zh-HK', 'zh-TW')
    """
    previous = previous if previous in LOCALES else None
    hinted = locale_from_tag(hint)
    fallback = previous or hinted or "en"
    text = (text or "").strip()
    if not text or text.startswith("/"):
        return fallback
    detected = detect_language(text, default=fallback)
    if detected == "en" and len(text.split()) < 2 and fallback != "en":
        return fallback
    if detected != "zh":
        return detected
    return _chinese_locale(text, previous, hinted)


def _chinese_locale(text: str, previous: str | None, hinted: str | None) -> str:
    counts = script_counts(text)
    if counts.simplified > counts.traditional:
        return "zh"
    if counts.is_traditional or cantonese_markers(text) or taiwan_words(text):
        region = region_of(text)
        if region is not None:
            return region
        return next((c for c in (previous, hinted) if c in TRADITIONAL_LOCALES), TAIWAN)
    return next((c for c in (previous, hinted) if c and base_language(c) == "zh"), "zh")
