"""Bring what agents queued in the outbox into the customers' own channels.

For each conversation with undelivered outbox rows, :class:`OutboxDelivery` asks Rasa, through
its HTTP API, to run ``action_deliver_outbox`` with ``output_channel=latest``: Rasa utters the
rows into the channel the customer last wrote from (the widget's socket.io room, WeChat's
customer-service API, ...). The action tags every message with its outbox id and skips ids the
conversation already holds, so a retry never sends twice; a row counts as delivered once the
tracker Rasa returns holds its id. Failures are retried with a growing delay.

>>> delivery = OutboxDelivery(sessions, "http://127.0.0.1:5005", token)  # doctest: +SKIP
>>> asyncio.create_task(delivery.run())  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

import aiohttp
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import Conversation, OutboxMessage

log = logging.getLogger(__name__)

DELIVER_ACTION = "action_deliver_outbox"
MAX_DELAY = timedelta(minutes=5)


def retry_delay(attempts: int) -> timedelta:
    """1 s, 2 s, 4 s, ... up to five minutes between attempts."""
    return min(timedelta(seconds=2 ** max(0, attempts - 1)), MAX_DELAY)


class OutboxDelivery:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        rasa_url: str,
        rasa_token: str,
        interval: float = 0.2,
        timeout: float = 30.0,
    ) -> None:
        self._sessions = sessions
        self._rasa_url = rasa_url.rstrip("/")
        self._token = rasa_token
        self._interval = interval
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self.delivered = 0

    def wake(self) -> None:
        """Deliver now rather than at the next poll (the console calls this after a reply)."""
        self._wake.set()

    async def _due(self) -> dict[str, list[int]]:
        """Undelivered rows whose time has come, by conversation (sender id), oldest first."""
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(OutboxMessage.id, Conversation.sender_id)
                    .join(Conversation, OutboxMessage.conversation_id == Conversation.id)
                    .where(
                        OutboxMessage.delivered_at.is_(None),
                        OutboxMessage.next_attempt_at <= datetime.now(UTC),
                    )
                    .order_by(OutboxMessage.id)
                )
            ).all()
        due: dict[str, list[int]] = {}
        for row_id, sender_id in rows:
            due.setdefault(sender_id, []).append(row_id)
        return due

    async def _execute(self, http: aiohttp.ClientSession, sender_id: str) -> set[int]:
        """Run the delivery action in ``sender_id``'s conversation; outbox ids it now holds."""
        async with http.post(
            f"{self._rasa_url}/conversations/{sender_id}/execute",
            params={"output_channel": "latest", "token": self._token},
            json={"name": DELIVER_ACTION},
        ) as response:
            if response.status != 200:
                raise RuntimeError(f"Rasa answered {response.status}: {await response.text()}")
            body = await response.json()
        events = (body.get("tracker") or {}).get("events") or []
        return {
            (event.get("metadata") or {}).get("outbox_id")
            for event in events
            if event.get("event") == "bot"
        } - {None}

    async def deliver_once(self, http: aiohttp.ClientSession) -> int:
        """One pass over the due rows; how many were delivered."""
        delivered = 0
        for sender_id, ids in (await self._due()).items():
            error = None
            try:
                present = await self._execute(http, sender_id)
            except Exception as exc:  # Rasa down, timeout, bad answer: retry later
                present, error = set(), f"{type(exc).__name__}: {exc}"[:500]
            now = datetime.now(UTC)
            async with self._sessions() as session, session.begin():
                for row in (
                    await session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids)))
                ).all():
                    if row.id in present:
                        row.delivered_at = now
                        delivered += 1
                    else:
                        row.attempts += 1
                        row.next_attempt_at = now + retry_delay(row.attempts)
                        row.last_error = error or "not in the conversation after delivery"
            if error:
                log.warning("outbox delivery to %s failed: %s", sender_id, error)
        self.delivered += delivered
        return delivered

    async def run(self) -> None:
        async with aiohttp.ClientSession(timeout=self._timeout) as http:
            while not self._stopping.is_set():
                try:
                    await self.deliver_once(http)
                except Exception:
                    log.exception("outbox delivery pass failed")
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._interval)

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
