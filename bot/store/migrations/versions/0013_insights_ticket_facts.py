"""insights ticket facts: one row per ticket with its times counted, built from the stored rows

Creates ``insights_ticket_facts`` (see :mod:`bot.domain.insights.ticket_facts`): per ticket,
its first response and resolution times, wall-clock and in business hours, its rating, agent
and the FAQ entry answered just before the handoff; and ``insights_rollup.business_hours``, the
``BUSINESS_HOURS`` those business times were counted in. Then fills the facts from the tickets
and interactions already stored (the application's own rebuild, as ``python -m bot insights
rebuild`` runs it), when the day roll-up of migration 0012 exists.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

SECONDS = (
    "first_response_seconds",
    "first_response_business_seconds",
    "resolution_seconds",
    "resolution_business_seconds",
)


def upgrade() -> None:
    op.add_column("insights_rollup", sa.Column("business_hours", sa.String(200), nullable=True))
    op.create_table(
        "insights_ticket_facts",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("assigned_agent_id", sa.Integer(), nullable=True),
        sa.Column("reopened", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Float(), nullable=True) for name in SECONDS),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("handoff_faq_id", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["assigned_agent_id"], ["agents.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("ticket_id"),
    )
    op.create_index("ix_insights_ticket_facts_created_at", "insights_ticket_facts", ["created_at"])
    op.create_index(
        "ix_insights_ticket_facts_conversation_id", "insights_ticket_facts", ["conversation_id"]
    )
    _backfill()


def _backfill() -> None:
    from bot.domain.insights.ticket_facts import rebuild_facts
    from bot.settings import Settings

    handoff = Settings().handoff
    rebuild_facts(op.get_bind(), handoff.business_hours, handoff.business_timezone)


def downgrade() -> None:
    op.drop_index("ix_insights_ticket_facts_conversation_id", table_name="insights_ticket_facts")
    op.drop_index("ix_insights_ticket_facts_created_at", table_name="insights_ticket_facts")
    op.drop_table("insights_ticket_facts")
    with op.batch_alter_table("insights_rollup") as batch:
        batch.drop_column("business_hours")
