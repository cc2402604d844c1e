"""The web services' ingestion workers store their batches in turn, on both databases."""

from __future__ import annotations

import asyncio

from bot.workers.deadletters import begin_batch


async def test_two_ingestion_batches_on_one_database_run_one_after_the_other(sessions):
    # Side by side on PostgreSQL, two web services' batches updated the same customers' rows in
    # different orders and deadlocked (seen in the cluster under load).
    first_open = asyncio.Event()
    order: list[str] = []

    async def batch(name: str, hold: float) -> None:
        async with sessions() as session, session.begin():
            await begin_batch(session)
            order.append(f"{name} begins")
            first_open.set()
            await asyncio.sleep(hold)
            order.append(f"{name} ends")

    first = asyncio.create_task(batch("first", 0.5))
    await first_open.wait()
    await batch("second", 0)
    await first
    assert order == ["first begins", "first ends", "second begins", "second ends"]
