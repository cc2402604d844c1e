"""The web service (aiohttp, port 8000): health, ingestion, outbox delivery, the agent console.

:func:`create_app` builds it in layers:

- the root application: ``/health``, the widget's files, demo page and history
  (``/api/widget/history``, see :mod:`bot.web.widget`), the background work (ingestion, outbox
  delivery, the FAQ index) and the keys everything shares (:mod:`bot.web.keys`); its middlewares
  read the client's address behind trusted proxies (:mod:`bot.web.client_address`) and add the
  security headers to every answer of the service (:mod:`bot.web.headers`);
- two sub-applications of the console (:mod:`bot.web.console`), each with its own sign-in and
  CSRF middleware (:mod:`bot.web.console.security`): the pages at ``/console`` and the agents'
  JSON API at ``/api``.

aiohttp resolves the longest matching path first, so ``/api/widget/history`` (a root route,
open to anyone) is the widget's and every other ``/api/...`` path the agent API's.

>>> app = create_app(Settings())  # doctest: +SKIP
>>> web.run_app(app, host="127.0.0.1", port=8000)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.domain.auth import AuthError
from bot.domain.faq_lookup import FaqLookup
from bot.domain.first_admin import ensure_admin
from bot.domain.knowledge import rebuild_index
from bot.domain.mail.continuation import MailOptions
from bot.domain.mail.replies import StoredReply
from bot.settings import Settings
from bot.store.db import create_engine, session_factory
from bot.web import widget
from bot.web.bus import EventBus
from bot.web.bus_relay import BusRelay
from bot.web.client_address import forwarded_middleware, trusted_networks
from bot.web.console import API_PREFIX, CONSOLE_PREFIX, create_agent_api, create_console_app
from bot.web.headers import security_headers
from bot.web.keys import (
    AGENT_API,
    BUS,
    BUS_RELAY,
    CONSOLE_APP,
    DELIVERY,
    ENGINE,
    FAQ,
    INGESTION,
    SESSIONS,
    SETTINGS,
)
from bot.web.rate_limit import RATE_LIMITS, RateLimits
from bot.workers.deadletters import count_dead_letters
from bot.workers.delivery import OutboxDelivery
from bot.workers.health import assess, figures
from bot.workers.ingestion import Changes, Ingestor
from bot.workers.mail_inbound import MailReceiver, ReplyHandler
from bot.workers.mail_outbox import MailOutbox
from bot.workers.rabbitmq import RabbitMQIngestionWorker
from bot.workers.sql_broker import IngestionWorker

log = logging.getLogger(__name__)


async def health(request: web.Request) -> web.Response:
    """200 ``"ok"`` while the database answers and ingestion keeps up; 503 ``"degraded"``, with
    the reason, when the database is down or events wait and none has been consumed for
    INGEST_STALL_SECONDS (see :mod:`bot.workers.health`). Always the ingestion figures and the count of
    dead letters, the events set aside because they could not be stored."""
    worker = request.app[INGESTION]
    try:
        async with request.app[SESSIONS]() as session:
            dead_letters: int | None = await count_dead_letters(session)
    except Exception as exc:  # any database failure makes the service unhealthy
        log.warning("health check: database unavailable: %s", exc)
        dead_letters = None
    pending = await _pending(worker) if dead_letters is not None else None
    now = datetime.now(UTC)
    if dead_letters is None:
        reason: str | None = "the database is unavailable"
    else:
        reason = assess(
            worker.progress, pending, now, request.app[SETTINGS].ingestion.ingest_stall_seconds
        )
    body = {
        "status": "degraded" if reason else "ok",
        "database": "unavailable" if dead_letters is None else "ok",
        "ingestion": figures(worker.progress, pending, now),
        "dead_letters": dead_letters,
    }
    if reason:
        body["reason"] = reason
    return web.json_response(body, status=503 if reason else 200)


async def _pending(worker: IngestionWorker | RabbitMQIngestionWorker) -> int | None:
    """Events waiting in the broker, or None when it cannot be asked."""
    try:
        return await worker.pending()
    except Exception as exc:  # the broker being unreachable is reported, not raised
        log.warning("health check: event broker unavailable: %s", exc)
        return None


async def _database(app: web.Application) -> AsyncIterator[None]:
    engine = create_engine(app[SETTINGS].database.database_url)
    app[ENGINE] = engine
    app[SESSIONS] = session_factory(engine)
    yield
    await engine.dispose()


async def _first_admin(app: web.Application) -> AsyncIterator[None]:
    """ADMIN_USERNAME / ADMIN_PASSWORD create the first admin of a fresh deployment."""
    web_settings = app[SETTINGS].web
    try:
        async with app[SESSIONS]() as session, session.begin():
            made = await ensure_admin(
                session, web_settings.admin_username, web_settings.admin_password.get_secret_value()
            )
        if made:
            log.info("created the first admin, %r", made.username)
    except AuthError as exc:
        log.error("cannot create the first admin: %s", exc)
    yield


async def _faq_index(app: web.Application) -> AsyncIterator[None]:
    """Publish the FAQ with agents' additions before anyone searches it."""
    settings = app[SETTINGS]
    try:
        result = await rebuild_index(app[SESSIONS], [settings.web.faq_sources])
        log.info("FAQ index %s (%d entries) is current", result.version, result.entries)
    except Exception:
        log.exception(
            "cannot build the FAQ index from %s and the additions", settings.web.faq_sources
        )
    yield


def _notify_pages(bus: EventBus):
    def notify(changes: Changes) -> None:
        for ticket_id, agent_id in changes.handoffs.items():
            notice: dict[str, Any] = {"id": ticket_id, "change": "created"}
            if agent_id is not None:
                notice.update(assigned=True, assigned_agent_id=agent_id)
            bus.publish("ticket", notice)
        for sender_id in changes.conversations:
            bus.publish("conversation", {"conversation": sender_id})

    return notify


async def _bus_relay(app: web.Application) -> AsyncIterator[None]:
    """With REDIS_URL set, console pages see what happened on the other web services too."""
    redis_url = app[SETTINGS].wechat.redis_url.get_secret_value()
    if not redis_url:
        yield
        return
    relay = app[BUS_RELAY] = BusRelay(app[BUS], redis_url)
    task = asyncio.create_task(relay.run(), name="bus-relay")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _delivery(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    bus = app[BUS]
    delivery = OutboxDelivery(
        app[SESSIONS],
        settings.servers.rasa_url,
        settings.rasa.rasa_api_token.get_secret_value(),
        on_refused=lambda ticket_id: bus.publish(
            "ticket", {"id": ticket_id, "change": "undeliverable"}
        ),
        mail=MailOptions.from_settings(settings.mail),
    )
    app[DELIVERY] = delivery
    task = asyncio.create_task(delivery.run(), name="outbox-delivery")
    yield
    delivery.stop()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _ingestion(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    ingestor = Ingestor(
        settings.privacy.identity_secret.get_secret_value(), redact_pii=settings.privacy.redact_pii
    )
    broker_url = settings.ingestion.event_broker_url.get_secret_value()
    pacing = {
        "interval": settings.ingestion.ingest_interval,
        "batch": settings.ingestion.ingest_batch,
        "notify": _notify_pages(app[BUS]),
    }
    worker: IngestionWorker | RabbitMQIngestionWorker
    if broker_url:
        worker = RabbitMQIngestionWorker(
            app[SESSIONS], ingestor, broker_url, settings.ingestion.event_queue, **pacing
        )
    else:
        worker = IngestionWorker(app[SESSIONS], ingestor, **pacing)
    app[INGESTION] = worker
    task = asyncio.create_task(worker.run(), name="ingestion")
    yield
    worker.stop()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _mail(app: web.Application) -> AsyncIterator[None]:
    """E-mail continuity, as far as the settings turn it on: the mail outbox worker (SMTP_HOST
    set) and the receiver of customers' e-mailed answers (MAIL_INBOUND_PORT set)."""
    settings, bus = app[SETTINGS], app[BUS]

    def mail_failed(ticket_id: int | None) -> None:
        if ticket_id is not None:
            bus.publish("ticket", {"id": ticket_id, "change": "mail_failed"})

    def answered(stored: StoredReply) -> None:
        if stored.ticket_opened:  # the answer came after the ticket was resolved
            bus.publish("ticket", {"id": stored.ticket_id, "change": "created"})
        bus.publish("conversation", {"conversation": stored.sender_id})

    outbox, task, receiver = None, None, None
    if settings.mail.enabled:
        outbox = MailOutbox(app[SESSIONS], settings.mail, on_failed=mail_failed)
        task = asyncio.create_task(outbox.run(), name="mail-outbox")
    if settings.mail.mail_inbound_port is not None:
        handler = ReplyHandler(
            app[SESSIONS],
            settings.mail,
            redact_pii=settings.privacy.redact_pii,
            notify=answered,
            on_bounce=mail_failed,
        )
        receiver = MailReceiver(
            handler,
            settings.servers.host,
            settings.mail.mail_inbound_port,
            settings.mail.mail_max_bytes,
        )
        await receiver.start()
    yield
    if receiver is not None:
        await receiver.stop()
    if outbox is not None and task is not None:
        outbox.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _close_faq(app: web.Application) -> None:
    app[FAQ].close()


async def _close_rate_limits(app: web.Application) -> None:
    await app[RATE_LIMITS].close()


def create_app(settings: Settings) -> web.Application:
    """The web service for ``settings``; behind ``TRUSTED_PROXIES`` every handler sees the
    client's address as ``request.remote`` (see :mod:`bot.web.client_address`)."""
    middlewares = [security_headers]
    if settings.web.trusted_proxies:
        middlewares.insert(0, forwarded_middleware(trusted_networks(settings.web.trusted_proxies)))
    app = web.Application(middlewares=middlewares)
    app[SETTINGS] = settings
    app[BUS] = EventBus()
    app[FAQ] = FaqLookup()
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_first_admin)
    app.cleanup_ctx.append(_bus_relay)
    app.cleanup_ctx.append(_faq_index)
    app.cleanup_ctx.append(_ingestion)
    app.cleanup_ctx.append(_delivery)
    app.cleanup_ctx.append(_mail)
    app.on_cleanup.append(_close_faq)
    # With REDIS_URL, the widget's rate limits hold across the web services behind the balancer.
    app[RATE_LIMITS] = RateLimits(settings.wechat.redis_url.get_secret_value())
    app.on_cleanup.append(_close_rate_limits)
    app.router.add_get("/health", health)
    widget.add_routes(app)
    app[CONSOLE_APP] = create_console_app()
    app[AGENT_API] = create_agent_api()
    app.add_subapp(CONSOLE_PREFIX, app[CONSOLE_APP])
    app.add_subapp(API_PREFIX, app[AGENT_API])
    return app
