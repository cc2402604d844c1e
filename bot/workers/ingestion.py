"""Turn Rasa's event stream into customers' timelines.

Rasa publishes every tracker event to its event broker; a worker drains it
(:mod:`bot.workers.sql_broker` for Rasa's SQL broker, :mod:`bot.workers.rabbitmq`) and hands each
event to :class:`Ingestor`, which stores what it means. Each stored message also records its
event's digest (``event_key``, unique), so a broker that re-delivers (RabbitMQ after a crash
before the ack) cannot store it twice.

Payloads are untrusted: what is stored is cleaned first (:mod:`bot.workers.sanitise`: lone surrogates
become U+FFFD, control characters go), and each event is stored in a savepoint of the batch, so
that one that still fails is set aside as a dead letter (:mod:`bot.workers.deadletters`) instead of
holding up every event behind it.

What becomes of an event:

- ``user``: a customer interaction (text, intent and confidence, channel); the conversation is
  linked to a customer by a verified identity in the metadata, else by its channel identity;
  the intents ``unsubscribe`` / ``subscribe`` (WeChat's unfollow / follow) set / clear the
  customer's ``unsubscribed_at``;
- ``bot``: a bot interaction;
- ``slot`` ``faq_id``, ``faq_score``, ``faq_decision``, ``faq_category``: what the bot decided,
  written on the current turn (the customer's last message and the replies after it);
  ``faq_feedback``: the feedback on the last answer; ``language``: the turn's and the customer's
  reply locale (``en``, ``zh``, ``zh-TW``, ``zh-HK``: a returning customer is answered in it);
- ``rewind`` naming a message a channel undid (``undone_message_id`` and ``undone_at`` in its
  metadata: the action server failed during its turn, and the message is sent again): that
  first copy leaves the customer's timeline, so the message is there once; Rasa's own rewinds
  (the core fallback's) name none, and their message stays;
- anything else (actions, featurisation, session starts): nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.customers import resolve_conversation
from bot.domain.insights import ticket_facts
from bot.domain.redaction import redact
from bot.store import rollup
from bot.store.models import (
    Conversation,
    Customer,
    Direction,
    Interaction,
    Ticket,
)
from bot.workers.sanitise import clean_sender, clean_value
from vocabulary import LOCALES, MetadataKey

log = logging.getLogger(__name__)

DECISION_SLOTS = {
    "faq_id": "faq_id",
    "faq_score": "faq_score",
    "faq_decision": "faq_decision",
    "faq_category": "faq_category",
}
# The decision slots the insights roll-up counts (bot.store.rollup).
ROLLED_UP_SLOTS = ("faq_id", "faq_decision")
MAX_TEXT_CHARS = 10_000
FOLLOW_INTENTS = ("subscribe", "unsubscribe")
MESSAGE_EVENTS = ("user", "bot")
CHANNEL_CHARS = Conversation.channel.type.length
TICKET_ID = re.compile(r"[0-9]{1,18}")


def event_key(sender_id: object, event: Mapping[str, Any]) -> str:
    """The digest that identifies an event however often it is delivered.

    It is computed on the event as it came, before cleaning, so that digests stay those of the
    events stored before cleaning existed, and two events differing only in what cleaning
    removes stay two. ``surrogatepass`` lets lone surrogates into the digest, where they harm
    nothing (UTF-8 without them is unchanged).

    Args:
        sender_id: the conversation id as delivered.
        event: the decoded event, nested at most ``bot.workers.sanitise.MAX_DEPTH`` levels.

    Returns:
        64 hex digits.
    """
    canonical = json.dumps(
        {"sender_id": sender_id, **event}, sort_keys=True, ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def _timestamp(event: Mapping[str, Any]) -> datetime:
    value = event.get("timestamp")
    if isinstance(value, int | float):
        with contextlib.suppress(OverflowError, OSError, ValueError):  # NaN, years past 9999
            return datetime.fromtimestamp(value, UTC)
    return datetime.now(UTC)


def _text(value: object, limit: int = MAX_TEXT_CHARS) -> str | None:
    return value[:limit] if isinstance(value, str) else None


def _column_text(value: object, column: str) -> str | None:
    """``value`` as text cut to the interactions column's length (PostgreSQL would refuse more)."""
    length = Interaction.__table__.c[column].type.length  # type: ignore[attr-defined]
    return None if value is None else str(value)[:length]


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _number(value: object) -> float | None:
    if not isinstance(value, int | float):
        return None
    try:
        return float(value)
    except OverflowError:  # an integer beyond any float
        return None


def _ticket_id(value: object) -> int | None:
    text = str(value) if isinstance(value, int | str) else ""
    return int(text) if TICKET_ID.fullmatch(text) else None


@dataclass
class Changes:
    """What a batch changed, for live console pages: conversations and handed-over tickets
    (with the agent automatic assignment gave each, None while it waits)."""

    conversations: set[str] = field(default_factory=set)
    handoffs: dict[int, int | None] = field(default_factory=dict)


Notify = Callable[[Changes], None]


@dataclass
class Ingestor:
    """Stores decoded events; the caller owns the transaction."""

    identity_secret: str = ""
    redact_pii: bool = False
    changes: Changes = field(default_factory=Changes)

    async def store(
        self, session: AsyncSession, sender_id: object, event: Mapping[str, Any]
    ) -> bool:
        """Apply one event, cleaned (see :mod:`bot.workers.sanitise`).

        Args:
            session: the batch's session; the caller owns the transaction.
            sender_id: the conversation id as delivered (any JSON value).
            event: the decoded event as delivered.

        Returns:
            False when it was ignored or had been stored already.

        Raises:
            InvalidEvent: a message or slot without a usable sender id, or nested too deep.
        """
        kind = event.get("event")
        if kind not in (*MESSAGE_EVENTS, "slot", "rewind"):
            return False
        clean = clean_value(event)  # first: it bounds the nesting that event_key walks
        sender = clean_sender(sender_id)
        if kind in MESSAGE_EVENTS:
            return await self._message(session, sender, clean, event_key(sender_id, event))
        if kind == "rewind":
            return await self._undone(session, sender, _mapping(clean.get("metadata")))
        if clean.get("name") == "handoff_ticket" and (ticket := _ticket_id(clean.get("value"))):
            self.changes.handoffs[ticket] = await session.scalar(
                select(Ticket.assigned_agent_id).where(Ticket.id == ticket)
            )
        return await self._slot(session, sender, clean)

    async def _message(
        self, session: AsyncSession, sender_id: str, event: Mapping[str, Any], key: str
    ) -> bool:
        if await session.scalar(select(Interaction.id).where(Interaction.event_key == key)):
            return False
        when = _timestamp(event)
        is_user = event["event"] == "user"
        channel = _text(event.get("input_channel"), CHANNEL_CHARS) if is_user else None
        metadata = _mapping(event.get("metadata"))
        conversation = await resolve_conversation(
            session, sender_id, metadata, channel, when, self.identity_secret
        )
        customer = await session.get_one(Customer, conversation.customer_id)
        text = _text(event.get("text"))
        interaction = Interaction(
            event_key=key,
            customer_id=customer.id,
            conversation_id=conversation.id,
            channel=conversation.channel,
            text=redact(text) if self.redact_pii else text,
            timestamp=when,
            language=customer.language,
        )
        if is_user:
            intent = _mapping(_mapping(event.get("parse_data")).get("intent"))
            interaction.direction = Direction.CUSTOMER.value
            interaction.intent = _text(intent.get("name"), 100)
            interaction.intent_confidence = _number(intent.get("confidence"))
            if interaction.intent in FOLLOW_INTENTS:  # WeChat: (un)followed the account
                customer.unsubscribed_at = when if interaction.intent == "unsubscribe" else None
        elif metadata.get(MetadataKey.AGENT_NAME):
            interaction.direction = Direction.AGENT.value  # an agent's reply, via the outbox
            interaction.author = _column_text(metadata[MetadataKey.AGENT_NAME], "author")
        else:
            interaction.direction = Direction.BOT.value
        session.add(interaction)
        self.changes.conversations.add(sender_id)
        conversation.last_message_at = max(conversation.last_message_at, when)
        customer.first_seen = min(customer.first_seen or when, when)
        customer.last_seen = max(customer.last_seen or when, when)
        await session.flush()
        if is_user:
            await rollup.refresh(session, conversation.id, [when])
        return True

    async def _undone(
        self, session: AsyncSession, sender_id: str, metadata: Mapping[str, Any]
    ) -> bool:
        """Remove the first copy of a message a channel undid and sends again."""
        if not metadata.get(MetadataKey.UNDONE_MESSAGE_ID):
            return False  # Rasa's own rewind: the message was the customer's all the same
        when = metadata.get(MetadataKey.UNDONE_AT)
        if not isinstance(when, int | float):
            return False
        at = _timestamp({"timestamp": when})
        conversation = await session.scalar(
            select(Conversation).where(Conversation.sender_id == sender_id)
        )
        if conversation is None:
            return False
        first_copy = (
            await session.scalars(
                select(Interaction.id).where(
                    Interaction.conversation_id == conversation.id,
                    Interaction.direction == Direction.CUSTOMER.value,
                    Interaction.timestamp == at,
                )
            )
        ).all()
        if not first_copy:
            return False
        await session.execute(delete(Interaction).where(Interaction.id.in_(first_copy)))
        self.changes.conversations.add(sender_id)
        await rollup.refresh(session, conversation.id, [at])
        await ticket_facts.refresh_conversation(session, conversation.id, since=at)
        return True

    async def _slot(self, session: AsyncSession, sender_id: str, event: Mapping[str, Any]) -> bool:
        name, value = event.get("name"), event.get("value")
        if not isinstance(name, str) or (
            name not in DECISION_SLOTS and name not in ("faq_feedback", "language")
        ):
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
            if value not in LOCALES:
                return False
            await session.execute(update(Interaction).where(*turn).values(language=value))
            customer = await session.get_one(Customer, conversation.customer_id)
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
            await _refresh_turn(session, conversation.id, turn_start)
        else:
            column = DECISION_SLOTS[name]
            value = _number(value) if column == "faq_score" else _column_text(value, column)
            await session.execute(update(Interaction).where(*turn).values({column: value}))
            if column in ROLLED_UP_SLOTS and turn_start is not None:
                await _refresh_turn(session, conversation.id, turn_start)
        return True


async def _refresh_turn(session: AsyncSession, conversation_id: int, turn_start: int) -> None:
    """The insights roll-up of the days of the turn's customer message and of the answer
    before it (which a verdict on this turn rates)."""
    previous_answer = (
        select(func.max(Interaction.id))
        .where(
            Interaction.conversation_id == conversation_id,
            Interaction.direction == Direction.CUSTOMER.value,
            Interaction.faq_decision == rollup.ANSWER,
            Interaction.id < turn_start,
        )
        .scalar_subquery()
    )
    instants = await session.scalars(
        select(Interaction.timestamp).where(
            or_(Interaction.id == turn_start, Interaction.id == previous_answer)
        )
    )
    found = list(instants)
    await rollup.refresh(session, conversation_id, found)
    # A question stored after the ticket it led to: that ticket's "handoff after" entry.
    await ticket_facts.refresh_conversation(
        session, conversation_id, since=min(found, default=None)
    )
