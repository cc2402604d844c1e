"""A conversation with a ticket, a customer who gave an address, and agents' replies: what the
mail tests start from (rows made directly, as the console and the ingestion would leave them)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.domain.mail.consent import record_consent
from bot.store.models import (
    Conversation,
    Customer,
    Direction,
    Interaction,
    OutboxKind,
    OutboxMessage,
    Ticket,
)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class World:
    customer_id: int
    conversation_id: int
    sender_id: str
    ticket_id: int


async def a_conversation(
    sessions, *, email: str | None = "ann@example.com", language: str = "en", question="Hi?"
) -> World:
    sender_id = f"visitor-{uuid.uuid4().hex[:8]}"
    async with sessions() as session, session.begin():
        customer = Customer(name="Ann", language=language, first_seen=T0, last_seen=T0, tags=[])
        session.add(customer)
        await session.flush()
        conversation = Conversation(
            sender_id=sender_id,
            customer_id=customer.id,
            channel="socketio",
            started_at=T0,
            last_message_at=T0,
        )
        session.add(conversation)
        await session.flush()
        session.add(
            Interaction(
                event_key=uuid.uuid4().hex,
                customer_id=customer.id,
                conversation_id=conversation.id,
                channel="socketio",
                direction=Direction.CUSTOMER.value,
                text=question,
                timestamp=T0,
            )
        )
        ticket = Ticket(
            customer_id=customer.id,
            conversation_id=conversation.id,
            channel="socketio",
            reason="requested",
            question=question,
            candidates=[],
            created_at=T0,
        )
        session.add(ticket)
        await session.flush()
        if email is not None:
            await record_consent(session, customer.id, email, "chat", T0)
        return World(customer.id, conversation.id, sender_id, ticket.id)


async def an_agent_reply(
    sessions, world: World, text: str, *, agent: str = "Ann", minutes: float = 1
) -> int:
    async with sessions() as session, session.begin():
        row = OutboxMessage(
            conversation_id=world.conversation_id,
            ticket_id=world.ticket_id,
            agent_name=agent,
            kind=OutboxKind.REPLY.value,
            text=text,
            created_at=T0 + timedelta(minutes=minutes),
            attempts=0,
            next_attempt_at=T0,
        )
        session.add(row)
        await session.flush()
        return row.id
