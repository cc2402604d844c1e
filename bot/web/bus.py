"""Live updates for open console pages: an in-process publish/subscribe of small notices.

The ingestion worker publishes what it stored (a conversation got a message, a conversation was
handed over), the API what agents changed (a ticket was claimed, answered, resolved); each open
console page holds a subscription and receives the notices as server-sent events. One web
service process hosts both; with several, :mod:`bot.web.bus_relay` forwards each one's notices
to the others (``forward``) and hands theirs to its pages (``deliver``).

>>> bus = EventBus()
>>> queue = bus.subscribe()
>>> bus.publish("ticket", {"id": 7, "change": "created"})
>>> queue.get_nowait()
('ticket', {'id': 7, 'change': 'created'})
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

QUEUE_LIMIT = 1000


class EventBus:
    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue] = set()
        # Called with every notice published here (not with those delivered from elsewhere).
        self.forward: Callable[[str, dict[str, Any]], None] | None = None

    def subscribe(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(QUEUE_LIMIT)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self._subscribers.discard(queue)

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        """Notify this process's pages, and the other web services' through ``forward``."""
        self.deliver(kind, data)
        if self.forward is not None:
            self.forward(kind, data)

    def deliver(self, kind: str, data: dict[str, Any]) -> None:
        """Notify this process's pages only."""
        for queue in list(self._subscribers):
            try:
                queue.put_nowait((kind, data))
            except asyncio.QueueFull:  # a stalled page; it reloads what it missed on reconnect
                log.warning("dropping a live update for a stalled console page")

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)
