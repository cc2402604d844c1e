"""A customer's consent to be answered by e-mail: the address they gave, when and how.

Entry points for the conversation (the bot asking for an address, the widget's form, the
shop's verified identity): :func:`record_consent`, :func:`withdraw_consent`; the mail side reads
:func:`consented_address`.

>>> await record_consent(session, customer.id, " Ann@Example.com ", "chat", now)  # doctest: +SKIP
'Ann@example.com'
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.mail.addresses import normalise_address
from bot.store.models import Conversation, Customer, EmailConsent, MailOutboxMessage


async def record_consent(
    session: AsyncSession, customer_id: int, typed: str, source: str, now: datetime
) -> str:
    """Store the address the customer gave, on their profile, with their consent to be
    answered there (when, and how: ``source``, e.g. "chat", "widget_form", "shop").

    Returns:
        The address as stored.

    Raises:
        InvalidAddress: ``typed`` is not an address; nothing is changed.
    """
    address = normalise_address(typed)
    customer = await session.get_one(Customer, customer_id)
    customer.email = address
    consent = await session.get(EmailConsent, customer_id)
    if consent is None:
        session.add(
            EmailConsent(customer_id=customer_id, address=address, source=source[:32], given_at=now)
        )
    else:
        consent.address, consent.source, consent.given_at = address, source[:32], now
        consent.withdrawn_at = None
    await session.flush()
    return address


async def withdraw_consent(session: AsyncSession, customer_id: int, now: datetime) -> bool:
    """No more mail to this customer; False when there was no consent to withdraw."""
    consent = await session.get(EmailConsent, customer_id)
    if consent is None or consent.withdrawn_at is not None:
        return False
    consent.withdrawn_at = now
    conversations = select(Conversation.id).where(Conversation.customer_id == customer_id)
    await session.execute(
        update(MailOutboxMessage)
        .where(
            MailOutboxMessage.conversation_id.in_(conversations),
            MailOutboxMessage.claimed_at.is_(None),
            MailOutboxMessage.cancelled_at.is_(None),
        )
        .values(cancelled_at=now, last_error="the customer withdrew their consent")
    )
    return True


async def consented_address(session: AsyncSession, customer_id: int) -> str | None:
    """The address the customer agreed to be answered at, or None."""
    consent = await session.get(EmailConsent, customer_id)
    return consent.address if consent is not None and consent.withdrawn_at is None else None
