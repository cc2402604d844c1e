"""The web service's application keys, shared by its parts (health, ingestion, console)."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.console.bus import EventBus
from bot.console.faq import FaqLookup
from bot.delivery import OutboxDelivery
from bot.ingestion import IngestionWorker
from bot.rabbitmq import RabbitMQIngestionWorker
from bot.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
INGESTION = web.AppKey("ingestion", IngestionWorker | RabbitMQIngestionWorker)
BUS = web.AppKey("bus", EventBus)
DELIVERY = web.AppKey("delivery", OutboxDelivery)
FAQ = web.AppKey("faq", FaqLookup)
