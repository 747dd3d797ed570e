"""core: work_orders.dissatisfied (rated <= 2 or "not resolved", not yet settled); the KPIs' event index

Revision ID: 0007_core_dissatisfied
Revises: 0001_core
Create Date: 2026-12-01 13:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007_core_dissatisfied'
down_revision = '0001_core'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing orders: a current rating of 1-2 on an open order is unsettled.
    # A plain ADD COLUMN (SQLite takes it with a constant default; no table rebuild, so the
    # foreign keys pointing at work_orders stay untouched).
    op.add_column('work_orders', sa.Column('dissatisfied', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index('ix_order_events_at_kind', 'order_events', ['at', 'kind'])
    op.execute("UPDATE work_orders SET dissatisfied = (rating IS NOT NULL AND rating <= 2 "
               "AND status NOT IN ('closed', 'merged', 'invalid'))")


def downgrade() -> None:
    op.drop_index('ix_order_events_at_kind', table_name='order_events')
    with op.batch_alter_table('work_orders') as batch:
        batch.drop_column('dissatisfied')
