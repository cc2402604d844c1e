"""Two web services, each running the outbox delivery, bring every queued agent reply to the
customer once and in order (Rasa's lock, shared in Redis, serialises their deliveries of one
conversation; the delivery action skips what the conversation already holds)."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.store.db import create_engine, session_factory
from bot.store.models import Conversation, OutboxMessage
from testkit.customers import Customer
from tests.support.cluster import ClusterRun

pytestmark = pytest.mark.integration

REPLIES = 6


async def _conversation_id(database_url: str, sender: str, timeout: float = 60) -> int:
    """The conversation's row, once ingestion (on either web service) has stored it."""
    engine = create_engine(database_url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            async with session_factory(engine)() as session:
                found = await session.scalar(
                    select(Conversation.id).where(Conversation.sender_id == sender)
                )
            if found is not None:
                return found
            assert time.monotonic() < deadline, f"conversation {sender} never ingested"
            await asyncio.sleep(0.3)
    finally:
        await engine.dispose()


async def _queue(database_url: str, conversation_id: int, texts: list[str]) -> None:
    """What the console does when an agent replies: a row per reply, due now."""
    engine = create_engine(database_url)
    now = datetime.now(UTC)
    try:
        async with session_factory(engine)() as session, session.begin():
            for text in texts:
                session.add(
                    OutboxMessage(
                        conversation_id=conversation_id,
                        agent_name="Nina",
                        text=text,
                        created_at=now,
                        next_attempt_at=now,
                    )
                )
    finally:
        await engine.dispose()


async def _undelivered(database_url: str, conversation_id: int) -> int:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            rows = await session.scalars(
                select(OutboxMessage.id).where(
                    OutboxMessage.conversation_id == conversation_id,
                    OutboxMessage.delivered_at.is_(None),
                )
            )
            return len(rows.all())
    finally:
        await engine.dispose()


async def test_two_web_services_deliver_each_queued_reply_once_in_order(cluster: ClusterRun):
    marker = uuid.uuid4().hex[:6]
    texts = [f"Nina here ({marker}), reply {i}." for i in range(REPLIES)]
    async with Customer(cluster.rasa_url) as customer:
        await customer.say("Where is my order?")
        await customer.hear("", timeout=60)
        conversation_id = await _conversation_id(cluster.database_url, customer.sender_id)
        executes_before = _executes(cluster)
        await _queue(cluster.database_url, conversation_id, texts)
        heard: list[str] = []
        deadline = time.monotonic() + 60
        while len(heard) < REPLIES:
            assert time.monotonic() < deadline, f"heard only {heard}"
            heard.append((await customer.hear(f"Nina here ({marker})", timeout=60))["text"])
        await asyncio.sleep(3)  # a second delivery would arrive by now
        late = [customer.received.get_nowait() for _ in range(customer.received.qsize())]
    heard += [m["text"] for m in late if marker in (m.get("text") or "")]
    assert heard == texts
    assert await _undelivered(cluster.database_url, conversation_id) == 0
    # Both web services ran the delivery: more calls than rows mean they met on a row.
    print(
        f"delivery calls through nginx for {REPLIES} rows: {_executes(cluster) - executes_before}"
    )


def _executes(cluster: ClusterRun) -> int:
    return sum(1 for e in cluster.access_log() if e["uri"].endswith("/execute"))
