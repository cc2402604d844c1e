"""The web service (aiohttp, port 8000): health, the ingestion worker, later the agent console.

>>> app = create_app(Settings())  # doctest: +SKIP
>>> web.run_app(app, host="127.0.0.1", port=8000)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db import create_engine, session_factory
from bot.ingestion import IngestionWorker, Ingestor
from bot.rabbitmq import RabbitMQIngestionWorker
from bot.settings import Settings

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
INGESTION = web.AppKey("ingestion", IngestionWorker | RabbitMQIngestionWorker)


async def health(request: web.Request) -> web.Response:
    """200 when the database answers; includes how many events wait to be ingested."""
    try:
        async with request.app[SESSIONS]() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:  # any database failure makes the service unhealthy
        log.warning("health check: database unavailable: %s", exc)
        return web.json_response({"status": "error", "database": "unavailable"}, status=503)
    worker = request.app[INGESTION]
    try:
        pending = await worker.pending()
    except Exception as exc:
        log.warning("health check: event broker unavailable: %s", exc)
        pending = None
    return web.json_response(
        {
            "status": "ok",
            "database": "ok",
            "ingestion": {"pending": pending, "stored": worker.stored},
        }
    )


async def _database(app: web.Application) -> AsyncIterator[None]:
    engine = create_engine(app[SETTINGS].database_url)
    app[ENGINE] = engine
    app[SESSIONS] = session_factory(engine)
    yield
    await engine.dispose()


async def _ingestion(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    ingestor = Ingestor(settings.identity_secret.get_secret_value(), redact_pii=settings.redact_pii)
    broker_url = settings.event_broker_url.get_secret_value()
    worker: IngestionWorker | RabbitMQIngestionWorker
    if broker_url:
        worker = RabbitMQIngestionWorker(
            app[SESSIONS],
            ingestor,
            broker_url,
            settings.event_queue,
            interval=settings.ingest_interval,
            batch=settings.ingest_batch,
        )
    else:
        worker = IngestionWorker(
            app[SESSIONS],
            ingestor,
            interval=settings.ingest_interval,
            batch=settings.ingest_batch,
        )
    app[INGESTION] = worker
    task = asyncio.create_task(worker.run(), name="ingestion")
    yield
    worker.stop()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def create_app(settings: Settings) -> web.Application:
    app = web.Application()
    app[SETTINGS] = settings
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_ingestion)
    app.router.add_get("/health", health)
    return app
