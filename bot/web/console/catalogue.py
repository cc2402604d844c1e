"""Keeps the console's ``.po`` files in step with the messages its code and templates mark.

Run after adding or changing console text, then translate what is new (empty ``msgstr``)::

    .venv/bin/python -m bot.web.console.catalogue          # merge, report what lacks Chinese
    .venv/bin/python -m bot.web.console.catalogue --check  # change nothing, exit 1 if out of step

The messages are the ``_("…")``, ``gettext``, ``ngettext`` and :func:`~bot.web.console.i18n.N_`
calls in the console's modules (``bot/web/console/*.py``), the ``_("…")`` and ``{% trans %}`` of
its templates, and the words the dashboard keeps in data (its channels and handoff reasons).
Merging keeps every translation of a message still in use and drops the others.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from bot.web.console.i18n import DOMAIN, LANGUAGES, SOURCE_LANGUAGE, catalogue_path

CONSOLE = Path(__file__).resolve().parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
METHODS = [
    ("templates/**.html", "jinja2.ext:babel_extract"),
    ("*.py", "python"),
]
HEADER = (
    "# The agents' console in another language; English is the source (the msgids).\n"
    "# Merge new messages with: .venv/bin/python -m bot.web.console.catalogue"
)
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}


def _data_messages() -> Iterable[str]:
    from bot.web.console.dashboard import CHANNELS
    from bot.web.console.dashboard_charts import REASONS

    return [*CHANNELS.values(), *REASONS.values()]


def extract() -> Catalog:
    """Every message the console marks, as a catalogue without translations."""
    found = Catalog(locale=SOURCE_LANGUAGE, domain=DOMAIN)
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(CONSOLE), METHODS, OPTIONS, KEYWORDS, strip_comment_tags=True
    ):
        if filename.endswith("catalogue.py"):
            continue
        found.add(message, None, [(filename, lineno)])
    for message in _data_messages():
        if message not in found:
            found.add(message, None, [("dashboard data", 0)])
    return found


def merged(language: str, template: Catalog) -> Catalog:
    """``language``'s catalogue with exactly ``template``'s messages, translations kept."""
    old = _read(language)
    new = Catalog(
        locale=language,
        domain=DOMAIN,
        project="shop assistant console",
        header_comment=HEADER,
        fuzzy=False,
    )
    for message in template:
        if not message.id:
            continue
        before = old.get(message.id)
        new.add(message.id, before.string if before else None, message.locations)
    return new


def untranslated(catalogue: Catalog) -> list[str]:
    """The messages of ``catalogue`` without a translation (plural forms: any one missing)."""
    missing = []
    for message in catalogue:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def _text(catalogue: Catalog) -> bytes:
    import io

    out = io.BytesIO()
    write_po(out, catalogue, width=100, omit_header=False, sort_output=True)
    return out.getvalue()


def main(argv: list[str]) -> int:
    check = "--check" in argv
    template = extract()
    status = 0
    for language in LANGUAGES:
        if language == SOURCE_LANGUAGE:
            continue
        catalogue = merged(language, template)
        path = catalogue_path(language)
        if check and _ids(_read(language)) != _ids(catalogue):
            print(f"{path} is out of step with the code: run python -m bot.web.console.catalogue")
            status = 1
        elif not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(_text(catalogue))
        for message in untranslated(catalogue):
            print(f"{language}: no translation for {message!r}")
            status = 1
    return status


def _read(language: str) -> Catalog:
    path = catalogue_path(language)
    if not path.exists():
        return Catalog(locale=language, domain=DOMAIN)
    with path.open("rb") as po:
        return read_po(po, locale=language, domain=DOMAIN)


def _ids(catalogue: Catalog) -> set[str | tuple[str, ...]]:
    """The messages of ``catalogue`` (where they are in the code may move freely)."""
    return {message.id for message in catalogue if message.id}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
