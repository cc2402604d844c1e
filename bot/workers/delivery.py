"""Bring what agents queued in the outbox into the customers' own channels.

For each conversation with undelivered outbox rows, :class:`OutboxDelivery` asks Rasa, through
its HTTP API, to run ``action_deliver_outbox`` with ``output_channel`` set to the channel the
conversation lives on (never Rasa's ``latest``, which whoever wrote last under the same sender
id would decide): Rasa utters the rows into that channel (the widget's socket.io room, WeChat's
customer-service API, ...), one row per call and in order. A conversation of no known channel
gets them in its tracker only. The action tags every message with
its outbox id and skips ids the conversation already holds, so a retry never sends twice; a row
counts as delivered once the tracker Rasa returns holds its id. Conversations are served side by
side, up to ``concurrency`` at a time (a burst of replies to many customers would otherwise wait
for each other's round trips), each conversation's rows one after the other. Failures are retried
with a growing delay, and the rows after a failed one wait for it; a row the channel refuses for good
(:class:`connectors.refusals.Undeliverable`, e.g. WeChat's 48-hour window) is marked
``failed_at`` with the reason, for the agent to see, e-mailed at once to a customer who left an
address (:func:`bot.domain.mail.follow_up.follow_refused_by_mail`), and the next row goes.

>>> delivery = OutboxDelivery(sessions, "http://127.0.0.1:5005", token)  # doctest: +SKIP
>>> asyncio.create_task(delivery.run())  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import aiohttp
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.mail.continuation import MailOptions
from bot.domain.mail.follow_up import follow_refused_by_mail
from bot.domain.outbox import held_ids, next_pending
from bot.store.models import Conversation, OutboxMessage
from connectors.refusals import undeliverable_reason

log = logging.getLogger(__name__)

DELIVER_ACTION = "action_deliver_outbox"
MAX_DELAY = timedelta(minutes=5)
CONCURRENT_CONVERSATIONS = 8


async def _reason(response: aiohttp.ClientResponse) -> str:
    """The message of Rasa's error answer (JSON), else its text."""
    text = await response.text()
    try:
        return str(json.loads(text).get("message") or text)
    except (ValueError, AttributeError):
        return text


def output_channel(channel: str | None) -> str:
    """The ``output_channel`` to ask Rasa for: the conversation's own channel. A name no
    channel has (``tracker-only``) makes Rasa keep the message in the tracker only."""
    return channel if channel and channel != "latest" else "tracker-only"


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
        on_refused: Callable[[int], None] | None = None,
        concurrency: int = CONCURRENT_CONVERSATIONS,
        mail: MailOptions | None = None,
    ) -> None:
        self._sessions = sessions
        self._rasa_url = rasa_url.rstrip("/")
        self._token = rasa_token
        self._interval = interval
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._on_refused = on_refused  # called with the ticket id of a refused reply
        self._concurrency = concurrency
        self._mail = mail  # a reply refused for good goes by e-mail to who left an address
        self.delivered = 0

    def wake(self) -> None:
        """Deliver now rather than at the next poll (the console calls this after a reply)."""
        self._wake.set()

    async def _due(self) -> list[tuple[str, str | None]]:
        """Conversations (sender id, channel) whose oldest undelivered row's time has come."""
        async with self._sessions() as session:
            oldest = (
                select(
                    OutboxMessage.conversation_id,
                    func.min(OutboxMessage.id).label("id"),
                )
                .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.failed_at.is_(None))
                .group_by(OutboxMessage.conversation_id)
                .subquery()
            )
            rows = await session.execute(
                select(Conversation.sender_id, Conversation.channel)
                .join(oldest, oldest.c.conversation_id == Conversation.id)
                .join(OutboxMessage, OutboxMessage.id == oldest.c.id)
                .where(OutboxMessage.next_attempt_at <= datetime.now(UTC))
                .order_by(oldest.c.id)
            )
            return [(sender_id, channel) for sender_id, channel in rows]

    async def _next(self, sender_id: str) -> OutboxMessage | None:
        """The conversation's oldest undelivered row: the one the action utters next."""
        async with self._sessions() as session:
            return await next_pending(session, sender_id)

    async def _execute(
        self, http: aiohttp.ClientSession, sender_id: str, channel: str | None
    ) -> set[int]:
        """Run the delivery action in ``sender_id``'s conversation, uttering into ``channel``;
        the outbox ids the conversation then holds."""
        url = f"{self._rasa_url}/conversations/{quote(sender_id, safe='')}"
        async with http.post(
            f"{url}/execute",
            params={"output_channel": output_channel(channel), "token": self._token},
            json={"name": DELIVER_ACTION},
        ) as response:
            if response.status != 200:
                raise RuntimeError(f"Rasa answered {response.status}: {await _reason(response)}")
        # The tracker in execute's answer is the one from before the action ran: read it anew.
        async with http.get(f"{url}/tracker", params={"token": self._token}) as response:
            response.raise_for_status()
            events = (await response.json()).get("events") or []
        return held_ids(events)

    async def _deliver_conversation(
        self, http: aiohttp.ClientSession, sender_id: str, channel: str | None
    ) -> int:
        """Deliver the conversation's rows one by one, in order, until one has to wait."""
        delivered = 0
        while (row := await self._next(sender_id)) is not None:
            if row.next_attempt_at > datetime.now(UTC):
                break
            error = None
            try:
                present = await self._execute(http, sender_id, channel)
            except Exception as exc:  # Rasa down, timeout, the channel failed: see below
                present, error = set(), f"{type(exc).__name__}: {exc}"
            now = datetime.now(UTC)
            refusal = undeliverable_reason(error or "")
            async with self._sessions() as session, session.begin():
                if present:
                    await session.execute(
                        update(OutboxMessage)
                        .where(OutboxMessage.id.in_(present), OutboxMessage.delivered_at.is_(None))
                        .values(delivered_at=now)
                    )
                current = await session.get_one(OutboxMessage, row.id)
                if current.id in present:
                    delivered += 1
                    continue
                if refusal is not None:  # the channel refused it for good: no more tries
                    current.failed_at = now
                    current.last_error = refusal[:500]
                    log.warning("outbox row %s to %s refused: %s", row.id, sender_id, refusal)
                    if self._mail is not None:
                        await follow_refused_by_mail(session, self._mail, current, now)
                else:
                    current.attempts += 1
                    current.next_attempt_at = now + retry_delay(current.attempts)
                    current.last_error = (error or "not in the conversation after delivery")[:500]
                    log.warning("outbox delivery to %s failed: %s", sender_id, current.last_error)
            if refusal is None:
                break  # retried later, and the rows after it wait for it
            if self._on_refused is not None and current.ticket_id is not None:
                self._on_refused(current.ticket_id)
        return delivered

    async def deliver_once(self, http: aiohttp.ClientSession) -> int:
        """One pass over the conversations with due rows, ``concurrency`` of them at a time;
        how many rows were delivered."""
        slots = asyncio.Semaphore(self._concurrency)

        async def deliver(sender_id: str, channel: str | None) -> int:
            async with slots:
                return await self._deliver_conversation(http, sender_id, channel)

        due = await self._due()
        outcomes = await asyncio.gather(
            *(deliver(sender_id, channel) for sender_id, channel in due), return_exceptions=True
        )
        delivered = 0
        for (sender_id, _), outcome in zip(due, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                log.error("outbox delivery to %s failed", sender_id, exc_info=outcome)
            else:
                delivered += outcome
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
