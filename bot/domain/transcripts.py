"""What a customer sees of their own conversation again after a reload: its transcript.

A verified shop customer's conversation is theirs alone: its transcript is given only with
their proven identity (:func:`bot.domain.identity.verify`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.identity import VerifiedCustomer
from bot.store.models import Conversation, Direction, Identity, IdentityKind, Interaction

SHOWN = {Direction.CUSTOMER.value, Direction.BOT.value, Direction.AGENT.value}


class ConversationOfAnother(PermissionError):
    """The conversation belongs to a signed-in customer, and the request does not prove them."""


async def transcript(
    session: AsyncSession, sender_id: str, proven: VerifiedCustomer | None, limit: int
) -> Sequence[Interaction]:
    """The last ``limit`` messages of conversation ``sender_id`` (customer, bot and agent),
    newest first; none for a conversation we have not seen.

    Raises:
        ConversationOfAnother: the conversation's customer is verified and ``proven`` is not them.
    """
    conversation = await session.scalar(
        select(Conversation).where(Conversation.sender_id == sender_id)
    )
    if conversation is None:
        return []
    owner = await session.scalar(
        select(Identity.value).where(
            Identity.customer_id == conversation.customer_id,
            Identity.kind == IdentityKind.SHOP.value,
            Identity.verified.is_(True),
        )
    )
    if owner is not None and (proven is None or proven.customer_id != owner):
        raise ConversationOfAnother("this conversation belongs to a signed-in customer")
    return (
        await session.scalars(
            select(Interaction)
            .where(Interaction.conversation_id == conversation.id, Interaction.direction.in_(SHOWN))
            .order_by(Interaction.timestamp.desc(), Interaction.id.desc())
            .limit(limit)
        )
    ).all()
