"""Simulated customers: each asks one question, the bot decides as its FAQ action does, and the
conversation reaches the application database the way ingestion stores Rasa's events.

The bot's side is the action's decision (:meth:`FaqSearcher.search` and its ``decide``, then
:func:`settle` for a message NLU reads as a question). The customer's side is an honest one who
knows what they asked (:attr:`Example.gold`):

- "not found" (``escalate``): nothing more; the question is a gap (``faq_decision`` escalate);
- "did you mean" (``clarify``): they press their entry when it is offered, else "None of these",
  which hands them over (a ticket carrying the question: a gap);
- an answer: "did not help" when it is another entry's (``faq_feedback``: a gap).

>>> outcome = ask(searcher, Example("can I pay by paypal", "paypal"))  # doctest: +SKIP
>>> async with sessions() as session, session.begin():  # doctest: +SKIP
...     await record(session, Ingestor(), "bench-1", outcome, when)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bench.evaldata import Example
from bot.domain.dialogue.decisions import settle
from bot.domain.knowledge_gaps import HANDOFF, NOT_FOUND, NOT_HELPFUL
from bot.domain.tickets import open_ticket
from bot.workers.ingestion import Ingestor
from faq_index import Decision, FaqSearcher, QueryError
from vocabulary import EscalationReason

QUESTION_INTENT = "ask_question"  # what NLU makes of a customer's question
CHANNEL = "rest"
CLARIFY_OPTIONS = 3  # the did-you-mean's entries, as actions/faq.py chooses them
CLARIFY_KEEP = 0.75


@dataclass(frozen=True)
class Outcome:
    """What the bot did with one question and, for an answer, with which entry."""

    example: Example
    decision: Decision
    entry: str | None  # the entry answered with (an answer), else None
    offered: tuple[str, ...] = ()  # the entries of a did-you-mean

    @property
    def gap(self) -> str | None:
        """The kind of knowledge gap the honest customer leaves, or None (answered right)."""
        if self.decision is Decision.ESCALATE:
            return NOT_FOUND
        if self.decision is Decision.CLARIFY:
            return None if self.example.gold in self.offered else HANDOFF
        return None if self.entry == self.example.gold else NOT_HELPFUL


def ask(searcher: FaqSearcher, example: Example) -> Outcome:
    """The bot's decision on ``example``'s question, as ``action_answer_faq`` takes it."""
    try:
        result = searcher.search(example.text, top_k=CLARIFY_OPTIONS)
    except QueryError:  # the action asks to rephrase: nothing found for this question
        return Outcome(example, Decision.ESCALATE, None)
    decision = Decision(settle(result.decision.value, QUESTION_INTENT))
    if decision is Decision.ANSWER:
        return Outcome(example, decision, result.matches[0].id)
    if decision is Decision.CLARIFY:
        best = result.matches[0].score
        kept = [m for m in result.matches if m.score >= CLARIFY_KEEP * best]
        offered = kept if len(kept) >= 2 else result.matches[:2]
        return Outcome(example, decision, None, tuple(m.id for m in offered))
    return Outcome(example, decision, None)


def _user(text: str, when: datetime, intent: str) -> dict[str, Any]:
    return {
        "event": "user",
        "text": text,
        "timestamp": when.timestamp(),
        "input_channel": CHANNEL,
        "parse_data": {"intent": {"name": intent, "confidence": 1.0}},
    }


def _slot(name: str, value: object, when: datetime) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value, "timestamp": when.timestamp()}


async def record(
    session: AsyncSession, ingestor: Ingestor, sender: str, outcome: Outcome, when: datetime
) -> None:
    """Store the conversation ``sender`` of one question and its outcome, as ingestion does."""
    second = timedelta(seconds=1)
    answered = outcome.entry if outcome.decision is Decision.ANSWER else None
    events = [
        _user(outcome.example.text, when, QUESTION_INTENT),
        _slot("faq_decision", outcome.decision.value, when),
        _slot("faq_id", answered, when),
    ]
    if outcome.gap == NOT_HELPFUL:
        events += [
            _user("that did not help", when + second, "deny"),
            _slot("faq_feedback", NOT_HELPFUL, when + second),
        ]
    elif outcome.gap == HANDOFF:
        events.append(_user("/deny", when + second, "deny"))  # "None of these"
    for event in events:
        await ingestor.store(session, sender, event)
    if outcome.gap == HANDOFF:
        candidates = [{"id": entry} for entry in outcome.offered]
        await open_ticket(
            session,
            sender,
            EscalationReason.CLARIFICATION_REFUSED,
            outcome.example.text,
            candidates,
            CHANNEL,
            {},
            ingestor.identity_secret,
        )
