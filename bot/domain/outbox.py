"""The outbox: what people queued for a customer's channel, and what of it arrived.

Agents' replies (and the "resolved, please rate" turn) wait in the ``outbox`` table until the
conversation's tracker holds them: every message the bot utters for a row carries the row's id
in its metadata (``MetadataKey.OUTBOX_ID``). Two processes ask the same two questions, and this
module is where they are answered: the web service's delivery worker
(:mod:`bot.workers.delivery`) and ``action_deliver_outbox`` in the action server.

>>> held_ids([{"event": "bot", "metadata": {"outbox_id": 7}}, {"event": "user", "text": "hi"}])
{7}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Conversation, OutboxMessage
from vocabulary import MetadataKey


def held_ids(events: Iterable[Mapping[str, Any]]) -> set[int]:
    """The outbox ids of the bot messages among a tracker's ``events``."""
    held = set()
    for event in events:
        if event.get("event") != "bot":
            continue
        outbox_id = (event.get("metadata") or {}).get(MetadataKey.OUTBOX_ID)
        if outbox_id is not None:
            held.add(outbox_id)
    return held


async def next_pending(
    session: AsyncSession, sender_id: str, held: Iterable[int] = ()
) -> OutboxMessage | None:
    """The oldest row of ``sender_id``'s conversation that is neither delivered, nor refused for
    good, nor among the ids the conversation already ``held``: the one to utter next."""
    query = (
        select(OutboxMessage)
        .join(Conversation, OutboxMessage.conversation_id == Conversation.id)
        .where(
            Conversation.sender_id == sender_id,
            OutboxMessage.delivered_at.is_(None),
            OutboxMessage.failed_at.is_(None),
        )
        .order_by(OutboxMessage.id)
        .limit(1)
    )
    held = set(held)
    if held:
        query = query.where(OutboxMessage.id.not_in(held))
    return await session.scalar(query)
