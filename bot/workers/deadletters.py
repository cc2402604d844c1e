"""Events that cannot be stored are set aside, so that they hold up nobody else's.

Both ingestion workers store a batch of events in one transaction (a crash loses and doubles
nothing) and each event in a SAVEPOINT of it (:meth:`Quarantine.ingest`). When an event fails:

- for what it holds (:func:`is_poison`: a payload that is not JSON, a value of the wrong type,
  data the database refuses), its savepoint is rolled back, it becomes a
  :class:`~bot.store.models.DeadLetter` in the same transaction and the batch goes on: its broker row
  is consumed, its message acknowledged, with the others;
- for anything else (the worker was killed, a bug), the whole batch rolls back and is retried,
  as before. An event that fails this way ``MAX_ATTEMPTS`` times is set aside all the same, so
  that nothing is retried forever;
- a lost connection (:func:`is_outage`) rolls the batch back too but is never held against the
  event it interrupted: retrying is right until the database is back, and /health reports the
  stall meanwhile (see :mod:`bot.workers.health`).

>>> quarantine = Quarantine("sql")  # doctest: +SKIP
>>> outcome = await quarantine.ingest(session, Delivery(row.id, row.data), ingestor.store)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import DataError, DBAPIError, DisconnectionError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.redaction import redact
from bot.store.models import DeadLetter
from bot.workers.sanitise import MAX_SENDER_CHARS, decode_payload, parse_event, storable

log = logging.getLogger(__name__)

# Failed attempts (each a rolled-back batch) before an event is set aside whatever the error.
MAX_ATTEMPTS = 3
MAX_REASON_CHARS = 500
# Errors raised by what an event holds: retrying cannot help.
POISON: tuple[type[BaseException], ...] = (
    ValueError,  # UnicodeError, JSONDecodeError, InvalidEvent among them
    TypeError,
    LookupError,
    AttributeError,
    ArithmeticError,
    RecursionError,
)
# SQLSTATE class 22, "data exception": a value the database refuses (PostgreSQL, as asyncpg
# reports it through SQLAlchemy).
DATA_EXCEPTION_CLASS = "22"
Store = Callable[[AsyncSession, object, dict[str, Any]], Awaitable[bool]]


class Outcome(str, Enum):
    STORED = "stored"
    IGNORED = "ignored"  # not an event we keep (actions, featurisation), or stored already
    SET_ASIDE = "set_aside"


@dataclass(frozen=True)
class Delivery:
    """One event as the broker delivered it.

    Attributes:
        key: what identifies it across attempts: the broker row's id, the message's digest.
        payload: the row's data or the message's body, as they came.
        sender_id: the broker row's sender id column; None: the event's ``sender_id`` field.
    """

    key: Hashable
    payload: bytes | str | None
    sender_id: str | None = None


def is_outage(exc: BaseException) -> bool:
    """True for a connection to the database that broke, which no event's content causes."""
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated) or isinstance(exc.orig, OSError)
    return isinstance(exc, DisconnectionError | OSError)


def is_poison(exc: BaseException) -> bool:
    """True when ``exc`` comes from what the event holds, so that no retry could store it."""
    if isinstance(exc, DBAPIError):
        state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        return isinstance(exc, DataError) or str(state or "").startswith(DATA_EXCEPTION_CLASS)
    if isinstance(exc, StatementError) and exc.orig is not None:  # a value that did not bind
        return is_poison(exc.orig)
    return isinstance(exc, POISON)


# The advisory lock key ingestion batches share on PostgreSQL (any constant no one else uses).
INGESTION_LOCK = 0x5B0_1E57


async def begin_batch(session: AsyncSession) -> None:
    """Open the batch's transaction now, so that the events' savepoints nest inside it.

    SQLite's driver begins a transaction only before a statement that writes: a SAVEPOINT
    issued first would open one of its own, and its RELEASE commit the batch so far, which a
    crash later in the batch could then not undo. IMMEDIATE takes the write lock at once, as
    the driver's implicit BEGIN did at the first write (waiting out Rasa's writes instead of
    failing to upgrade a read snapshot). On PostgreSQL the batch takes a transaction-level
    advisory lock: the web services' ingestion workers store their batches in turn, as the
    architecture has it (side by side, two batches updated the same customers' rows in
    different orders and deadlocked, and both were rolled back and redelivered).
    """
    connection = await session.connection()
    if connection.dialect.name == "sqlite":
        await connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif connection.dialect.name == "postgresql":
        await connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({INGESTION_LOCK})")


async def count_dead_letters(session: AsyncSession) -> int:
    """How many events have been set aside, all sources and times together."""
    return await session.scalar(select(func.count()).select_from(DeadLetter)) or 0


async def newest_dead_letters(
    session: AsyncSession, limit: int, after: tuple[datetime, int] | None = None
) -> list[DeadLetter]:
    """Up to ``limit`` dead letters, newest first (the higher id first among equal times).

    Args:
        session: the application database.
        limit: how many at most.
        after: ``(created_at, id)`` of the last one of the previous page, whose successors
            come; None for the newest.

    Returns:
        The rows, in that order.
    """
    query = select(DeadLetter)
    if after is not None:
        created_at, letter_id = after
        query = query.where(
            or_(
                DeadLetter.created_at < created_at,
                and_(DeadLetter.created_at == created_at, DeadLetter.id < letter_id),
            )
        )
    query = query.order_by(DeadLetter.created_at.desc(), DeadLetter.id.desc()).limit(limit)
    return list((await session.scalars(query)).all())


async def discard_dead_letter(session: AsyncSession, letter_id: int) -> bool:
    """Delete one dead letter (an operator has dealt with it); False when there is none."""
    letter = await session.get(DeadLetter, letter_id)
    if letter is None:
        return False
    await session.delete(letter)
    return True


class Quarantine:
    """Stores one delivery at a time in a savepoint and sets aside those that fail for good.

    Args:
        source: where the worker's events come from, ``"sql"`` or ``"rabbitmq"``.
        redact_pii: mask contacts in what is set aside too (REDACT_PII).
    """

    def __init__(self, source: str, redact_pii: bool = False) -> None:
        self.source = source
        self.redact_pii = redact_pii
        self._attempts: dict[Hashable, int] = {}

    async def ingest(self, session: AsyncSession, delivery: Delivery, store: Store) -> Outcome:
        """Parse and store ``delivery`` with ``store`` in a savepoint of the batch.

        Returns:
            What became of it; a failed event comes back as ``Outcome.SET_ASIDE``.

        Raises:
            Exception: whatever ``store`` raised that is not poison, before the event's
                ``MAX_ATTEMPTS``-th attempt: the caller rolls the whole batch back.
        """
        sender = delivery.sender_id
        try:
            async with session.begin_nested():
                event = parse_event(delivery.payload)
                sender = sender or event.get("sender_id")
                stored = await store(session, sender, event)
        except Exception as exc:
            if not self._condemns(delivery.key, exc):
                raise
            await self._set_aside(session, sender, delivery.payload, exc)
            return Outcome.SET_ASIDE
        return Outcome.STORED if stored else Outcome.IGNORED

    def forget(self, keys: Iterable[Hashable]) -> None:
        """Drop the failed attempts of deliveries that have been consumed."""
        for key in keys:
            self._attempts.pop(key, None)

    def _condemns(self, key: Hashable, exc: Exception) -> bool:
        if is_poison(exc):
            return True
        if is_outage(exc):
            return False
        self._attempts[key] = self._attempts.get(key, 0) + 1
        return self._attempts[key] >= MAX_ATTEMPTS

    async def _set_aside(
        self, session: AsyncSession, sender: object, payload: bytes | str | None, exc: Exception
    ) -> DeadLetter:
        data = storable(decode_payload(payload)) or ""
        reason = storable(f"{type(exc).__name__}: {exc}", MAX_REASON_CHARS) or ""
        if self.redact_pii:
            data, reason = redact(data) or "", redact(reason) or ""
        letter = DeadLetter(
            source=self.source,
            sender_id=storable(sender, MAX_SENDER_CHARS) if isinstance(sender, str) else None,
            data=data,
            reason=reason,
            created_at=datetime.now(UTC),
        )
        session.add(letter)
        await session.flush()
        # The type only: messages of database errors quote the customer's text.
        log.warning(
            "set aside a %s event as dead letter %d: %s", self.source, letter.id, type(exc).__name__
        )
        return letter
