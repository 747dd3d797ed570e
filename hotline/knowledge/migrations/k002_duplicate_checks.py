"""knowledge: the duplicate candidates found at intake, one row per new order

Revision ID: k002_duplicate_checks
Revises: 0007_knowledge
Create Date: 2026-12-01 15:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'k002_duplicate_checks'
down_revision = '0007_knowledge'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('knowledge_duplicate_checks',
    sa.Column('id', BigId, nullable=False),
    sa.Column('work_order_id', BigId, nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('candidates', Json, nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('work_order_id')
    )


def downgrade() -> None:
    op.drop_table('knowledge_duplicate_checks')
