"""How the bot learns: agents' answers become FAQ entries, and the index is rebuilt with them.

The FAQ's source files (``FAQ_SOURCES``) stay as the operator wrote them; what agents add lives
in ``faq_additions`` and is merged in at every build: a new entry, or one more question for an
existing entry. The web service builds and publishes the merged index; the action server's
searcher switches to the new version by itself (``FAQ_RELOAD_INTERVAL``).

>>> async with sessions() as session, session.begin():  # doctest: +SKIP
...     await add_to_faq(session, sources, Addition("variant", "order_track", "en", "parcel?"))
>>> await rebuild_index(sessions, settings)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.models import FaqAddition
from faq_index import (
    BuildResult,
    FaqEntry,
    LocalizedFaq,
    SearchSettings,
    SourceError,
    build_index,
    load_sources,
)
from faq_index.chinese import is_traditional
from faq_index.sources import HANT

KINDS = ("entry", "variant")
LANGUAGES = ("zh", "en")
SOURCE = "console"


class KnowledgeError(ValueError):
    """An addition that cannot be made; the message says why, for the agent."""


@dataclass(frozen=True)
class Addition:
    kind: str  # "entry": a new entry; "variant": one more question for an existing entry
    entry_id: str
    language: str
    question: str
    answer: str | None = None
    category: str | None = None


def _apply(entries: dict[str, FaqEntry], addition: FaqAddition | Addition) -> None:
    question = addition.question.strip()
    if addition.kind == "entry":
        if addition.entry_id in entries:
            raise KnowledgeError(f"an entry {addition.entry_id!r} exists already")
        # An agent's answer to a Taiwanese or Hong Kong customer is the entry's own Traditional
        # text (Simplified customers get it converted); a question added to an entry is
        # searched in Simplified whatever its script (FaqEntry.search_texts).
        key = addition.language
        if key == "zh" and is_traditional(f"{question} {addition.answer or ''}"):
            key = HANT
        try:
            entries[addition.entry_id] = FaqEntry.from_dict(
                {
                    "id": addition.entry_id,
                    "category": addition.category or "from agents",
                    key: {"questions": [question], "answer": addition.answer},
                },
                SOURCE,
            )
        except SourceError as exc:
            raise KnowledgeError(exc.reason) from None
        return
    entry = entries.get(addition.entry_id)
    if entry is None:
        raise KnowledgeError(f"no entry {addition.entry_id!r} to add the question to")
    text = entry.texts.get(addition.language)
    if text is None and addition.language == "zh" and entry.hant is not None:  # Traditional only
        if question not in entry.hant.questions:
            hant = LocalizedFaq((*entry.hant.questions, question), entry.hant.answer)
            entries[addition.entry_id] = dataclasses.replace(entry, hant=hant)
        return
    if text is None:
        raise KnowledgeError(
            f"entry {addition.entry_id!r} has no {addition.language} text to attach it to"
        )
    if question not in text.questions:
        texts = dict(entry.texts)
        texts[addition.language] = LocalizedFaq((*text.questions, question), text.answer)
        entries[addition.entry_id] = dataclasses.replace(entry, texts=texts)


def validate(addition: Addition) -> None:
    if addition.kind not in KINDS:
        raise KnowledgeError("kind is 'entry' (a new entry) or 'variant' (a new question)")
    if addition.language not in LANGUAGES:
        raise KnowledgeError("language is zh or en")
    if not addition.question.strip():
        raise KnowledgeError("the question is empty")
    if addition.kind == "entry" and not (addition.answer or "").strip():
        raise KnowledgeError("a new entry needs an answer")


async def merged_entries(session: AsyncSession, sources: Sequence[str | Path]) -> list[FaqEntry]:
    """The source files' entries with every stored addition applied, in order.

    The files are read and parsed in a thread (YAML of a large FAQ takes a while), so that the
    web service keeps answering meanwhile.

    Raises:
        SourceError: a source file cannot be read or holds a mistake.
    """
    entries = {entry.id: entry for entry in await asyncio.to_thread(load_sources, sources)}
    for addition in (await session.scalars(select(FaqAddition).order_by(FaqAddition.id))).all():
        try:
            _apply(entries, addition)
        except KnowledgeError:  # the source files changed under it (an id now taken, say)
            continue
    return list(entries.values())


async def add_to_faq(
    session: AsyncSession,
    sources: Sequence[str | Path],
    addition: Addition,
    agent_id: int | None = None,
    ticket_id: int | None = None,
) -> FaqAddition:
    """Store ``addition`` if it applies to the FAQ as it is now; :class:`KnowledgeError` if not."""
    validate(addition)
    entries = {entry.id: entry for entry in await merged_entries(session, sources)}
    _apply(entries, addition)
    row = FaqAddition(
        entry_id=addition.entry_id,
        kind=addition.kind,
        language=addition.language,
        question=addition.question.strip(),
        answer=(addition.answer or "").strip() or None,
        category=addition.category,
        ticket_id=ticket_id,
        agent_id=agent_id,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    await session.flush()
    return row


_build_lock = asyncio.Lock()


async def rebuild_index(
    sessions: async_sessionmaker[AsyncSession],
    sources: Sequence[str | Path],
    settings: SearchSettings | None = None,
) -> BuildResult:
    """Build the merged FAQ and publish it (nothing is embedded again when it is unchanged)."""
    settings = settings or SearchSettings()
    async with _build_lock:
        async with sessions() as session:
            entries = await merged_entries(session, sources)
        return await asyncio.to_thread(
            build_index,
            entries,
            settings.index_dir,
            settings.embedding_model,
            ann_threshold=settings.ann_threshold,
            onnx_cache_dir=settings.onnx_cache_dir or None,
        )
