"""The console's words in the agents' languages: gettext message catalogues (Babel ``.po``).

Messages are their English text (the ``msgid``); English is the source language and needs no
catalogue. Every other language of :data:`LANGUAGES` has
``bot/web/console/messages/<language>/LC_MESSAGES/console.po``, compiled in memory the first time
it is asked for (no ``.mo`` file in the repository). A message a catalogue lacks shows in English.

Templates call ``_("…")``, ``gettext``, ``ngettext`` and ``{% trans %}`` (Jinja2's i18n extension,
old-style: ``_("%(n)d open") % {"n": n}``); they translate into the language the template's
context names in ``ui_language`` (:data:`LANGUAGE_VARIABLE`, set by
:func:`bot.web.console.nav.navigation`), English when it names none. Python code asks
:func:`translations` directly:

>>> translations("zh").gettext("Dashboard"), translations("en").gettext("Dashboard")
('数据看板', 'Dashboard')
>>> translations("fr").gettext("Dashboard")  # a language the console does not have
'Dashboard'

Adding messages: mark them (``_("…")`` in templates and modules, :func:`N_` for words kept in
data), run ``python -m bot.web.console.catalogue`` to merge them into the ``.po`` files, and
translate the new entries; ``tests/bot/web/test_console_i18n.py`` fails while one lacks Chinese.
"""

from __future__ import annotations

import functools
import gettext
import io
from pathlib import Path
from typing import Any

import jinja2
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.web.console.locales import CONSOLE_LANGUAGES

LANGUAGES = CONSOLE_LANGUAGES
SOURCE_LANGUAGE = "en"
DOMAIN = "console"
CATALOGUES = Path(__file__).resolve().parent / "messages"
LANGUAGE_VARIABLE = "ui_language"


def N_(message: str) -> str:
    """Marks ``message`` for the catalogue where it is kept as data and translated later.

    >>> N_("Open")
    'Open'
    """
    return message


def catalogue_path(language: str) -> Path:
    """The ``.po`` file of ``language``."""
    return CATALOGUES / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The translations into ``language``: English (the messages themselves) for the source
    language and for a language without a catalogue."""
    if language == SOURCE_LANGUAGE or language not in LANGUAGES:
        return gettext.NullTranslations()
    with catalogue_path(language).open("rb") as po:
        catalogue = read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def language_of(context: jinja2.runtime.Context) -> str:
    """The language a template's context asks for (``ui_language``), else English."""
    language = context.get(LANGUAGE_VARIABLE)
    return language if isinstance(language, str) else SOURCE_LANGUAGE


@jinja2.pass_context
def _gettext(context: jinja2.runtime.Context, message: str) -> str:
    return translations(language_of(context)).gettext(message)


@jinja2.pass_context
def _ngettext(context: jinja2.runtime.Context, singular: str, plural: str, n: int) -> str:
    return translations(language_of(context)).ngettext(singular, plural, n)


def install(environment: jinja2.Environment) -> None:
    """Gives ``environment``'s templates ``_``, ``gettext``, ``ngettext`` and ``{% trans %}``,
    translating into their context's ``ui_language``.

    >>> env = jinja2.Environment()
    >>> install(env)
    >>> template = env.from_string('{{ _("Dashboard") }} {% trans %}Dashboard{% endtrans %}')
    >>> template.render(ui_language="zh"), template.render()
    ('数据看板 数据看板', 'Dashboard Dashboard')
    """
    environment.add_extension("jinja2.ext.i18n")
    install_callables: Any = getattr(environment, "install_gettext_callables")  # noqa: B009
    install_callables(_gettext, _ngettext, newstyle=False)
