"""Saved replies (canned responses): texts agents insert by typing ``/`` and a short code.

Each code may have one text per reply locale (``vocabulary.LOCALES``); the console offers the
customer's language first. Any agent reads them; admins write them (the console checks that).
What is stored is checked first (:func:`check_draft`), so bad input changes nothing.

>>> check_draft("refund-time", "en", "  Refunds take 1-7 days.  ")
Draft(code='refund-time', language='en', text='Refunds take 1-7 days.')
>>> check_draft("Refund!", "en", "x")
Traceback (most recent call last):
...
bot.domain.saved_replies.InvalidSavedReply: code is 1-32 characters: a-z, 0-9, _ and -
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import SavedReply
from vocabulary import LOCALES

MAX_CODE_CHARS = 32
MAX_TEXT_CHARS = 4000
CODE = re.compile(rf"[a-z0-9_-]{{1,{MAX_CODE_CHARS}}}")


class SavedReplyError(Exception):
    """A saved reply that cannot be stored; the message is safe to show."""


class InvalidSavedReply(SavedReplyError, ValueError):
    """A code, language or text outside what is allowed."""


class DuplicateSavedReply(SavedReplyError):
    """Another saved reply already has this code in this language."""


class SavedReplyNotFound(SavedReplyError, LookupError):
    """No saved reply has the id asked for."""


@dataclass(frozen=True)
class Draft:
    """A checked saved reply, ready to store."""

    code: str
    language: str
    text: str


def check_language(language: object) -> str:
    if not isinstance(language, str) or language not in LOCALES:
        raise InvalidSavedReply(f"language is one of {', '.join(LOCALES)}")
    return language


def check_draft(code: object, language: object, text: object) -> Draft:
    """A :class:`Draft` of these fields (the text without surrounding white space), or
    :class:`InvalidSavedReply` saying what is wrong."""
    if not isinstance(code, str) or not CODE.fullmatch(code):
        raise InvalidSavedReply(f"code is 1-{MAX_CODE_CHARS} characters: a-z, 0-9, _ and -")
    checked_language = check_language(language)
    cleaned = text.strip() if isinstance(text, str) else ""
    if not cleaned or len(cleaned) > MAX_TEXT_CHARS:
        raise InvalidSavedReply(f"text is 1-{MAX_TEXT_CHARS} characters")
    return Draft(code, checked_language, cleaned)


def as_json(reply: SavedReply) -> dict[str, Any]:
    """One saved reply as the API sends it."""
    return {
        "id": reply.id,
        "code": reply.code,
        "language": reply.language,
        "text": reply.text,
        "updated_at": reply.updated_at.isoformat(),
        "updated_by": reply.updated_by,
    }


async def list_saved_replies(
    session: AsyncSession, language: str | None = None
) -> list[SavedReply]:
    """All saved replies by code then language, or those of one ``language``."""
    query = select(SavedReply).order_by(SavedReply.code, SavedReply.language)
    if language is not None:
        query = query.where(SavedReply.language == check_language(language))
    return list(await session.scalars(query))


async def _refuse_duplicate(session: AsyncSession, draft: Draft, reply_id: int | None) -> None:
    other = await session.scalar(
        select(SavedReply.id).where(
            SavedReply.code == draft.code, SavedReply.language == draft.language
        )
    )
    if other is not None and other != reply_id:
        raise DuplicateSavedReply(f"/{draft.code} already has a text in {draft.language}")


async def create_saved_reply(session: AsyncSession, draft: Draft, agent_id: int) -> SavedReply:
    """Store a new saved reply; :class:`DuplicateSavedReply` if its code and language are
    taken. The caller owns the transaction (two admins racing: the unique constraint refuses
    the second at the commit)."""
    await _refuse_duplicate(session, draft, None)
    reply = SavedReply(
        code=draft.code,
        language=draft.language,
        text=draft.text,
        updated_at=datetime.now(UTC),
        updated_by=agent_id,
    )
    session.add(reply)
    await session.flush()
    return reply


async def _get(session: AsyncSession, reply_id: int) -> SavedReply:
    reply = await session.get(SavedReply, reply_id, with_for_update=True)
    if reply is None:
        raise SavedReplyNotFound(f"no saved reply {reply_id}")
    return reply


async def update_saved_reply(
    session: AsyncSession, reply_id: int, draft: Draft, agent_id: int
) -> SavedReply:
    """Replace saved reply ``reply_id``'s code, language and text."""
    reply = await _get(session, reply_id)
    await _refuse_duplicate(session, draft, reply_id)
    reply.code, reply.language, reply.text = draft.code, draft.language, draft.text
    reply.updated_at = datetime.now(UTC)
    reply.updated_by = agent_id
    await session.flush()
    return reply


async def delete_saved_reply(session: AsyncSession, reply_id: int) -> None:
    await session.delete(await _get(session, reply_id))
    await session.flush()
