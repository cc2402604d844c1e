"""The conversation, question and FAQ entry figures, read from the roll-up.

The same figures as :mod:`~bot.domain.insights.conversations`,
:mod:`~bot.domain.insights.questions` and :mod:`~bot.domain.insights.faq_entries` compute from
the raw rows, read from the tables :mod:`bot.store.rollup` keeps (one row per conversation and
local day): a period's rows are its days' rows, and what is counted per distinct conversation
or customer (conversations, their outcome, customers) is grouped by conversation or customer
over the period's days first. :func:`bot.domain.insights.report.insights` reads them when the
roll-up's days are in the report's time zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.insights.conversations import ConversationFigures, count_outcomes, spanning
from bot.domain.insights.faq_entries import EntryFigures
from bot.domain.insights.filters import InsightsFilter, in_scope
from bot.domain.insights.periods import Period, day_period_of, period_of
from bot.domain.insights.questions import QuestionFigures
from bot.domain.insights.sources import ONE, ZERO
from bot.store.models import ConversationDay, Customer, CustomerDay, EntryDay


def _days(flt: InsightsFilter, window: Period, table: Any) -> list[ColumnElement[bool]]:
    """The rows of ``table`` on the days of ``window`` in the conversations ``flt`` selects."""
    return [
        table.day >= window.first,
        table.day <= window.last,
        *in_scope(flt, table.conversation_id),
    ]


def _yes(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, ONE), else_=ZERO)


def _one_day_each(chosen: Sequence[Period]) -> bool:
    return all(period.first == period.last for period in chosen)


async def _outcomes(
    session: AsyncSession,
    flt: InsightsFilter,
    chosen: Sequence[Period],
    figures: list[ConversationFigures],
) -> None:
    d = ConversationDay
    active = or_(d.messages > 0, d.first_ticket_id.is_not(None), d.not_helpful > 0)
    period = day_period_of(d.day, chosen).label("period")
    where = (*_days(flt, spanning(chosen), d), active)
    if _one_day_each(chosen):  # a conversation's day is its period: one row each already
        each = (
            select(
                d.conversation_id.label("conversation"),
                period,
                _yes(d.questions > 0).label("question"),
                _yes(d.answered > 0).label("answered"),
                _yes(d.first_ticket_id.is_not(None)).label("ticket"),
                _yes(d.not_helpful > 0).label("refused"),
                d.first_ticket_id.label("first_ticket"),
            )
            .where(*where)
            .subquery("conversation_periods")
        )
        await count_outcomes(session, each, figures)
        return
    days = (
        select(d.conversation_id, period, d.questions, d.answered, d.first_ticket_id, d.not_helpful)
        .where(*where)
        .subquery("days")
    )
    r = days.c
    each = (
        select(
            r.conversation_id.label("conversation"),
            r.period,
            func.max(_yes(r.questions > 0)).label("question"),
            func.max(_yes(r.answered > 0)).label("answered"),
            func.max(_yes(r.first_ticket_id.is_not(None))).label("ticket"),
            func.max(_yes(r.not_helpful > 0)).label("refused"),
            func.min(r.first_ticket_id).label("first_ticket"),
        )
        .group_by(r.conversation_id, r.period)
        .subquery("conversation_periods")
    )
    await count_outcomes(session, each, figures)


async def _customers(
    session: AsyncSession,
    flt: InsightsFilter,
    chosen: Sequence[Period],
    figures: list[ConversationFigures],
) -> None:
    c = CustomerDay
    rows = (
        select(
            day_period_of(c.day, chosen).label("period"),
            c.customer_id.label("customer"),
            period_of(Customer.first_seen, chosen).label("first_period"),
        )
        .join(Customer, Customer.id == c.customer_id)
        .where(*_days(flt, spanning(chosen), c))
        .subquery("customers")
    )
    r = rows.c
    # Each customer once per period (a hash aggregate, not a sort per distinct count).
    each = (
        select(r.period, func.max(_yes(r.first_period == r.period)).label("new"))
        .group_by(r.period, r.customer)
        .subquery("customer_periods")
    )
    query = select(each.c.period, func.count(), func.sum(each.c.new)).group_by(each.c.period)
    for period, customers, new_customers in await session.execute(query):
        figures[period].customers = customers
        figures[period].new_customers = new_customers


async def _sums(
    session: AsyncSession,
    flt: InsightsFilter,
    chosen: Sequence[Period],
    conversations: list[ConversationFigures],
    questions: list[QuestionFigures],
) -> None:
    d = ConversationDay
    names = ("messages", "questions", "answered", "clarified", "not_found", "chosen", "rated")
    days = (
        select(
            day_period_of(d.day, chosen).label("period"),
            *(getattr(d, name) for name in (*names, "not_helpful")),
        )
        .where(*_days(flt, spanning(chosen), d))
        .subquery("days")
    )
    r = days.c
    query = select(
        r.period, *(func.sum(r[name]) for name in names), func.sum(r.not_helpful)
    ).group_by(r.period)
    for row in await session.execute(query):
        index, messages, asked, answered, clarified, missed, chose, rated, refused = tuple(row)
        conversations[index].customer_messages = messages
        found = questions[index]
        found.questions, found.answered = asked, answered
        found.clarified, found.not_found, found.clarification_choices = clarified, missed, chose
        found.answered_with_feedback, found.not_helpful = rated, refused
        found.helpful = rated - refused


def _add_up(
    parts: tuple[Sequence[ConversationFigures], Sequence[QuestionFigures]],
    conversations: ConversationFigures,
    questions: QuestionFigures,
) -> None:
    """The sums of :func:`_sums` over ``parts`` (each row's days are its own)."""
    conversations.customer_messages = sum(c.customer_messages for c in parts[0])
    for name in vars(questions):
        setattr(questions, name, sum(getattr(q, name) for q in parts[1]))


async def rolled_figures(
    session: AsyncSession,
    flt: InsightsFilter,
    chosen: Sequence[Period],
    parts: tuple[Sequence[ConversationFigures], Sequence[QuestionFigures]] | None = None,
) -> tuple[list[ConversationFigures], list[QuestionFigures]]:
    """The conversation and question figures of each period in ``chosen``, from the roll-up.

    Args:
        session: a session on the application database (only read).
        flt: the conversations to count.
        chosen: contiguous periods, in order, whose edges are local midnights of the roll-up's
            time zone.
        parts: the figures of the periods that make up the only period of ``chosen`` (a
            report's days or weeks, for its total): the messages and question figures, which
            add up, are their sums instead of being read again.

    Returns:
        One :class:`ConversationFigures` and one :class:`QuestionFigures` per period.
    """
    conversations = [ConversationFigures() for _ in chosen]
    questions = [QuestionFigures() for _ in chosen]
    await _outcomes(session, flt, chosen, conversations)
    await _customers(session, flt, chosen, conversations)
    if parts is not None and len(chosen) == 1:
        _add_up(parts, conversations[0], questions[0])
    else:
        await _sums(session, flt, chosen, conversations, questions)
    return conversations, questions


async def rolled_entries(
    session: AsyncSession, flt: InsightsFilter, window: Period
) -> dict[str, EntryFigures]:
    """Each FAQ entry's answers, did-you-mean choices and verdicts in ``window``, from the
    roll-up (the handoffs after it are the raw rows', see :mod:`.faq_entries`)."""
    e = EntryDay
    query = (
        select(
            e.faq_id,
            func.sum(e.answered),
            func.sum(e.chosen),
            func.sum(e.helpful),
            func.sum(e.not_helpful),
        )
        .where(*_days(flt, window, e))
        .group_by(e.faq_id)
    )
    return {
        entry_id: EntryFigures(entry_id, answered, chosen, helpful, refused)
        for entry_id, answered, chosen, helpful, refused in await session.execute(query)
    }
