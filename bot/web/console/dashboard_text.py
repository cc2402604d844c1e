"""The dashboard's language and words: the console's catalogue (:mod:`bot.web.console.i18n`).

The dashboard's modules (``bot/web/console/dashboard*.py``) call ``_("…")`` with a
:data:`Translate` this module makes; the messages are in the console's ``.po`` files like every
other console text. The agent's language (their choice, else their browser's at sign-in) is the
dashboard's; ``?lang=en|zh`` overrides it.

>>> _ = translator(dashboard_language(None, "zh"))
>>> _("Conversations"), translator("en")("Conversations")
('会话', 'Conversations')
>>> _("%(m)d min") % {"m": 5}
'5 分钟'
"""

from __future__ import annotations

from collections.abc import Callable

from bot.web.console.i18n import LANGUAGES, translations
from bot.web.inputs import BadInput

Translate = Callable[[str], str]


def dashboard_language(override: str | None, agents_language: str) -> str:
    """The dashboard's language: ``override`` (the ``lang`` parameter) when given, else the
    agent's (:func:`bot.web.console.nav.navigation`'s ``ui_language``);
    :class:`~bot.web.inputs.BadInput` for an override it does not have."""
    if override:
        if override not in LANGUAGES:
            raise BadInput(f"lang is one of {', '.join(LANGUAGES)}")
        return override
    return agents_language


def translator(language: str) -> Translate:
    """``_`` for ``language``: a message's translation, the message itself when it has none."""
    return translations(language).gettext
