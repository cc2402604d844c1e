"""The web service's application keys, shared by its parts (health, ingestion, console).

The root application holds them all; the console's sub-applications read them with
``request.config_dict[KEY]``, which looks in the sub-application first, then in the root.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.domain.faq_lookup import FaqLookup
from bot.settings import Settings
from bot.web.bus import EventBus
from bot.web.bus_relay import BusRelay
from bot.workers.delivery import OutboxDelivery
from bot.workers.rabbitmq import RabbitMQIngestionWorker
from bot.workers.sql_broker import IngestionWorker

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
INGESTION = web.AppKey("ingestion", IngestionWorker | RabbitMQIngestionWorker)
BUS = web.AppKey("bus", EventBus)
# Set when REDIS_URL is: what carries the bus's notices to and from the other web services.
BUS_RELAY = web.AppKey("bus_relay", BusRelay)
DELIVERY = web.AppKey("delivery", OutboxDelivery)
FAQ = web.AppKey("faq", FaqLookup)
# The console's sub-applications, as the root application mounted them (bot.web.console).
CONSOLE_APP = web.AppKey("console_app", web.Application)
AGENT_API = web.AppKey("agent_api", web.Application)
