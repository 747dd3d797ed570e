"""reports: reports_assessment_notes, the supervisors' annotations of a month's assessment

Revision ID: 0008_reports_notes
Revises: 0001_core
Create Date: 2026-12-01 13:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008_reports_notes'
down_revision = '0001_core'
branch_labels = ('reports',)
depends_on = None


def upgrade() -> None:
    op.create_table(
        'reports_assessment_notes',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('department', sa.String(length=64), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('author_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
        sa.Column('author_name', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['department'], ['departments.code']),
        sa.ForeignKeyConstraint(['author_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_reports_assessment_notes_month', 'reports_assessment_notes', ['month', 'department'])


def downgrade() -> None:
    op.drop_index('ix_reports_assessment_notes_month', table_name='reports_assessment_notes')
    op.drop_table('reports_assessment_notes')
