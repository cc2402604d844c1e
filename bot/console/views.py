"""What the console shows, as JSON-ready data: the queue, a ticket with its conversation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import (
    Agent,
    Conversation,
    Customer,
    Interaction,
    OutboxKind,
    OutboxMessage,
    Ticket,
    TicketNote,
)
from bot.profiles import profile_document

STATUSES = ("open", "assigned", "resolved")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _summary(ticket: Ticket, conversation: Conversation, customer: Customer, agent: str | None):
    return {
        "id": ticket.id,
        "status": ticket.status,
        "reason": ticket.reason,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "question": ticket.question,
        "candidates": ticket.candidates or [],
        "conversation": conversation.sender_id,
        "customer": {"id": customer.id, "name": customer.name, "language": customer.language},
        "assigned_to": agent,
        "assigned_agent_id": ticket.assigned_agent_id,
        "created_at": _iso(ticket.created_at),
        "first_reply_at": _iso(ticket.first_reply_at),
        "resolved_at": _iso(ticket.resolved_at),
        "resolution_note": ticket.resolution_note,
        "satisfaction": ticket.satisfaction,
        "reopened": ticket.reopened,
    }


async def ticket_list(
    session: AsyncSession,
    status: str | None = None,
    channel: str | None = None,
    reason: str | None = None,
    max_age_minutes: int | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Tickets, newest first, filtered; high-priority open ones first among equals."""
    query = (
        select(Ticket, Conversation, Customer, Agent.display_name)
        .join(Conversation, Ticket.conversation_id == Conversation.id)
        .join(Customer, Ticket.customer_id == Customer.id)
        .outerjoin(Agent, Ticket.assigned_agent_id == Agent.id)
    )
    if status == "active":
        query = query.where(Ticket.status.in_(("open", "assigned")))
    elif status:
        query = query.where(Ticket.status == status)
    if channel:
        query = query.where(Ticket.channel == channel)
    if reason:
        query = query.where(Ticket.reason == reason)
    if max_age_minutes:
        query = query.where(
            Ticket.created_at >= datetime.now(UTC) - timedelta(minutes=max_age_minutes)
        )
    query = query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)
    return [_summary(*row) for row in (await session.execute(query)).all()]


async def active_agents(session: AsyncSession) -> list[dict[str, Any]]:
    """The agents a ticket can be assigned to."""
    agents = (
        await session.scalars(select(Agent).where(Agent.active).order_by(Agent.display_name))
    ).all()
    return [
        {"id": a.id, "name": a.display_name, "username": a.username, "role": a.role} for a in agents
    ]


async def ticket_detail(session: AsyncSession, ticket_id: int) -> dict[str, Any] | None:
    """A ticket with its conversation's transcript, notes, pending replies and the profile."""
    row = (
        await session.execute(
            select(Ticket, Conversation, Customer, Agent.display_name)
            .join(Conversation, Ticket.conversation_id == Conversation.id)
            .join(Customer, Ticket.customer_id == Customer.id)
            .outerjoin(Agent, Ticket.assigned_agent_id == Agent.id)
            .where(Ticket.id == ticket_id)
        )
    ).first()
    if row is None:
        return None
    ticket, conversation, customer, _ = row
    detail = _summary(*row)
    messages = (
        await session.scalars(
            select(Interaction)
            .where(Interaction.conversation_id == conversation.id)
            .order_by(Interaction.timestamp, Interaction.id)
        )
    ).all()
    detail["transcript"] = [
        {
            "id": i.id,
            "direction": i.direction,
            "text": i.text,
            "intent": i.intent,
            "faq_id": i.faq_id,
            "faq_decision": i.faq_decision,
            "timestamp": _iso(i.timestamp),
        }
        for i in messages
    ]
    notes = (
        await session.execute(
            select(TicketNote, Agent.display_name)
            .outerjoin(Agent, TicketNote.agent_id == Agent.id)
            .where(TicketNote.ticket_id == ticket.id)
            .order_by(TicketNote.id)
        )
    ).all()
    detail["notes"] = [
        {"text": note.text, "agent": name, "created_at": _iso(note.created_at)}
        for note, name in notes
    ]
    outbox = (
        await session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.ticket_id == ticket.id,
                OutboxMessage.kind == OutboxKind.REPLY.value,
            )
            .order_by(OutboxMessage.id)
        )
    ).all()
    detail["replies"] = [
        {
            "id": m.id,
            "text": m.text,
            "agent": m.agent_name,
            "created_at": _iso(m.created_at),
            "delivered_at": _iso(m.delivered_at),
            "failed_at": _iso(m.failed_at),  # the channel refused it: it will not arrive
            "attempts": m.attempts,
            "last_error": m.last_error if not m.delivered_at else None,
        }
        for m in outbox
    ]
    detail["profile"] = await profile_document(session, customer, with_interactions=False)
    return detail
