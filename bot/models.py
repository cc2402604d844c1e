"""The application database: customers, their channel identities, conversations, interactions.

Alembic migrations in ``bot/migrations`` create these tables; change a model, then add a
migration (``make migration m="what changed"``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UtcDateTime(TypeDecorator):
    """Aware UTC datetimes on every database (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: give a timezone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    pass


class IdentityKind(str, Enum):
    VISITOR = "visitor"  # an anonymous website visitor (the widget's random conversation owner)
    SHOP = "shop"  # a shop customer id, proven by the shop's HMAC signature
    WECHAT = "wechat"  # a WeChat OpenID


class Direction(str, Enum):
    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))
    language: Mapped[str | None] = mapped_column(String(8))
    first_seen: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_seen: Mapped[datetime | None] = mapped_column(UtcDateTime())
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    identities: Mapped[list[Identity]] = relationship(
        back_populates="customer", cascade="all, delete-orphan"
    )
    conversations: Mapped[list[Conversation]] = relationship(
        back_populates="customer", cascade="all, delete-orphan"
    )


class Identity(Base):
    """One way of recognising a customer: (kind, value) is unique across customers."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(255))
    verified: Mapped[bool] = mapped_column(default=False)

    customer: Mapped[Customer] = relationship(back_populates="identities")


class Conversation(Base):
    """A Rasa conversation (its sender id), owned by one customer."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(255), unique=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_message_at: Mapped[datetime] = mapped_column(UtcDateTime())

    customer: Mapped[Customer] = relationship(back_populates="conversations")
    interactions: Mapped[list[Interaction]] = relationship(
        back_populates="conversation",
        cascade="all, delete-orphan",
        order_by="Interaction.id",
    )


class Interaction(Base):
    """One message in a conversation, with what the bot understood and decided."""

    __tablename__ = "interactions"
    __table_args__ = (Index("ix_interactions_customer_time", "customer_id", "timestamp"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    # The source event's digest: a re-delivered event finds its row and is not stored again.
    event_key: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str | None] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(100))
    intent_confidence: Mapped[float | None] = mapped_column(Float)
    faq_id: Mapped[str | None] = mapped_column(String(100))
    faq_category: Mapped[str | None] = mapped_column(String(100))
    faq_score: Mapped[float | None] = mapped_column(Float)
    faq_decision: Mapped[str | None] = mapped_column(String(16))
    feedback: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(8))
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime())

    conversation: Mapped[Conversation] = relationship(back_populates="interactions")


class BrokerEvent(Base):
    """Rasa's SQL event broker table, which Rasa writes and the ingestion worker drains.

    Rasa's ``SQLEventBroker`` fixes its name and columns; creating it here lets the worker start
    before Rasa does. Its rows are an inbox: each is deleted in the transaction that stores it.
    """

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender_id: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[str | None] = mapped_column(Text)
