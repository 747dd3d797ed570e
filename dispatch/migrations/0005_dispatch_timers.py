"""dispatch: the SLA timers move from the core to dispatch, as `dispatch_timers`, rows kept

The core's first revision created `timers`; timers are dispatch's (its model, its queries,
its loop), so the table is renamed into dispatch's name space. Nothing is copied: a
rename keeps every row, its id and the id sequence. Indexes (and on PostgreSQL the
sequence and the constraints) take the new table's name.

Revision ID: 0005_dispatch_timers
Revises: 0004_dispatch
Create Date: 2026-12-01 09:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005_dispatch_timers'
down_revision = '0004_dispatch'
branch_labels = None
depends_on = None

PENDING = "fired_at IS NULL AND cancelled_at IS NULL"
# (index, its columns, partial) as the first revision and 0004_dispatch made them.
INDEXES = [("due_pending", ["due_at"], True), ("work_order_id", ["work_order_id"], False),
           ("assignment_id", ["assignment_id"], False)]
CONSTRAINTS = ["pkey", "work_order_id_fkey", "assignment_id_fkey"]


def _move(old: str, new: str) -> None:
    op.rename_table(old, new)
    if op.get_bind().dialect.name == "postgresql":
        for name, _, _ in INDEXES:
            op.execute(f"ALTER INDEX ix_{old}_{name} RENAME TO ix_{new}_{name}")
        op.execute(f"ALTER SEQUENCE {old}_id_seq RENAME TO {new}_id_seq")
        for suffix in CONSTRAINTS:
            op.execute(f"ALTER TABLE {new} RENAME CONSTRAINT {old}_{suffix} TO {new}_{suffix}")
        return
    # SQLite cannot rename an index: the same ones again, under the new name.
    for name, columns, partial in INDEXES:
        op.drop_index(f"ix_{old}_{name}", table_name=new)
        op.create_index(f"ix_{new}_{name}", new, columns, unique=False,
                        sqlite_where=sa.text(PENDING) if partial else None)


def upgrade() -> None:
    _move("timers", "dispatch_timers")


def downgrade() -> None:
    _move("dispatch_timers", "timers")
