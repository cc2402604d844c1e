"""One row per conversation of a report's range: the report's figures, conversation by conversation.

The rows are the conversations the report counts over its whole range (see
:mod:`bot.domain.insights.conversations`), by the same queries, so that they add up to it:

- one row per **conversation** (active in the range), ordered by its id (the database's, never
  the channel's sender id, which identifies the customer), with its customer's id and name, the
  channel it started on, its language (as the ``language`` filter reads it), when it started and
  its last message (whenever they were);
- **customer messages**, **questions**, **answered**, **clarified**, **not found**, **helpful**
  and **not helpful** in the range: their sums are the report's figures;
- **bot resolved** and **handed over** (at most one of them), and the **handoff reason** (of its
  first ticket in the range): the rows with each add up to the report's ``bot_resolved``,
  ``handed_over`` and ``handoffs_by_reason``;
- **tickets** opened in the range (with an agent in the filter, theirs only): the sum is the
  report's ``tickets``; the ticket columns (id, agent, first response and resolution times, also
  in business hours, rating) describe the first of them, timed as
  :mod:`bot.domain.insights.tickets` times every ticket.

>>> async with sessions() as session:  # doctest: +SKIP
...     async for batch in conversation_rows(session, flt, hours):
...         for row in batch:
...             print(row.conversation_id, row.bot_resolved)
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, case, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.domain.insights.conversations import bot_resolved, conversation_periods
from bot.domain.insights.filters import InsightsFilter
from bot.domain.insights.periods import whole
from bot.domain.insights.sources import (
    ANSWER,
    CLARIFY,
    CUSTOMER,
    NOT_FOUND,
    ONE,
    ZERO,
    customer_messages,
    rated_answers,
    tickets_opened,
)
from bot.domain.insights.tickets import TicketFigures
from bot.settings.hours import BusinessHours
from bot.store.models import Agent, Conversation, Customer, Interaction, Ticket

# Rows fetched from the database at a time: memory stays flat whatever the range.
BATCH_ROWS = 500


@dataclass(frozen=True)
class ConversationRow:
    conversation_id: int
    customer_id: int
    customer_name: str | None
    channel: str | None
    language: str | None
    started_at: datetime
    last_message_at: datetime
    customer_messages: int
    questions: int
    answered: int
    clarified: int
    not_found: int
    helpful: int
    not_helpful: int
    bot_resolved: bool
    handed_over: bool
    handoff_reason: str | None
    tickets: int
    ticket_id: int | None
    agent: str | None
    first_response_seconds: float | None
    first_response_business_seconds: float | None
    resolution_seconds: float | None
    resolution_business_seconds: float | None
    rating: int | None


def _counted(decision: str) -> Any:
    return func.sum(case((Interaction.faq_decision == decision, ONE), else_=ZERO))


def _query(flt: InsightsFilter, hours: BusinessHours) -> Select[Any]:
    window = whole(flt, hours.timezone)
    rated = rated_answers(flt, window)  # one statement reads it twice: made once
    periods = conversation_periods(flt, [window], rated)
    outcomes = periods.c
    asked = case((Interaction.faq_decision.is_not(None), ONE), else_=ZERO)
    messages = (
        customer_messages(
            flt,
            window,
            Interaction.conversation_id.label("conversation"),
            func.count().label("messages"),
            func.sum(asked).label("questions"),
            _counted(ANSWER).label("answered"),
            _counted(CLARIFY).label("clarified"),
            _counted(NOT_FOUND).label("not_found"),
        )
        .group_by(Interaction.conversation_id)
        .subquery("messages")
    )
    verdicts = (
        select(
            rated.c.conversation_id.label("conversation"),
            func.count().label("verdicts"),
            func.sum(rated.c.refused).label("refused"),
        )
        .group_by(rated.c.conversation_id)
        .subquery("verdicts")
    )
    counted = (
        tickets_opened(
            flt,
            window,
            Ticket.conversation_id.label("conversation"),
            func.count().label("tickets"),
            func.min(Ticket.id).label("first_counted"),
            by_agent=True,
        )
        .group_by(Ticket.conversation_id)
        .subquery("counted_tickets")
    )
    handoff, first = aliased(Ticket), aliased(Ticket)
    language = (
        select(Interaction.language)
        .where(
            Interaction.conversation_id == Conversation.id,
            Interaction.direction == CUSTOMER,
            Interaction.language.is_not(None),
        )
        .order_by(Interaction.id)
        .limit(1)
        .scalar_subquery()
    )
    m, v, t = messages.c, verdicts.c, counted.c
    return (
        select(
            Conversation.id.label("conversation_id"),
            Customer.id.label("customer_id"),
            Customer.name.label("customer_name"),
            Conversation.channel,
            language.label("language"),
            Conversation.started_at,
            Conversation.last_message_at,
            func.coalesce(m.messages, 0).label("customer_messages"),
            func.coalesce(m.questions, 0).label("questions"),
            func.coalesce(m.answered, 0).label("answered"),
            func.coalesce(m.clarified, 0).label("clarified"),
            func.coalesce(m.not_found, 0).label("not_found"),
            func.coalesce(v.verdicts, 0).label("verdicts"),
            func.coalesce(v.refused, 0).label("refused"),
            case((bot_resolved(outcomes), ONE), else_=ZERO).label("bot_resolved"),
            outcomes.ticket.label("handed_over"),
            handoff.reason.label("handoff_reason"),
            func.coalesce(t.tickets, 0).label("tickets"),
            # The first counted ticket, named as TicketFigures.add reads a ticket row.
            first.id.label("ticket_id"),
            first.created_at,
            first.first_reply_at,
            first.resolved_at,
            first.status,
            first.reason,
            first.reopened,
            first.satisfaction,
            ZERO.label("asked"),
            Agent.display_name.label("agent"),
        )
        .select_from(periods)
        .join(Conversation, Conversation.id == outcomes.conversation)
        .join(Customer, Customer.id == Conversation.customer_id)
        .outerjoin(messages, m.conversation == outcomes.conversation)
        .outerjoin(verdicts, v.conversation == outcomes.conversation)
        .outerjoin(counted, t.conversation == outcomes.conversation)
        .outerjoin(handoff, handoff.id == outcomes.first_ticket)
        .outerjoin(first, first.id == t.first_counted)
        .outerjoin(Agent, Agent.id == first.assigned_agent_id)
        .order_by(Conversation.id)
    )


def _row(found: Row[Any], hours: BusinessHours) -> ConversationRow:
    ticket = TicketFigures()
    if found.ticket_id is not None:
        ticket.add(found, hours)

    def only(values: list[float]) -> float | None:
        return round(values[0], 1) if values else None

    return ConversationRow(
        conversation_id=found.conversation_id,
        customer_id=found.customer_id,
        customer_name=found.customer_name,
        channel=found.channel,
        language=found.language,
        started_at=found.started_at,
        last_message_at=found.last_message_at,
        customer_messages=found.customer_messages,
        questions=found.questions,
        answered=found.answered,
        clarified=found.clarified,
        not_found=found.not_found,
        helpful=found.verdicts - found.refused,
        not_helpful=found.refused,
        bot_resolved=bool(found.bot_resolved),
        handed_over=bool(found.handed_over),
        handoff_reason=found.handoff_reason,
        tickets=found.tickets,
        ticket_id=found.ticket_id,
        agent=found.agent,
        first_response_seconds=only(ticket.first_response),
        first_response_business_seconds=only(ticket.first_response_business),
        resolution_seconds=only(ticket.resolution),
        resolution_business_seconds=only(ticket.resolution_business),
        rating=ticket.ratings[0] if ticket.ratings else None,
    )


async def conversation_rows(
    session: AsyncSession,
    flt: InsightsFilter,
    hours: BusinessHours,
    batch_rows: int = BATCH_ROWS,
) -> AsyncGenerator[list[ConversationRow], None]:
    """The rows of the conversations ``flt`` counts over its whole range, in batches.

    Args:
        session: a session on the application database (only read); the rows are streamed
            from one statement, so it stays busy until the last batch.
        flt: dates and filters (its grouping does not apply: one row per conversation).
        hours: business hours; their time zone sets the calendar.
        batch_rows: rows per batch.

    Yields:
        Lists of at most ``batch_rows`` :class:`ConversationRow`, by conversation id.
    """
    if session.get_bind().dialect.name == "postgresql":
        # PostgreSQL over-estimates the joined figures a hundredfold, and compiling the plan
        # (JIT) then costs far more than running it: over 90 days of 100,000 messages, the
        # first rows came after 8 s with JIT, 1.2 s without.
        await session.execute(text("SET LOCAL jit = off"))
    query = _query(flt, hours).execution_options(yield_per=batch_rows)
    result = await session.stream(query)
    async for partition in result.partitions(batch_rows):
        yield [_row(found, hours) for found in partition]
