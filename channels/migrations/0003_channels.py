"""channels: SMS opt-outs and the outbound SMS log

Revision ID: 0003_channels
Revises: 0001_core
Create Date: 2026-11-26 13:05:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003_channels'
down_revision = '0001_core'
branch_labels = ('channels',)
depends_on = None


def upgrade() -> None:
    op.create_table('sms_opt_outs',
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('keyword', sa.String(length=32), nullable=False),
    sa.Column('opted_out_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('phone')
    )
    op.create_table('sms_messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('delivery_id', sa.String(length=64), nullable=False),
    sa.Column('message_sid', sa.String(length=64), nullable=True),
    sa.Column('to', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('error_code', sa.String(length=16), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('delivery_id')
    )
    op.create_index('ix_sms_messages_sid', 'sms_messages', ['message_sid'], unique=True)


def downgrade() -> None:
    op.drop_index('ix_sms_messages_sid', table_name='sms_messages')
    op.drop_table('sms_messages')
    op.drop_table('sms_opt_outs')
