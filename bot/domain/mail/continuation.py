"""The continuation mail: agents' replies the customer has not seen, e-mailed together.

Entry points for the console and the widget:

- :func:`queue_continuation`, right after an agent's reply is queued in the outbox: the mail
  leaves EMAIL_CONTINUITY_DELAY later, unless the customer sees the reply in the chat first;
  replies queued before it leaves join it (one mail, recomposed, not one per reply);
- :func:`replies_seen`, when the widget reports the customer saw the replies: the mails not
  yet handed to SMTP are cancelled;
- :func:`mails_of_conversation`, for the ticket: what was e-mailed, what waits, what failed.

>>> options = MailOptions.from_settings(settings.mail)  # doctest: +SKIP
>>> mail = await queue_continuation(session, options, outbox_id=reply.id, now=now)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.mail.consent import consented_address
from bot.domain.mail.outbound import Continuation, Line, compose, new_message_id
from bot.domain.mail.threads import thread_ids, thread_token
from bot.settings.sections import MailSettings
from bot.store.models import (
    Conversation,
    Customer,
    Direction,
    Interaction,
    MailOutboxMessage,
    OutboxKind,
    OutboxMessage,
)

RECENT_MESSAGES = 12
SHOWN = (Direction.CUSTOMER.value, Direction.BOT.value, Direction.AGENT.value)


@dataclass(frozen=True)
class MailOptions:
    """What composing and queueing a mail needs of the settings."""

    sender: str
    reply_domain: str
    delay: timedelta
    shop_name: str = ""
    chat_url: str = ""
    enabled: bool = True  # False (SMTP_HOST empty): nothing is e-mailed

    @classmethod
    def from_settings(cls, mail: MailSettings) -> MailOptions:
        return cls(
            sender=mail.mail_from,
            reply_domain=mail.reply_domain,
            delay=timedelta(seconds=mail.email_continuity_delay),
            shop_name=mail.shop_name,
            chat_url=mail.mail_chat_url,
            enabled=mail.enabled,
        )


@dataclass(frozen=True)
class MailState:
    """One mail of a conversation, as the ticket shows it."""

    id: int
    recipient: str
    created_at: datetime
    state: str  # "waiting", "sending", "sent", "failed", "cancelled"
    error: str | None


def pending() -> tuple[ColumnElement[bool], ...]:
    """The conditions of a mail not yet handed to SMTP, nor given up."""
    return (
        MailOutboxMessage.claimed_at.is_(None),
        MailOutboxMessage.sent_at.is_(None),
        MailOutboxMessage.failed_at.is_(None),
        MailOutboxMessage.cancelled_at.is_(None),
    )


async def _lines(session: AsyncSession, conversation_id: int, outbox_ids: list[int]) -> list[Line]:
    """The conversation's recent messages, with the mail's replies not yet in them (a reply
    becomes an interaction only once delivered to the chat)."""
    stored = (
        await session.scalars(
            select(Interaction)
            .where(Interaction.conversation_id == conversation_id, Interaction.direction.in_(SHOWN))
            .order_by(Interaction.timestamp.desc(), Interaction.id.desc())
            .limit(RECENT_MESSAGES)
        )
    ).all()
    lines = [Line(row.direction, row.author, row.text or "", row.timestamp) for row in stored]
    known = {(line.author, line.text) for line in lines if line.direction == Direction.AGENT.value}
    replies = await session.scalars(
        select(OutboxMessage).where(OutboxMessage.id.in_(outbox_ids)).order_by(OutboxMessage.id)
    )
    for reply in replies:
        if (reply.agent_name, reply.text) not in known:
            lines.append(
                Line(Direction.AGENT.value, reply.agent_name, reply.text, reply.created_at)
            )
    lines.sort(key=lambda line: line.at)
    return lines[-RECENT_MESSAGES:]


async def _compose_into(
    session: AsyncSession, mail: MailOutboxMessage, options: MailOptions, language: str
) -> None:
    lines = await _lines(session, mail.conversation_id, mail.outbox_ids)
    composed = compose(Continuation(options.shop_name, language, lines, options.chat_url))
    mail.subject, mail.text_body, mail.html_body = composed.subject, composed.text, composed.html


async def queue_continuation(
    session: AsyncSession, options: MailOptions, *, outbox_id: int, now: datetime
) -> MailOutboxMessage | None:
    """E-mail an agent's reply (an ``outbox`` row) unless the customer sees it in time.

    Args:
        session: the caller's transaction (the one that queued the reply, or a later one).
        options: the mail settings (:meth:`MailOptions.from_settings`).
        outbox_id: the reply's outbox row.
        now: the current time.

    Returns:
        The mail that will carry it (a new one, or the conversation's waiting one it joined),
        or None: mail is off, not an agent's reply, or the customer gave no address to be
        answered at.
    """
    if not options.enabled:
        return None
    reply = await session.get(OutboxMessage, outbox_id)
    if reply is None or reply.kind != OutboxKind.REPLY.value:
        return None
    conversation = await session.get_one(Conversation, reply.conversation_id)
    customer = await session.get_one(Customer, conversation.customer_id)
    recipient = await consented_address(session, customer.id)
    if recipient is None:
        return None
    mail = await session.scalar(
        select(MailOutboxMessage)
        .where(MailOutboxMessage.conversation_id == conversation.id, *pending())
        .order_by(MailOutboxMessage.id)
        .limit(1)
    )
    if mail is None:
        await thread_token(session, conversation.id, now)
        references = await thread_ids(session, conversation.id)
        mail = MailOutboxMessage(
            conversation_id=conversation.id,
            recipient=recipient,
            language=(customer.language or "en")[:8],
            message_id=new_message_id(options.reply_domain),
            in_reply_to=references[-1] if references else None,
            references=" ".join(references) or None,
            outbox_ids=[],
            created_at=now,
            attempts=0,
            next_attempt_at=now + options.delay,
        )
    if outbox_id not in mail.outbox_ids:
        mail.outbox_ids = [*mail.outbox_ids, outbox_id]  # a new list: JSON changes are by value
    mail.ticket_id = reply.ticket_id or mail.ticket_id
    await _compose_into(session, mail, options, mail.language)  # before a new row is added
    session.add(mail)
    await session.flush()
    return mail


async def replies_seen(session: AsyncSession, conversation_id: int, now: datetime) -> int:
    """The customer saw the conversation's replies in the chat: cancel its mails not yet handed
    to SMTP. How many were cancelled."""
    result = await session.execute(
        update(MailOutboxMessage)
        .where(MailOutboxMessage.conversation_id == conversation_id, *pending())
        .values(cancelled_at=now, last_error="seen in the chat")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _state(mail: MailOutboxMessage) -> str:
    if mail.failed_at is not None:  # also a sent mail that bounced
        return "failed"
    if mail.sent_at is not None:
        return "sent"
    if mail.cancelled_at is not None:
        return "cancelled"
    return "sending" if mail.claimed_at is not None else "waiting"


async def mails_of_conversation(session: AsyncSession, conversation_id: int) -> list[MailState]:
    """The conversation's mails, oldest first, with their state and the error of a failed one
    (the SMTP server's answer), for the ticket."""
    mails = await session.scalars(
        select(MailOutboxMessage)
        .where(MailOutboxMessage.conversation_id == conversation_id)
        .order_by(MailOutboxMessage.id)
    )
    return [
        MailState(mail.id, mail.recipient, mail.created_at, _state(mail), mail.last_error)
        for mail in mails
    ]
