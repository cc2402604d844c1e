"""The FAQ as agents use it: search to insert an answer into a reply.

The web service loads its own searcher on first use (the embedding model, a few seconds) and
follows new index versions like the action server does.
"""

from __future__ import annotations

import asyncio
from typing import Any

from faq_index import FaqSearcher, SearchSettings
from faq_index.chinese import TAIWAN, is_traditional, region_of
from vocabulary import base_language


def _script(query: str) -> str:
    """The Chinese locale a query is written in."""
    return (region_of(query) or TAIWAN) if is_traditional(query) else "zh"


class FaqLookup:
    def __init__(self, settings: SearchSettings | None = None) -> None:
        self._settings = settings or SearchSettings()
        self._searcher: FaqSearcher | None = None
        self._lock = asyncio.Lock()

    @property
    def max_query_chars(self) -> int:
        """Longer queries are refused (``FAQ_MAX_QUERY_CHARS``), best before loading anything."""
        return self._settings.max_query_chars

    async def searcher(self) -> FaqSearcher:
        async with self._lock:
            if self._searcher is None:
                self._searcher = await asyncio.to_thread(
                    FaqSearcher, self._settings.index_dir, self._settings
                )
                self._searcher.watch()
            return self._searcher

    async def search(
        self, query: str, top_k: int = 5, locale: str | None = None
    ) -> list[dict[str, Any]]:
        """Entries for ``query``, each with its question and answer in the query's language;
        a Chinese query gets them in the customer's Chinese ``locale`` (``zh-TW``: Traditional
        with Taiwan's words), else in the query's script. Raises
        :class:`faq_index.QueryError` for an unusable query."""
        searcher = await self.searcher()
        result = await asyncio.to_thread(searcher.search, query, top_k)
        wanted = result.language
        if wanted == "zh":
            wanted = locale if locale and base_language(locale) == "zh" else _script(query)
        found = []
        for match in result.matches:
            entry = searcher.index.entry(match.id)
            language, text = entry.localized(wanted)
            found.append(
                {
                    "id": entry.id,
                    "category": entry.category,
                    "score": round(match.score, 4),
                    "language": language,
                    "question": text.questions[0],
                    "answer": text.answer,
                }
            )
        return found

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
