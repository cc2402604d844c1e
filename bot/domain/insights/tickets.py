"""Tickets: how long customers wait for people, and how satisfied they are afterwards.

A ticket belongs to the period in which it was opened (``created_at``); with an agent in the
filter, only the tickets assigned to that agent count. In a period:

- **tickets**, and **by reason** (``tickets.reason``); a conversation may have several, so
  tickets >= handed-over conversations;
- **replied**: tickets an agent answered (``first_reply_at``: when the first reply was sent from
  the console, queued for the customer's channel); **resolved**: resolved now (a reopened
  ticket counts once it is resolved again); **resolved without reply**: resolved with no agent
  reply at all (a handoff nonetheless, see :mod:`bot.domain.insights.conversations`);
  **reopened**: reopened at least once; **active**: open or assigned now;
- **first response time**: ``first_reply_at - created_at`` of the replied tickets;
  **resolution time**: ``resolved_at - created_at`` of the resolved ones (``resolved_at`` is the
  last resolution: a reopened ticket's time runs from its opening to its final resolution). Both
  also counted in business hours only (:func:`~bot.domain.insights.business_time.business_seconds`),
  each as count, mean, median and 90th percentile (nearest rank) in seconds;
- **ratings asked**: tickets whose "please rate" message reached the customer (the resolved
  ticket's ``resume`` outbox message was delivered), or which were rated (a rating is only taken
  when asked); **ratings**: tickets with a 1-5 rating (``satisfaction``); their **average** and
  **distribution**. The rating's own time is not stored: it belongs to its ticket's period.

**By agent**, over the whole range: the same figures for the tickets assigned to each agent
(the agent who claimed, answered or resolved them last); unassigned tickets have no row.

**Waiting now** (whatever the dates): open or assigned tickets without any agent reply yet, and
the longest such wait, in seconds and in business seconds, from opening to ``now``.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, SQLColumnExpression, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.insights.business_time import business_seconds
from bot.domain.insights.conversations import spanning
from bot.domain.insights.filters import InsightsFilter, in_scope
from bot.domain.insights.periods import Period, period_of
from bot.domain.insights.sources import ONE, ZERO, tickets_opened
from bot.settings.hours import BusinessHours
from bot.store.models import Agent, OutboxKind, OutboxMessage, Ticket, TicketStatus

RATINGS = range(1, 6)
# Open or assigned (bot.domain.tickets.ACTIVE; that module imports this package's facts).
ACTIVE = (TicketStatus.OPEN.value, TicketStatus.ASSIGNED.value)


@dataclass(frozen=True)
class Durations:
    """Seconds: how many, their mean, median and 90th percentile (``None`` without any)."""

    count: int
    mean: float | None
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Durations:
        """
        >>> Durations.of([60, 120, 600])
        Durations(count=3, mean=260.0, median=120.0, p90=600.0)
        """
        if not seconds:
            return cls(0, None, None, None)
        ordered = sorted(float(value) for value in seconds)
        p90 = ordered[math.ceil(0.9 * len(ordered)) - 1]
        return cls(
            len(ordered),
            round(statistics.fmean(ordered), 1),
            round(float(statistics.median(ordered)), 1),
            round(p90, 1),
        )


@dataclass
class TicketFigures:
    tickets: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)
    replied: int = 0
    resolved: int = 0
    resolved_without_reply: int = 0
    reopened: int = 0
    active: int = 0
    first_response: list[float] = field(default_factory=list)
    first_response_business: list[float] = field(default_factory=list)
    resolution: list[float] = field(default_factory=list)
    resolution_business: list[float] = field(default_factory=list)
    ratings_asked: int = 0
    ratings: list[int] = field(default_factory=list)

    @classmethod
    def combined(cls, parts: Sequence[TicketFigures]) -> TicketFigures:
        """The figures of the tickets of all ``parts`` together (each ticket in one part)."""
        total = cls()
        for part in parts:
            for reason, count in part.by_reason.items():
                total.by_reason[reason] = total.by_reason.get(reason, 0) + count
            for name, value in vars(part).items():
                if isinstance(value, int):
                    setattr(total, name, getattr(total, name) + value)
                elif isinstance(value, list):
                    getattr(total, name).extend(value)
        return total

    @property
    def satisfaction_average(self) -> float | None:
        return round(statistics.fmean(self.ratings), 2) if self.ratings else None

    @property
    def satisfaction_distribution(self) -> dict[str, int]:
        return {str(score): self.ratings.count(score) for score in RATINGS}

    def add(self, row: Row[Any], hours: BusinessHours, times: TicketTimes | None = None) -> None:
        """Count one ticket row (see :func:`_rows`); ``times``: its :class:`TicketTimes`, when
        already known (a row counted twice, in its period and for its agent)."""
        times = times or TicketTimes.of(row, hours)
        self.tickets += 1
        self.by_reason[row.reason] = self.by_reason.get(row.reason, 0) + 1
        self.reopened += row.reopened > 0
        if times.first_response is not None:
            self.replied += 1
            self.first_response.append(times.first_response[0])
            self.first_response_business.append(times.first_response[1])
        if times.resolution is not None:
            self.resolved += 1
            self.resolved_without_reply += times.first_response is None
            self.resolution.append(times.resolution[0])
            self.resolution_business.append(times.resolution[1])
        else:
            self.active += 1
        if row.satisfaction in RATINGS:
            self.ratings.append(row.satisfaction)
        self.ratings_asked += bool(row.asked) or row.satisfaction in RATINGS


@dataclass(frozen=True)
class TicketTimes:
    """A ticket row's first response and resolution times as (seconds, business seconds);
    ``None`` when it has no reply, or is not resolved."""

    first_response: tuple[float, float] | None
    resolution: tuple[float, float] | None

    @classmethod
    def of(cls, row: Row[Any], hours: BusinessHours) -> TicketTimes:
        def waited(end: datetime) -> tuple[float, float]:
            wall = max((end - row.created_at).total_seconds(), 0.0)
            return wall, business_seconds(row.created_at, end, hours)

        resolved = row.status == TicketStatus.RESOLVED.value and row.resolved_at is not None
        return cls(
            waited(row.first_reply_at) if row.first_reply_at is not None else None,
            waited(row.resolved_at) if resolved else None,
        )


def rating_requested(ticket_id: SQLColumnExpression[int]) -> ColumnElement[bool]:
    """SQL: the ticket's "please rate" message reached the customer (the delivered ``resume``
    outbox message of its resolution); not correlated: the database reads them once."""
    requested = select(OutboxMessage.ticket_id).where(
        OutboxMessage.kind == OutboxKind.RESUME.value,
        OutboxMessage.delivered_at.is_not(None),
        OutboxMessage.ticket_id.is_not(None),
    )
    return ticket_id.in_(requested)


def _rows(flt: InsightsFilter, chosen: Sequence[Period]) -> Select[Any]:
    asked = case((rating_requested(Ticket.id), ONE), else_=ZERO).label("asked")
    return tickets_opened(
        flt,
        spanning(chosen),
        period_of(Ticket.created_at, chosen).label("period"),
        Ticket.created_at,
        Ticket.first_reply_at,
        Ticket.resolved_at,
        Ticket.status,
        Ticket.reason,
        Ticket.reopened,
        Ticket.satisfaction,
        Ticket.assigned_agent_id,
        asked,
        by_agent=True,
    )


@dataclass
class AgentFigures:
    agent_id: int
    username: str
    name: str
    figures: TicketFigures


async def named_agents(
    session: AsyncSession, by_agent: dict[int, TicketFigures]
) -> list[AgentFigures]:
    """The figures of each agent in ``by_agent`` (by id) with the agent's names, by name."""
    if not by_agent:
        return []
    named = await session.execute(
        select(Agent.id, Agent.username, Agent.display_name).where(Agent.id.in_(by_agent))
    )
    agents = [AgentFigures(i, user, name, by_agent[i]) for i, user, name in named]
    return sorted(agents, key=lambda a: (a.name, a.agent_id))


async def ticket_figures(
    session: AsyncSession,
    flt: InsightsFilter,
    chosen: Sequence[Period],
    hours: BusinessHours,
) -> tuple[list[TicketFigures], TicketFigures, list[AgentFigures]]:
    """The ticket figures of each period in ``chosen``, over them all, and per agent, counted
    from the raw rows (:func:`bot.domain.insights.fact_figures.fact_figures` reads the same
    from the ticket facts).

    Args:
        session: a session on the application database (only read).
        flt: the conversations (and agent) whose tickets count.
        chosen: contiguous periods, in order.
        hours: business hours, for the times counted in business hours only.

    Returns:
        One :class:`TicketFigures` per period, in the same order; those of all the periods
        together (a ticket belongs to one period: they add up); and one :class:`AgentFigures`
        per agent with tickets, by name.
    """
    figures = [TicketFigures() for _ in chosen]
    by_agent: dict[int, TicketFigures] = {}
    # On the connection: a row per ticket, without the ORM's result processing.
    connection = await session.connection()
    for row in await connection.execute(_rows(flt, chosen)):
        # Once: business hours take a loop over the days.
        times = TicketTimes.of(row, hours)
        figures[row.period].add(row, hours, times)
        if row.assigned_agent_id is not None:
            by_agent.setdefault(row.assigned_agent_id, TicketFigures()).add(row, hours, times)
    agents = await named_agents(session, by_agent)
    return figures, TicketFigures.combined(figures), agents


@dataclass(frozen=True)
class Waiting:
    tickets: int
    longest_wait_seconds: float | None
    longest_wait_business_seconds: float | None


async def waiting_now(
    session: AsyncSession, flt: InsightsFilter, hours: BusinessHours, now: datetime
) -> Waiting:
    """Open or assigned tickets no agent has answered yet, and the longest wait until ``now``.

    The dates of ``flt`` do not apply; its channel, language and agent do.
    """
    query = select(func.count(), func.min(Ticket.created_at)).where(
        Ticket.status.in_(ACTIVE),
        Ticket.first_reply_at.is_(None),
        *in_scope(flt, Ticket.conversation_id),
    )
    if flt.agent_id is not None:
        query = query.where(Ticket.assigned_agent_id == flt.agent_id)
    found = (await session.execute(query)).one()
    count: int = found[0]
    oldest: datetime | None = found[1]
    if oldest is None:
        return Waiting(count, None, None)
    return Waiting(
        count,
        round(max((now - oldest).total_seconds(), 0.0), 1),
        round(business_seconds(oldest, now, hours), 1),
    )
