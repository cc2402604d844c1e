"""What the console shows, as JSON-ready data: the queue, a ticket with its conversation.

The queue comes in pages, newest first (then the higher id first), each page ending with a
:class:`Cursor` for the next: a position in that order, not a row count, so that tickets that
arrive meanwhile neither repeat a row nor hide one on the next page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from bot.domain.profiles import profile_document
from bot.store.models import (
    Agent,
    Conversation,
    Customer,
    Interaction,
    OutboxKind,
    OutboxMessage,
    Ticket,
    TicketNote,
)
from bot.web.inputs import BadInput, int_parameter, text_parameter

STATUSES = ("open", "assigned", "resolved")
ACTIVE = ("open", "assigned")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# The filter "newer than N minutes" goes back ten years at most.
MAX_AGE_MINUTES = 10 * 366 * 24 * 60

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR = re.compile(r"([0-9]{1,18})-([0-9]{1,10})")


@dataclass(frozen=True)
class Cursor:
    """The last row of a page (a ticket, a dead letter): the next page starts after it in the
    list's order, newest first, then the higher id first."""

    created_at: datetime
    row_id: int

    def encode(self) -> str:
        return f"{(self.created_at - _EPOCH) // timedelta(microseconds=1)}-{self.row_id}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """The cursor :meth:`encode` made; :class:`BadInput` for anything else."""
        found = _CURSOR.fullmatch(text)
        try:
            if found is None or not 1 <= int(found[2]) <= 2**31 - 1:
                raise ValueError(text)
            return cls(_EPOCH + timedelta(microseconds=int(found[1])), int(found[2]))
        except (ValueError, OverflowError):
            raise BadInput("cursor is not one this service gave out") from None


@dataclass(frozen=True)
class TicketFilters:
    status: str | None = None  # one of STATUSES, "active" (open or assigned), None: all
    channel: str | None = None
    reason: str | None = None
    max_age_minutes: int | None = None


@dataclass
class TicketPage:
    tickets: list[dict[str, Any]]
    next_cursor: str | None
    totals: dict[str, int] = field(default_factory=dict)  # per status, other filters applied
    total: int = 0  # matching every filter


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


def query_filters(query: Mapping[str, str], default_status: str | None = None) -> TicketFilters:
    """The queue's filters from a query string; :class:`BadInput` for values it cannot have."""
    status = query.get("status", default_status) or None
    if status not in (None, "active", *STATUSES):
        raise BadInput(f"status is one of active, {', '.join(STATUSES)}")
    return TicketFilters(
        status=status,
        channel=text_parameter(query, "channel"),
        reason=text_parameter(query, "reason"),
        max_age_minutes=int_parameter(query, "age", 1, MAX_AGE_MINUTES),
    )


def page_request(query: Mapping[str, str]) -> tuple[int, Cursor | None]:
    """The page size (``limit``) and the position (``cursor``) asked for."""
    limit = int_parameter(query, "limit", 1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE)
    cursor = query.get("cursor", "")
    return limit, Cursor.decode(cursor) if cursor else None


def _filtered(query: Select, filters: TicketFilters, with_status: bool = True) -> Select:
    if with_status and filters.status == "active":
        query = query.where(Ticket.status.in_(ACTIVE))
    elif with_status and filters.status:
        query = query.where(Ticket.status == filters.status)
    if filters.channel:
        query = query.where(Ticket.channel == filters.channel)
    if filters.reason:
        query = query.where(Ticket.reason == filters.reason)
    if filters.max_age_minutes:
        since = datetime.now(UTC) - timedelta(minutes=filters.max_age_minutes)
        query = query.where(Ticket.created_at >= since)
    return query


async def ticket_list(
    session: AsyncSession,
    status: str | None = None,
    channel: str | None = None,
    reason: str | None = None,
    max_age_minutes: int | None = None,
    limit: int = MAX_PAGE_SIZE,
    after: Cursor | None = None,
) -> list[dict[str, Any]]:
    """Up to ``limit`` tickets, filtered, newest first (the higher id first among equal
    times), starting after ``after``."""
    query = (
        select(Ticket, Conversation, Customer, Agent.display_name)
        .join(Conversation, Ticket.conversation_id == Conversation.id)
        .join(Customer, Ticket.customer_id == Customer.id)
        .outerjoin(Agent, Ticket.assigned_agent_id == Agent.id)
    )
    query = _filtered(query, TicketFilters(status, channel, reason, max_age_minutes))
    if after is not None:
        query = query.where(
            or_(
                Ticket.created_at < after.created_at,
                and_(Ticket.created_at == after.created_at, Ticket.id < after.row_id),
            )
        )
    query = query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)
    return [_summary(*row) for row in (await session.execute(query)).all()]


async def ticket_totals(session: AsyncSession, filters: TicketFilters) -> dict[str, int]:
    """How many tickets of each status match ``filters`` (all but its status)."""
    query = _filtered(
        select(Ticket.status, func.count()).group_by(Ticket.status), filters, with_status=False
    )
    counted = dict((await session.execute(query)).all())
    return {status: counted.get(status, 0) for status in STATUSES}


async def ticket_page(
    session: AsyncSession,
    filters: TicketFilters,
    limit: int = DEFAULT_PAGE_SIZE,
    after: Cursor | None = None,
) -> TicketPage:
    """One page of the queue, the cursor of the next (``None`` on the last) and the totals."""
    rows = await ticket_list(
        session,
        filters.status,
        filters.channel,
        filters.reason,
        filters.max_age_minutes,
        limit=limit + 1,
        after=after,
    )
    tickets = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = tickets[-1]
        next_cursor = Cursor(datetime.fromisoformat(last["created_at"]), last["id"]).encode()
    totals = await ticket_totals(session, filters)
    if filters.status == "active":
        total = sum(totals[status] for status in ACTIVE)
    else:
        total = totals[filters.status] if filters.status else sum(totals.values())
    return TicketPage(tickets, next_cursor, totals, total)


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
            "language": i.language,  # the reply locale of the turn: en, zh, zh-TW, zh-HK
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
