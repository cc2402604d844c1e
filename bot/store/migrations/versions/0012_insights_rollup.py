"""insights roll-up: one row per conversation and local day, built from the stored rows

Creates ``insights_rollup`` (its time zone), ``insights_conversation_days``,
``insights_customer_days`` and ``insights_entry_days`` (see :mod:`bot.store.rollup`), then
fills them from the interactions and tickets already stored, their days in
``BUSINESS_TIMEZONE``. The backfill is the application's own rebuild (the same code as
``python -m bot insights rebuild``): should the roll-up's definition change, the migration that
changes it rebuilds it again.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 12:00:00
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

DAY_COUNTS = (
    "messages", "questions", "answered", "clarified", "not_found", "chosen", "rated", "not_helpful",
)  # fmt: skip


def _keys(*extra: sa.Column[Any]) -> list[sa.Column[Any]]:
    return [
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *extra,
    ]


def _counts(*names: str) -> list[sa.Column[Any]]:
    return [sa.Column(name, sa.Integer(), nullable=False) for name in names]


def _conversation_key() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "insights_rollup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "insights_conversation_days",
        *_keys(),
        *_counts(*DAY_COUNTS),
        sa.Column("first_ticket_id", sa.Integer(), nullable=True),
        _conversation_key(),
        sa.PrimaryKeyConstraint("conversation_id", "day"),
    )
    op.create_table(
        "insights_customer_days",
        *_keys(sa.Column("customer_id", sa.Integer(), nullable=False)),
        _conversation_key(),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("conversation_id", "day", "customer_id"),
    )
    op.create_table(
        "insights_entry_days",
        *_keys(sa.Column("faq_id", sa.String(length=100), nullable=False)),
        *_counts("answered", "chosen", "helpful", "not_helpful"),
        _conversation_key(),
        sa.PrimaryKeyConstraint("conversation_id", "day", "faq_id"),
    )
    for table in ("conversation_days", "customer_days", "entry_days"):
        op.create_index(f"ix_insights_{table}_day", f"insights_{table}", ["day"])
    _backfill()


def _backfill() -> None:
    from bot.settings import Settings
    from bot.store.rollup_rebuild import rebuild

    rebuild(op.get_bind(), ZoneInfo(Settings().handoff.business_timezone))


def downgrade() -> None:
    for table in ("entry_days", "customer_days", "conversation_days"):
        op.drop_index(f"ix_insights_{table}_day", table_name=f"insights_{table}")
        op.drop_table(f"insights_{table}")
    op.drop_table("insights_rollup")
