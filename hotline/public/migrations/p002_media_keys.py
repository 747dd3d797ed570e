"""public: public_media_keys, press partners' keys (媒体联动)

Revision ID: p002_media_keys
Revises: p001_public
Create Date: 2026-12-01 13:15:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'p002_media_keys'
down_revision = 'p001_public'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'public_media_keys',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('partner', sa.String(length=64), nullable=False),
        sa.Column('label', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('prefix'),
    )
    op.create_index('ix_public_media_keys_partner', 'public_media_keys', ['partner'])


def downgrade() -> None:
    op.drop_index('ix_public_media_keys_partner', table_name='public_media_keys')
    op.drop_table('public_media_keys')
