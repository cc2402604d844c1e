"""The insights report: every figure of a range, its days or weeks, agents and FAQ entries.

:func:`insights` answers ``python -m bot report`` and ``GET /api/insights`` alike, as one
JSON-ready document (a stable contract: keys are added, never renamed):

- the range and filters: ``from``, ``to`` (dates, inclusive), ``timezone``, ``business_hours``,
  ``group``, ``channel``, ``language``, ``agent``;
- the figures of the whole range, at the top level (integer counts such as ``conversations``,
  ``conversations_with_questions``, ``bot_resolved``, ``handed_over``, ``answered``,
  ``clarified``, ``not_found``, ``tickets``, ``ratings``; rates and averages as numbers or
  ``null``; times as ``{"count", "mean", "median", "p90"}`` in seconds);
- ``series``: the same figures for each day or week (``[]`` without ``group``), each row what the
  report over that row's dates alone would say (so conversations active on several days are
  counted on each, and rows need not add up to the total);
- ``agents`` (ticket figures per agent), ``faq_entries``, ``waiting_now``.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.insights.conversations import ConversationFigures, conversation_figures, share
from bot.domain.insights.fact_figures import fact_figures
from bot.domain.insights.faq_entries import faq_entry_figures
from bot.domain.insights.filters import InsightsFilter
from bot.domain.insights.periods import Period, periods, whole
from bot.domain.insights.questions import QuestionFigures, question_figures
from bot.domain.insights.rolled import rolled_entries, rolled_figures
from bot.domain.insights.ticket_facts import facts_hours
from bot.domain.insights.tickets import Durations, TicketFigures, ticket_figures, waiting_now
from bot.settings.hours import BusinessHours
from bot.store.rollup import rollup_zone

log = logging.getLogger(__name__)


async def _plan_for_these_dates(session: AsyncSession) -> None:
    """PostgreSQL, until the transaction ends: plan each statement for its own dates, and
    compile no expressions (SQL ``SET LOCAL``).

    The driver prepares statements, and after five runs PostgreSQL may switch to a plan for
    any dates: for the roll-up's day rows (its estimates then assume a few hundred rows of a
    quarter's 170,000), one that took 44 s instead of 0.2 s. Planning these statements takes
    about a millisecond. JIT compiling their long ``CASE`` expressions (the period of each row)
    took longer than running them."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        await session.execute(text("SET LOCAL jit = off"))


async def _rollup_is_in(session: AsyncSession, zone: ZoneInfo) -> bool:
    built = await rollup_zone(session)
    if built is not None and built.key != zone.key:
        log.warning(
            "the insights roll-up is in %s, not BUSINESS_TIMEZONE %s: counting from the raw "
            "rows until `python -m bot insights rebuild`",
            built.key,
            zone.key,
        )
    return built is not None and built.key == zone.key


async def _facts_are_in(session: AsyncSession, hours: BusinessHours) -> bool:
    """Whether the ticket facts were counted in ``hours`` (their days and times in its zone)."""
    built = await facts_hours(session)
    return built is not None and (built.text, built.timezone.key) == (
        hours.text,
        hours.timezone.key,
    )


def conversation_part(c: ConversationFigures) -> dict[str, Any]:
    return {
        "conversations": c.conversations,
        "conversations_with_questions": c.conversations_with_questions,
        "bot_resolved": c.bot_resolved,
        "handed_over": c.handed_over,
        "unresolved": c.unresolved,
        "bot_resolution_rate": c.bot_resolution_rate,
        "handoff_rate": c.handoff_rate,
        "handoffs_by_reason": dict(sorted(c.handoffs_by_reason.items())),
        "handoff_rate_by_reason": {
            reason: share(count, c.conversations_with_questions)
            for reason, count in sorted(c.handoffs_by_reason.items())
        },
        "customers": c.customers,
        "new_customers": c.new_customers,
        "returning_customers": c.returning_customers,
        "customer_messages": c.customer_messages,
    }


def question_part(q: QuestionFigures) -> dict[str, Any]:
    return {**asdict(q), "helpful_share": q.helpful_share}


def ticket_part(t: TicketFigures) -> dict[str, Any]:
    def times(seconds: list[float]) -> dict[str, Any]:
        return asdict(Durations.of(seconds))

    return {
        "tickets": t.tickets,
        "tickets_by_reason": dict(sorted(t.by_reason.items())),
        "tickets_replied": t.replied,
        "tickets_resolved": t.resolved,
        "tickets_resolved_without_reply": t.resolved_without_reply,
        "tickets_reopened": t.reopened,
        "tickets_active": t.active,
        "first_response_seconds": times(t.first_response),
        "first_response_business_seconds": times(t.first_response_business),
        "resolution_seconds": times(t.resolution),
        "resolution_business_seconds": times(t.resolution_business),
        "ratings_asked": t.ratings_asked,
        "ratings": len(t.ratings),
        "satisfaction_average": t.satisfaction_average,
        "satisfaction_distribution": t.satisfaction_distribution,
    }


Counted = tuple[list[ConversationFigures], list[QuestionFigures]]


async def _count(
    session: AsyncSession,
    flt: InsightsFilter,
    chosen: list[Period],
    rolled: bool,
    parts: Counted | None = None,
) -> Counted:
    """The conversation and question figures of each period in ``chosen``; ``rolled``: from
    the roll-up, where ``parts`` (those of the periods that make up the only one of
    ``chosen``) give the figures that add up."""
    if rolled:
        return await rolled_figures(session, flt, chosen, parts)
    return (
        await conversation_figures(session, flt, chosen),
        await question_figures(session, flt, chosen),
    )


def _rows(
    chosen: list[Period], counted: Counted, tickets: list[TicketFigures]
) -> list[dict[str, Any]]:
    """The figures of each period in ``chosen``, as the report shows them."""
    conversations, questions = counted
    return [
        {
            "from": period.first.isoformat(),
            "to": period.last.isoformat(),
            **conversation_part(c),
            **question_part(q),
            **ticket_part(t),
        }
        for period, c, q, t in zip(chosen, conversations, questions, tickets, strict=True)
    ]


async def insights(
    session: AsyncSession,
    flt: InsightsFilter,
    hours: BusinessHours,
    now: datetime | None = None,
    rollup: bool = True,
    ticket_facts: bool = True,
) -> dict[str, Any]:
    """Every figure of the report ``flt`` asks for (see the module's docstring).

    Args:
        session: a session on the application database (only read).
        flt: dates, grouping and filters.
        hours: business hours; their time zone (``BUSINESS_TIMEZONE``) sets the calendar.
        now: the instant of the ``waiting_now`` figures (default: now).
        rollup: read the conversation, question and FAQ entry figures from the roll-up
            (:mod:`bot.store.rollup`) when its days are in ``hours``' time zone, and the ticket
            figures from the ticket facts (:mod:`.ticket_facts`) when they were counted in
            ``hours``; ``False``, or a roll-up in other hours: count them from the raw rows
            (the same figures, slower).
        ticket_facts: ``False``: count the ticket figures from the raw rows even when
            ``rollup`` reads the roll-up (as before migration 0013).

    Returns:
        The report as a JSON-ready dict.
    """
    await _plan_for_these_dates(session)
    zone = hours.timezone
    rolled = rollup and await _rollup_is_in(session, zone)
    facts = rolled and ticket_facts and await _facts_are_in(session, hours)
    everything = whole(flt, zone)
    chosen = periods(flt, zone)  # the whole range when not grouped
    if facts:
        tickets, all_tickets, agents = await fact_figures(session, flt, chosen)
    else:
        tickets, all_tickets, agents = await ticket_figures(session, flt, chosen, hours)
    parts = await _count(session, flt, chosen, rolled) if flt.group else None
    (total,) = _rows(
        [everything], await _count(session, flt, [everything], rolled, parts), [all_tickets]
    )
    series = _rows(chosen, parts, tickets) if parts else []
    answers = await rolled_entries(session, flt, everything) if rolled else None
    entries = await faq_entry_figures(session, flt, everything, answers, facts)
    waiting = await waiting_now(session, flt, hours, now or datetime.now(UTC))
    return {
        "from": flt.start.isoformat(),
        "to": flt.end.isoformat(),
        "timezone": zone.key,
        "business_hours": hours.text,
        "group": flt.group.value if flt.group else None,
        "channel": flt.channel.value if flt.channel else None,
        "language": flt.language,
        "agent": flt.agent_id,
        **{key: value for key, value in total.items() if key not in ("from", "to")},
        "series": series,
        "agents": [
            {"id": a.agent_id, "username": a.username, "name": a.name, **ticket_part(a.figures)}
            for a in agents
        ],
        "faq_entries": [asdict(entry) for entry in entries],
        "waiting_now": asdict(waiting),
    }
