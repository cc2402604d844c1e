"""How each FAQ entry serves customers over a report's range.

For each entry (``faq_id``), counting the questions of the range in the selected conversations:

- **answered**: questions answered with it (did-you-mean choices included);
- **clarification choices**: times customers chose it on a did-you-mean button. How often it was
  *offered* there is not stored (the candidates are a slot the ingestion does not keep), so no
  click-through rate can be computed from the stored data;
- **helpful** / **not helpful**: verdicts on those answers (see :mod:`bot.domain.insights.questions`);
- **handoffs after**: tickets opened in the range whose conversation's last question before the
  ticket was answered with this entry, at most :data:`HANDOFF_FOLLOWS_WITHIN` earlier (a later
  ticket belongs to another visit). A "did not help" ticket always counts; so does a "talk to a
  person" right after the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.domain.insights.filters import InsightsFilter, in_scope
from bot.domain.insights.periods import Period
from bot.domain.insights.sources import (
    ANSWER,
    CHOSEN_IN_CLARIFICATION,
    CUSTOMER,
    ONE,
    ZERO,
    customer_messages,
    rated_answers,
    tickets_opened,
)
from bot.store.models import Interaction, Ticket, TicketFact

# Rasa's session expiry (``session_config`` in domain.yml): later, a handoff is another visit's.
HANDOFF_FOLLOWS_WITHIN = timedelta(minutes=60)


@dataclass
class EntryFigures:
    entry_id: str
    answered: int = 0
    clarification_choices: int = 0
    helpful: int = 0
    not_helpful: int = 0
    handoffs_after: int = 0


Entries = dict[str, EntryFigures]


async def _answers(
    session: AsyncSession, flt: InsightsFilter, window: Period, entries: Entries
) -> None:
    chose = case((Interaction.intent == CHOSEN_IN_CLARIFICATION, ONE), else_=ZERO)
    query = (
        customer_messages(flt, window, Interaction.faq_id, func.count(), func.sum(chose))
        .where(Interaction.faq_decision == ANSWER, Interaction.faq_id.is_not(None))
        .group_by(Interaction.faq_id)
    )
    for entry_id, answered, chosen in await session.execute(query):
        found = entries.setdefault(entry_id, EntryFigures(entry_id))
        found.answered, found.clarification_choices = answered, chosen


async def _verdicts(
    session: AsyncSession, flt: InsightsFilter, window: Period, entries: Entries
) -> None:
    rated = rated_answers(flt, window)
    query = (
        select(rated.c.faq_id, rated.c.refused, func.count())
        .where(rated.c.faq_id.is_not(None))
        .group_by(rated.c.faq_id, rated.c.refused)
    )
    for entry_id, refused, count in await session.execute(query):
        found = entries.setdefault(entry_id, EntryFigures(entry_id))
        if refused:
            found.not_helpful += count
        else:
            found.helpful += count


async def _handoffs(
    session: AsyncSession, flt: InsightsFilter, window: Period, entries: Entries
) -> None:
    """Each ticket of the window joined with its conversation's questions shortly before it:
    the last of them (no correlated subquery: the tickets are few, the join uses the
    conversation's index), then whether it was an answer, and how long before."""
    asked = and_(
        Interaction.conversation_id == Ticket.conversation_id,
        Interaction.direction == CUSTOMER,
        Interaction.faq_decision.is_not(None),
        Interaction.timestamp <= Ticket.created_at,
        Interaction.timestamp >= window.start - HANDOFF_FOLLOWS_WITHIN,
    )
    last_questions = (
        tickets_opened(
            flt,
            window,
            Ticket.created_at.label("opened"),
            func.max(Interaction.id).label("question_id"),
        )
        .join(Interaction, asked)
        .group_by(Ticket.id, Ticket.created_at)
        .subquery("last_questions")
    )
    last = aliased(Interaction)
    query = (
        select(last_questions.c.opened, last.faq_id, last.timestamp)
        .join(last, last.id == last_questions.c.question_id)
        .where(last.faq_decision == ANSWER, last.faq_id.is_not(None))
    )
    for opened, entry_id, answered_at in await session.execute(query):
        if opened - answered_at <= HANDOFF_FOLLOWS_WITHIN:
            entries.setdefault(entry_id, EntryFigures(entry_id)).handoffs_after += 1


async def _facts_handoffs(
    session: AsyncSession, flt: InsightsFilter, window: Period, entries: Entries
) -> None:
    """:func:`_handoffs` read from the ticket facts, which hold each ticket's entry
    (:func:`bot.domain.insights.ticket_facts.entry_before`)."""
    f = TicketFact
    query = (
        select(f.handoff_faq_id, func.count())
        .where(
            f.created_at >= window.start,
            f.created_at < window.end,
            f.handoff_faq_id.is_not(None),
            *in_scope(flt, f.conversation_id),
        )
        .group_by(f.handoff_faq_id)
    )
    for entry, count in await session.execute(query):
        entry_id = str(entry)  # never NULL here
        entries.setdefault(entry_id, EntryFigures(entry_id)).handoffs_after += count


async def faq_entry_figures(
    session: AsyncSession,
    flt: InsightsFilter,
    window: Period,
    answers: Entries | None = None,
    facts: bool = False,
) -> list[EntryFigures]:
    """The figures of every FAQ entry that answered, or preceded a handoff, in ``window``.

    Args:
        session: a session on the application database (only read).
        flt: the conversations to count (its agent does not apply: these are the bot's answers).
        window: the report's whole range.
        answers: the entries' answers, choices and verdicts, when already counted (from the
            roll-up, :func:`bot.domain.insights.rolled.rolled_entries`); else counted here.
        facts: read the handoffs after each entry from the ticket facts
            (:mod:`bot.domain.insights.ticket_facts`), not from the raw rows.

    Returns:
        One :class:`EntryFigures` per entry, the most answered first (then by id).
    """
    entries: Entries = answers if answers is not None else {}
    if answers is None:
        await _answers(session, flt, window, entries)
        await _verdicts(session, flt, window, entries)
    await (_facts_handoffs if facts else _handoffs)(session, flt, window, entries)
    return sorted(entries.values(), key=lambda e: (-e.answered, e.entry_id))
