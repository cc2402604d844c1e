"""faq additions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 00:04:30.544626
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "faq_additions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("faq_additions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_faq_additions_entry_id"), ["entry_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("faq_additions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_faq_additions_entry_id"))

    op.drop_table("faq_additions")
