"""Ingestion from RabbitMQ, when Rasa publishes through its pika event broker.

Rasa's ``PikaEventBroker`` publishes each event as a persistent JSON message to a fanout exchange
bound to durable queues. :class:`RabbitMQIngestionWorker` takes up to a batch of messages from
our queue, stores them in one transaction and acknowledges them only after the commit: a crash
before the acknowledgement makes RabbitMQ deliver them again, and their digests
(``Interaction.event_key``) keep them from being stored twice. Each message is stored in a
savepoint of the batch: one that cannot be stored is set aside as a dead letter and
acknowledged with the others (see :mod:`bot.workers.deadletters`), instead of coming back forever.

>>> worker = RabbitMQIngestionWorker(sessions, ingestor, "amqp://guest:guest@127.0.0.1/")  # doctest: +SKIP
>>> asyncio.create_task(worker.run())  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections import Counter

import aio_pika
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.workers.deadletters import Delivery, Outcome, Quarantine, begin_batch
from bot.workers.health import Progress
from bot.workers.ingestion import Changes, Ingestor, Notify

log = logging.getLogger(__name__)

# Rasa's PikaEventBroker declares this exchange (fanout, not durable); we declare it alike.
RASA_EXCHANGE = "rasa-exchange"


async def declare_queue(
    channel: aio_pika.abc.AbstractChannel, name: str
) -> aio_pika.abc.AbstractQueue:
    """The durable queue Rasa publishes to, bound to Rasa's exchange, as Rasa declares them."""
    exchange = await channel.declare_exchange(RASA_EXCHANGE, aio_pika.ExchangeType.FANOUT)
    queue = await channel.declare_queue(name, durable=True)
    await queue.bind(exchange)
    return queue


def _delivery(message: aio_pika.abc.AbstractIncomingMessage) -> Delivery:
    # A redelivered message has a new delivery tag: its body's digest tells it is the same.
    return Delivery(hashlib.sha256(message.body).hexdigest(), message.body)


class RabbitMQIngestionWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        ingestor: Ingestor,
        url: str,
        queue: str,
        interval: float = 0.2,
        batch: int = 500,
        notify: Notify | None = None,
    ) -> None:
        self._notify = notify
        self._sessions = sessions
        self._ingestor = ingestor
        self._url = url
        self._queue_name = queue
        self._interval = interval
        self._batch = batch
        self._stopping = asyncio.Event()
        self._queue: aio_pika.abc.AbstractQueue | None = None
        self._connection: aio_pika.abc.AbstractConnection | None = None
        self._quarantine = Quarantine("rabbitmq", redact_pii=ingestor.redact_pii)
        self.progress = Progress()

    @property
    def stored(self) -> int:
        """Events stored since the worker started."""
        return self.progress.stored

    async def pending(self) -> int | None:
        """Messages waiting in the queue (as RabbitMQ last counted them); None while the worker
        is not connected and cannot tell."""
        if self._connection is None:
            return None
        # A channel of its own: the worker's channel is busy getting and acknowledging.
        async with self._connection.channel() as channel:
            declared = await channel.declare_queue(self._queue_name, passive=True)
            return declared.declaration_result.message_count or 0

    async def drain_once(self) -> int:
        """Store and acknowledge up to one batch of messages; how many were taken."""
        if self._queue is None:
            raise RuntimeError("not connected to RabbitMQ: drain_once runs inside run()")
        messages: list[aio_pika.abc.AbstractIncomingMessage] = []
        while len(messages) < self._batch:
            message = await self._queue.get(no_ack=False, fail=False)
            if message is None:
                break
            messages.append(message)
        if not messages:
            self.progress.drained()
            return 0
        self._ingestor.changes = Changes()
        outcomes: Counter[Outcome] = Counter()
        deliveries = [_delivery(message) for message in messages]
        store = self._ingestor.store
        try:
            async with self._sessions() as session, session.begin():
                await begin_batch(session)
                for delivery in deliveries:
                    outcomes[await self._quarantine.ingest(session, delivery, store)] += 1
        except BaseException:
            for message in messages:  # give them back, in order, for the next attempt
                with contextlib.suppress(Exception):
                    await message.nack(requeue=True)
            raise
        await messages[-1].ack(multiple=True)
        self._quarantine.forget(delivery.key for delivery in deliveries)
        self.progress.drained(outcomes[Outcome.STORED], outcomes[Outcome.SET_ASIDE])
        if self._notify is not None:
            self._notify(self._ingestor.changes)
        return len(messages)

    async def run(self) -> None:
        delay = self._interval
        while not self._stopping.is_set():
            try:
                connection = await aio_pika.connect_robust(self._url)
                async with connection:
                    self._connection = connection
                    channel = await connection.channel()
                    await channel.set_qos(prefetch_count=self._batch)
                    self._queue = await declare_queue(channel, self._queue_name)
                    log.info("ingesting events from RabbitMQ queue %s", self._queue_name)
                    while not self._stopping.is_set():
                        taken = await self.drain_once()
                        delay = self._interval
                        if taken < self._batch:
                            with contextlib.suppress(TimeoutError):
                                await asyncio.wait_for(self._stopping.wait(), self._interval)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("RabbitMQ ingestion failed; retrying in %.1f s", delay)
                self.progress.failed()
                self._queue = self._connection = None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
                delay = min(delay * 2, 10.0)

    def stop(self) -> None:
        self._stopping.set()
