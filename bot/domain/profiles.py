"""Customer profiles: what we know about a customer, summarised for people.

The same document backs ``python -m bot profile``, the agent console's profile panel and the
customer's data export (see :mod:`bot.domain.customers` for finding the customer).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import (
    Conversation,
    Customer,
    Direction,
    EmailConsent,
    Identity,
    Interaction,
    MailOutboxMessage,
    ReceivedMail,
    Ticket,
)

QUESTION_DECISIONS = ("answer", "clarify", "escalate")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def profile_document(
    session: AsyncSession, customer: Customer, with_interactions: bool = True
) -> dict[str, Any]:
    """Everything the profile shows, as JSON-ready data."""
    identities = (
        await session.scalars(
            select(Identity).where(Identity.customer_id == customer.id).order_by(Identity.id)
        )
    ).all()
    conversations = (
        await session.scalars(
            select(Conversation)
            .where(Conversation.customer_id == customer.id)
            .order_by(Conversation.started_at, Conversation.id)
        )
    ).all()
    interactions = (
        await session.scalars(
            select(Interaction)
            .where(Interaction.customer_id == customer.id)
            .order_by(Interaction.timestamp, Interaction.id)
        )
    ).all()
    tickets = (
        await session.scalars(
            select(Ticket).where(Ticket.customer_id == customer.id).order_by(Ticket.id)
        )
    ).all()
    consent = await session.get(EmailConsent, customer.id)
    by_conversation = {c.id: c.sender_id for c in conversations}
    asked = [
        i
        for i in interactions
        if i.direction == Direction.CUSTOMER.value and i.faq_decision in QUESTION_DECISIONS
    ]
    document: dict[str, Any] = {
        "id": customer.id,
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "language": customer.language,
        "first_seen": _iso(customer.first_seen),
        "last_seen": _iso(customer.last_seen),
        # They unfollowed the WeChat Official Account (no message can reach them there).
        "unsubscribed_at": _iso(customer.unsubscribed_at),
        "identities": [
            {"kind": i.kind, "value": i.value, "verified": i.verified} for i in identities
        ],
        "counts": {
            "conversations": len(conversations),
            "messages": sum(i.direction == Direction.CUSTOMER.value for i in interactions),
            "questions": len(asked),
            "answered_by_bot": sum(i.faq_decision == "answer" for i in asked),
            "escalations": len(tickets),
        },
        "faq_categories": dict(Counter(i.faq_category for i in asked if i.faq_category)),
        "feedback": [
            {"faq_id": i.faq_id, "feedback": i.feedback, "timestamp": _iso(i.timestamp)}
            for i in interactions
            if i.feedback
        ],
        "tickets": [
            {
                "id": t.id,
                "reason": t.reason,
                "status": t.status,
                "created_at": _iso(t.created_at),
                "resolved_at": _iso(t.resolved_at),
                "satisfaction": t.satisfaction,
            }
            for t in tickets
        ],
        # The address the customer gave for replies by e-mail: when and how they agreed.
        "email_consent": None
        if consent is None
        else {
            "address": consent.address,
            "source": consent.source,
            "given_at": _iso(consent.given_at),
            "withdrawn_at": _iso(consent.withdrawn_at),
        },
        "tags": list(customer.tags or []),
        "notes": customer.notes,
        "conversations": [
            {
                "sender_id": c.sender_id,
                "channel": c.channel,
                "started_at": _iso(c.started_at),
                "last_message_at": _iso(c.last_message_at),
            }
            for c in conversations
        ],
    }
    if with_interactions:
        document["interactions"] = [
            {
                "conversation": by_conversation.get(i.conversation_id),
                "channel": i.channel,
                "direction": i.direction,
                "text": i.text,
                "intent": i.intent,
                "intent_confidence": i.intent_confidence,
                "faq_id": i.faq_id,
                "faq_category": i.faq_category,
                "faq_score": i.faq_score,
                "faq_decision": i.faq_decision,
                "feedback": i.feedback,
                "language": i.language,
                "timestamp": _iso(i.timestamp),
            }
            for i in interactions
        ]
        document["mails"] = await _mails(session, by_conversation)
    return document


async def _mails(session: AsyncSession, conversations: dict[int, str]) -> dict[str, Any]:
    """The e-mails sent to the customer and received from them (their texts are interactions)."""
    sent = (
        await session.scalars(
            select(MailOutboxMessage)
            .where(MailOutboxMessage.conversation_id.in_(conversations))
            .order_by(MailOutboxMessage.created_at, MailOutboxMessage.id)
        )
    ).all()
    received = (
        await session.scalars(
            select(ReceivedMail)
            .where(ReceivedMail.conversation_id.in_(conversations))
            .order_by(ReceivedMail.received_at, ReceivedMail.id)
        )
    ).all()
    return {
        "sent": [
            {
                "conversation": conversations.get(m.conversation_id),
                "to": m.recipient,
                "subject": m.subject,
                "text": m.text_body,
                "created_at": _iso(m.created_at),
                "sent_at": _iso(m.sent_at),
                "failed_at": _iso(m.failed_at),
            }
            for m in sent
        ],
        "received": [
            {
                "conversation": conversations.get(m.conversation_id),
                "from": m.sender,
                "received_at": _iso(m.received_at),
                "attachments": list(m.attachments or []),
            }
            for m in received
        ],
    }
