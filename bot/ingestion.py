"""Turn Rasa's event stream into customers' timelines.

Rasa publishes every tracker event to its event broker. The SQL broker writes them as rows of the
``events`` table of the application database; :class:`IngestionWorker` drains that table in
batches, and each batch is stored and deleted in one transaction, so a crash at any point
neither loses nor doubles an event: the rows it had not committed are still there when it
starts again. Each stored message also records its event's digest (``event_key``, unique), so a
broker that re-delivers (RabbitMQ after a crash before the ack) cannot store it twice either.

What becomes of an event:

- ``user``: a customer interaction (text, intent and confidence, channel); the conversation is
  linked to a customer by a verified identity in the metadata, else by its channel identity;
  the intents ``unsubscribe`` / ``subscribe`` (WeChat's unfollow / follow) set / clear the
  customer's ``unsubscribed_at``;
- ``bot``: a bot interaction;
- ``slot`` ``faq_id``, ``faq_score``, ``faq_decision``, ``faq_category``: what the bot decided,
  written on the current turn (the customer's last message and the replies after it);
  ``faq_feedback``: the feedback on the last answer; ``language``: the turn's and the customer's
  language;
- anything else (actions, featurisation, session starts): nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversations import resolve_conversation
from bot.models import (
    BrokerEvent,
    Conversation,
    Customer,
    Direction,
    Interaction,
)
from bot.privacy import redact

log = logging.getLogger(__name__)

DECISION_SLOTS = {
    "faq_id": "faq_id",
    "faq_score": "faq_score",
    "faq_decision": "faq_decision",
    "faq_category": "faq_category",
}
MAX_TEXT_CHARS = 10_000
FOLLOW_INTENTS = ("subscribe", "unsubscribe")


def event_key(sender_id: str, event: Mapping[str, Any]) -> str:
    """The digest that identifies an event however often it is delivered."""
    canonical = json.dumps(
        {"sender_id": sender_id, **event}, sort_keys=True, ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _timestamp(event: Mapping[str, Any]) -> datetime:
    value = event.get("timestamp")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return datetime.now(UTC)


def _text(value: object) -> str | None:
    return value[:MAX_TEXT_CHARS] if isinstance(value, str) else None


@dataclass
class Changes:
    """What a batch changed, for live console pages: conversations and handed-over tickets."""

    conversations: set[str] = field(default_factory=set)
    handoffs: set[int] = field(default_factory=set)


Notify = Callable[[Changes], None]


@dataclass
class Ingestor:
    """Stores decoded events; the caller owns the transaction."""

    identity_secret: str = ""
    redact_pii: bool = False
    changes: Changes = field(default_factory=Changes)

    async def store(self, session: AsyncSession, sender_id: str, event: Mapping[str, Any]) -> bool:
        """Apply one event; False when it was ignored or had been stored already."""
        kind = event.get("event")
        if kind in ("user", "bot"):
            return await self._message(session, sender_id, event)
        if kind == "slot":
            if event.get("name") == "handoff_ticket" and str(event.get("value") or "").isdigit():
                self.changes.handoffs.add(int(event["value"]))
            return await self._slot(session, sender_id, event)
        return False

    async def _message(self, session: AsyncSession, sender_id: str, event: Mapping) -> bool:
        key = event_key(sender_id, event)
        if await session.scalar(select(Interaction.id).where(Interaction.event_key == key)):
            return False
        when = _timestamp(event)
        channel = event.get("input_channel") if event["event"] == "user" else None
        conversation = await resolve_conversation(
            session, sender_id, event.get("metadata"), channel, when, self.identity_secret
        )
        customer = await session.get(Customer, conversation.customer_id)
        interaction = Interaction(
            event_key=key,
            customer_id=customer.id,
            conversation_id=conversation.id,
            channel=conversation.channel,
            text=redact(_text(event.get("text"))) if self.redact_pii else _text(event.get("text")),
            timestamp=when,
            language=customer.language,
        )
        if event["event"] == "user":
            intent = (event.get("parse_data") or {}).get("intent") or {}
            interaction.direction = Direction.CUSTOMER.value
            interaction.intent = _text(intent.get("name"))
            confidence = intent.get("confidence")
            interaction.intent_confidence = (
                float(confidence) if isinstance(confidence, int | float) else None
            )
            if interaction.intent in FOLLOW_INTENTS:  # WeChat: (un)followed the account
                customer.unsubscribed_at = when if interaction.intent == "unsubscribe" else None
        elif (event.get("metadata") or {}).get("agent_name"):
            interaction.direction = Direction.AGENT.value  # an agent's reply, via the outbox
            interaction.author = _text(str(event["metadata"]["agent_name"]))[:100]
        else:
            interaction.direction = Direction.BOT.value
        session.add(interaction)
        self.changes.conversations.add(sender_id)
        conversation.last_message_at = max(conversation.last_message_at, when)
        customer.first_seen = min(customer.first_seen or when, when)
        customer.last_seen = max(customer.last_seen or when, when)
        await session.flush()
        return True

    async def _slot(self, session: AsyncSession, sender_id: str, event: Mapping) -> bool:
        name, value = event.get("name"), event.get("value")
        if name not in DECISION_SLOTS and name not in ("faq_feedback", "language"):
            return False
        conversation = await session.scalar(
            select(Conversation).where(Conversation.sender_id == sender_id)
        )
        if conversation is None:
            return False
        turn_start = await session.scalar(
            select(func.max(Interaction.id)).where(
                Interaction.conversation_id == conversation.id,
                Interaction.direction == Direction.CUSTOMER.value,
            )
        )
        turn = [Interaction.conversation_id == conversation.id]
        if turn_start is not None:
            turn.append(Interaction.id >= turn_start)
        if name == "language":
            if value not in ("zh", "en"):
                return False
            await session.execute(update(Interaction).where(*turn).values(language=value))
            customer = await session.get(Customer, conversation.customer_id)
            customer.language = value
        elif name == "faq_feedback":
            if turn_start is None or not isinstance(value, str):
                return False
            rated = await session.scalar(
                select(Interaction.faq_id)
                .where(
                    Interaction.conversation_id == conversation.id,
                    Interaction.id < turn_start,
                    Interaction.faq_id.is_not(None),
                )
                .order_by(Interaction.id.desc())
                .limit(1)
            )
            await session.execute(
                update(Interaction)
                .where(Interaction.id == turn_start)
                .values(feedback=value[:32], faq_id=func.coalesce(Interaction.faq_id, rated))
            )
        else:
            column = DECISION_SLOTS[name]
            if column == "faq_score":
                value = float(value) if isinstance(value, int | float) else None
            elif value is not None:
                value = str(value)[:100]
            await session.execute(update(Interaction).where(*turn).values({column: value}))
        return True


class IngestionWorker:
    """Drains Rasa's SQL broker table into interactions until stopped.

    >>> worker = IngestionWorker(sessions, Ingestor(secret))  # doctest: +SKIP
    >>> task = asyncio.create_task(worker.run())  # doctest: +SKIP
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        ingestor: Ingestor,
        interval: float = 0.2,
        batch: int = 500,
        notify: Notify | None = None,
    ) -> None:
        self._sessions = sessions
        self._ingestor = ingestor
        self._interval = interval
        self._batch = batch
        self._notify = notify
        self._stopping = asyncio.Event()
        self.stored = 0

    async def pending(self) -> int:
        """Events waiting in the broker table."""
        async with self._sessions() as session:
            return await session.scalar(select(func.count()).select_from(BrokerEvent))

    async def drain_once(self) -> int:
        """Store and delete up to one batch of broker rows; the number of rows consumed."""
        self._ingestor.changes = Changes()
        async with self._sessions() as session, session.begin():
            rows = (
                await session.execute(
                    select(BrokerEvent).order_by(BrokerEvent.id).limit(self._batch)
                )
            ).scalars()
            consumed = []
            for row in rows:
                consumed.append(row.id)
                try:
                    event = json.loads(row.data or "")
                except ValueError:
                    log.warning("skipping broker row %s: not JSON", row.id)
                    continue
                if not isinstance(event, dict):
                    log.warning("skipping broker row %s: not an event object", row.id)
                    continue
                sender_id = row.sender_id or event.get("sender_id")
                if sender_id and await self._ingestor.store(session, sender_id, event):
                    self.stored += 1
            if consumed:
                await session.execute(delete(BrokerEvent).where(BrokerEvent.id.in_(consumed)))
        if self._notify is not None and consumed:
            self._notify(self._ingestor.changes)
        return len(consumed)

    async def run(self) -> None:
        delay = self._interval
        while not self._stopping.is_set():
            try:
                consumed = await self.drain_once()
                delay = self._interval
            except Exception:
                log.exception("ingestion failed; retrying in %.1f s", delay)
                consumed = 0
                delay = min(delay * 2, 10.0)
            if consumed < self._batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)

    def stop(self) -> None:
        self._stopping.set()
