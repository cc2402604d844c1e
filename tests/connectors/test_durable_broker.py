"""A Rasa server killed right after answering: the events of what it answered are in RabbitMQ.

The broker runs inside Rasa (Python 3.10, aio-pika 8), which the test venv does not have. So
the scenario runs under Rasa's python (``.venv-rasa/bin/python
tests/connectors/test_durable_broker.py AMQP_URL EXCHANGE QUEUE COUNT``): it publishes half of
``COUNT`` events before the broker is connected and half after, waits as a channel does before
answering (:func:`connectors.durable_broker.events_settled`), and dies at once (``os._exit``,
no cleanup, like ``kill -9``). The test then counts the messages in the queue. Rasa's own
PikaEventBroker, in the same scenario, left 0 of 200 in the queue.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from types import SimpleNamespace
from urllib.parse import urlsplit

from tests.support.rasa_python import run_under_rasa, skip_without_rasa

RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
EVENTS = 200


# --- the scenario (Rasa's python) ---------------------------------------------------------------


async def _publish_settle_and_die(amqp_url: str, exchange: str, queue: str, count: int) -> None:
    from rasa.core.tracker_store import (
        AwaitableTrackerStore,
        FailSafeTrackerStore,
        InMemoryTrackerStore,
    )
    from rasa.shared.core.domain import Domain

    from connectors.durable_broker import DurableEventBroker, events_settled

    url = urlsplit(amqp_url)
    broker = DurableEventBroker(
        url.hostname or "127.0.0.1",
        url.username or "guest",
        url.password or "guest",
        port=url.port or 5672,
        queues=[queue],
        exchange_name=exchange,
        connection_attempts=1,
    )
    events = [{"event": "user", "text": f"message {n}", "sender_id": "s"} for n in range(count)]
    for event in events[: count // 2]:  # before the connection is up
        broker.publish(event)
    await broker.connect()
    for event in events[count // 2 :]:
        broker.publish(event)
    # As a channel does: the broker found through Rasa's agent, behind the wrapped tracker store.
    store = AwaitableTrackerStore(
        FailSafeTrackerStore(InMemoryTrackerStore(Domain.empty(), broker))
    )
    await events_settled(SimpleNamespace(tracker_store=store), "s", timeout=30)
    print(json.dumps({"settled": not broker._unconfirmed}), flush=True)
    os._exit(0)  # no close, no flush of anything in flight: a kill -9 right after answering


# --- the test (the test venv) -------------------------------------------------------------------


async def _queue_length(queue: str, exchange: str) -> int:
    import aio_pika

    connection = await aio_pika.connect(RABBITMQ_URL, timeout=5)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        count = declared.declaration_result.message_count
        await channel.queue_delete(queue)
        await channel.exchange_delete(exchange)
    return int(count or 0)


async def _rabbitmq_or_skip() -> None:
    import aio_pika
    import pytest

    try:
        connection = await aio_pika.connect(RABBITMQ_URL, timeout=5)
    except Exception as exc:  # no server: skip, and say why
        pytest.skip(f"no RabbitMQ at {RABBITMQ_URL} ({exc}); set TEST_RABBITMQ_URL")
    await connection.close()


async def test_events_settled_before_a_crash_are_all_in_rabbitmq():
    skip_without_rasa()
    await _rabbitmq_or_skip()
    name = f"test-durable-{uuid.uuid4().hex}"
    try:
        seen = await asyncio.to_thread(
            run_under_rasa, __file__, RABBITMQ_URL, name, name, str(EVENTS)
        )
    finally:
        in_queue = await _queue_length(name, name)  # and deletes the queue, whatever happened
    assert seen["settled"] is True
    assert in_queue == EVENTS


if __name__ == "__main__":
    asyncio.run(_publish_settle_and_die(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
