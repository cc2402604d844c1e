"""/health says "degraded" when ingestion stalls or the database is down, with its figures."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.settings import Settings
from bot.store.db import create_engine, session_factory
from bot.store.models import DeadLetter
from bot.web.app import health
from bot.web.keys import INGESTION, SESSIONS, SETTINGS
from bot.workers.ingestion import Ingestor
from bot.workers.sql_broker import IngestionWorker
from tests.bot.workers.test_ingestion import SECRET, publish, user

STALL = 0.3


class BrokenDatabaseIngestor(Ingestor):
    """Every store fails as when the database drops the connection mid-batch."""

    async def store(self, session, sender_id, event):
        raise ConnectionResetError("connection reset by peer")


@contextlib.asynccontextmanager
async def health_client(sessions, worker, database_url):
    app = web.Application()
    app[SETTINGS] = Settings(database_url=database_url, ingest_stall_seconds=STALL)
    app[SESSIONS] = sessions
    app[INGESTION] = worker
    app.router.add_get("/health", health)
    task = asyncio.create_task(worker.run())
    try:
        async with TestClient(TestServer(app)) as client:
            yield client
    finally:
        worker.stop()
        await task


async def get_health(client) -> tuple[int, dict]:
    response = await client.get("/health")
    return response.status, await response.json()


async def test_a_worker_that_keeps_up_is_ok_with_its_figures(sessions, database_url):
    await publish(sessions, "web-h1", [user("hello")])
    async with sessions() as session, session.begin():
        session.add(
            DeadLetter(
                source="sql", sender_id="web-h0", data="{", reason="x", created_at=datetime.now(UTC)
            )
        )
    worker = IngestionWorker(sessions, Ingestor(SECRET), interval=0.02)
    async with health_client(sessions, worker, database_url) as client:
        await asyncio.sleep(STALL * 2)
        status, body = await get_health(client)
    assert status == 200, body
    assert body["status"] == "ok" and "reason" not in body and body["database"] == "ok"
    assert body["dead_letters"] == 1
    ingestion = body["ingestion"]
    assert ingestion["pending"] == 0 and ingestion["stored"] == 1
    assert ingestion["dead_lettered"] == 0 and ingestion["failures"] == 0
    assert ingestion["seconds_since_drain"] < STALL
    assert datetime.fromisoformat(ingestion["last_drain_at"]) <= datetime.now(UTC)


async def test_events_pending_while_every_drain_fails_is_degraded(sessions, database_url):
    await publish(sessions, "web-h2", [user("hello"), user("anyone?")])
    worker = IngestionWorker(sessions, BrokenDatabaseIngestor(SECRET), interval=0.02)
    async with health_client(sessions, worker, database_url) as client:
        status, body = await get_health(client)
        assert status == 200, body  # not yet: a stall is measured from the worker's start
        await asyncio.sleep(STALL * 2)
        status, body = await get_health(client)
    assert status == 503, body
    assert body["status"] == "degraded" and body["database"] == "ok"
    assert body["reason"].startswith("2 events pending and none consumed for")
    assert body["ingestion"]["pending"] == 2 and body["ingestion"]["last_drain_at"] is None
    assert body["ingestion"]["failures"] >= 1 and body["dead_letters"] == 0


async def test_an_idle_worker_with_nothing_pending_is_ok(sessions, database_url):
    worker = IngestionWorker(sessions, BrokenDatabaseIngestor(SECRET), interval=0.02)
    async with health_client(sessions, worker, database_url) as client:
        await asyncio.sleep(STALL * 2)
        status, body = await get_health(client)
    assert status == 200 and body["ingestion"]["pending"] == 0, body


@pytest.mark.parametrize("database_url", ["postgresql://nobody@127.0.0.1:1/nothing"])
async def test_a_database_that_does_not_answer_is_degraded(database_url):
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    worker = IngestionWorker(sessions, Ingestor(SECRET), interval=0.02)
    try:
        async with health_client(sessions, worker, database_url) as client:
            status, body = await get_health(client)
    finally:
        await engine.dispose()
    assert status == 503, body
    assert body["status"] == "degraded" and body["database"] == "unavailable"
    assert body["reason"] == "the database is unavailable"
    assert body["dead_letters"] is None and body["ingestion"]["pending"] is None
