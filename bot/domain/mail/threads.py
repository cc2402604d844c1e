"""A conversation's mail thread: its reply token, and the Message-IDs that thread our mails
with the customer's answers in their mail client.

>>> token = await thread_token(session, conversation.id, now)  # doctest: +SKIP
>>> (await conversation_of_token(session, token)).id == conversation.id  # doctest: +SKIP
True
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.mail.addresses import new_token
from bot.store.models import Conversation, MailOutboxMessage, MailThread, ReceivedMail

MAX_REFERENCES = 20


async def thread_token(session: AsyncSession, conversation_id: int, now: datetime) -> str:
    """The conversation's reply token, made on first use."""
    token = await session.scalar(
        select(MailThread.token).where(MailThread.conversation_id == conversation_id)
    )
    if token is not None:
        return token
    try:
        async with session.begin_nested():
            session.add(
                MailThread(conversation_id=conversation_id, token=new_token(), created_at=now)
            )
    except IntegrityError:  # another process made it first
        pass
    return await session.scalar(  # type: ignore[return-value]
        select(MailThread.token).where(MailThread.conversation_id == conversation_id)
    )


async def conversation_of_token(session: AsyncSession, token: str) -> Conversation | None:
    """The conversation a reply token belongs to, or None."""
    return await session.scalar(
        select(Conversation)
        .join(MailThread, MailThread.conversation_id == Conversation.id)
        .where(MailThread.token == token.lower())
    )


async def thread_ids(session: AsyncSession, conversation_id: int) -> list[str]:
    """The Message-IDs of the conversation's mails, ours sent and the customer's received,
    oldest first (at most :data:`MAX_REFERENCES`): the last is what a new mail replies to."""
    sent = await session.execute(
        select(MailOutboxMessage.message_id, MailOutboxMessage.sent_at).where(
            MailOutboxMessage.conversation_id == conversation_id,
            MailOutboxMessage.sent_at.is_not(None),
        )
    )
    received = await session.execute(
        select(ReceivedMail.message_id, ReceivedMail.received_at).where(
            ReceivedMail.conversation_id == conversation_id,
            ReceivedMail.message_id.is_not(None),
        )
    )
    dated = [(at, message_id) for message_id, at in [*sent, *received] if message_id and at]
    return [message_id for _, message_id in sorted(dated)][-MAX_REFERENCES:]
