"""Live updates across several web services, through a Redis channel.

Each web service keeps its own :class:`bot.web.bus.EventBus` for the console pages it serves.
The relay publishes every notice of its bus on a Redis channel, tagged with this process's
origin, and delivers to its bus every notice another process put there: an agent whose console
is open on one web service sees what ingestion, delivery or another agent did on another. Redis
is a courier here, not a store: a notice sent while Redis is away is dropped (pages reload what
they missed when they reconnect), and the relay connects again with a growing pause.

>>> relay = BusRelay(app[BUS], "redis://127.0.0.1:6379/0")  # doctest: +SKIP
>>> task = asyncio.create_task(relay.run())  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.web.bus import QUEUE_LIMIT, EventBus

log = logging.getLogger(__name__)

CHANNEL = "shop-assistant:console-notices"
MAX_PAUSE = 30.0


def _notice(raw: bytes | str, origin: str) -> tuple[str, dict[str, Any]] | None:
    """The (kind, data) of a message from the channel; None for our own or a malformed one."""
    try:
        message = json.loads(raw)
        kind, data, sender = message["kind"], message["data"], message["origin"]
    except (ValueError, TypeError, KeyError):
        log.warning("ignoring a malformed notice on the console channel")
        return None
    if sender == origin or not isinstance(kind, str) or not isinstance(data, dict):
        return None
    return kind, data


class BusRelay:
    """Carries ``bus``'s notices to the other web services' buses and theirs to ``bus``."""

    def __init__(self, bus: EventBus, redis_url: str, channel: str = CHANNEL) -> None:
        self._bus = bus
        self._redis_url = redis_url
        self._channel = channel
        self._origin = uuid.uuid4().hex
        self._outgoing: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue(QUEUE_LIMIT)
        self.subscribed = asyncio.Event()  # set while notices from elsewhere arrive
        bus.forward = self._enqueue

    def _enqueue(self, kind: str, data: dict[str, Any]) -> None:
        try:
            self._outgoing.put_nowait((kind, data))
        except asyncio.QueueFull:
            log.warning("dropping a notice for the other web services: Redis is behind")

    async def run(self) -> None:
        """Relay until cancelled, connecting again after a failure."""
        pause = 0.5
        while True:
            client = Redis.from_url(self._redis_url)
            try:
                await asyncio.gather(self._send(client), self._receive(client))
            except (RedisError, OSError) as exc:
                log.warning("console notices relay: %s; again in %.1f s", exc, pause)
            except Exception:
                log.exception("console notices relay failed; again in %.1f s", pause)
            finally:
                if self.subscribed.is_set():
                    pause = 0.5  # it had worked: the next failure starts the pauses again
                self.subscribed.clear()
                with contextlib.suppress(Exception):
                    await client.close()
            await asyncio.sleep(pause)
            pause = min(pause * 2, MAX_PAUSE)

    async def _send(self, client: Redis) -> None:
        while True:
            kind, data = await self._outgoing.get()
            message = {"origin": self._origin, "kind": kind, "data": data}
            await client.publish(self._channel, json.dumps(message, ensure_ascii=False))

    async def _receive(self, client: Redis) -> None:
        async with client.pubsub() as pubsub:
            await pubsub.subscribe(self._channel)
            self.subscribed.set()
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                notice = _notice(message["data"], self._origin)
                if notice is not None:
                    self._bus.deliver(*notice)
