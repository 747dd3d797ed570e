"""dispatch: indexes for the outbox claim and for departments' timer notices

Revision ID: 0004_dispatch
Revises: 0001_core
Create Date: 2026-11-27 09:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004_dispatch'
down_revision = '0001_core'
branch_labels = ('dispatch',)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_undelivered', ['id'], unique=False,
                              postgresql_where=sa.text("status IN ('pending', 'delivering')"),
                              sqlite_where=sa.text("status IN ('pending', 'delivering')"))
    with op.batch_alter_table('timers', schema=None) as batch_op:
        batch_op.create_index('ix_timers_assignment_id', ['assignment_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('timers', schema=None) as batch_op:
        batch_op.drop_index('ix_timers_assignment_id')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_undelivered', postgresql_where=sa.text("status IN ('pending', 'delivering')"),
                            sqlite_where=sa.text("status IN ('pending', 'delivering')"))
