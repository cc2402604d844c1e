"""Two workers draining Rasa's SQL broker at once (two web services, or a test's worker beside
the app's) take different rows: every event is stored once and none is set aside."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.store.models import BrokerEvent, DeadLetter, Interaction
from bot.workers.ingestion import Ingestor
from bot.workers.sql_broker import IngestionWorker
from tests.bot.workers.test_ingestion import SECRET, publish, user


async def _count(sessions, model) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_competing_workers_store_every_event_once(sessions):
    events = [user(f"question number {n}") for n in range(60)]
    await publish(sessions, "web-competing", events)
    workers = [IngestionWorker(sessions, Ingestor(SECRET), batch=20) for _ in range(2)]
    for _ in range(10):
        await asyncio.gather(*(worker.drain_once() for worker in workers))
        if not await _count(sessions, BrokerEvent):
            break
    assert await _count(sessions, BrokerEvent) == 0
    assert await _count(sessions, DeadLetter) == 0
    assert await _count(sessions, Interaction) == len(events)
