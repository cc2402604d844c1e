"""Questions by the bot's decision, and the verdicts on its answers.

In a period (see :mod:`bot.domain.insights.sources` for what a question and a verdict are):

- **questions**: customer messages the bot searched the FAQ for; **answered**, **clarified**
  (a did-you-mean with buttons) and **not found** by its decision (``faq_decision`` ``answer``,
  ``clarify``, ``escalate``), so that they add up to the questions. A did-you-mean button chosen
  is a message answered with the chosen entry: it counts as answered, and as a
  **clarification choice** (a part of the answered ones).
- **answered with feedback**: answered questions of the period that got a verdict, whenever it
  came; **helpful** and **not helpful** split them, and the **helpful share** is helpful /
  answered with feedback (``None`` without any).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.insights.conversations import share, spanning
from bot.domain.insights.filters import InsightsFilter
from bot.domain.insights.periods import Period, period_of
from bot.domain.insights.sources import (
    ANSWER,
    CHOSEN_IN_CLARIFICATION,
    CLARIFY,
    NOT_FOUND,
    ONE,
    ZERO,
    customer_messages,
    rated_answers,
)
from bot.store.models import Interaction


@dataclass
class QuestionFigures:
    questions: int = 0
    answered: int = 0
    clarified: int = 0
    not_found: int = 0
    clarification_choices: int = 0
    answered_with_feedback: int = 0
    helpful: int = 0
    not_helpful: int = 0

    @property
    def helpful_share(self) -> float | None:
        return share(self.helpful, self.answered_with_feedback)


async def _decisions(
    session: AsyncSession,
    flt: InsightsFilter,
    chosen: Sequence[Period],
    figures: list[QuestionFigures],
) -> None:
    chose = case((Interaction.intent == CHOSEN_IN_CLARIFICATION, ONE), else_=ZERO)
    rows = (
        customer_messages(
            flt,
            spanning(chosen),
            period_of(Interaction.timestamp, chosen).label("period"),
            Interaction.faq_decision.label("decision"),
            chose.label("chosen"),
        )
        .where(Interaction.faq_decision.is_not(None))
        .subquery("questions")
    )
    query = select(rows.c.period, rows.c.decision, func.count(), func.sum(rows.c.chosen)).group_by(
        rows.c.period, rows.c.decision
    )
    for period, decision, count, chosen_count in await session.execute(query):
        found = figures[period]
        found.questions += count
        if decision == ANSWER:
            found.answered += count
            found.clarification_choices += chosen_count
        elif decision == CLARIFY:
            found.clarified += count
        elif decision == NOT_FOUND:
            found.not_found += count


async def _verdicts(
    session: AsyncSession,
    flt: InsightsFilter,
    chosen: Sequence[Period],
    figures: list[QuestionFigures],
) -> None:
    rated = rated_answers(flt, spanning(chosen))
    rows = select(period_of(rated.c.timestamp, chosen).label("period"), rated.c.refused).subquery(
        "rated"
    )
    query = select(rows.c.period, rows.c.refused, func.count()).group_by(
        rows.c.period, rows.c.refused
    )
    for period, refused, count in await session.execute(query):
        found = figures[period]
        found.answered_with_feedback += count
        if refused:
            found.not_helpful += count
        else:
            found.helpful += count


async def question_figures(
    session: AsyncSession, flt: InsightsFilter, chosen: Sequence[Period]
) -> list[QuestionFigures]:
    """The question and feedback figures of each period in ``chosen``.

    Args:
        session: a session on the application database (only read).
        flt: the conversations to count.
        chosen: contiguous periods, in order.

    Returns:
        One :class:`QuestionFigures` per period, in the same order.
    """
    figures = [QuestionFigures() for _ in chosen]
    await _decisions(session, flt, chosen, figures)
    await _verdicts(session, flt, chosen, figures)
    return figures
