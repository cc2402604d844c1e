"""Who a message comes from: the one place that resolves conversations and customers.

A conversation (Rasa's sender id) belongs to one customer; a customer has identities (a widget
visitor id, a WeChat OpenID, the shop's own customer id once verified, see
:mod:`bot.domain.identity`). The ingestion worker creates conversations and customers as their
events arrive (:func:`resolve_conversation`); the action server recognises a returning
customer (:func:`returning_customer`); operators look one up by any key
(:func:`find_customer`; :mod:`bot.domain.lookup` refuses an ambiguous key)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.identity import VerifiedCustomer, verify
from bot.store import rollup
from bot.store.models import Conversation, Customer, Identity, IdentityKind, Interaction, Ticket


async def resolve_conversation(
    session: AsyncSession,
    sender_id: str,
    metadata: Mapping[str, Any] | None,
    channel: str | None,
    when: datetime,
    identity_secret: str,
) -> Conversation:
    """The conversation ``sender_id``, created with its customer if new, and handed to the
    customer a verified identity in ``metadata`` proves (see :func:`_move`)."""
    conversation = await session.scalar(
        select(Conversation).where(Conversation.sender_id == sender_id)
    )
    verified = verify(metadata, identity_secret)
    if verified is not None:
        customer = await _identified(
            session, IdentityKind.SHOP, verified.customer_id, verified=True
        )
        for field in ("name", "email", "phone"):
            if getattr(verified, field):
                setattr(customer, field, getattr(verified, field))
        if conversation is not None and conversation.customer_id != customer.id:
            await _move(session, conversation, customer)
    elif conversation is not None:
        customer = await session.get_one(Customer, conversation.customer_id)
    else:
        kind = IdentityKind.WECHAT if channel == "wechat" else IdentityKind.VISITOR
        customer = await _identified(session, kind, sender_id, verified=False)
    if conversation is None:
        conversation = Conversation(
            sender_id=sender_id,
            customer_id=customer.id,
            channel=channel,
            started_at=when,
            last_message_at=when,
        )
        try:
            async with session.begin_nested():  # the action server may create it at once
                session.add(conversation)
        except IntegrityError:
            conversation = (
                await session.scalars(
                    select(Conversation).where(Conversation.sender_id == sender_id)
                )
            ).one()
    elif channel and not conversation.channel:
        conversation.channel = channel
    return conversation


async def _identified(
    session: AsyncSession, kind: IdentityKind, value: str, verified: bool
) -> Customer:
    """The customer with this identity, created with it if new."""
    found = select(Identity).where(Identity.kind == kind.value, Identity.value == value)
    identity = await session.scalar(found)
    if identity is None:
        try:
            # The ingestion worker and the action server may meet a new customer at once.
            async with session.begin_nested():
                customer = Customer(tags=[])
                session.add(customer)
                await session.flush()
                session.add(
                    Identity(
                        customer_id=customer.id, kind=kind.value, value=value, verified=verified
                    )
                )
            return customer
        except IntegrityError:
            identity = (await session.scalars(found)).one()
    return await session.get_one(Customer, identity.customer_id)


async def _move(session: AsyncSession, conversation: Conversation, target: Customer) -> None:
    """Hand a conversation to the customer who has just proven who they are.

    An anonymous profile (no verified identity) is merged into theirs: its conversations,
    interactions and identities move and it is deleted. A verified one keeps what it had:
    someone else signed in on the same device.
    """
    source_id = conversation.customer_id
    anonymous = not await session.scalar(
        select(func.count())
        .select_from(Identity)
        .where(Identity.customer_id == source_id, Identity.verified.is_(True))
    )
    if anonymous:
        for model in (Conversation, Interaction, Identity, Ticket):
            await session.execute(
                update(model).where(model.customer_id == source_id).values(customer_id=target.id)
            )
        await rollup.move_customer(session, source_id, target.id)
        source = await session.get_one(Customer, source_id)
        target.first_seen = min(filter(None, [target.first_seen, source.first_seen]), default=None)
        target.last_seen = max(filter(None, [target.last_seen, source.last_seen]), default=None)
        target.language = target.language or source.language
        await session.delete(source)
    else:
        await session.execute(
            update(Conversation)
            .where(Conversation.id == conversation.id)
            .values(customer_id=target.id)
        )
    await session.flush()
    await session.refresh(conversation)


async def find_customer(session: AsyncSession, key: str) -> Customer | None:
    """The customer owning conversation ``key``, else the one with an identity of that value."""
    customer_id = await session.scalar(
        select(Conversation.customer_id).where(Conversation.sender_id == key)
    )
    if customer_id is None:
        customer_id = await session.scalar(
            select(Identity.customer_id)
            .where(Identity.value == key)
            .order_by(Identity.verified.desc())
            .limit(1)
        )
    return None if customer_id is None else await session.get(Customer, customer_id)


async def returning_customer(
    session: AsyncSession, sender_id: str, verified: VerifiedCustomer | None
) -> Customer | None:
    """Who is writing, if we have met them: a verified shop customer or a known conversation."""
    if verified is not None:
        customer_id = await session.scalar(
            select(Identity.customer_id).where(
                Identity.kind == IdentityKind.SHOP.value, Identity.value == verified.customer_id
            )
        )
        return None if customer_id is None else await session.get(Customer, customer_id)
    customer_id = await session.scalar(
        select(Conversation.customer_id).where(Conversation.sender_id == sender_id)
    )
    if customer_id is None:
        customer_id = await session.scalar(
            select(Identity.customer_id).where(
                Identity.value == sender_id,
                or_(
                    Identity.kind == IdentityKind.VISITOR.value,
                    Identity.kind == IdentityKind.WECHAT.value,
                ),
            )
        )
    return None if customer_id is None else await session.get(Customer, customer_id)
