"""The application database: customers, their channel identities, conversations, interactions.

Alembic migrations in ``bot/store/migrations/versions`` create these tables: change a model,
then add the next numbered migration there by hand (they are short and reviewed like code);
``python -m bot migrate`` applies them (``python -m bot run`` does at start).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
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
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: give a timezone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
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
    __table_args__ = (
        Index("ix_interactions_customer_time", "customer_id", "timestamp"),
        # Insights read the messages of a date range (bot.domain.insights.sources).
        Index("ix_interactions_timestamp", "timestamp"),
    )

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
    author: Mapped[str | None] = mapped_column(String(100))  # the agent's name, on their replies
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


class AgentRole(str, Enum):
    AGENT = "agent"
    ADMIN = "admin"


class AgentStatus(str, Enum):
    ONLINE = "online"
    AWAY = "away"


class Agent(Base):
    """A person who answers escalations in the console."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=AgentRole.AGENT.value)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # What the agent says: "online" (takes tickets while the console is open) or "away".
    status: Mapped[str] = mapped_column(String(16), default=AgentStatus.ONLINE.value)
    # The console's language ("en", "zh") and time zone; None: the browser's, the shop's.
    language: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str | None] = mapped_column(String(64))
    # When automatic assignment last gave this agent a ticket (round robin takes the oldest).
    last_assigned_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class AgentSession(Base):
    """A signed-in console session; the cookie holds the token, we keep only its digest."""

    __tablename__ = "agent_sessions"

    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class LoginAttempt(Base):
    """Failed sign-ins, counted to slow down password guessing."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_key_time", "key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(160))  # "user:<name>" or "ip:<address>"
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class TicketStatus(str, Enum):
    OPEN = "open"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"


class Ticket(Base):
    """An escalation: a conversation handed to people until one of them resolves it."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_created", "status", "created_at"),
        Index("ix_tickets_created_at", "created_at"),  # insights: the tickets of a date range
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(32))
    question: Mapped[str | None] = mapped_column(Text)
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default=TicketStatus.OPEN.value)
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    first_reply_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    assigned_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL")
    )
    resolution_note: Mapped[str | None] = mapped_column(Text)
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    # A digest of the client's address (socket.io channel), for the per-address ticket limit.
    origin: Mapped[str | None] = mapped_column(String(32), index=True)


class TicketNote(Base):
    """An internal note on a ticket: agents see it, the customer never does."""

    __tablename__ = "ticket_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class OutboxKind(str, Enum):
    REPLY = "reply"  # an agent's message to the customer
    RESUME = "resume"  # the ticket is resolved: the bot takes over and asks for a rating


class OutboxMessage(Base):
    """What must reach the customer's channel from the console, in order, once; retried until
    the conversation's tracker shows it, or the channel refuses it for good."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "delivered_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    agent_name: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16), default=OutboxKind.REPLY.value)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The channel refused it for good (WeChat: the customer's 48-hour window has passed);
    # last_error says why, and it is not tried again.
    failed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)


class FaqAddition(Base):
    """What agents taught the bot: a new FAQ entry, or a question for an existing one.

    The index is built from the FAQ source files plus these rows (see :mod:`bot.domain.knowledge`).
    """

    __tablename__ = "faq_additions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(128), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "entry" or "variant"
    language: Mapped[str] = mapped_column(String(8))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(100))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class BrokerEvent(Base):
    """Rasa's SQL event broker table, which Rasa writes and the ingestion worker drains.

    Rasa's ``SQLEventBroker`` fixes its name and columns; creating it here lets the worker start
    before Rasa does. Its rows are an inbox: each is deleted in the transaction that stores it.
    """

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender_id: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[str | None] = mapped_column(Text)


class DeadLetter(Base):
    """A broker event that could not be stored, set aside so that the events after it are.

    The ingestion workers store each event in a savepoint of their batch: one that fails for
    what it holds (or keeps failing, see :mod:`bot.workers.deadletters`) lands here with the exception,
    instead of stopping every customer's events behind it. ``data`` is the payload as it came,
    cleaned only so the database takes it, for an operator to read and replay by hand.
    """

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # "sql" (the broker table) or "rabbitmq"
    sender_id: Mapped[str | None] = mapped_column(String(255), index=True)
    data: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(500))  # "ExceptionType: message"
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class KnowledgeGapDismissal(Base):
    """A knowledge gap (a group of unanswered questions) agents dealt with: dismissed, or
    accepted into the FAQ; either way it is not shown again (see :mod:`bot.domain.knowledge_gaps`).
    """

    __tablename__ = "knowledge_gap_dismissals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The normalised text of the group's central question.
    group_key: Mapped[str] = mapped_column(String(500), unique=True)
    outcome: Mapped[str] = mapped_column(String(16))  # "dismissed" or "accepted"
    question: Mapped[str] = mapped_column(Text)  # the central question, as a customer wrote it
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SavedReply(Base):
    """A canned response agents insert by typing ``/`` and its code; one text per language."""

    __tablename__ = "saved_replies"
    __table_args__ = (UniqueConstraint("code", "language"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32))  # what agents type after "/"
    language: Mapped[str] = mapped_column(String(8))  # a reply locale: "en", "zh", "zh-TW", ...
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))


class TicketRead(Base):
    """When an agent last opened a ticket: newer customer messages in it are unread for them."""

    __tablename__ = "ticket_reads"

    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    read_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ConsoleOption(Base):
    """A switch admins set in the console at run time (``auto_assign``: "on"/"off"); a missing
    row means the deployment's setting."""

    __tablename__ = "console_options"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))


class MailThread(Base):
    """A conversation's e-mail thread: the unguessable token of its reply address
    (``reply+TOKEN@MAIL_REPLY_DOMAIN``, see :mod:`bot.domain.mail.addresses`)."""

    __tablename__ = "mail_threads"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class EmailConsent(Base):
    """A customer's consent to be answered by e-mail at ``address``: when and how it was given
    (``source``: "chat", "widget_form", "shop"); ``withdrawn_at`` set: no more mail."""

    __tablename__ = "email_consents"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    address: Mapped[str] = mapped_column(String(320))
    source: Mapped[str] = mapped_column(String(32))
    given_at: Mapped[datetime] = mapped_column(UtcDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class MailOutboxMessage(Base):
    """An e-mail to a customer (the agents' unseen replies of a conversation), composed and
    waiting for the mail worker (:mod:`bot.workers.mail_outbox`). ``claimed_at`` is set, and
    committed, before the SMTP transaction starts: a row is handed to SMTP at most once."""

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_due", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    message_id: Mapped[str] = mapped_column(String(255), unique=True)  # without the <>
    in_reply_to: Mapped[str | None] = mapped_column(String(255))
    references: Mapped[str | None] = mapped_column(Text)  # Message-IDs, space-separated
    # The outbox ids of the agents' replies the mail carries (the "seen" signal cancels them).
    outbox_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Refused for good (a 5xx answer, or a send whose outcome is unknown); last_error says why.
    failed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Not to be sent any more: the customer saw the replies in the chat.
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)


class ReceivedMail(Base):
    """A customer's e-mail that reached the receiver, kept so that a second delivery of the
    same mail stores nothing: ``key`` is the digest of its Message-ID, or of the whole mail
    when it has none."""

    __tablename__ = "received_mails"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    message_id: Mapped[str | None] = mapped_column(String(255))
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    interaction_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("interactions.id", ondelete="SET NULL"),
    )
    sender: Mapped[str] = mapped_column(String(320))
    # Whether the sender is the address the customer gave (else stored all the same, flagged).
    sender_matches: Mapped[bool] = mapped_column(default=False)
    size: Mapped[int] = mapped_column(Integer)
    # The attachments, noted and not stored: [{"name": ..., "type": ..., "size": ...}].
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())


class InsightsRollup(Base):
    """The insights roll-up's one state row (``id`` 1): the time zone its days are in (the
    ``BUSINESS_TIMEZONE`` it was built with, see :mod:`bot.store.rollup`) and when it was built."""

    __tablename__ = "insights_rollup"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    built_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # The BUSINESS_HOURS the ticket facts' business times were counted in (migration 0013);
    # NULL: no ticket facts yet.
    business_hours: Mapped[str | None] = mapped_column(String(200))


class ConversationDay(Base):
    """What a conversation did on one local day (:mod:`bot.store.rollup`): its customers'
    messages, their questions by the bot's decision, the answers of the day that got a verdict,
    and its first ticket opened that day."""

    __tablename__ = "insights_conversation_days"
    __table_args__ = (Index("ix_insights_conversation_days_day", "day"),)

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    questions: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    clarified: Mapped[int] = mapped_column(Integer, default=0)
    not_found: Mapped[int] = mapped_column(Integer, default=0)
    chosen: Mapped[int] = mapped_column(Integer, default=0)
    rated: Mapped[int] = mapped_column(Integer, default=0)
    not_helpful: Mapped[int] = mapped_column(Integer, default=0)
    first_ticket_id: Mapped[int | None] = mapped_column(Integer)


class CustomerDay(Base):
    """A customer wrote in a conversation on a local day (:mod:`bot.store.rollup`)."""

    __tablename__ = "insights_customer_days"
    __table_args__ = (Index("ix_insights_customer_days_day", "day"),)

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )


class EntryDay(Base):
    """How one FAQ entry answered in a conversation on a local day (:mod:`bot.store.rollup`)."""

    __tablename__ = "insights_entry_days"
    __table_args__ = (Index("ix_insights_entry_days_day", "day"),)

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    faq_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    chosen: Mapped[int] = mapped_column(Integer, default=0)
    helpful: Mapped[int] = mapped_column(Integer, default=0)
    not_helpful: Mapped[int] = mapped_column(Integer, default=0)


class TicketFact(Base):
    """One ticket as the insights report counts it (:mod:`bot.domain.insights.ticket_facts`):
    its times, wall-clock and in business hours, rating, agent, and the FAQ entry that answered
    the conversation's last question just before it was opened."""

    __tablename__ = "insights_ticket_facts"
    __table_args__ = (Index("ix_insights_ticket_facts_created_at", "created_at"),)

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    reason: Mapped[str] = mapped_column(String(32))
    assigned_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL")
    )
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    first_response_seconds: Mapped[float | None] = mapped_column(Float)
    first_response_business_seconds: Mapped[float | None] = mapped_column(Float)
    resolution_seconds: Mapped[float | None] = mapped_column(Float)
    resolution_business_seconds: Mapped[float | None] = mapped_column(Float)
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    handoff_faq_id: Mapped[str | None] = mapped_column(String(100))
