"""knowledge: entries, their versions, citations, routing models, hotspot alerts; FTS5 on SQLite, a GIN tsvector index on PostgreSQL

Revision ID: 0007_knowledge
Revises: 0001_core
Create Date: 2026-12-01 12:50:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0007_knowledge'
down_revision = '0001_core'
branch_labels = ('knowledge',)
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
VECTOR = ("setweight(to_tsvector('simple', terms_question), 'A') || "
          "setweight(to_tsvector('simple', terms_body), 'B')")


def upgrade() -> None:
    op.create_table('knowledge_entries',
    sa.Column('id', BigId, nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('question', sa.String(length=500), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('policy_source', sa.String(length=500), nullable=False),
    sa.Column('department', sa.String(length=64), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('tags', Json, nullable=False),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('approved_by', sa.String(length=64), nullable=False),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cited', sa.Integer(), nullable=False),
    sa.Column('terms_question', sa.Text(), nullable=False),
    sa.Column('terms_body', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    op.create_table('knowledge_entry_versions',
    sa.Column('id', BigId, nullable=False),
    sa.Column('entry_id', BigId, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('data', Json, nullable=False),
    sa.Column('change', sa.String(length=16), nullable=False),
    sa.Column('changed_by', sa.String(length=64), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['knowledge_entries.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('entry_id', 'version', name='uq_knowledge_entry_versions_entry_version')
    )
    op.create_table('knowledge_citations',
    sa.Column('id', BigId, nullable=False),
    sa.Column('entry_id', BigId, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('work_order_id', BigId, nullable=False),
    sa.Column('cited_by', sa.String(length=64), nullable=False),
    sa.Column('cited_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['knowledge_entries.id'], ),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('knowledge_citations', schema=None) as batch_op:
        batch_op.create_index('ix_knowledge_citations_entry_id', ['entry_id'], unique=False)
        batch_op.create_index('ix_knowledge_citations_work_order_id', ['work_order_id'], unique=False)
    op.create_table('knowledge_routing_models',
    sa.Column('id', BigId, nullable=False),
    sa.Column('trained_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('trained_on', sa.Integer(), nullable=False),
    sa.Column('tested_on', sa.Integer(), nullable=False),
    sa.Column('departments', sa.Integer(), nullable=False),
    sa.Column('top1', sa.Float(), nullable=False),
    sa.Column('top3', sa.Float(), nullable=False),
    sa.Column('rules_top1', sa.Float(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('blob', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('knowledge_hotspot_alerts',
    sa.Column('id', BigId, nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('place', sa.String(length=64), nullable=False),
    sa.Column('matter', sa.String(length=80), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('usual', sa.Float(), nullable=False),
    sa.Column('first_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('numbers', Json, nullable=False),
    sa.Column('parent_number', sa.String(length=20), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('knowledge_hotspot_alerts', schema=None) as batch_op:
        batch_op.create_index('uq_knowledge_hotspot_alerts_open_key', ['key'], unique=True,
                              postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"CREATE INDEX ix_knowledge_entries_search ON knowledge_entries USING gin (({VECTOR}))")
    else:
        # The terms are segmented already (space-joined): unicode61 only splits on the spaces.
        op.execute("CREATE VIRTUAL TABLE knowledge_fts USING fts5(question, body, tokenize='unicode61')")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_knowledge_entries_search")
    else:
        op.execute("DROP TABLE IF EXISTS knowledge_fts")
    with op.batch_alter_table('knowledge_citations', schema=None) as batch_op:
        batch_op.drop_index('ix_knowledge_citations_work_order_id')
        batch_op.drop_index('ix_knowledge_citations_entry_id')
    with op.batch_alter_table('knowledge_hotspot_alerts', schema=None) as batch_op:
        batch_op.drop_index('uq_knowledge_hotspot_alerts_open_key', postgresql_where=sa.text("status = 'open'"),
                            sqlite_where=sa.text("status = 'open'"))
    op.drop_table('knowledge_hotspot_alerts')
    op.drop_table('knowledge_routing_models')
    op.drop_table('knowledge_citations')
    op.drop_table('knowledge_entry_versions')
    op.drop_table('knowledge_entries')
