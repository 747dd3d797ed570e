"""public: the convenience-service directory (便民服务企业库): companies, requests, assessments

Revision ID: p003_directory
Revises: p002_media_keys
Create Date: 2026-12-01 13:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'p003_directory'
down_revision = 'p002_media_keys'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'public_companies',
        sa.Column('id', ID, nullable=False),
        sa.Column('code', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('service_types', sa.JSON(), nullable=False),
        sa.Column('areas', sa.JSON(), nullable=False),
        sa.Column('address', sa.String(length=300), nullable=False),
        sa.Column('latitude', sa.Float(), nullable=True),
        sa.Column('longitude', sa.Float(), nullable=True),
        sa.Column('hours', sa.String(length=100), nullable=False),
        sa.Column('contact_name', sa.String(length=100), nullable=False),
        sa.Column('phone', sa.String(length=32), nullable=False),
        sa.Column('price_guidance', sa.Text(), nullable=False),
        sa.Column('member', sa.Boolean(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('failed_months', sa.Integer(), nullable=False),
        sa.Column('webhook_url', sa.String(length=500), nullable=True),
        sa.Column('webhook_secret', sa.String(length=100), nullable=False),
        sa.Column('key_prefix', sa.String(length=16), nullable=True),
        sa.Column('key_hash', sa.String(length=64), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code'),
        sa.UniqueConstraint('key_prefix'),
    )
    op.create_table(
        'public_service_requests',
        sa.Column('id', ID, nullable=False),
        sa.Column('company_id', ID, nullable=False),
        sa.Column('service_type', sa.String(length=32), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('citizen_name', sa.String(length=100), nullable=False),
        sa.Column('citizen_phone', sa.String(length=32), nullable=False),
        sa.Column('address', sa.String(length=300), nullable=False),
        sa.Column('work_order_id', ID, nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('rating', sa.Integer(), nullable=True),
        sa.Column('complaint', sa.Boolean(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('rated_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['company_id'], ['public_companies.id']),
        sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_public_service_requests_company_created', 'public_service_requests',
                    ['company_id', 'created_at'])
    op.create_table(
        'public_company_assessments',
        sa.Column('id', ID, nullable=False),
        sa.Column('company_id', ID, nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('requests', sa.Integer(), nullable=False),
        sa.Column('confirmed', sa.Integer(), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('response_minutes', sa.Float(), nullable=True),
        sa.Column('complaints', sa.Integer(), nullable=False),
        sa.Column('ratings', sa.Integer(), nullable=False),
        sa.Column('rating', sa.Float(), nullable=True),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('reasons', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['company_id'], ['public_companies.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('company_id', 'month'),
    )


def downgrade() -> None:
    op.drop_table('public_company_assessments')
    op.drop_index('ix_public_service_requests_company_created', table_name='public_service_requests')
    op.drop_table('public_service_requests')
    op.drop_table('public_companies')
