"""Which agents' replies follow the customer by e-mail, and when the chat says they were seen.

The console calls :func:`follow_by_mail` in the transaction that queues an agent's reply: in a
widget conversation the reply is e-mailed EMAIL_CONTINUITY_DELAY later (with the replies that
join it, :func:`bot.domain.mail.continuation.queue_continuation`) unless the widget reports
first, through :func:`seen_in_widget`, that the customer saw it. Other channels have no such
signal: WeChat puts the reply on the customer's phone, so their replies are e-mailed only when
the channel refuses them for good (its 48-hour window has closed,
:func:`follow_refused_by_mail`; the ticket says so as well).

>>> await follow_by_mail(session, options, reply, now)  # doctest: +SKIP
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.identity import VerifiedCustomer
from bot.domain.mail.continuation import MailOptions, queue_continuation, replies_seen
from bot.domain.transcripts import transcript
from bot.store.models import Conversation, MailOutboxMessage, OutboxMessage

# Channels whose client tells us what the customer saw: the website widget (socket.io).
SEEN_CHANNELS = frozenset({"socketio"})


async def follow_by_mail(
    session: AsyncSession, options: MailOptions, reply: OutboxMessage, now: datetime
) -> MailOutboxMessage | None:
    """E-mail the agent's ``reply`` later unless the customer sees it in the widget.

    Returns:
        The mail that will carry it, or None: mail is off, the conversation is not the
        widget's, or the customer gave no address to be answered at.
    """
    conversation = await session.get_one(Conversation, reply.conversation_id)
    if conversation.channel not in SEEN_CHANNELS:
        return None
    return await queue_continuation(session, options, outbox_id=reply.id, now=now)


async def follow_refused_by_mail(
    session: AsyncSession, options: MailOptions, reply: OutboxMessage, now: datetime
) -> MailOutboxMessage | None:
    """The customer's channel refused the agent's ``reply`` for good (WeChat's 48-hour window
    has closed): e-mail it now, if the customer gave an address.

    Returns:
        The mail that will carry it at once, or None (mail off, no address, not a reply).
    """
    mail = await queue_continuation(session, options, outbox_id=reply.id, now=now)
    if mail is not None:
        mail.next_attempt_at = now  # no chat can show it: nothing to wait for
    return mail


async def seen_in_widget(
    session: AsyncSession, sender_id: str, proven: VerifiedCustomer | None, now: datetime
) -> int:
    """The widget of conversation ``sender_id`` showed the agents' replies to the customer:
    the mails waiting to carry them are not needed.

    Args:
        session: the caller's transaction.
        sender_id: the conversation the widget's secret names.
        proven: the shop customer the widget's signature proves, if any.
        now: when the signal came.

    Returns:
        How many mails were cancelled (0 for a conversation we do not know).

    Raises:
        ConversationOfAnother: a signed-in customer's conversation, and the signature does
            not prove them; nothing is changed.
    """
    await transcript(session, sender_id, proven, 0)  # checks whose it is; reads no message
    conversation = await session.scalar(
        select(Conversation).where(Conversation.sender_id == sender_id)
    )
    if conversation is None:
        return 0
    return await replies_seen(session, conversation.id, now)
