"""Rasa's RabbitMQ event broker, with a way to wait until RabbitMQ has the events.

Rasa's :class:`~rasa.core.brokers.pika.PikaEventBroker` publishes in the background: a turn is
answered before RabbitMQ holds its events, and an event published while the connection is down
(or not up yet) is dropped. A ``kill -9`` of the Rasa server in those seconds loses messages the
customer saw answered. :class:`DurableEventBroker` keeps every event until RabbitMQ confirms it
(publisher confirms, on by default on aio-pika's channels), publishes what it kept once the
connection is back, and offers :meth:`DurableEventBroker.settle`: the channels await
:func:`events_settled` after a turn and before they answer, so that an answered message is in
RabbitMQ. Delivery is at least once: an event whose confirmation was lost with the connection is
published again (the ingestion worker skips events it has).

The connection runs on an event loop of its own, in a thread, so that confirmations come while
the Rasa server's loop is busy with NLU (on that loop, 50 conversations on 2 servers had every
turn's events confirmed only after :data:`SETTLE_TIMEOUT`, and a kill then lost them).

endpoints.yml (written by ``python -m bot run`` when ``EVENT_BROKER_URL`` is set)::

    event_broker:
      type: connectors.durable_broker.DurableEventBroker
      url: rabbitmq
      port: 5672
      username: shop
      password: ${RASA_BROKER_PASSWORD}
      queues:
        - shop_assistant_events

In a channel, after ``await on_new_message(...)``::

    await events_settled(agent, sender_id)
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from concurrent.futures import Future
from typing import Any

from rasa.core.brokers.pika import PikaEventBroker

log = logging.getLogger(__name__)

# How long a turn's answer waits for RabbitMQ before it goes out all the same (the events are in
# Rasa's tracker store then, and RabbitMQ gets them once it is back, unless the server dies).
SETTLE_TIMEOUT = 5.0
# While waiting, how often what could not be published is tried again.
RETRY_INTERVAL = 0.5

_Kept = tuple[dict[str, Any], "dict[str, str] | None", "Future[None]"]


class DurableEventBroker(PikaEventBroker):
    """A :class:`PikaEventBroker` that keeps each event until RabbitMQ has confirmed it.

    Its connection runs on an event loop of its own, in a thread (``rabbitmq-events``): on
    the Rasa server's loop, busy with NLU, a turn's events took turns of that loop for every
    frame written and every confirmation read, behind every other conversation's events, and
    were confirmed long after SETTLE_TIMEOUT (50 conversations on 2 servers: every turn).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        io_loop = asyncio.new_event_loop()
        kwargs["event_loop"] = io_loop  # not the Rasa server's: see the class
        super().__init__(*args, **kwargs)
        self._io_thread = threading.Thread(
            target=io_loop.run_forever, name="rabbitmq-events", daemon=True
        )
        self._io_thread.start()
        # By conversation (the events' sender_id): a turn waits for its own events, not for
        # everything the other conversations published meanwhile. Shared by both threads.
        self._unconfirmed: dict[str, set[Future[None]]] = {}
        self._unconfirmed_lock = threading.Lock()
        self._kept: deque[_Kept] = deque()  # the connection's thread only

    async def connect(self) -> None:
        """Connects to RabbitMQ, then publishes what was kept while there was no connection."""
        await asyncio.wrap_future(
            asyncio.run_coroutine_threadsafe(self._connect_here(), self._loop)
        )

    async def _connect_here(self) -> None:
        await super().connect()
        self._publish_unpublished_messages()

    async def close(self) -> None:
        """Closes the connection and ends its thread."""
        try:
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(super().close(), self._loop))
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)

    def publish(self, event: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        """Publishes ``event`` in the background; :meth:`settle` waits for its confirmation."""
        confirmed: Future[None] = Future()
        sender = str(event.get("sender_id"))
        with self._unconfirmed_lock:
            self._unconfirmed.setdefault(sender, set()).add(confirmed)
        confirmed.add_done_callback(lambda done: self._forget(sender, done))
        self._loop.call_soon_threadsafe(self._send, (event, headers, confirmed))

    def _forget(self, sender: str, confirmed: Future[None]) -> None:
        with self._unconfirmed_lock:
            waiting = self._unconfirmed.get(sender)
            if waiting is not None:
                waiting.discard(confirmed)
                if not waiting:
                    del self._unconfirmed[sender]

    def _send(self, kept: _Kept) -> None:
        task = self._loop.create_task(self._deliver(kept))
        self._background_tasks.add(task)
        task.add_done_callback(self._background_tasks.discard)

    async def _deliver(self, kept: _Kept) -> None:
        event, headers, confirmed = kept
        if self._exchange is None or not self.is_ready():
            self._kept.append(kept)
            return
        try:
            await self._exchange.publish(self._message(event, headers), "")
        except Exception as exc:  # connection lost, channel closed, nack: all kept for later
            log.warning("event not in RabbitMQ yet (%r): kept, published again later", exc)
            self._kept.append(kept)
            return
        if not confirmed.done():
            confirmed.set_result(None)

    def _publish_unpublished_messages(self, *_: Any, **__: Any) -> None:
        """Publishes what was kept (also Rasa's callback when the connection is back)."""
        while self._kept:
            self._send(self._kept.popleft())

    def _retry_kept(self) -> None:
        if self._kept and self._exchange is not None and self.is_ready():
            self._publish_unpublished_messages()

    async def settle(self, timeout: float = SETTLE_TIMEOUT, sender_id: str | None = None) -> bool:
        """Waits until RabbitMQ has confirmed every event published so far (of the conversation
        ``sender_id``; None: of all).

        Events kept while RabbitMQ was away are published again meanwhile, every
        :data:`RETRY_INTERVAL` seconds.

        Args:
            timeout: seconds to wait at most (default :data:`SETTLE_TIMEOUT`).

        Returns:
            True when all were confirmed; False after ``timeout`` (an error is logged: the
            events are in Rasa's tracker store and still go to RabbitMQ once it is back, but a
            crash before then loses them from the event stream).
        """
        with self._unconfirmed_lock:
            if sender_id is None:
                waiting = {f for futures in self._unconfirmed.values() for f in futures}
            else:
                waiting = set(self._unconfirmed.get(sender_id, ()))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while waiting := {f for f in waiting if not f.done()}:
            remaining = deadline - loop.time()
            if remaining <= 0:
                log.error(
                    "RabbitMQ has not confirmed %d events within %.1f s: answering anyway "
                    "(they are in the tracker store; kept for RabbitMQ)",
                    len(waiting),
                    timeout,
                )
                return False
            self._loop.call_soon_threadsafe(self._retry_kept)
            await asyncio.wait(
                [asyncio.wrap_future(f) for f in waiting], timeout=min(remaining, RETRY_INTERVAL)
            )
        return True


def event_broker_of(agent: Any) -> Any:
    """The event broker of Rasa's ``agent``, through the tracker store's wrappers, or None."""
    store = getattr(agent, "tracker_store", None)
    while store is not None:
        broker = getattr(store, "event_broker", None)
        if broker is not None:
            return broker
        store = getattr(store, "_tracker_store", None)  # AwaitableTrackerStore, FailSafe...
    return None


async def events_settled(
    agent: Any, sender_id: str | None = None, timeout: float = SETTLE_TIMEOUT
) -> None:
    """Waits until the events of the turns handled so far (of the conversation ``sender_id``;
    None: of every conversation) are stored by the event broker: confirmed by RabbitMQ (see the
    module), or written by :class:`connectors.sql_broker.BatchedSqlEventBroker`.

    With another broker (Rasa's own write before they return) or none, returns at once.
    """
    broker = event_broker_of(agent)
    settle = getattr(broker, "settle", None)
    if settle is not None:
        await settle(timeout, sender_id)
