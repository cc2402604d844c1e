"""Tickets: what the bot hands to people, and what people do with them.

The action server opens tickets (:func:`open_ticket`); the console claims, answers and resolves
them. An agent's reply goes to the outbox (:class:`bot.store.models.OutboxMessage`), from which
:mod:`bot.workers.delivery` brings it into the customer's own channel.

>>> async with sessions() as session, session.begin():  # doctest: +SKIP
...     ticket, opened = await open_ticket(session, "web-1", EscalationReason.REQUESTED, ...)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.assignment import AssignmentRules, assign_new_ticket
from bot.domain.customers import resolve_conversation
from bot.domain.insights import ticket_facts
from bot.store import rollup
from bot.store.models import (
    Agent,
    Conversation,
    OutboxKind,
    OutboxMessage,
    Ticket,
    TicketNote,
    TicketStatus,
)
from vocabulary import EscalationReason, MetadataKey

ACTIVE = (TicketStatus.OPEN.value, TicketStatus.ASSIGNED.value)
MAX_REPLY_CHARS = 4000
MAX_NOTE_CHARS = 4000


class TicketError(Exception):
    """A ticket operation that cannot be done (the message says why, for the agent)."""


class TicketNotFound(TicketError, LookupError):
    """No ticket has the id asked for."""


def now() -> datetime:
    return datetime.now(UTC)


async def active_ticket(session: AsyncSession, sender_id: str) -> Ticket | None:
    """The open or assigned ticket of conversation ``sender_id``, if any."""
    return await session.scalar(
        select(Ticket)
        .join(Conversation, Ticket.conversation_id == Conversation.id)
        .where(Conversation.sender_id == sender_id, Ticket.status.in_(ACTIVE))
        .order_by(Ticket.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class TicketLimits:
    """How many tickets may be opened per hour from one conversation and from one client
    address (the ``origin`` digest the socket.io channel puts into the metadata)."""

    per_conversation: int
    per_origin: int


class TooManyTickets(TicketError):
    """New tickets from this conversation or address are refused for a while."""


async def _opened_within_hour(session: AsyncSession, *where: ColumnElement[bool]) -> int:
    since = now() - timedelta(hours=1)
    count = await session.scalar(
        select(func.count()).select_from(Ticket).where(Ticket.created_at >= since, *where)
    )
    return count or 0


async def check_limits(
    session: AsyncSession, sender_id: str, origin: str | None, limits: TicketLimits
) -> None:
    """Raise :class:`TooManyTickets` when one more ticket would pass a limit."""
    mine = Ticket.conversation_id.in_(
        select(Conversation.id).where(Conversation.sender_id == sender_id)
    )
    if await _opened_within_hour(session, mine) >= limits.per_conversation:
        raise TooManyTickets("too many tickets from this conversation in the last hour")
    if origin and await _opened_within_hour(session, Ticket.origin == origin) >= limits.per_origin:
        raise TooManyTickets("too many tickets from this address in the last hour")


async def open_ticket(
    session: AsyncSession,
    sender_id: str,
    reason: EscalationReason,
    question: str | None,
    candidates: Sequence[Mapping[str, Any]] | None,
    channel: str | None,
    metadata: Mapping[str, Any] | None,
    identity_secret: str,
    limits: TicketLimits | None = None,
    assignment: AssignmentRules | None = None,
) -> tuple[Ticket, bool]:
    """The conversation's active ticket, or a new one; (ticket, whether it was opened now).

    With ``assignment``, a new ticket goes to an online agent at once when one is available
    (:mod:`bot.domain.assignment`); without it, it stays open for whoever claims it.

    Raises :class:`TooManyTickets` when a new one would pass ``limits``.
    """
    existing = await active_ticket(session, sender_id)
    if existing is not None:
        return existing, False
    origin = (metadata or {}).get(MetadataKey.ORIGIN)
    origin = origin[:32] if isinstance(origin, str) else None
    if limits is not None:
        await check_limits(session, sender_id, origin, limits)
    conversation = await resolve_conversation(
        session, sender_id, metadata, channel, now(), identity_secret
    )
    ticket = Ticket(
        customer_id=conversation.customer_id,
        conversation_id=conversation.id,
        channel=conversation.channel or channel,
        reason=reason.value,
        question=question,
        candidates=[
            {"id": str(c.get("id")), "score": c.get("score")}
            for c in candidates or []
            if isinstance(c, Mapping)
        ],
        status=TicketStatus.OPEN.value,
        priority="high" if reason is EscalationReason.COMPLAINT else "normal",
        created_at=now(),
        origin=origin,
    )
    session.add(ticket)
    await session.flush()
    await rollup.refresh(session, conversation.id, [ticket.created_at])
    if assignment is not None:
        await assign_new_ticket(session, ticket, assignment)
    await ticket_facts.refresh(session, [ticket.id])
    return ticket, True


@dataclass(frozen=True)
class Actor:
    """The agent acting in the console."""

    id: int
    display_name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


async def _ticket(session: AsyncSession, ticket_id: int) -> Ticket:
    ticket = await session.get(Ticket, ticket_id, with_for_update=True)
    if ticket is None:
        raise TicketNotFound(f"no ticket {ticket_id}")
    return ticket


async def claim(session: AsyncSession, ticket_id: int, actor: Actor) -> Ticket:
    """Take an open ticket; an assigned one only if it is already yours."""
    ticket = await _ticket(session, ticket_id)
    if ticket.status == TicketStatus.RESOLVED.value:
        raise TicketError("the ticket is resolved; reopen it first")
    if ticket.assigned_agent_id not in (None, actor.id):
        raise TicketError("another agent has this ticket; an admin can reassign it")
    ticket.assigned_agent_id = actor.id
    ticket.status = TicketStatus.ASSIGNED.value
    await ticket_facts.refresh(session, [ticket.id])
    return ticket


async def assign(session: AsyncSession, ticket_id: int, agent_id: int, actor: Actor) -> Ticket:
    """Give a ticket to an agent (admins only)."""
    if not actor.is_admin:
        raise PermissionError("only an admin can assign tickets")
    agent = await session.get(Agent, agent_id)
    if agent is None or not agent.active:
        raise TicketError(f"no active agent {agent_id}")
    ticket = await _ticket(session, ticket_id)
    if ticket.status == TicketStatus.RESOLVED.value:
        raise TicketError("the ticket is resolved; reopen it first")
    ticket.assigned_agent_id = agent.id
    ticket.status = TicketStatus.ASSIGNED.value
    await ticket_facts.refresh(session, [ticket.id])
    return ticket


async def reply(session: AsyncSession, ticket_id: int, text: str, actor: Actor) -> OutboxMessage:
    """Queue an agent's reply for the customer; the agent claims the ticket by answering."""
    text = (text or "").strip()
    if not text:
        raise TicketError("the reply is empty")
    if len(text) > MAX_REPLY_CHARS:
        raise TicketError(f"the reply is longer than {MAX_REPLY_CHARS} characters")
    ticket = await _ticket(session, ticket_id)
    if ticket.status == TicketStatus.RESOLVED.value:
        raise TicketError("the ticket is resolved; reopen it to reply")
    if ticket.assigned_agent_id not in (None, actor.id) and not actor.is_admin:
        raise TicketError("another agent has this ticket")
    if ticket.assigned_agent_id is None:
        ticket.assigned_agent_id = actor.id
        ticket.status = TicketStatus.ASSIGNED.value
    ticket.first_reply_at = ticket.first_reply_at or now()
    message = OutboxMessage(
        conversation_id=ticket.conversation_id,
        ticket_id=ticket.id,
        agent_id=actor.id,
        agent_name=actor.display_name,
        text=text,
        created_at=now(),
        next_attempt_at=now(),
    )
    session.add(message)
    await ticket_facts.refresh(session, [ticket.id])
    return message


async def resolve(session: AsyncSession, ticket_id: int, note: str | None, actor: Actor) -> Ticket:
    ticket = await _ticket(session, ticket_id)
    if ticket.status == TicketStatus.RESOLVED.value:
        raise TicketError("the ticket is already resolved")
    if ticket.assigned_agent_id not in (None, actor.id) and not actor.is_admin:
        raise TicketError("another agent has this ticket")
    ticket.status = TicketStatus.RESOLVED.value
    ticket.resolved_at = now()
    ticket.assigned_agent_id = ticket.assigned_agent_id or actor.id
    ticket.resolution_note = (note or "").strip()[:MAX_NOTE_CHARS] or None
    # After the replies queued before it: the bot takes the conversation back, asks for a rating.
    session.add(
        OutboxMessage(
            conversation_id=ticket.conversation_id,
            ticket_id=ticket.id,
            agent_id=actor.id,
            kind=OutboxKind.RESUME.value,
            text="",
            created_at=now(),
            next_attempt_at=now(),
        )
    )
    await ticket_facts.refresh(session, [ticket.id])
    return ticket


async def reopen(session: AsyncSession, ticket_id: int, actor: Actor) -> Ticket:
    ticket = await _ticket(session, ticket_id)
    if ticket.status != TicketStatus.RESOLVED.value:
        raise TicketError("only a resolved ticket can be reopened")
    if await active_ticket_for_conversation(session, ticket.conversation_id):
        raise TicketError("the conversation has another open ticket")
    ticket.status = TicketStatus.ASSIGNED.value
    ticket.assigned_agent_id = actor.id
    ticket.resolved_at = None
    ticket.reopened += 1
    await ticket_facts.refresh(session, [ticket.id])
    return ticket


async def active_ticket_for_conversation(session: AsyncSession, conversation_id: int) -> bool:
    return (
        await session.scalar(
            select(Ticket.id).where(
                Ticket.conversation_id == conversation_id, Ticket.status.in_(ACTIVE)
            )
        )
        is not None
    )


async def add_note(session: AsyncSession, ticket_id: int, text: str, actor: Actor) -> TicketNote:
    text = (text or "").strip()
    if not text:
        raise TicketError("the note is empty")
    await _ticket(session, ticket_id)
    note = TicketNote(
        ticket_id=ticket_id, agent_id=actor.id, text=text[:MAX_NOTE_CHARS], created_at=now()
    )
    session.add(note)
    await session.flush()
    return note


async def rate(session: AsyncSession, sender_id: str, score: int) -> Ticket | None:
    """Record the customer's 1-5 rating on the conversation's last resolved ticket."""
    if not 1 <= score <= 5:
        raise TicketError("a rating is 1 to 5")
    ticket = await session.scalar(
        select(Ticket)
        .join(Conversation, Ticket.conversation_id == Conversation.id)
        .where(Conversation.sender_id == sender_id, Ticket.status == TicketStatus.RESOLVED.value)
        .order_by(Ticket.resolved_at.desc(), Ticket.id.desc())
        .limit(1)
    )
    if ticket is not None:
        ticket.satisfaction = score
        await ticket_facts.refresh(session, [ticket.id])
    return ticket
