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


# The languages of the console's own words (bot/web/console/i18n.py has their catalogues).
CONSOLE_LANGUAGES = ("en", "zh")
# An Accept-Language header lists a few languages; more are not read.
MAX_ACCEPTED_LANGUAGES = 32


def _weight(parameters: str) -> float:
    for parameter in parameters.split(";"):
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                weight = float(value)
            except ValueError:
                return 0.0
            return weight if 0.0 <= weight <= 1.0 else 0.0
    return 1.0


def console_language(accept_language: str | None) -> str:
    """The console language (one of :data:`CONSOLE_LANGUAGES`) a browser prefers.

    Args:
        accept_language: the request's ``Accept-Language`` header, or None.

    Returns:
        ``"zh"`` when a Chinese tag (any script or region) outweighs English, else ``"en"``.

    >>> console_language("zh-TW,zh;q=0.9,en;q=0.8"), console_language("fr, en;q=0.5")
    ('zh', 'en')
    """
    best, best_weight = "en", 0.0
    for item in (accept_language or "").split(",")[:MAX_ACCEPTED_LANGUAGES]:
        tag, _, parameters = item.partition(";")
        base = tag.strip().lower().split("-")[0]
        weight = _weight(parameters)
        if base in CONSOLE_LANGUAGES and weight > best_weight:
            best, best_weight = base, weight
    return best
