"""Rasa's SQL event broker, drained: the default way events reach :mod:`bot.workers.ingestion`.

Rasa's SQL broker writes every tracker event as a row of the ``events`` table of the application
database. :class:`IngestionWorker` takes the oldest rows in batches; each batch is stored (by an
:class:`~bot.workers.ingestion.Ingestor`, one savepoint per event, see
:mod:`bot.workers.deadletters`) and its rows deleted in one transaction, so a crash at any point
neither loses nor doubles an event: the rows it had not committed are still there when it starts
again. (:mod:`bot.workers.rabbitmq` does the same for RabbitMQ.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, LargeBinary, cast, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.models import BrokerEvent
from bot.workers.deadletters import Delivery, Outcome, Quarantine, begin_batch
from bot.workers.health import Progress
from bot.workers.ingestion import Changes, Ingestor, Notify
from bot.workers.sanitise import decode_payload

log = logging.getLogger(__name__)


class BrokerRow(NamedTuple):
    id: int
    sender_id: str | None
    data: str


async def take_rows(session: AsyncSession, limit: int) -> list[BrokerRow]:
    """The oldest broker rows, whatever bytes they hold.

    SQLite stores whatever bytes a writer gives it, and its driver fails the whole query on
    text that is not UTF-8: there the columns are read as bytes and decoded here, undecodable
    bytes kept as lone surrogates for cleaning. PostgreSQL refuses such text when it is written.
    """
    sqlite = session.get_bind().dialect.name == "sqlite"
    sender: ColumnElement[Any] = BrokerEvent.sender_id.expression
    data: ColumnElement[Any] = BrokerEvent.data.expression
    if sqlite:
        sender, data = cast(sender, LargeBinary), cast(data, LargeBinary)
    query = select(BrokerEvent.id, sender, data).order_by(BrokerEvent.id).limit(limit)
    if not sqlite:
        # Another worker's batch holds its rows until it commits: take the next ones instead,
        # so that no event is stored twice (or set aside for the unique key it would break).
        # On SQLite the batch's BEGIN IMMEDIATE already keeps other workers out.
        query = query.with_for_update(skip_locked=True)
    result = await session.execute(query)
    return [
        BrokerRow(row_id, None if raw is None else decode_payload(raw), decode_payload(payload))
        for row_id, raw, payload in result.all()
    ]


class IngestionWorker:
    """Drains Rasa's SQL broker table into interactions until stopped.

    >>> worker = IngestionWorker(sessions, Ingestor(secret))  # doctest: +SKIP
    >>> task = asyncio.create_task(worker.run())  # doctest: +SKIP
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        ingestor: Ingestor,
        interval: float = 0.2,
        batch: int = 500,
        notify: Notify | None = None,
    ) -> None:
        self._sessions = sessions
        self._ingestor = ingestor
        self._interval = interval
        self._batch = batch
        self._notify = notify
        self._stopping = asyncio.Event()
        self._quarantine = Quarantine("sql", redact_pii=ingestor.redact_pii)
        self.progress = Progress()

    @property
    def stored(self) -> int:
        """Events stored since the worker started."""
        return self.progress.stored

    async def pending(self) -> int:
        """Events waiting in the broker table."""
        async with self._sessions() as session:
            return (await session.scalar(select(func.count()).select_from(BrokerEvent))) or 0

    async def drain_once(self) -> int:
        """Store and delete up to one batch of broker rows; the number of rows consumed.

        Raises:
            Exception: what failed the batch (rolled back: every row is still there), unless
                it was one event's fault, which sets that event aside (see :class:`Quarantine`).
        """
        self._ingestor.changes = Changes()
        outcomes: Counter[Outcome] = Counter()
        async with self._sessions() as session, session.begin():
            await begin_batch(session)
            rows = await take_rows(session, self._batch)
            for row in rows:
                delivery = Delivery(row.id, row.data, row.sender_id)
                outcomes[
                    await self._quarantine.ingest(session, delivery, self._ingestor.store)
                ] += 1
            if rows:
                consumed = [row.id for row in rows]
                await session.execute(delete(BrokerEvent).where(BrokerEvent.id.in_(consumed)))
        self._quarantine.forget(row.id for row in rows)
        self.progress.drained(outcomes[Outcome.STORED], outcomes[Outcome.SET_ASIDE])
        if self._notify is not None and rows:
            self._notify(self._ingestor.changes)
        return len(rows)

    async def run(self) -> None:
        delay = self._interval
        while not self._stopping.is_set():
            try:
                consumed = await self.drain_once()
                delay = self._interval
            except Exception:
                log.exception("ingestion failed; retrying in %.1f s", delay)
                self.progress.failed()
                consumed = 0
                delay = min(delay * 2, 10.0)
            if consumed < self._batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)

    def stop(self) -> None:
        self._stopping.set()
