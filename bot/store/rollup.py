"""The insights roll-up: what each conversation did on each local day, kept by the writers.

The insights report (:mod:`bot.domain.insights`) counts conversations, customers, questions
and verdicts over any range of days. Read from the raw ``interactions`` (a million rows for a
busy quarter), that takes a minute; read from these tables (one row per conversation and day
it was active in), well under a second:

- ``insights_conversation_days`` (:class:`~bot.store.models.ConversationDay`): per conversation
  and local day, its customers' messages (follow events left out), questions by the bot's
  decision, did-you-mean choices, the answers *of that day* that got a verdict (whenever it
  came) and how many of them "did not help", and the id of its first ticket opened that day;
- ``insights_customer_days``: which customers wrote in it that day;
- ``insights_entry_days``: per FAQ entry, answers, did-you-mean choices and verdicts.

What a message, a question and a verdict are is defined here (the constants below) and in
:mod:`bot.domain.insights.sources`, which reads the raw rows by the same rules.

**Days** are calendar days in the time zone stored in the ``insights_rollup`` row, the
``BUSINESS_TIMEZONE`` the roll-up was built with (by migration 0012, or by
``python -m bot insights rebuild``: :mod:`bot.store.rollup_rebuild`). The report reads the
roll-up only when its time zone is that one; after a change of ``BUSINESS_TIMEZONE`` it counts from the raw rows (slowly, and the
same figures) until the roll-up is rebuilt in the new zone.

**Who keeps it**: every writer of what it summarises, in its own transaction, by recomputing
the conversation's day from the raw rows (:func:`refresh`): the ingestion worker for each
customer message and for the decision and feedback slots, :func:`bot.domain.tickets.open_ticket`
for each ticket, :mod:`bot.domain.customers` when it merges an anonymous profile. Recomputing
makes it idempotent (an event stored twice, or refreshed twice, changes nothing) and race-safe:
the refresh first locks the conversation's day row (PostgreSQL ``SELECT ... FOR UPDATE`` after
an ``INSERT ... ON CONFLICT DO NOTHING``; SQLite has one writer at a time) and only then reads
the raw rows, in a new statement that sees every transaction committed before it got the lock;
a competing worker that wrote the same day waits for the lock and recomputes after it.
A rebuild locks the state row for writing, and every refresh locks it for sharing first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, delete, func, insert, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import (
    ConversationDay,
    CustomerDay,
    Direction,
    EntryDay,
    InsightsRollup,
    Interaction,
    Ticket,
)

ACCOUNT_EVENTS = ("subscribe", "unsubscribe")
ANSWER, CLARIFY, NOT_FOUND = "answer", "clarify", "escalate"
CHOSEN_IN_CLARIFICATION = "choose_faq"
HELPFUL, NOT_HELPFUL = "helpful", "not_helpful"
VERDICTS = (HELPFUL, NOT_HELPFUL)
CUSTOMER = Direction.CUSTOMER.value
STATE_ID = 1

MESSAGE_COLUMNS = (
    Interaction.id,
    Interaction.timestamp,
    Interaction.intent,
    Interaction.faq_decision,
    Interaction.faq_id,
    Interaction.feedback,
    Interaction.customer_id,
)


class Message(Protocol):
    """A customer-direction ``interactions`` row, the columns of :data:`MESSAGE_COLUMNS`."""

    @property
    def id(self) -> int: ...
    @property
    def timestamp(self) -> datetime: ...
    @property
    def intent(self) -> str | None: ...
    @property
    def faq_decision(self) -> str | None: ...
    @property
    def faq_id(self) -> str | None: ...
    @property
    def feedback(self) -> str | None: ...
    @property
    def customer_id(self) -> int: ...


@dataclass
class EntryCounts:
    answered: int = 0
    chosen: int = 0
    helpful: int = 0
    not_helpful: int = 0


@dataclass
class DaySummary:
    """One conversation's day: the columns of its roll-up rows."""

    messages: int = 0
    questions: int = 0
    answered: int = 0
    clarified: int = 0
    not_found: int = 0
    chosen: int = 0
    rated: int = 0
    not_helpful: int = 0
    first_ticket_id: int | None = None
    customers: set[int] = field(default_factory=set)
    entries: dict[str, EntryCounts] = field(default_factory=dict)

    def columns(self) -> dict[str, Any]:
        names = ("messages", "questions", "answered", "clarified", "not_found", "chosen")
        counts = {name: getattr(self, name) for name in names}
        return {
            **counts,
            "rated": self.rated,
            "not_helpful": self.not_helpful,
            "first_ticket_id": self.first_ticket_id,
        }


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` begins in ``zone``."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def local_day(instant: datetime, zone: ZoneInfo) -> date:
    """The day of ``zone`` that ``instant`` falls in, its edges being :func:`local_midnight`'s
    (the report's, so that a row's day is the period the raw rows would put it in)."""
    day = instant.astimezone(zone).date()
    if instant < local_midnight(day, zone):
        return day - timedelta(days=1)
    if instant >= local_midnight(day + timedelta(days=1), zone):
        return day + timedelta(days=1)
    return day


def written_by_customer(message: Message) -> bool:
    """A message a customer wrote (WeChat's follow and unfollow events are not)."""
    return message.intent is None or message.intent not in ACCOUNT_EVENTS


def verdicts(messages: Iterable[Message]) -> dict[int, bool]:
    """The answers that got a verdict: answer id -> whether one said "did not help".

    A verdict goes to the last answer before it (by id) in the conversation; ``messages`` are
    one conversation's customer-direction rows."""
    found: dict[int, bool] = {}
    last_answer: int | None = None
    for message in sorted(messages, key=lambda m: m.id):
        if message.feedback in VERDICTS and last_answer is not None:
            found[last_answer] = found.get(last_answer, False) or message.feedback == NOT_HELPFUL
        if message.faq_decision == ANSWER:
            last_answer = message.id
    return found


def _count(day: DaySummary, message: Message, rated: dict[int, bool]) -> None:
    answer = message.faq_decision == ANSWER
    if written_by_customer(message):
        day.messages += 1
        day.customers.add(message.customer_id)
        if message.faq_decision is not None:
            day.questions += 1
            day.clarified += message.faq_decision == CLARIFY
            day.not_found += message.faq_decision == NOT_FOUND
        if answer:
            chosen = message.intent == CHOSEN_IN_CLARIFICATION
            day.answered += 1
            day.chosen += chosen
            if message.faq_id is not None:
                entry = day.entries.setdefault(message.faq_id, EntryCounts())
                entry.answered += 1
                entry.chosen += chosen
    if answer and message.id in rated:
        refused = rated[message.id]
        day.rated += 1
        day.not_helpful += refused
        if message.faq_id is not None:
            entry = day.entries.setdefault(message.faq_id, EntryCounts())
            entry.not_helpful += refused
            entry.helpful += not refused


def summarise(
    messages: Sequence[Message],
    tickets: Iterable[tuple[int, datetime]],
    zone: ZoneInfo,
    only: date | None = None,
) -> dict[date, DaySummary]:
    """One conversation's days, from its customer-direction messages and its tickets
    ``(id, created_at)``; with ``only``, that day alone (the other messages given serve to
    find which answers got a verdict). Days with nothing to count are left out."""
    rated = verdicts(messages)
    days: dict[date, DaySummary] = defaultdict(DaySummary)
    for message in messages:
        day = local_day(message.timestamp, zone)
        if only is None or day == only:
            _count(days[day], message, rated)
    for ticket_id, opened in tickets:
        day = local_day(opened, zone)
        if only is None or day == only:
            first = days[day].first_ticket_id
            days[day].first_ticket_id = ticket_id if first is None else min(first, ticket_id)
    return {
        day: found
        for day, found in days.items()
        if found.messages or found.rated or found.first_ticket_id is not None
    }


def rows(conversation_id: int, day: date, found: DaySummary) -> tuple[list[dict[str, Any]], ...]:
    key = {"conversation_id": conversation_id, "day": day}
    customers = [{**key, "customer_id": customer} for customer in sorted(found.customers)]
    entries = [
        {**key, "faq_id": faq_id, **vars(counts)}
        for faq_id, counts in sorted(found.entries.items())
    ]
    return [{**key, **found.columns()}], customers, entries


def _insert(dialect: str, table: Any) -> Any:
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


async def rollup_zone(session: AsyncSession, lock: bool = False) -> ZoneInfo | None:
    """The time zone the roll-up's days are in; ``None`` when it was never built.

    ``lock``: share-lock the state row (PostgreSQL) so that no rebuild runs until the
    transaction ends (what every writer of the roll-up does first)."""
    query = select(InsightsRollup.timezone).where(InsightsRollup.id == STATE_ID)
    if lock:
        query = query.with_for_update(read=True)
    name = await session.scalar(query)
    return None if name is None else ZoneInfo(name)


async def refresh(
    session: AsyncSession, conversation_id: int, instants: Iterable[datetime]
) -> None:
    """Recompute the roll-up of ``conversation_id`` on the days of ``instants`` from the raw
    rows (see the module's docstring); nothing while the roll-up was never built.

    Args:
        session: the writer's session, in its transaction (the caller commits).
        conversation_id: the conversation written to.
        instants: when what was written happened (a message's timestamp, a ticket's opening).
    """
    zone = await rollup_zone(session, lock=True)
    if zone is None:
        return
    for day in sorted({local_day(instant, zone) for instant in instants}):
        await _refresh_day(session, conversation_id, day, zone)


async def _refresh_day(
    session: AsyncSession, conversation_id: int, day: date, zone: ZoneInfo
) -> None:
    dialect = session.get_bind().dialect.name
    key = (ConversationDay.conversation_id == conversation_id, ConversationDay.day == day)
    placeholder = {"conversation_id": conversation_id, "day": day}
    await session.execute(
        _insert(dialect, ConversationDay).values(placeholder).on_conflict_do_nothing()
    )
    await session.execute(select(ConversationDay.day).where(*key).with_for_update())
    start, end = local_midnight(day, zone), local_midnight(day + timedelta(days=1), zone)
    mine = (Interaction.conversation_id == conversation_id, Interaction.direction == CUSTOMER)
    of_day = list(
        await session.execute(
            select(*MESSAGE_COLUMNS).where(
                *mine, Interaction.timestamp >= start, Interaction.timestamp < end
            )
        )
    )
    answers = [m.id for m in of_day if m.faq_decision == ANSWER]
    later: list[Any] = []
    if answers:  # what may carry their verdicts
        later = list(
            await session.execute(
                select(*MESSAGE_COLUMNS).where(
                    *mine,
                    Interaction.id > min(answers),
                    or_(Interaction.faq_decision == ANSWER, Interaction.feedback.in_(VERDICTS)),
                    or_(Interaction.timestamp < start, Interaction.timestamp >= end),
                )
            )
        )
    first_ticket = await session.scalar(
        select(func.min(Ticket.id)).where(
            Ticket.conversation_id == conversation_id,
            Ticket.created_at >= start,
            Ticket.created_at < end,
        )
    )
    tickets = [] if first_ticket is None else [(first_ticket, start)]
    found = summarise(of_day + later, tickets, zone, only=day).get(day)
    for table in (CustomerDay, EntryDay):
        await session.execute(
            delete(table).where(table.conversation_id == conversation_id, table.day == day)
        )
    if found is None:
        await session.execute(delete(ConversationDay).where(*key))
        return
    _, customers, entries = rows(conversation_id, day, found)
    await session.execute(update(ConversationDay).where(*key).values(found.columns()))
    for table, written in ((CustomerDay, customers), (EntryDay, entries)):
        if written:
            await session.execute(insert(table), written)


async def move_customer(session: AsyncSession, source_id: int, target_id: int) -> None:
    """The days customer ``source_id`` wrote on become ``target_id``'s (an anonymous profile
    merged into the one its owner proved to be theirs); ``source_id`` keeps none."""
    dialect = session.get_bind().dialect.name
    target = literal(target_id, Integer)
    moved = select(CustomerDay.conversation_id, CustomerDay.day, target).where(
        CustomerDay.customer_id == source_id
    )
    await session.execute(
        _insert(dialect, CustomerDay)
        .from_select(["conversation_id", "day", "customer_id"], moved)
        .on_conflict_do_nothing()
    )
    await session.execute(delete(CustomerDay).where(CustomerDay.customer_id == source_id))
