"""telephony: calls and callback tasks

Revision ID: 0002_telephony
Revises: 0001_core
Create Date: 2026-11-26 13:07:56.237676
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0002_telephony'
down_revision = '0001_core'
branch_labels = ('telephony',)
depends_on = None


def upgrade() -> None:
    op.create_table('callback_tasks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('citizen_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('missed_calls', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('first_call_id', sa.String(length=64), nullable=False),
    sa.Column('last_call_id', sa.String(length=64), nullable=False),
    sa.Column('last_call_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('agent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('result', sa.String(length=32), nullable=True),
    sa.Column('result_call_id', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizens.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('callback_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_callback_status_id', ['status', 'id'], unique=False)
        batch_op.create_index('uq_callback_open_phone', ['phone'], unique=True, postgresql_where=sa.text("status IN ('open', 'calling')"), sqlite_where=sa.text("status IN ('open', 'calling')"))

    op.create_table('calls',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('linkedid', sa.String(length=64), nullable=False),
    sa.Column('direction', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('caller', sa.String(length=32), nullable=False),
    sa.Column('line', sa.String(length=16), nullable=False),
    sa.Column('legacy_line', sa.String(length=16), nullable=True),
    sa.Column('queue', sa.String(length=64), nullable=True),
    sa.Column('agent_extension', sa.String(length=32), nullable=True),
    sa.Column('agent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('wait_seconds', sa.Integer(), nullable=True),
    sa.Column('talk_seconds', sa.Integer(), nullable=True),
    sa.Column('hangup_cause', sa.Integer(), nullable=True),
    sa.Column('recording', sa.String(length=500), nullable=True),
    sa.Column('transferred_to', sa.String(length=64), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('work_order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('callback_task_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['callback_task_id'], ['callback_tasks.id'], ),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('linkedid')
    )
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calls_callback_task_id'), ['callback_task_id'], unique=False)
        batch_op.create_index('ix_calls_caller', ['caller'], unique=False)
        batch_op.create_index(batch_op.f('ix_calls_outcome'), ['outcome'], unique=False)
        batch_op.create_index('ix_calls_started_at', ['started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_calls_work_order_id'), ['work_order_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calls_work_order_id'))
        batch_op.drop_index('ix_calls_started_at')
        batch_op.drop_index(batch_op.f('ix_calls_outcome'))
        batch_op.drop_index('ix_calls_caller')
        batch_op.drop_index(batch_op.f('ix_calls_callback_task_id'))

    op.drop_table('calls')
    with op.batch_alter_table('callback_tasks', schema=None) as batch_op:
        batch_op.drop_index('uq_callback_open_phone', postgresql_where=sa.text("status IN ('open', 'calling')"), sqlite_where=sa.text("status IN ('open', 'calling')"))
        batch_op.drop_index('ix_callback_status_id')

    op.drop_table('callback_tasks')
