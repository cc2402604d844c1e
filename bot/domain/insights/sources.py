"""The rows every figure is counted from: customer messages, tickets and verdicts, in a period.

What the ingestion worker (:mod:`bot.workers.ingestion`) stores decides what can be counted:

- a **customer message** is an ``interactions`` row with direction ``customer``; WeChat's follow
  and unfollow events (intents :data:`ACCOUNT_EVENTS`) are stored as messages too, but nobody
  wrote them, so they are left out. The bot's decision slots are written on the whole turn (the
  customer's message and the bot's replies after it), so decisions are read on customer messages
  only, where each counts once;
- a **question** is a customer message the bot searched the FAQ for: its ``faq_decision`` is
  ``answer``, ``clarify`` or ``escalate`` ("not found"); a did-you-mean button chosen (intent
  ``choose_faq``) is a customer message answered with the chosen entry;
- a **verdict** ("that helped" / "that did not help") is stored on the customer's reply
  (``feedback``), not on the answer; it is given to the last answered customer message before
  it in the same conversation (the bot asks about its last answer only). An answer given both
  verdicts (asked again, which the bot does not do) counts as not helpful;
- a **ticket** belongs to the period in which it was opened (``tickets.created_at``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Subquery,
    and_,
    case,
    func,
    literal_column,
    null,
    or_,
    select,
)

from bot.domain.insights.filters import InsightsFilter, in_scope
from bot.domain.insights.periods import Period
from bot.store.models import Interaction, Ticket
from bot.store.rollup import (
    ACCOUNT_EVENTS,
    ANSWER,
    CHOSEN_IN_CLARIFICATION,
    CLARIFY,
    CUSTOMER,
    HELPFUL,
    NOT_FOUND,
    NOT_HELPFUL,
    VERDICTS,
)

__all__ = [
    "ACCOUNT_EVENTS",
    "ANSWER",
    "CHOSEN_IN_CLARIFICATION",
    "CLARIFY",
    "CUSTOMER",
    "HELPFUL",
    "NOT_FOUND",
    "NOT_HELPFUL",
    "ONE",
    "VERDICTS",
    "ZERO",
    "customer_messages",
    "rated_answers",
    "tickets_opened",
]
ONE = literal_column("1", Integer)
ZERO = literal_column("0", Integer)


def _written_by_customer(row: Any) -> ColumnElement[bool]:
    return and_(
        row.direction == CUSTOMER,
        or_(row.intent.is_(None), row.intent.not_in(ACCOUNT_EVENTS)),
    )


def customer_messages(flt: InsightsFilter, window: Period, *columns: Any) -> Select[Any]:
    """``columns`` of the customer messages of ``window`` in the conversations ``flt`` selects."""
    return (
        select(*columns)
        .select_from(Interaction)
        .where(
            _written_by_customer(Interaction),
            Interaction.timestamp >= window.start,
            Interaction.timestamp < window.end,
            *in_scope(flt, Interaction.conversation_id),
        )
    )


def tickets_opened(
    flt: InsightsFilter, window: Period, *columns: Any, by_agent: bool = False
) -> Select[Any]:
    """``columns`` of the tickets opened in ``window`` in the conversations ``flt`` selects;
    with ``by_agent``, only those assigned to ``flt.agent_id`` (when it names one)."""
    query = (
        select(*columns)
        .select_from(Ticket)
        .where(
            Ticket.created_at >= window.start,
            Ticket.created_at < window.end,
            *in_scope(flt, Ticket.conversation_id),
        )
    )
    if by_agent and flt.agent_id is not None:
        query = query.where(Ticket.assigned_agent_id == flt.agent_id)
    return query


def rated_answers(flt: InsightsFilter, window: Period) -> Subquery:
    """The answered customer messages of ``window`` that got a verdict (whenever it came), in
    the conversations ``flt`` selects: columns ``answer_id``, ``conversation_id``,
    ``timestamp``, ``faq_id`` and ``refused`` (1: "did not help", 0: "helped").

    One pass over the customer messages since the window began, in each conversation's order,
    gives every message the last answered one before it (a window function); a verdict goes to
    that answer. Answers and verdicts are then grouped by answer: no correlated subquery, so the
    databases plan it the same way whatever their statistics say.

    What the pass reads, changing no result: answers and verdicts only (other messages never
    are the last answer before a verdict); and after the window, only the conversations with
    an answer in it (a verdict elsewhere cannot reach one), so that a window long past does not
    read everything since. They are read first, by date (materialized): asked for in each
    conversation's order, a database would follow the conversation index and jump about the
    table for every row, several times slower on a large one.
    """

    def answers_and_verdicts(*conditions: ColumnElement[bool]) -> Select[Any]:
        columns: tuple[Any, ...] = (
            Interaction.id,
            Interaction.conversation_id,
            Interaction.timestamp,
            Interaction.faq_id,
            Interaction.faq_decision,
            Interaction.feedback,
        )
        return select(*columns).where(
            Interaction.direction == CUSTOMER,
            or_(Interaction.faq_decision == ANSWER, Interaction.feedback.in_(VERDICTS)),
            *in_scope(flt, Interaction.conversation_id),
            *conditions,
        )

    answered_in_window = select(Interaction.conversation_id).where(
        Interaction.direction == CUSTOMER,
        Interaction.faq_decision == ANSWER,
        Interaction.timestamp >= window.start,
        Interaction.timestamp < window.end,
    )
    read = (
        answers_and_verdicts(
            Interaction.timestamp >= window.start, Interaction.timestamp < window.end
        )
        .union_all(
            answers_and_verdicts(
                Interaction.timestamp >= window.end,
                # "+ 0": found by date, then tested; never looked up by conversation (SQLite,
                # without statistics, would read every answered conversation's messages so).
                (Interaction.conversation_id + 0).in_(answered_in_window),
            )
        )
        .cte("answers_and_verdicts_read")
        .prefix_with("MATERIALIZED")
    )
    r = read.c
    answered_id = case((r.faq_decision == ANSWER, r.id), else_=null())
    ordered = select(
        r.id,
        r.conversation_id,
        r.timestamp,
        r.faq_id,
        r.faq_decision,
        r.feedback,
        func.max(answered_id)
        .over(partition_by=r.conversation_id, order_by=r.id, rows=(None, -1))
        .label("before"),
    ).cte("ordered")
    o = ordered.c
    answers = select(
        o.id.label("answer_id"),
        o.conversation_id,
        o.timestamp,
        o.faq_id,
        ONE.label("answer"),
        ZERO.label("verdict"),
        ZERO.label("refused"),
    ).where(o.faq_decision == ANSWER, o.timestamp < window.end)
    given = select(
        o.before,
        null(),
        null(),
        null(),
        ZERO,
        ONE,
        case((o.feedback == NOT_HELPFUL, ONE), else_=ZERO),
    ).where(o.before.is_not(None), o.feedback.in_(VERDICTS))
    both = answers.union_all(given).subquery("answers_and_verdicts")
    b = both.c
    return (
        select(
            b.answer_id,
            func.max(b.conversation_id).label("conversation_id"),
            func.max(b.timestamp).label("timestamp"),
            func.max(b.faq_id).label("faq_id"),
            func.max(b.refused).label("refused"),
        )
        .group_by(b.answer_id)
        .having(func.max(b.answer) == 1, func.max(b.verdict) == 1)
        .subquery("rated_answers")
    )
