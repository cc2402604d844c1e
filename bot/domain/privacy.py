"""Customers' data is theirs: export it, delete it, keep it no longer than the retention period.

A customer's text lives in four places: our interactions, Rasa's broker table (until it is
ingested), the events set aside as dead letters (see :mod:`bot.workers.deadletters`) and Rasa's tracker
store. Deleting a customer removes it from all four; purging removes what is older than the
retention period from all four.

>>> async with sessions() as session, session.begin():  # doctest: +SKIP
...     await delete_customer(session, customer, tracker_engine)
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Delete, MetaData, Table, delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.domain.insights import ticket_facts
from bot.domain.profiles import profile_document
from bot.store import rollup
from bot.store.models import (
    BrokerEvent,
    Conversation,
    Customer,
    DeadLetter,
    Identity,
    Interaction,
    Ticket,
)


async def export_customer(session: AsyncSession, customer: Customer) -> dict[str, Any]:
    """Everything stored about ``customer``, as JSON-ready data: the profile with every
    interaction, and the events of their conversations that were set aside as dead letters."""
    senders = select(Conversation.sender_id).where(Conversation.customer_id == customer.id)
    letters = (
        await session.scalars(
            select(DeadLetter).where(DeadLetter.sender_id.in_(senders)).order_by(DeadLetter.id)
        )
    ).all()
    return {
        "exported_at": datetime.now(UTC).isoformat(),
        "customer": await profile_document(session, customer, with_interactions=True),
        "dead_letters": [
            {
                "conversation": letter.sender_id,
                "source": letter.source,
                "data": letter.data,
                "reason": letter.reason,
                "created_at": letter.created_at.isoformat(),
            }
            for letter in letters
        ],
    }


def _tracker_events(engine: AsyncEngine) -> Table:
    # Rasa's SQL tracker store table; only the columns we filter on are declared.
    from sqlalchemy import Column, Float, Integer, String

    return Table(
        "events",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("sender_id", String(255)),
        Column("timestamp", Float),
    )


async def _delete_tracker_conversations(tracker: AsyncEngine | None, senders: list[str]) -> None:
    if tracker is None or not senders:
        return
    events = _tracker_events(tracker)
    async with tracker.begin() as connection:
        if await connection.run_sync(lambda c: c.dialect.has_table(c, "events")):
            await connection.execute(delete(events).where(events.c.sender_id.in_(senders)))


async def delete_customer(
    session: AsyncSession, customer: Customer, tracker: AsyncEngine | None
) -> list[str]:
    """Delete ``customer`` with every conversation, interaction and identity, their unread
    broker rows, their dead letters and their conversations in Rasa's tracker store; the
    conversation ids."""
    senders = list(
        (
            await session.scalars(
                select(Conversation.sender_id).where(Conversation.customer_id == customer.id)
            )
        ).all()
    )
    await _delete_tracker_conversations(tracker, senders)
    if senders:
        await session.execute(delete(BrokerEvent).where(BrokerEvent.sender_id.in_(senders)))
        await session.execute(delete(DeadLetter).where(DeadLetter.sender_id.in_(senders)))
    # Tickets take their notes with them; conversations their outbox (agents' replies).
    for model in (Interaction, Ticket, Conversation, Identity):
        await session.execute(delete(model).where(model.customer_id == customer.id))
    await session.execute(delete(Customer).where(Customer.id == customer.id))
    session.expunge(customer)
    return senders


async def _delete(session: AsyncSession, statement: Delete) -> int:
    """Run a DELETE; how many rows it removed."""
    result = cast(CursorResult[Any], await session.execute(statement))
    return result.rowcount


async def _staying_with_old_messages(
    session: AsyncSession, cutoff: datetime
) -> dict[int, list[datetime]]:
    """The conversations that stay but lose messages older than ``cutoff``: when those were
    written (the insights roll-up's days to count again)."""
    found: dict[int, list[datetime]] = defaultdict(list)
    old = (
        select(Interaction.conversation_id, Interaction.timestamp)
        .join(Conversation, Conversation.id == Interaction.conversation_id)
        .where(Interaction.timestamp < cutoff, Conversation.last_message_at >= cutoff)
    )
    for conversation_id, instant in await session.execute(old):
        found[conversation_id].append(instant)
    return found


async def purge(
    session: AsyncSession, tracker: AsyncEngine | None, days: int, now: datetime | None = None
) -> dict[str, int]:
    """Remove conversations whose last message is older than ``days``, their interactions and
    tracker events, dead letters set aside before then, and customers left with nothing;
    counts of what went."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    senders = list(
        (
            await session.scalars(
                select(Conversation.sender_id).where(Conversation.last_message_at < cutoff)
            )
        ).all()
    )
    await _delete_tracker_conversations(tracker, senders)
    if tracker is not None:
        events = _tracker_events(tracker)
        async with tracker.begin() as connection:
            if await connection.run_sync(lambda c: c.dialect.has_table(c, "events")):
                await connection.execute(
                    delete(events).where(events.c.timestamp < cutoff.timestamp())
                )
    staying = await _staying_with_old_messages(session, cutoff)
    interactions = await _delete(session, delete(Interaction).where(Interaction.timestamp < cutoff))
    for conversation_id, instants in staying.items():  # their old days count what is left
        await rollup.refresh(session, conversation_id, instants)
        await ticket_facts.refresh_conversation(session, conversation_id, since=min(instants))
    dead_letters = await _delete(session, delete(DeadLetter).where(DeadLetter.created_at < cutoff))
    conversations = await _delete(
        session, delete(Conversation).where(Conversation.last_message_at < cutoff)
    )
    has_conversations = (
        select(Conversation.id).where(Conversation.customer_id == Customer.id).exists()
    )
    gone = (
        await session.scalars(
            select(Customer.id).where(~has_conversations, Customer.last_seen < cutoff)
        )
    ).all()
    if gone:
        await session.execute(delete(Identity).where(Identity.customer_id.in_(gone)))
        await session.execute(delete(Customer).where(Customer.id.in_(gone)))
    return {
        "conversations": conversations,
        "interactions": interactions,
        "customers": len(gone),
        "dead_letters": dead_letters,
    }
