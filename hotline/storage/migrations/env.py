"""Alembic environment: runs on the connection `hotline.storage.migrate.Schema` hands in.

The metadata holds every table: the composition root imported each module's models
before building the `Schema` (`Module.models`).
"""

from __future__ import annotations

from alembic import context

from hotline.storage.models import Base

target_metadata = Base.metadata
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `hotline db upgrade`, which supplies the connection")

# Tables a module makes with SQL of its own (e.g. SQLite's FTS5 index of the knowledge
# base) are not models: autogenerate must not propose to drop them.
unmanaged = target_metadata.info.get("unmanaged_tables", set())
context.configure(connection=connection, target_metadata=target_metadata,
                  render_as_batch=connection.dialect.name == "sqlite", compare_type=True,
                  include_name=lambda name, kind, _: not (kind == "table" and name in unmanaged))
with context.begin_transaction():
    context.run_migrations()
