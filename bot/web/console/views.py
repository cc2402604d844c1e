"""What the console shows, as JSON-ready data: the queue, a ticket with its conversation.

The queue comes in pages, each ending with a cursor for the next: a position in the page's
order, not a row count, so that tickets that arrive meanwhile neither repeat a row nor hide one
on the next page. Two orders (``order``): ``newest`` first (then the higher id first; a
:class:`Cursor`), and ``attention``, what needs an agent first (:mod:`bot.web.console.attention`;
an :class:`AttentionCursor`), for unresolved tickets only (other filters fall back to newest).
Every ticket of a page carries its wait (``waiting_since``, ``waiting_seconds``, ``wait_level``
against the first-response target) and whether it is ``unread`` for the agent who asks.
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
from bot.web.console.attention import Attention, TicketState, attention_key, states, wait_level
from bot.web.console.mails import received_mails, ticket_mails
from bot.web.inputs import BadInput, int_parameter, text_parameter

STATUSES = ("open", "assigned", "resolved")
ACTIVE = ("open", "assigned")
ORDERS = ("newest", "attention")
ATTENTION_FILTERS = ("active", *ACTIVE)  # the statuses the attention order serves
DEFAULT_TARGET_SECONDS = 300.0
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


_ATTENTION_CURSOR = re.compile(r"a([0-2])\.(-?[0-9]{1,18})\.([0-9]{1,10})")


@dataclass(frozen=True)
class AttentionCursor:
    """The last row of a page in the attention order: its sort key
    (:func:`~bot.web.console.attention.attention_key`).

    >>> AttentionCursor.decode(AttentionCursor((0, 1764590000000000, 42)).encode()).key
    (0, 1764590000000000, 42)
    """

    key: tuple[int, int, int]

    def encode(self) -> str:
        return f"a{self.key[0]}.{self.key[1]}.{self.key[2]}"

    @classmethod
    def decode(cls, text: str) -> AttentionCursor:
        """The cursor :meth:`encode` made; :class:`BadInput` for anything else."""
        found = _ATTENTION_CURSOR.fullmatch(text)
        if found is None or not 1 <= int(found[3]) <= 2**31 - 1:
            raise BadInput("cursor is not one this service gave out")
        return cls((int(found[1]), int(found[2]), int(found[3])))


@dataclass(frozen=True)
class TicketFilters:
    status: str | None = None  # one of STATUSES, "active" (open or assigned), None: all
    channel: str | None = None
    reason: str | None = None
    max_age_minutes: int | None = None
    assigned_to: int | None = None  # an agent's id: their tickets only


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
        "conversation_id": conversation.id,
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


def query_filters(
    query: Mapping[str, str], default_status: str | None = None, agent_id: int | None = None
) -> TicketFilters:
    """The queue's filters from a query string; :class:`BadInput` for values it cannot have.
    ``mine=1`` keeps the tickets assigned to ``agent_id``, the agent who asks."""
    status = query.get("status", default_status) or None
    if status not in (None, "active", *STATUSES):
        raise BadInput(f"status is one of active, {', '.join(STATUSES)}")
    mine = query.get("mine", "")
    if mine not in ("", "0", "1"):
        raise BadInput("mine is 1 (only mine) or 0")
    return TicketFilters(
        status=status,
        channel=text_parameter(query, "channel"),
        reason=text_parameter(query, "reason"),
        max_age_minutes=int_parameter(query, "age", 1, MAX_AGE_MINUTES),
        assigned_to=agent_id if mine == "1" else None,
    )


def page_request(query: Mapping[str, str]) -> tuple[int, Cursor | None]:
    """The page size (``limit``) and the position (``cursor``) asked for."""
    limit = int_parameter(query, "limit", 1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE)
    cursor = query.get("cursor", "")
    return limit, Cursor.decode(cursor) if cursor else None


def queue_request(
    query: Mapping[str, str], default_order: str
) -> tuple[str, int, Cursor | AttentionCursor | None]:
    """The order (``order``, else ``default_order``), page size and position of a queue page.

    >>> queue_request({"order": "attention", "cursor": "a0.5.7"}, "newest")
    ('attention', 50, AttentionCursor(key=(0, 5, 7)))
    """
    order = query.get("order") or default_order
    if order not in ORDERS:
        raise BadInput(f"order is one of {', '.join(ORDERS)}")
    limit = int_parameter(query, "limit", 1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE) or DEFAULT_PAGE_SIZE
    cursor = query.get("cursor", "")
    if not cursor:
        return order, limit, None
    if cursor.startswith("a"):
        return order, limit, AttentionCursor.decode(cursor)
    return order, limit, Cursor.decode(cursor)


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
    if filters.assigned_to is not None:
        query = query.where(Ticket.assigned_agent_id == filters.assigned_to)
    return query


async def ticket_list(
    session: AsyncSession,
    status: str | None = None,
    channel: str | None = None,
    reason: str | None = None,
    max_age_minutes: int | None = None,
    limit: int | None = MAX_PAGE_SIZE,
    after: Cursor | None = None,
    assigned_to: int | None = None,
) -> list[dict[str, Any]]:
    """Up to ``limit`` tickets (None: all), filtered, newest first (the higher id first among
    equal times), starting after ``after``."""
    query = (
        select(Ticket, Conversation, Customer, Agent.display_name)
        .join(Conversation, Ticket.conversation_id == Conversation.id)
        .join(Customer, Ticket.customer_id == Customer.id)
        .outerjoin(Agent, Ticket.assigned_agent_id == Agent.id)
    )
    query = _filtered(query, TicketFilters(status, channel, reason, max_age_minutes, assigned_to))
    if after is not None:
        query = query.where(
            or_(
                Ticket.created_at < after.created_at,
                and_(Ticket.created_at == after.created_at, Ticket.id < after.row_id),
            )
        )
    query = query.order_by(Ticket.created_at.desc(), Ticket.id.desc())
    if limit is not None:
        query = query.limit(limit)
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
    after: Cursor | AttentionCursor | None = None,
    *,
    order: str = "newest",
    agent_id: int | None = None,
    target: float = DEFAULT_TARGET_SECONDS,
) -> TicketPage:
    """One page of the queue in ``order``, the cursor of the next (``None`` on the last) and
    the totals; waits are measured against ``target`` seconds, unread marks are
    ``agent_id``'s."""
    if order == "attention" and filters.status in ATTENTION_FILTERS:
        tickets, next_cursor = await _attention_page(session, filters, limit, after, agent_id)
    else:
        tickets, next_cursor = await _newest_page(session, filters, limit, after)
        await _annotate(session, tickets, agent_id)
    now = datetime.now(UTC)
    for ticket in tickets:
        _show_wait(ticket, now, target)
    totals = await ticket_totals(session, filters)
    if filters.status == "active":
        total = sum(totals[status] for status in ACTIVE)
    else:
        total = totals[filters.status] if filters.status else sum(totals.values())
    return TicketPage(tickets, next_cursor, totals, total)


async def _newest_page(
    session: AsyncSession,
    filters: TicketFilters,
    limit: int,
    after: Cursor | AttentionCursor | None,
) -> tuple[list[dict[str, Any]], str | None]:
    if isinstance(after, AttentionCursor):
        raise BadInput("cursor is one of another order")
    rows = await ticket_list(
        session,
        filters.status,
        filters.channel,
        filters.reason,
        filters.max_age_minutes,
        limit=limit + 1,
        after=after,
        assigned_to=filters.assigned_to,
    )
    tickets = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = tickets[-1]
        next_cursor = Cursor(datetime.fromisoformat(last["created_at"]), last["id"]).encode()
    return tickets, next_cursor


def _state(ticket: dict[str, Any]) -> TicketState:
    return TicketState(
        ticket["id"],
        ticket["conversation_id"],
        ticket["status"],
        datetime.fromisoformat(ticket["created_at"]),
    )


async def _annotate(
    session: AsyncSession, tickets: list[dict[str, Any]], agent_id: int | None
) -> dict[int, Attention]:
    attentions = await states(session, map(_state, tickets), agent_id)
    for ticket in tickets:
        ticket["_attention"] = attentions[ticket["id"]]
    return attentions


async def _attention_page(
    session: AsyncSession,
    filters: TicketFilters,
    limit: int,
    after: Cursor | AttentionCursor | None,
    agent_id: int | None,
) -> tuple[list[dict[str, Any]], str | None]:
    if isinstance(after, Cursor):
        raise BadInput("cursor is one of another order")
    rows = await ticket_list(
        session,
        filters.status,
        filters.channel,
        filters.reason,
        filters.max_age_minutes,
        limit=None,
        assigned_to=filters.assigned_to,
    )
    attentions = await _annotate(session, rows, agent_id)
    keyed = sorted(
        ((attention_key(r["id"], attentions[r["id"]]), r) for r in rows), key=lambda kr: kr[0]
    )
    if after is not None:
        keyed = [(key, row) for key, row in keyed if key > after.key]
    page = keyed[:limit]
    next_cursor = AttentionCursor(page[-1][0]).encode() if len(keyed) > limit else None
    return [row for _, row in page], next_cursor


def _show_wait(ticket: dict[str, Any], now: datetime, target: float) -> None:
    attention: Attention = ticket.pop("_attention")
    waiting = attention.rank == 0
    seconds = max(0.0, (now - attention.since).total_seconds()) if waiting else None
    ticket["waits_for"] = "us" if waiting else ("customer" if attention.rank == 1 else "")
    ticket["waiting_since"] = _iso(attention.since) if waiting else None
    ticket["waiting_seconds"] = round(seconds) if seconds is not None else None
    ticket["wait_level"] = wait_level(seconds, target)
    ticket["last_customer_at"] = _iso(attention.last_customer_at)
    ticket["unread"] = attention.unread


async def active_agents(session: AsyncSession) -> list[dict[str, Any]]:
    """The agents a ticket can be assigned to."""
    agents = (
        await session.scalars(select(Agent).where(Agent.active).order_by(Agent.display_name))
    ).all()
    return [
        {"id": a.id, "name": a.display_name, "username": a.username, "role": a.role} for a in agents
    ]


async def ticket_detail(
    session: AsyncSession,
    ticket_id: int,
    agent_id: int | None = None,
    target: float = DEFAULT_TARGET_SECONDS,
) -> dict[str, Any] | None:
    """A ticket with its conversation's transcript, notes, pending replies and the profile,
    and its wait (unread for ``agent_id``, measured against ``target`` seconds)."""
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
    await _annotate(session, [detail], agent_id)
    _show_wait(detail, datetime.now(UTC), target)
    messages = (
        await session.scalars(
            select(Interaction)
            .where(Interaction.conversation_id == conversation.id)
            .order_by(Interaction.timestamp, Interaction.id)
        )
    ).all()
    mailed = await received_mails(session, conversation.id)
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
            "channel": i.channel,
            "mail": mailed.get(i.id),  # an e-mailed answer: its sender, whether it is theirs
        }
        for i in messages
    ]
    detail["mails"] = await ticket_mails(session, conversation.id)
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
