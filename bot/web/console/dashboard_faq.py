"""The FAQ entries that served worst on the dashboard, with their question in the page's language.

>>> worst_entries([{"entry_id": "a", "answered": 3, "not_helpful": 0, "handoffs_after": 0},
...                {"entry_id": "b", "answered": 1, "not_helpful": 1, "handoffs_after": 0}])
[{'entry_id': 'b', 'answered': 1, 'not_helpful': 1, 'handoffs_after': 0}]
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.faq_texts import FaqTexts
from bot.web.console.locales import html_lang
from faq_index import SourceError

WORST_ENTRIES = 10
FAQ_TEXTS = FaqTexts()  # the web service's, shared by its requests


def worst_entries(
    entries: list[Mapping[str, Any]], limit: int = WORST_ENTRIES
) -> list[dict[str, Any]]:
    """The entries with a "not helpful" or a handoff after them, the most of both first (then
    the most "not helpful", the most answered, the id)."""
    bad = [e for e in entries if e["not_helpful"] or e["handoffs_after"]]
    bad.sort(
        key=lambda e: (
            -(e["not_helpful"] + e["handoffs_after"]),
            -e["not_helpful"],
            -e["answered"],
            e["entry_id"],
        )
    )
    return [dict(e) for e in bad[:limit]]


async def with_questions(
    session: AsyncSession, sources: Path, entries: list[dict[str, Any]], language: str
) -> list[dict[str, Any]]:
    """``entries``, each with the FAQ's first question in ``language`` (``question``, and the
    ``lang`` it is written in) when the entry is still in the FAQ (``None`` otherwise). The
    FAQ is not read for no entries."""
    if not entries:
        return entries
    try:
        faq = await FAQ_TEXTS.entries(session, sources)
    except SourceError:  # the dashboard without the texts, rather than no dashboard
        faq = {}
    for entry in entries:
        found = faq.get(entry["entry_id"])
        entry["question"], entry["lang"] = None, ""
        if found is not None:
            written_in, text = found.localized(language)
            if text.questions:
                entry["question"] = text.questions[0]
                entry["lang"] = html_lang(written_in) or written_in
    return entries
