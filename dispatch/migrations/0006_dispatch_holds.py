"""dispatch: dispatch_holds, the orders auto-dispatch matched but could not send, and why

Revision ID: 0006_dispatch_holds
Revises: 0005_dispatch_timers
Create Date: 2026-12-01 12:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006_dispatch_holds'
down_revision = '0005_dispatch_timers'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'dispatch_holds',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('work_order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('reason_code', sa.String(length=64), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('department', sa.String(length=64), nullable=False),
        sa.Column('rule', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('work_order_id'),
    )


def downgrade() -> None:
    op.drop_table('dispatch_holds')
