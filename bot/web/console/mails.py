"""The e-mail side of a ticket, for its page and the API: the conversation's mails (waiting,
sending, sent, failed or bounced, cancelled because the customer saw the replies in the chat)
and, for each answer the customer e-mailed, who sent it (flagged when it is not the address
the customer agreed to be answered at, see :mod:`bot.domain.mail.replies`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.mail.continuation import mails_of_conversation
from bot.store.models import ReceivedMail


async def ticket_mails(session: AsyncSession, conversation_id: int) -> list[dict[str, Any]]:
    """The conversation's mails, oldest first: ``id``, ``recipient``, ``created_at`` (ISO),
    ``state`` ("waiting", "sending", "sent", "failed", "cancelled") and ``error``."""
    return [
        {
            "id": mail.id,
            "recipient": mail.recipient,
            "created_at": mail.created_at.isoformat(),
            "state": mail.state,
            "error": mail.error,
        }
        for mail in await mails_of_conversation(session, conversation_id)
    ]


async def received_mails(session: AsyncSession, conversation_id: int) -> dict[int, dict[str, Any]]:
    """The customer's e-mailed answers in the conversation, by their interaction's id:
    ``sender`` and ``sender_matches`` (False: not the address they agreed to)."""
    rows = await session.execute(
        select(ReceivedMail.interaction_id, ReceivedMail.sender, ReceivedMail.sender_matches).where(
            ReceivedMail.conversation_id == conversation_id,
            ReceivedMail.interaction_id.is_not(None),
        )
    )
    return {
        interaction_id: {"sender": sender, "sender_matches": bool(matches)}
        for interaction_id, sender, matches in rows
    }
