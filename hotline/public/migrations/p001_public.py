"""public: public_cases, public_audit, public_comments (政务公开)

Revision ID: p001_public
Revises: 0001_core
Create Date: 2026-12-01 13:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'p001_public'
down_revision = '0001_core'
branch_labels = ('public',)
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'public_cases',
        sa.Column('id', ID, nullable=False),
        sa.Column('work_order_id', ID, nullable=False),
        sa.Column('number', sa.String(length=20), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('question', sa.Text(), nullable=False),
        sa.Column('answer', sa.Text(), nullable=False),
        sa.Column('department', sa.String(length=64), nullable=True),
        sa.Column('category', sa.String(length=32), nullable=True),
        sa.Column('subject', sa.String(length=64), nullable=True),
        sa.Column('location', sa.String(length=300), nullable=True),
        sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('rating', sa.Integer(), nullable=True),
        sa.Column('digest', sa.String(length=16), nullable=False),
        sa.Column('rule', sa.String(length=16), nullable=False),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('published_by', sa.String(length=100), nullable=False),
        sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('work_order_id'),
        sa.UniqueConstraint('number'),
    )
    op.create_index('ix_public_cases_published_at', 'public_cases', ['published_at'])
    op.create_table(
        'public_audit',
        sa.Column('id', ID, nullable=False),
        sa.Column('work_order_id', ID, nullable=False),
        sa.Column('number', sa.String(length=20), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('actor_kind', sa.String(length=16), nullable=False),
        sa.Column('actor_id', sa.String(length=64), nullable=True),
        sa.Column('actor_name', sa.String(length=100), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('data', JSON, nullable=False),
        sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_public_audit_work_order_id', 'public_audit', ['work_order_id'])
    op.create_table(
        'public_comments',
        sa.Column('id', ID, nullable=False),
        sa.Column('case_id', ID, nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('moderated_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('moderated_by', sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['public_cases.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_public_comments_case_id', 'public_comments', ['case_id'])
    op.create_index('ix_public_comments_status', 'public_comments', ['status', 'id'])


def downgrade() -> None:
    op.drop_table('public_comments')
    op.drop_table('public_audit')
    op.drop_index('ix_public_cases_published_at', table_name='public_cases')
    op.drop_table('public_cases')
