"""How the console shows a customer's reply locale (``en``, ``zh``, ``zh-TW``, ``zh-HK``).

Agents see the locale labelled, and every customer text is marked with its language
(``lang``), so that browsers draw Traditional characters with Traditional fonts (and
Simplified ones with Simplified fonts) instead of the console's English page's default.

>>> locale_label("zh-HK"), html_lang("zh"), html_lang("zh-TW"), html_lang(None)
('繁體中文（香港） zh-HK', 'zh-CN', 'zh-TW', '')
"""

from __future__ import annotations

from vocabulary import LOCALES

LABELS = {
    "en": "English",
    "zh": "简体中文",
    "zh-TW": "繁體中文（台灣）",
    "zh-HK": "繁體中文（香港）",
}
_HTML_LANG = {"zh": "zh-CN"}  # the others are BCP 47 tags already


def locale_label(locale: str | None) -> str:
    """The locale named for agents, with its code; an unknown value as it is."""
    if locale in LABELS:
        return f"{LABELS[locale]} {locale}"
    return locale or ""


def html_lang(locale: str | None) -> str:
    """The value of an HTML ``lang`` attribute for text in ``locale`` ("" when unknown)."""
    if locale not in LOCALES:
        return ""
    return _HTML_LANG.get(locale, locale)
