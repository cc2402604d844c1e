"""Which language to answer in, decided per message and kept in the ``language`` slot."""

from __future__ import annotations

from faq_index import detect_language

SUPPORTED = ("zh", "en")


def choose_language(text: str | None, previous: str | None, hint: str | None = None) -> str:
    """The reply language for a customer message.

    Chinese characters always mean Chinese. A message with no language of its own (a button
    payload, an emoji, a single word like "ok") keeps the conversation's language, else the
    channel's hint (the widget's page language), else English.

    >>> choose_language("怎么退货", previous="en")
    'zh'
    >>> choose_language("/choose_faq{...}", previous="zh"), choose_language("ok", previous="zh")
    ('zh', 'zh')
    >>> choose_language("where is my order", previous="zh")
    'en'
    """
    fallback = next((lang for lang in (previous, hint) if lang in SUPPORTED), "en")
    text = (text or "").strip()
    if not text or text.startswith("/"):
        return fallback
    detected = detect_language(text, default=fallback)
    if detected == "en" and len(text.split()) < 2 and fallback != "en":
        return fallback
    return detected
