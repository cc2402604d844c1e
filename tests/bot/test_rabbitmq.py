"""Ingestion from RabbitMQ, as Rasa's pika broker publishes: once each, even after a crash."""

from __future__ import annotations

import json
import os
import uuid

import aio_pika
import pytest

from bot.ingestion import Ingestor
from bot.models import Interaction
from bot.rabbitmq import RASA_EXCHANGE, RabbitMQIngestionWorker, declare_queue
from tests.bot.test_ingestion import SECRET, CrashingIngestor, answered_turn, count, timeline

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
