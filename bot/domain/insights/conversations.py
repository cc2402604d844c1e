"""Conversations, customers and their outcome: did the bot resolve it, or did people take it?

In a period, counting only what happened in it:

- **conversations**: conversations with a customer message or a ticket opened in the period. A
  conversation (Rasa's sender id) can last for months: the widget keeps it across visits, and a
  WeChat customer has one for good; so each period counts the conversations *active* in it. A
  conversation spanning midnight counts on both days, and once in their week.
- **conversations with questions**: those in which the customer asked for something: a question
  the bot searched the FAQ for, or a handoff (a ticket opened: "talk to a person" and a
  complaint ask for something too, even though the FAQ was not searched).
- **handed over**: those with a ticket opened in the period, whatever became of it: a ticket an
  agent resolved without a word to the customer is still a handoff, never the bot's success.
- **bot resolved**: those with no ticket opened in the period, at least one question answered
  from the FAQ in the period, and no "that did not help" on an answer of the period. A
  conversation whose answer got no verdict counts (the customer read it and left); one the
  customer left after a did-you-mean or a "not found" does not (abandoned: neither).
- **unresolved**: the rest of the conversations with questions. The three are disjoint and add up
  to the conversations with questions, so bot resolution rate + handoff rate <= 100%.
- **handoffs by reason**: handed-over conversations by the reason of their first ticket in the
  period; they add up to the handed-over ones.
- **customers**: distinct customers with a customer message in the period; **new** ones were
  first seen (any message of theirs, ``customers.first_seen``) in the period, the others are
  **returning**. **customer messages**: messages customers wrote (follow events left out).

Rates are shares of the conversations with questions (``None`` when there are none).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Label,
    SQLColumnExpression,
    Subquery,
    and_,
    case,
    distinct,
    func,
    null,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.insights.filters import InsightsFilter
from bot.domain.insights.periods import Period, period_of
from bot.domain.insights.sources import (
    ANSWER,
    ONE,
    ZERO,
    customer_messages,
    rated_answers,
    tickets_opened,
)
from bot.store.models import Customer, Interaction, Ticket


def share(part: int, whole: int) -> float | None:
    """``part / whole`` to 4 places; ``None`` for an empty whole.

    >>> share(1, 3), share(0, 0)
    (0.3333, None)
    """
    return round(part / whole, 4) if whole else None


@dataclass
class ConversationFigures:
    conversations: int = 0
    conversations_with_questions: int = 0
    bot_resolved: int = 0
    handed_over: int = 0
    handoffs_by_reason: dict[str, int] = field(default_factory=dict)
    customers: int = 0
    new_customers: int = 0
    customer_messages: int = 0

    @property
    def unresolved(self) -> int:
        return self.conversations_with_questions - self.bot_resolved - self.handed_over

    @property
    def returning_customers(self) -> int:
        return self.customers - self.new_customers

    @property
    def bot_resolution_rate(self) -> float | None:
        return share(self.bot_resolved, self.conversations_with_questions)

    @property
    def handoff_rate(self) -> float | None:
        return share(self.handed_over, self.conversations_with_questions)


def spanning(chosen: Sequence[Period]) -> Period:
    """One period from the first of ``chosen`` to the last."""
    return Period(chosen[0].first, chosen[-1].last, chosen[0].start, chosen[-1].end)


def _activity(
    flt: InsightsFilter, window: Period, chosen: Sequence[Period], rated: Subquery
) -> Subquery:
    """One row per message, ticket and refused answer: conversation, period, what it shows."""

    def flags(*values: SQLColumnExpression[Any]) -> tuple[Label[Any], ...]:
        names = ("question", "answered", "ticket", "refused", "ticket_id")
        return tuple(value.label(name) for value, name in zip(values, names, strict=True))

    in_period = period_of(Interaction.timestamp, chosen).label("period")
    messages = customer_messages(
        flt,
        window,
        Interaction.conversation_id.label("conversation"),
        in_period,
        *flags(
            case((Interaction.faq_decision.is_not(None), ONE), else_=ZERO),
            case((Interaction.faq_decision == ANSWER, ONE), else_=ZERO),
            ZERO,
            ZERO,
            null(),
        ),
    )
    tickets = tickets_opened(
        flt,
        window,
        Ticket.conversation_id.label("conversation"),
        period_of(Ticket.created_at, chosen).label("period"),
        *flags(ZERO, ZERO, ONE, ZERO, Ticket.id),
    )
    refused = select(
        rated.c.conversation_id.label("conversation"),
        period_of(rated.c.timestamp, chosen).label("period"),
        *flags(ZERO, ZERO, ZERO, ONE, null()),
    ).where(rated.c.refused == 1)
    return messages.union_all(tickets, refused).subquery("activity")


def conversation_periods(
    flt: InsightsFilter, chosen: Sequence[Period], rated: Subquery | None = None
) -> Subquery:
    """One row per conversation active in each period of ``chosen``: ``conversation``,
    ``period`` and, as 0 or 1, ``question`` (a question asked), ``answered`` (one answered),
    ``ticket`` (a ticket opened) and ``refused`` (a "did not help" on an answer of the period);
    ``first_ticket``, the id of its first ticket opened in the period (NULL without one).
    :func:`asked_for_something` and :func:`bot_resolved` read its rows.

    ``rated``: :func:`~bot.domain.insights.sources.rated_answers` of the whole of ``chosen``,
    for a statement that reads it elsewhere too (made here otherwise)."""
    window = spanning(chosen)
    if rated is None:
        rated = rated_answers(flt, window)
    activity = _activity(flt, window, chosen, rated)
    c = activity.c
    return (
        select(
            c.conversation,
            c.period,
            func.max(c.question).label("question"),
            func.max(c.answered).label("answered"),
            func.max(c.ticket).label("ticket"),
            func.max(c.refused).label("refused"),
            func.min(c.ticket_id).label("first_ticket"),
        )
        .group_by(c.conversation, c.period)
        .subquery("conversation_periods")
    )


def asked_for_something(row: Any) -> ColumnElement[bool]:
    """A row of :func:`conversation_periods` is a conversation with questions."""
    return or_(row.question == 1, row.ticket == 1)


def bot_resolved(row: Any) -> ColumnElement[bool]:
    """A row of :func:`conversation_periods` is a conversation the bot resolved."""
    return and_(row.ticket == 0, row.answered == 1, row.refused == 0)


async def _outcomes(
    session: AsyncSession,
    flt: InsightsFilter,
    chosen: Sequence[Period],
    figures: list[ConversationFigures],
) -> None:
    await count_outcomes(session, conversation_periods(flt, chosen), figures)


async def count_outcomes(
    session: AsyncSession, each: Subquery, figures: list[ConversationFigures]
) -> None:
    """Count the conversations of ``each`` (rows as :func:`conversation_periods`'s) into
    ``figures``: with questions, handed over (by the reason of the first ticket), resolved."""
    e = each.c
    query = (
        select(
            e.period,
            Ticket.reason,
            func.count(),
            func.sum(case((asked_for_something(e), ONE), else_=ZERO)),
            func.sum(e.ticket),
            func.sum(case((bot_resolved(e), ONE), else_=ZERO)),
        )
        .select_from(each)
        .outerjoin(Ticket, Ticket.id == e.first_ticket)
        .group_by(e.period, Ticket.reason)
    )
    for period, reason, count, asked, handed, resolved in await session.execute(query):
        found = figures[period]
        found.conversations += count
        found.conversations_with_questions += asked
        found.handed_over += handed
        found.bot_resolved += resolved
        if reason is not None:
            found.handoffs_by_reason[reason] = count


async def _customers(
    session: AsyncSession,
    flt: InsightsFilter,
    chosen: Sequence[Period],
    figures: list[ConversationFigures],
) -> None:
    window = spanning(chosen)
    rows = (
        customer_messages(
            flt,
            window,
            period_of(Interaction.timestamp, chosen).label("period"),
            Interaction.customer_id.label("customer"),
            period_of(Customer.first_seen, chosen).label("first_period"),
        )
        .join(Customer, Customer.id == Interaction.customer_id)
        .subquery("messages")
    )
    r = rows.c
    new = case((r.first_period == r.period, r.customer), else_=null())
    query = select(
        r.period, func.count(), func.count(distinct(r.customer)), func.count(distinct(new))
    ).group_by(r.period)
    for period, messages, customers, new_customers in await session.execute(query):
        figures[period].customer_messages = messages
        figures[period].customers = customers
        figures[period].new_customers = new_customers


async def conversation_figures(
    session: AsyncSession, flt: InsightsFilter, chosen: Sequence[Period]
) -> list[ConversationFigures]:
    """The conversation and customer figures of each period in ``chosen``.

    Args:
        session: a session on the application database (only read).
        flt: the conversations to count (its dates are those of ``chosen``).
        chosen: contiguous periods, in order (see :func:`bot.domain.insights.periods.periods`).

    Returns:
        One :class:`ConversationFigures` per period, in the same order.
    """
    figures = [ConversationFigures() for _ in chosen]
    await _outcomes(session, flt, chosen, figures)
    await _customers(session, flt, chosen, figures)
    return figures
