"""The FAQ's entries as the bot knows them (the source files with the agents' additions,
:func:`bot.domain.knowledge.merged_entries`), kept between requests and read again only when a
source file or the additions changed: parsing the files takes longer than a report.

>>> texts = FaqTexts()  # one per process, shared by the requests
>>> entries = await texts.entries(session, Path("faq"))  # doctest: +SKIP
>>> entries["order_track"].localized("en")  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.knowledge import merged_entries
from bot.store.models import FaqAddition
from faq_index import FaqEntry


def _files_stamp(sources: Path) -> tuple[tuple[str, int, int], ...]:
    files = [sources] if sources.is_file() else sorted(sources.rglob("*"))
    return tuple(
        (str(path), path.stat().st_mtime_ns, path.stat().st_size)
        for path in files
        if path.is_file()
    )


class FaqTexts:
    """The FAQ's entries by id (the source files with the agents' additions), read again only
    when a file or the additions changed: parsing the files takes longer than the reports."""

    def __init__(self) -> None:
        self._stamp: tuple[Any, ...] | None = None
        self._entries: dict[str, FaqEntry] = {}

    async def entries(self, session: AsyncSession, sources: Path) -> dict[str, FaqEntry]:
        """The entries; :class:`faq_index.SourceError` when the files cannot be read."""
        additions = (await session.execute(select(func.count(), func.max(FaqAddition.id)))).one()
        stamp = (await asyncio.to_thread(_files_stamp, sources), tuple(additions))
        if stamp != self._stamp:
            merged = await merged_entries(session, [sources])
            self._entries, self._stamp = {entry.id: entry for entry in merged}, stamp
        return self._entries
