"""desk: desk_claims, who is working a written contact now

Revision ID: desk_0001_claims
Revises: 0001_core
Create Date: 2026-12-01 13:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'desk_0001_claims'
down_revision = '0001_core'
branch_labels = ('desk',)
depends_on = None


def upgrade() -> None:
    op.create_table(
        'desk_claims',
        sa.Column('work_order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('user_name', sa.String(length=100), nullable=False),
        sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('work_order_id'),
    )


def downgrade() -> None:
    op.drop_table('desk_claims')
