"""Ingestion from RabbitMQ, as Rasa's pika broker publishes: once each, even after a crash."""

from __future__ import annotations

import json
import os
import uuid

import aio_pika
import pytest

from bot.store.models import Interaction
from bot.workers.ingestion import Ingestor
from bot.workers.rabbitmq import RASA_EXCHANGE, RabbitMQIngestionWorker, declare_queue
from tests.bot.workers.test_ingestion import (
    SECRET,
    CrashingIngestor,
    PoisonedIngestor,
    answered_turn,
    count,
    dead_letters,
    timeline,
    user,
)

RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")


@pytest.fixture()
async def rabbitmq():
    try:
        connection = await aio_pika.connect(RABBITMQ_URL, timeout=5)
    except Exception as exc:  # no server: skip, and say why
        pytest.skip(f"no RabbitMQ at {RABBITMQ_URL} ({exc}); set TEST_RABBITMQ_URL")
    name = f"test-events-{uuid.uuid4().hex[:8]}"
    channel = await connection.channel()
    queue = await declare_queue(channel, name)
    exchange = await channel.get_exchange(RASA_EXCHANGE)

    async def publish(sender_id: str, events: list[dict]) -> None:
        for event in events:  # what Rasa's PikaEventBroker sends: persistent JSON messages
            body = json.dumps({"sender_id": sender_id, **event}).encode()
            message = aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
            await exchange.publish(message, routing_key="")

    async def publish_raw(body: bytes) -> None:
        message = aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
        await exchange.publish(message, routing_key="")

    publish.raw = publish_raw
    yield name, publish, queue
    await queue.delete(if_unused=False, if_empty=False)
    await connection.close()


async def connected_worker(sessions, queue_name, ingestor=None, batch=7):
    worker = RabbitMQIngestionWorker(
        sessions, ingestor or Ingestor(SECRET), RABBITMQ_URL, queue_name, batch=batch
    )
    connection = await aio_pika.connect(RABBITMQ_URL)
    channel = await connection.channel()
    worker._queue = await declare_queue(channel, queue_name)
    worker._connection = connection
    return worker, connection


async def test_messages_are_stored_once_and_acknowledged(sessions, rabbitmq):
    name, publish, _ = rabbitmq
    turn = answered_turn("where is my parcel?")
    await publish("web-q1", turn)
    await publish("web-q1", turn[:4])  # delivered again, as after a consumer crash
    worker, connection = await connected_worker(sessions, name)
    try:
        while await worker.drain_once():
            pass
        assert await worker.pending() == 0
    finally:
        await connection.close()
    texts = [i["text"] for i in (await timeline(sessions, "web-q1"))["interactions"]]
    assert texts == ["where is my parcel?", "answer to where is my parcel?"]
    assert (await timeline(sessions, "web-q1"))["interactions"][0]["faq_id"] == "order_track"


async def test_a_crash_before_the_commit_gives_every_message_back(sessions, rabbitmq):
    name, publish, _ = rabbitmq
    for n in range(3):
        await publish(f"web-q{n}", answered_turn(f"question {n}"))
    worker, connection = await connected_worker(
        sessions, name, CrashingIngestor(crash_at=12), batch=100
    )
    try:
        with pytest.raises(RuntimeError):
            await worker.drain_once()
    finally:
        await connection.close()
    assert await count(sessions, Interaction) == 0

    worker, connection = await connected_worker(sessions, name)
    try:
        assert await worker.pending() == 24  # all given back
        while await worker.drain_once():
            pass
    finally:
        await connection.close()
    for n in range(3):
        texts = [i["text"] for i in (await timeline(sessions, f"web-q{n}"))["interactions"]]
        assert texts == [f"question {n}", f"answer to question {n}"]


async def test_a_poison_message_is_set_aside_acknowledged_and_the_rest_stored(sessions, rabbitmq):
    name, publish, _ = rabbitmq
    await publish("web-r1", [user("before the poison")])
    surrogate = json.dumps({"sender_id": "web-r2", **user("lone XXX")}).encode()
    await publish.raw(surrogate.replace(b"XXX", b"\xed\xa0\x80"))  # json.loads takes it
    await publish.raw(b"\xff\xfe not JSON")
    await publish("web-r3", [user("poison")])
    await publish("web-r1", [user("after the poison")])
    worker, connection = await connected_worker(sessions, name, PoisonedIngestor(), batch=100)
    try:
        assert await worker.drain_once() == 5
        assert await worker.drain_once() == 0
    finally:
        await connection.close()
    worker, connection = await connected_worker(sessions, name)
    try:
        assert await worker.pending() == 0  # all acknowledged: nothing comes back
    finally:
        await connection.close()
    texts = [i["text"] for i in (await timeline(sessions, "web-r1"))["interactions"]]
    assert texts == ["before the poison", "after the poison"]
    texts = [i["text"] for i in (await timeline(sessions, "web-r2"))["interactions"]]
    assert texts == ["lone \ufffd\ufffd\ufffd"]
    letters = await dead_letters(sessions)
    assert [(d.source, d.sender_id, d.reason.split(":")[0]) for d in letters] == [
        ("rabbitmq", None, "JSONDecodeError"),
        ("rabbitmq", "web-r3", "ValueError"),
    ]
    assert letters[0].data == "\ufffd\ufffd not JSON"


async def test_a_message_that_keeps_crashing_the_worker_is_set_aside_in_the_end(sessions, rabbitmq):
    from bot.workers.deadletters import MAX_ATTEMPTS

    name, publish, _ = rabbitmq
    await publish("web-r4", [user("poison"), user("fine")])
    worker, connection = await connected_worker(
        sessions, name, PoisonedIngestor(RuntimeError), batch=100
    )
    try:
        for _ in range(MAX_ATTEMPTS - 1):
            with pytest.raises(RuntimeError):
                await worker.drain_once()
        assert await worker.drain_once() == 2
        assert await worker.drain_once() == 0
    finally:
        await connection.close()
    assert [d.reason for d in await dead_letters(sessions)] == [
        "RuntimeError: cannot store this event"
    ]
    assert [i["text"] for i in (await timeline(sessions, "web-r4"))["interactions"]] == ["fine"]


async def test_draining_before_connecting_says_so(sessions):
    worker = RabbitMQIngestionWorker(sessions, Ingestor(SECRET), RABBITMQ_URL, "never-declared")
    with pytest.raises(RuntimeError, match="not connected"):
        await worker.drain_once()
    assert await worker.pending() is None
