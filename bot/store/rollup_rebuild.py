"""Rebuilding the insights roll-up (:mod:`bot.store.rollup`) from the stored rows.

Migration 0012 fills the roll-up with :func:`rebuild`, and ``python -m bot insights rebuild``
uses :func:`rebuild_async` (after a change of ``BUSINESS_TIMEZONE``, for example). It recounts
every conversation's days the way the writers' refresh does (:func:`bot.store.rollup.summarise`).
It locks the state row for writing, so writers wait until it commits.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import (
    ConversationDay,
    CustomerDay,
    EntryDay,
    InsightsRollup,
    Interaction,
    Ticket,
)
from bot.store.rollup import CUSTOMER, MESSAGE_COLUMNS, STATE_ID, DaySummary, rows, summarise

# Rows written per INSERT.
CHUNK = 5000
# Conversations (by id) read at a time.
PAGE = 2000


@dataclass
class Rebuilt:
    """What a rebuild wrote."""

    timezone: str
    conversation_days: int = 0
    customer_days: int = 0
    entry_days: int = 0
    ticket_facts: int = 0  # counted by bot.domain.insights.ticket_facts, when it rebuilds


class _Writer:
    """Buffers rows and inserts them :data:`CHUNK` at a time."""

    def __init__(self, connection: Connection, rebuilt: Rebuilt) -> None:
        self.connection = connection
        self.rebuilt = rebuilt
        self.buffers: dict[Any, list[dict[str, Any]]] = {
            ConversationDay: [],
            CustomerDay: [],
            EntryDay: [],
        }

    def add(self, conversation_id: int, days: dict[date, DaySummary]) -> None:
        for day, found in sorted(days.items()):
            for table, found_rows in zip(
                self.buffers, rows(conversation_id, day, found), strict=True
            ):
                self.buffers[table].extend(found_rows)
        if any(len(buffer) >= CHUNK for buffer in self.buffers.values()):
            self.flush()

    def flush(self) -> None:
        for table, buffer in self.buffers.items():
            if buffer:
                self.connection.execute(insert(table), buffer)
                name = table.__tablename__.removeprefix("insights_")
                setattr(self.rebuilt, name, getattr(self.rebuilt, name) + len(buffer))
                buffer.clear()


def rebuild(connection: Connection, zone: ZoneInfo, now: datetime | None = None) -> Rebuilt:
    """Recompute the whole roll-up from the raw rows, its days in ``zone`` (blocking: for
    migrations and ``run_sync``; :func:`rebuild_async` from async code).

    Args:
        connection: a connection in a transaction (the caller commits).
        zone: the time zone of the days (``BUSINESS_TIMEZONE``).
        now: when it was built (default: now).

    Returns:
        How many rows of each table it wrote.
    """
    state = {"timezone": zone.key, "built_at": now or datetime.now(UTC)}
    locked = connection.execute(
        select(InsightsRollup.id).where(InsightsRollup.id == STATE_ID).with_for_update()
    ).first()
    if locked is None:
        connection.execute(insert(InsightsRollup).values(id=STATE_ID, **state))
    else:
        connection.execute(update(InsightsRollup).values(state))
    for table in (CustomerDay, EntryDay, ConversationDay):
        connection.execute(delete(table))
    tickets: dict[int, list[tuple[int, datetime]]] = defaultdict(list)
    for ticket_id, conversation_id, opened in connection.execute(
        select(Ticket.id, Ticket.conversation_id, Ticket.created_at)
    ):
        tickets[conversation_id].append((ticket_id, opened))
    rebuilt = Rebuilt(zone.key)
    writer = _Writer(connection, rebuilt)
    last = connection.scalar(select(func.max(Interaction.conversation_id))) or 0
    for first in range(0, last + 1, PAGE):  # a page of conversations at a time
        messages = connection.execute(
            select(Interaction.conversation_id, *MESSAGE_COLUMNS)
            .where(
                Interaction.direction == CUSTOMER,
                Interaction.conversation_id >= first,
                Interaction.conversation_id < first + PAGE,
            )
            .order_by(Interaction.conversation_id, Interaction.id)
        ).all()
        for conversation_id, group in groupby(messages, key=lambda row: row.conversation_id):
            mine = list(group)
            writer.add(conversation_id, summarise(mine, tickets.pop(conversation_id, []), zone))
    for conversation_id, alone in sorted(tickets.items()):  # tickets without messages
        writer.add(conversation_id, summarise([], alone, zone))
    writer.flush()
    return rebuilt


async def rebuild_async(session: AsyncSession, zone: ZoneInfo) -> Rebuilt:
    """:func:`rebuild` on ``session``'s connection, in its transaction."""
    return await session.run_sync(lambda sync: rebuild(sync.connection(), zone))
