"""Ticket facts: each ticket as the insights report counts it, kept when the ticket changes.

The report's ticket figures (:mod:`bot.domain.insights.tickets`) need, per ticket, its first
response and resolution times, wall-clock and in business hours, and the FAQ entry that answered
just before the handoff (:mod:`bot.domain.insights.faq_entries`). Computed from the raw rows for
a quarter (30,000 tickets), that is a second of Python and a join with every question. The
``insights_ticket_facts`` table (:class:`~bot.store.models.TicketFact`) holds them computed, one
row per ticket, by the same functions (:class:`~bot.domain.insights.tickets.TicketTimes`,
:func:`entry_before`), so that the report read from it gives exactly the raw rows' figures.

**Business hours**: the times are counted in the ``BUSINESS_HOURS`` stored with the roll-up
(``insights_rollup.business_hours``, set by :func:`rebuild_facts`: migration 0013 and
``python -m bot insights rebuild``). The report reads the facts only when those hours and the
roll-up's time zone are the ones it is asked for; otherwise it counts from the raw rows.

**Who keeps them**, in their own transaction: every change of a ticket
(:mod:`bot.domain.tickets`: open, claim, assign, reply, resolve, reopen, rate), the ingestion
worker for each stored customer message (a question stored after the ticket it led to, which
the worker may well do), the retention purge. :func:`refresh` recounts a ticket from its rows
after locking it, so a refresh is idempotent, and a competing writer waits for the lock.

>>> from datetime import datetime, timedelta
>>> at = datetime(2026, 3, 2, 10, 0)
>>> questions = [Question(1, at - timedelta(minutes=90), "answer", "refund"),
...              Question(2, at - timedelta(minutes=5), "answer", "delivery")]
>>> entry_before(questions, at)
'delivery'
>>> entry_before(questions[:1], at) is None  # more than an hour before: another visit
True
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.insights.faq_entries import HANDOFF_FOLLOWS_WITHIN
from bot.domain.insights.sources import ANSWER, CUSTOMER
from bot.domain.insights.tickets import TicketTimes
from bot.settings.hours import BusinessHours
from bot.store.models import InsightsRollup, Interaction, Ticket, TicketFact
from bot.store.rollup import STATE_ID
from bot.store.rollup_rebuild import Rebuilt, rebuild_async

CHUNK = 5000
TICKET_COLUMNS = (
    Ticket.id,
    Ticket.conversation_id,
    Ticket.created_at,
    Ticket.first_reply_at,
    Ticket.resolved_at,
    Ticket.status,
    Ticket.reason,
    Ticket.reopened,
    Ticket.satisfaction,
    Ticket.assigned_agent_id,
)


class Question(NamedTuple):
    """A customer message the bot searched the FAQ for."""

    id: int
    timestamp: datetime
    faq_decision: str
    faq_id: str | None


QUESTION_COLUMNS = (
    Interaction.id,
    Interaction.timestamp,
    Interaction.faq_decision,
    Interaction.faq_id,
)


def entry_before(questions: Iterable[Question], opened: datetime) -> str | None:
    """The FAQ entry that answered the last question (by id) asked at most
    :data:`HANDOFF_FOLLOWS_WITHIN` before ``opened``; ``None`` if that question was not answered
    with an entry, or there is none (the rule of :mod:`bot.domain.insights.faq_entries`)."""
    near = [q for q in questions if opened - HANDOFF_FOLLOWS_WITHIN <= q.timestamp <= opened]
    if not near:
        return None
    last = max(near, key=lambda q: q.id)
    return last.faq_id if last.faq_decision == ANSWER else None


def fact(ticket: Any, questions: Iterable[Question], hours: BusinessHours) -> dict[str, Any]:
    """The fact row of ``ticket`` (a row of :data:`TICKET_COLUMNS`), given its conversation's
    questions (those near its opening suffice)."""
    times = TicketTimes.of(ticket, hours)
    first, resolution = times.first_response, times.resolution
    return {
        "ticket_id": ticket.id,
        "conversation_id": ticket.conversation_id,
        "created_at": ticket.created_at,
        "reason": ticket.reason,
        "assigned_agent_id": ticket.assigned_agent_id,
        "reopened": ticket.reopened,
        "first_response_seconds": None if first is None else first[0],
        "first_response_business_seconds": None if first is None else first[1],
        "resolution_seconds": None if resolution is None else resolution[0],
        "resolution_business_seconds": None if resolution is None else resolution[1],
        "satisfaction": ticket.satisfaction,
        "handoff_faq_id": entry_before(questions, ticket.created_at),
    }


def _questions(*conditions: Any) -> Any:
    return select(Interaction.conversation_id, *QUESTION_COLUMNS).where(
        Interaction.direction == CUSTOMER, Interaction.faq_decision.is_not(None), *conditions
    )


async def facts_hours(session: AsyncSession, lock: bool = False) -> BusinessHours | None:
    """The business hours the facts were counted in; ``None`` before they were built.

    ``lock``: share-lock the state row, so that no rebuild runs until the transaction ends."""
    query = select(InsightsRollup.business_hours, InsightsRollup.timezone).where(
        InsightsRollup.id == STATE_ID
    )
    if lock:
        query = query.with_for_update(read=True)
    found = (await session.execute(query)).first()
    if found is None or found.business_hours is None:
        return None
    return BusinessHours.parse(found.business_hours, found.timezone)


async def refresh(session: AsyncSession, ticket_ids: Iterable[int]) -> None:
    """Recount the facts of ``ticket_ids`` from their rows (in the caller's transaction, after
    flushing its pending changes); nothing before the facts were built."""
    await session.flush()
    hours = await facts_hours(session, lock=True)
    wanted = sorted(set(ticket_ids))
    if hours is None or not wanted:
        return
    tickets = list(
        await session.execute(
            select(*TICKET_COLUMNS).where(Ticket.id.in_(wanted)).with_for_update()
        )
    )
    for ticket in tickets:
        near = [
            Question(*row[1:])
            for row in await session.execute(
                _questions(
                    Interaction.conversation_id == ticket.conversation_id,
                    Interaction.timestamp >= ticket.created_at - HANDOFF_FOLLOWS_WITHIN,
                    Interaction.timestamp <= ticket.created_at,
                )
            )
        ]
        values = fact(ticket, near, hours)
        key = TicketFact.ticket_id == ticket.id
        if await session.scalar(select(TicketFact.ticket_id).where(key)) is None:
            await session.execute(insert(TicketFact).values(values))
        else:
            await session.execute(update(TicketFact).where(key).values(values))


async def refresh_conversation(
    session: AsyncSession, conversation_id: int, since: datetime | None = None
) -> None:
    """Recount the facts of the tickets of ``conversation_id`` opened at or after ``since``
    (a message stored: a question counts for the tickets opened after it)."""
    query = select(Ticket.id).where(Ticket.conversation_id == conversation_id)
    if since is not None:
        query = query.where(Ticket.created_at >= since)
    found = list(await session.scalars(query))
    if found:
        await refresh(session, found)


def rebuild_facts(connection: Connection, business_hours: str, timezone: str) -> int:
    """Recount every ticket's facts in ``business_hours`` (``BUSINESS_HOURS``) and
    ``timezone``, and store those hours with the roll-up (blocking: for migrations and
    ``run_sync``). Nothing while the roll-up was never built. How many facts it wrote."""
    hours = BusinessHours.parse(business_hours, timezone)
    locked = connection.execute(
        select(InsightsRollup.id).where(InsightsRollup.id == STATE_ID).with_for_update()
    ).first()
    if locked is None:
        return 0
    connection.execute(update(InsightsRollup).values(business_hours=hours.text))
    connection.execute(delete(TicketFact))
    tickets = connection.execute(select(*TICKET_COLUMNS).order_by(Ticket.id)).all()
    questions: dict[int, list[Question]] = defaultdict(list)
    with_tickets = select(Ticket.conversation_id)
    for row in connection.execute(_questions(Interaction.conversation_id.in_(with_tickets))):
        questions[row.conversation_id].append(Question(*row[1:]))
    written = [fact(ticket, questions.get(ticket.conversation_id, ()), hours) for ticket in tickets]
    for start in range(0, len(written), CHUNK):
        connection.execute(insert(TicketFact), written[start : start + CHUNK])
    return len(written)


async def rebuild_facts_async(session: AsyncSession, hours: BusinessHours) -> int:
    """:func:`rebuild_facts` on ``session``'s connection, in its transaction."""
    return await session.run_sync(
        lambda sync: rebuild_facts(sync.connection(), hours.text, hours.timezone.key)
    )


async def rebuild_insights(session: AsyncSession, hours: BusinessHours) -> Rebuilt:
    """The whole roll-up rebuilt: its days in ``hours``' time zone
    (:func:`bot.store.rollup_rebuild.rebuild_async`), then the ticket facts in ``hours``
    (``python -m bot insights rebuild``, after a change of ``BUSINESS_TIMEZONE`` or
    ``BUSINESS_HOURS``)."""
    rebuilt = await rebuild_async(session, hours.timezone)
    rebuilt.ticket_facts = await rebuild_facts_async(session, hours)
    return rebuilt
