"""Rasa's SQL event broker, writing each saved turn's events in one transaction, off the event loop.

Rasa's :class:`~rasa.core.brokers.sql.SQLEventBroker` commits every event on its own, inside
the Rasa server's event loop: a turn publishes a dozen events twice (when the customer's message
is logged and when the turn is saved), and with SQLite each commit waits for the disk and for
the other writers of the application database (the ingestion worker, the web service). Under
load that was half of everything the Rasa server did, and every conversation waited for it.

:class:`BatchedSqlEventBroker` collects what one save publishes (Rasa publishes a save's events
one after another, without giving the event loop a turn in between) and writes them in one
transaction in a thread, batch after batch in the order they were published. SQLite
connections commit with ``synchronous=NORMAL`` in WAL mode: a committed turn survives a crash
of any process, not a power cut. A batch that cannot be written (the database locked, or
away) is kept and tried again until it is written. As with
:class:`connectors.durable_broker.DurableEventBroker`, the channels await
:func:`connectors.durable_broker.events_settled` before they answer, so that an answered
message is in the ``events`` table.

endpoints.yml (written by ``python -m bot run`` without ``EVENT_BROKER_URL``)::

    event_broker:
      type: connectors.sql_broker.BatchedSqlEventBroker
      dialect: sqlite
      db: /srv/shop-assistant/var/app.db
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from rasa.core.brokers.sql import SQLEventBroker
from sqlalchemy import event

log = logging.getLogger(__name__)

# How long a turn's answer waits for its events to be written before it goes out all the same
# (they are in Rasa's tracker store then, and written once the database takes them).
SETTLE_TIMEOUT = 5.0
# After a failed write, the first wait before the next try, and the longest.
RETRY_FIRST = 0.05
RETRY_LONGEST = 2.0


def sqlite_pragmas(connection: Any, _record: Any) -> None:
    """WAL, commits that survive a process's crash without waiting for the disk, and a wait
    for other writers (an engine's ``connect`` listener)."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class BatchedSqlEventBroker(SQLEventBroker):
    """A :class:`SQLEventBroker` that writes a save's events together, in a thread."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", sqlite_pragmas)
        self._batch: list[dict[str, Any]] = []
        self._last_write: asyncio.Task[None] | None = None

    def publish(self, event: dict[str, Any]) -> None:
        """Queues ``event`` for the current batch; written once the publishing code yields.

        Outside an event loop (Rasa's command-line tools), writes it at once.
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._write([event])
            return
        if not self._batch:
            loop.call_soon(self._start_write)
        self._batch.append(event)

    def _start_write(self) -> None:
        if not self._batch:  # already started by settle()
            return
        batch, self._batch = self._batch, []
        self._last_write = asyncio.get_running_loop().create_task(
            self._write_after(self._last_write, batch)
        )

    async def _write_after(
        self, previous: asyncio.Task[None] | None, batch: list[dict[str, Any]]
    ) -> None:
        if previous is not None:
            await asyncio.wait([previous])  # batches are written in the order published
        wait = RETRY_FIRST
        while True:
            try:
                await asyncio.to_thread(self._write, batch)
                return
            except Exception as exc:  # locked, or the database away: kept, tried again
                log.warning("%d events not written yet (%r): trying again", len(batch), exc)
                await asyncio.sleep(wait)
                wait = min(wait * 2, RETRY_LONGEST)

    def _write(self, batch: list[dict[str, Any]]) -> None:
        with self.session_scope() as session:
            session.add_all(
                self.SQLBrokerEvent(sender_id=e.get("sender_id"), data=json.dumps(e)) for e in batch
            )
            session.commit()

    async def settle(self, timeout: float = SETTLE_TIMEOUT, sender_id: str | None = None) -> bool:
        """Waits until every event published so far is written (``sender_id`` is accepted for
        the channels' sake: batches are written in order, so all are waited for).

        Returns:
            True when they were; False after ``timeout`` (an error is logged: they are in the
            tracker store and are written once the database takes them, unless the server dies
            before).
        """
        if self._batch:  # published in this very step: start their write now
            self._start_write()
        last = self._last_write
        if last is None or last.done():
            return True
        started = time.monotonic()
        done, _ = await asyncio.wait([last], timeout=timeout)
        if not done:
            log.error(
                "events not written within %.1f s: answering anyway (they are in the tracker "
                "store and are written once the database takes them)",
                time.monotonic() - started,
            )
            return False
        return True

    async def close(self) -> None:
        """Writes what is still queued (for at most :data:`SETTLE_TIMEOUT`)."""
        await self.settle()
