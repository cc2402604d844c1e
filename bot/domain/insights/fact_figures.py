"""The ticket figures read from the ticket facts (:mod:`.ticket_facts`): counts in SQL.

:func:`~bot.domain.insights.tickets.ticket_figures` gives the same figures from the raw rows,
one ticket at a time. Here the database counts (a ``GROUP BY`` period, agent and reason over the
facts of the range: tickets, replied, resolved, reopened, ratings asked, ratings by score), and
only the times come to Python (PostgreSQL: as one array per period and agent; SQLite: one
narrow row per ticket with a time): their mean is
:func:`statistics.fmean`'s (an exact sum of the stored floats, which SQL sums are not) and their
median and 90th percentile ranks in the sorted list (:class:`~.tickets.Durations`), so the
figures are exactly those counted one ticket at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, case, func, or_, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import NullType

from bot.domain.insights.conversations import spanning
from bot.domain.insights.filters import InsightsFilter, in_scope
from bot.domain.insights.periods import Period, period_of
from bot.domain.insights.sources import ONE, ZERO
from bot.domain.insights.tickets import (
    RATINGS,
    AgentFigures,
    TicketFigures,
    named_agents,
    rating_requested,
)
from bot.store.models import TicketFact

F = TicketFact
REPLIED = and_(
    F.first_response_seconds.is_not(None), F.first_response_business_seconds.is_not(None)
)
RESOLVED = and_(F.resolution_seconds.is_not(None), F.resolution_business_seconds.is_not(None))
TIMES = (
    F.first_response_seconds,
    F.first_response_business_seconds,
    F.resolution_seconds,
    F.resolution_business_seconds,
)


def _where(flt: InsightsFilter, chosen: Sequence[Period]) -> list[ColumnElement[bool]]:
    """The facts of the tickets opened in ``chosen`` in the conversations (and of the agent)
    ``flt`` selects."""
    window = spanning(chosen)
    conditions = [
        F.created_at >= window.start,
        F.created_at < window.end,
        *in_scope(flt, F.conversation_id),
    ]
    if flt.agent_id is not None:
        conditions.append(F.assigned_agent_id == flt.agent_id)
    return conditions


def _number(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, ONE), else_=ZERO))


def _array(column: Any, condition: ColumnElement[bool]) -> Any:
    # Untyped: the driver's lists as they come, not converted again element by element.
    return type_coerce(func.array_agg(column).filter(condition), NullType())


def _counts(flt: InsightsFilter, chosen: Sequence[Period], arrays: bool = False) -> Any:
    """One row per period, agent and reason: the counts; with ``arrays`` (PostgreSQL), the
    times too, each as an array (``NULL`` for none): the driver decodes arrays far faster
    than as many rows."""
    rated = F.satisfaction.in_(RATINGS)
    first, first_business, resolution, resolution_business = TIMES
    times = (
        _array(first, REPLIED).label("first"),
        _array(first_business, REPLIED).label("first_business"),
        _array(resolution, RESOLVED).label("resolution"),
        _array(resolution_business, RESOLVED).label("resolution_business"),
    )
    return (
        select(
            period_of(F.created_at, chosen).label("period"),
            F.assigned_agent_id,
            F.reason,
            func.count().label("tickets"),
            _number(REPLIED).label("replied"),
            _number(RESOLVED).label("resolved"),
            _number(and_(RESOLVED, ~REPLIED)).label("resolved_without_reply"),
            _number(F.reopened > 0).label("reopened"),
            _number(or_(rating_requested(F.ticket_id), rated)).label("ratings_asked"),
            *(_number(F.satisfaction == score).label(f"rated_{score}") for score in RATINGS),
            *(times if arrays else ()),
        )
        .where(*_where(flt, chosen))
        .group_by("period", F.assigned_agent_id, F.reason)
    )


def _times(flt: InsightsFilter, chosen: Sequence[Period]) -> Any:
    """One row per ticket with a time: period, agent and the four times (SQLite)."""
    return select(
        period_of(F.created_at, chosen).label("period"),
        F.assigned_agent_id,
        *TIMES,
    ).where(*_where(flt, chosen), or_(REPLIED, RESOLVED))


class _Counts(NamedTuple):
    """A row of :func:`_counts` without its period, agent and times."""

    reason: str
    tickets: int
    replied: int
    resolved: int
    resolved_without_reply: int
    reopened: int
    ratings_asked: int
    by_score: tuple[int, ...]


def _add_counts(target: TicketFigures, counts: _Counts) -> None:
    target.tickets += counts.tickets
    target.by_reason[counts.reason] = target.by_reason.get(counts.reason, 0) + counts.tickets
    target.replied += counts.replied
    target.resolved += counts.resolved
    target.resolved_without_reply += counts.resolved_without_reply
    target.reopened += counts.reopened
    target.active += counts.tickets - counts.resolved
    target.ratings_asked += counts.ratings_asked
    for score, rated in zip(RATINGS, counts.by_score, strict=True):
        target.ratings.extend([score] * rated)


def _add_times(target: TicketFigures, times: Sequence[Any]) -> None:
    first, first_business, resolution, resolution_business = times
    if first is not None and first_business is not None:
        target.first_response.append(first)
        target.first_response_business.append(first_business)
    if resolution is not None and resolution_business is not None:
        target.resolution.append(resolution)
        target.resolution_business.append(resolution_business)


def _extend_times(target: TicketFigures, lists: Sequence[list[float] | None]) -> None:
    first, first_business, resolution, resolution_business = lists
    target.first_response.extend(first or ())
    target.first_response_business.extend(first_business or ())
    target.resolution.extend(resolution or ())
    target.resolution_business.extend(resolution_business or ())


async def fact_figures(
    session: AsyncSession, flt: InsightsFilter, chosen: Sequence[Period]
) -> tuple[list[TicketFigures], TicketFigures, list[AgentFigures]]:
    """:func:`~bot.domain.insights.tickets.ticket_figures`, read from the ticket facts.

    Args:
        session: a session on the application database (only read).
        flt: the conversations (and agent) whose tickets count.
        chosen: contiguous periods, in order.

    Returns:
        One :class:`TicketFigures` per period, in order; those of all the periods together;
        and one :class:`AgentFigures` per agent with tickets, by name.
    """
    figures = [TicketFigures() for _ in chosen]
    by_agent: dict[int, TicketFigures] = {}
    connection = await session.connection()  # no ORM result processing
    arrays = connection.dialect.name == "postgresql"
    scores = len(RATINGS)
    for period, agent, *row in await connection.execute(_counts(flt, chosen, arrays)):
        reason, tickets, replied, resolved, unreplied, reopened, asked = row[:7]
        by_score = tuple(row[7 : 7 + scores])
        counts = _Counts(reason, tickets, replied, resolved, unreplied, reopened, asked, by_score)
        targets = [figures[period]]
        if agent is not None:
            targets.append(by_agent.setdefault(agent, TicketFigures()))
        for target in targets:
            _add_counts(target, counts)
            if arrays:
                _extend_times(target, row[7 + scores :])
    if not arrays:
        for period, agent, *times in await connection.execute(_times(flt, chosen)):
            _add_times(figures[period], times)
            if agent is not None:
                _add_times(by_agent[agent], times)
    agents = await named_agents(session, by_agent)
    return figures, TicketFigures.combined(figures), agents
