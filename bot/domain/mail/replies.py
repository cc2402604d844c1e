"""A customer's e-mailed answer, stored once in its conversation as a customer message.

The receiver (:mod:`bot.workers.mail_inbound`) has the token of the reply address and the
parsed mail; :func:`store_reply` finds the conversation, stores the text as a customer
interaction of channel ``email`` (it shows in the ticket, the transcript and the profile) and
records the mail under its key, so that a second delivery of the same mail stores nothing.
The answer goes to the conversation's active ticket; when there is none (the ticket was
resolved), it opens a new one, as the bot does with a chat message it cannot answer.

Sender check: the token is what proves the mail belongs to the conversation (it is unguessable
and only the customer's mailbox received it). A sender other than the customer's address (a
forward, another address of theirs) is stored all the same, but flagged (``sender_matches``
False) for the agent: refusing it would lose real answers, and a From header proves nothing.

>>> stored = await store_reply(session, token=token, mail=parsed, key=parsed.key(raw),
...     size=len(raw), envelope_sender="ann@example.com", now=now)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.mail.addresses import same_address
from bot.domain.mail.consent import consented_address
from bot.domain.mail.inbound import ParsedMail
from bot.domain.mail.threads import conversation_of_token
from bot.domain.redaction import redact
from bot.domain.tickets import open_ticket
from bot.store import rollup
from bot.store.models import (
    Customer,
    Direction,
    Interaction,
    MailOutboxMessage,
    ReceivedMail,
)
from vocabulary import EscalationReason

CHANNEL = "email"
MAX_QUESTION_CHARS = 1000  # of an answer that opens a ticket, as the ticket's question


class UnknownToken(LookupError):
    """No conversation has this reply token."""


@dataclass(frozen=True)
class StoredReply:
    """What was stored, for the console's live update."""

    sender_id: str  # the conversation's
    conversation_id: int
    interaction_id: int
    ticket_id: int | None  # the conversation's active ticket
    sender_matches: bool
    ticket_opened: bool = False  # no ticket was active: this answer opened one


def interaction_key(key: str) -> str:
    """The ``event_key`` of the interaction a received mail becomes (never a Rasa event's)."""
    return hashlib.sha256(f"mail:{key}".encode()).hexdigest()


def _with_attachments(text: str | None, mail: ParsedMail) -> str:
    """The text, with a line per attachment (noted, not kept) for the agent."""
    notes = [
        f"[attachment not kept: {item.name}, {item.content_type}, {item.size} bytes]"
        for item in mail.attachments[:20]
    ]
    return "\n".join([text or "", *notes]) if notes else text or ""


async def already_received(session: AsyncSession, key: str) -> bool:
    return await session.scalar(select(ReceivedMail.id).where(ReceivedMail.key == key)) is not None


async def store_reply(
    session: AsyncSession,
    *,
    token: str,
    mail: ParsedMail,
    key: str,
    size: int,
    envelope_sender: str | None,
    now: datetime,
    redact_pii: bool = False,
) -> StoredReply | None:
    """Store a customer's e-mailed answer in the conversation of ``token``.

    Args:
        session: the caller's transaction.
        token: the reply address's token.
        mail: the parsed mail (:func:`.inbound.parse_mail`).
        key: the mail's key (:meth:`.inbound.ParsedMail.key`).
        size: the mail's size in bytes.
        envelope_sender: the SMTP transaction's MAIL FROM.
        now: when it arrived.
        redact_pii: mask e-mail addresses and phone numbers in the stored text (REDACT_PII).

    Returns:
        What was stored, or None when this mail had been stored already.

    Raises:
        UnknownToken: no conversation has ``token``.
    """
    conversation = await conversation_of_token(session, token)
    if conversation is None:
        raise UnknownToken(token)
    if await already_received(session, key):
        return None
    customer = await session.get_one(Customer, conversation.customer_id)
    expected = await consented_address(session, customer.id) or customer.email
    matches = same_address(mail.sender, expected) or same_address(envelope_sender, expected)
    interaction = Interaction(
        event_key=interaction_key(key),
        customer_id=customer.id,
        conversation_id=conversation.id,
        channel=CHANNEL,
        direction=Direction.CUSTOMER.value,
        text=_with_attachments(redact(mail.text) if redact_pii else mail.text, mail),
        language=customer.language,
        timestamp=now,
    )
    try:
        async with session.begin_nested():  # two deliveries at once: one of them stores it
            session.add(interaction)
            await session.flush()
            session.add(
                ReceivedMail(
                    key=key,
                    message_id=mail.message_id,
                    conversation_id=conversation.id,
                    interaction_id=interaction.id,
                    sender=(mail.sender or envelope_sender or "")[:320],
                    sender_matches=matches,
                    size=size,
                    attachments=[vars(attachment) for attachment in mail.attachments],
                    received_at=now,
                )
            )
    except IntegrityError:
        return None
    conversation.last_message_at = max(conversation.last_message_at, now)
    customer.last_seen = max(customer.last_seen or now, now)
    await rollup.refresh(session, conversation.id, [now])  # a customer message of that day
    # As a chat message after the ticket was resolved reaches the bot, which hands what it
    # cannot answer to people in a new ticket: an e-mailed answer, which no bot reads, does so
    # at once (the resolved ticket stays resolved; the new one shows the whole conversation).
    ticket, opened = await open_ticket(
        session,
        conversation.sender_id,
        EscalationReason.REQUESTED,
        (mail.text or "")[:MAX_QUESTION_CHARS] or None,
        [],
        conversation.channel,
        {},
        "",
    )
    return StoredReply(
        conversation.sender_id, conversation.id, interaction.id, ticket.id, matches, opened
    )


async def record_bounce(
    session: AsyncSession, *, token: str, reason: str, now: datetime
) -> int | None:
    """A bounce (a delivery status notification) to the reply address of ``token``: the
    conversation's latest sent mail did not arrive; it is marked failed with ``reason``.

    Returns:
        The failed mail's ticket id (for the console), or None.

    Raises:
        UnknownToken: no conversation has ``token``.
    """
    conversation = await conversation_of_token(session, token)
    if conversation is None:
        raise UnknownToken(token)
    mail = await session.scalar(
        select(MailOutboxMessage)
        .where(
            MailOutboxMessage.conversation_id == conversation.id,
            MailOutboxMessage.sent_at.is_not(None),
        )
        .order_by(MailOutboxMessage.sent_at.desc(), MailOutboxMessage.id.desc())
        .limit(1)
    )
    if mail is None:
        return None
    mail.failed_at = now
    mail.last_error = f"bounced: {' '.join(reason.split())}"[:500]
    return mail.ticket_id
