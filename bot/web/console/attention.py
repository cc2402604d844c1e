"""Which tickets need an agent first, how long their customers have waited, what is unread.

A ticket *waits for us* when nobody has replied yet, or when the customer wrote after the last
reply; it waits since it was opened, or since the customer's first message after that reply. A
ticket we answered last waits for the customer. The queue of unresolved tickets comes in this
order (:func:`attention_key`):

1. tickets waiting for us, the longest-waiting first;
2. tickets waiting for the customer, the one we answered longest ago first;
3. resolved tickets (only when the filter shows them), the newest first;

the lower id first among equals. The wait is coloured against the first-response target
(``FIRST_RESPONSE_TARGET``, :func:`wait_level`). A ticket is *unread* for an agent when its
customer wrote after the agent last opened it (:class:`~bot.store.models.TicketRead`); an
unresolved ticket the agent never opened is unread too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Direction, Interaction, OutboxKind, OutboxMessage, TicketRead

WAITING, ANSWERED, CLOSED = 0, 1, 2  # the ranks of the queue's order
RESOLVED = "resolved"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class TicketState:
    """What :func:`states` reads for one ticket."""

    ticket_id: int
    conversation_id: int
    status: str
    created_at: datetime


@dataclass(frozen=True)
class Attention:
    """A ticket's place in the queue and what the queue shows of its wait."""

    rank: int  # WAITING, ANSWERED or CLOSED
    since: datetime  # WAITING: since when; ANSWERED: the last reply; CLOSED: when opened
    last_customer_at: datetime | None
    unread: bool


def attention_key(ticket_id: int, attention: Attention) -> tuple[int, int, int]:
    """The queue's sort key (see the module's docstring).

    >>> early, late = datetime(2026, 1, 1, 9, tzinfo=UTC), datetime(2026, 1, 1, 10, tzinfo=UTC)
    >>> keys = {
    ...     1: Attention(ANSWERED, early, None, False),
    ...     2: Attention(WAITING, late, None, True),
    ...     3: Attention(WAITING, early, None, True),
    ...     4: Attention(CLOSED, early, None, False),
    ...     5: Attention(CLOSED, late, None, False),
    ... }
    >>> sorted(keys, key=lambda i: attention_key(i, keys[i]))
    [3, 2, 1, 5, 4]
    """
    moment = (attention.since - _EPOCH) // timedelta(microseconds=1)
    return (attention.rank, -moment if attention.rank == CLOSED else moment, ticket_id)


def wait_level(seconds: float | None, target: float) -> str:
    """``"ok"`` under half the target, ``"near"`` from half of it, ``"late"`` past it; ``""``
    for a ticket that waits for nobody.

    >>> [wait_level(s, 300) for s in (None, 10, 150, 301)]
    ['', 'ok', 'near', 'late']
    """
    if seconds is None:
        return ""
    if seconds > target:
        return "late"
    return "near" if seconds >= target / 2 else "ok"


async def states(
    session: AsyncSession, tickets: Iterable[TicketState], agent_id: int | None
) -> dict[int, Attention]:
    """The :class:`Attention` of each of ``tickets``, with unread marks for ``agent_id``."""
    tickets = list(tickets)
    if not tickets:
        return {}
    ids = [t.ticket_id for t in tickets]
    replies = await session.execute(
        select(OutboxMessage.ticket_id, func.max(OutboxMessage.created_at))
        .where(
            OutboxMessage.ticket_id.in_(ids),
            OutboxMessage.kind == OutboxKind.REPLY.value,
        )
        .group_by(OutboxMessage.ticket_id)
    )
    last_reply = {ticket_id: moment for ticket_id, moment in replies.all() if ticket_id}
    earliest = min(t.created_at for t in tickets)
    said: dict[int, list[datetime]] = defaultdict(list)
    for conversation_id, moment in (
        await session.execute(
            select(Interaction.conversation_id, Interaction.timestamp)
            .where(
                Interaction.conversation_id.in_({t.conversation_id for t in tickets}),
                Interaction.direction == Direction.CUSTOMER.value,
                Interaction.timestamp >= earliest,
            )
            .order_by(Interaction.timestamp)
        )
    ).all():
        said[conversation_id].append(moment)
    read: dict[int, datetime] = {}
    if agent_id is not None:
        read = dict(
            (
                await session.execute(
                    select(TicketRead.ticket_id, TicketRead.read_at).where(
                        TicketRead.agent_id == agent_id, TicketRead.ticket_id.in_(ids)
                    )
                )
            ).all()
        )
    return {
        t.ticket_id: _attention(t, last_reply.get(t.ticket_id), said[t.conversation_id], read)
        for t in tickets
    }


def _attention(
    ticket: TicketState,
    replied: datetime | None,
    said: list[datetime],
    read: dict[int, datetime],
) -> Attention:
    mine = [moment for moment in said if moment >= ticket.created_at]
    last_customer = mine[-1] if mine else None
    opened = read.get(ticket.ticket_id)
    if opened is None:
        unread = ticket.status != RESOLVED
    else:
        unread = last_customer is not None and last_customer > opened
    if ticket.status == RESOLVED:
        return Attention(CLOSED, ticket.created_at, last_customer, unread)
    if replied is None:
        return Attention(WAITING, ticket.created_at, last_customer, unread)
    after = [moment for moment in mine if moment > replied]
    if after:
        return Attention(WAITING, after[0], last_customer, unread)
    return Attention(ANSWERED, replied, last_customer, unread)


async def mark_read(session: AsyncSession, agent_id: int, ticket_id: int) -> None:
    """Records that ``agent_id`` has seen ``ticket_id`` as it is now (in ``session``'s
    transaction; two tabs marking at once keep one of the two times)."""
    now = datetime.now(UTC)
    row = await session.get(TicketRead, (agent_id, ticket_id))
    if row is not None:
        row.read_at = now
        return
    try:
        async with session.begin_nested():
            session.add(TicketRead(agent_id=agent_id, ticket_id=ticket_id, read_at=now))
    except IntegrityError:
        pass  # the other tab's mark is as good
