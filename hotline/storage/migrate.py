"""Schema migrations (Alembic), run on the application's own async engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _config(connection: Any = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def script_heads() -> set[str]:
    return set(ScriptDirectory.from_config(_config()).get_heads())


async def upgrade(engine: AsyncEngine, target: str = "heads") -> None:
    # Several modules may add migration branches; "heads" upgrades them all.
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync_conn: command.upgrade(_config(sync_conn), target))


async def current_heads(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: set(MigrationContext.configure(c).get_current_heads()))


async def pending(engine: AsyncEngine) -> set[str]:
    """Heads in the code that the database has not reached (empty: up to date)."""
    return script_heads() - await current_heads(engine)


async def pending_revisions(engine: AsyncEngine) -> list[str]:
    """Every revision `upgrade` would apply, oldest first."""
    script = ScriptDirectory.from_config(_config())
    current = await current_heads(engine)
    applied = {r.revision for head in current for r in script.iterate_revisions(head, "base")}
    return [r.revision for r in reversed(list(script.walk_revisions())) if r.revision not in applied]


def new_revision(message: str, engine_url_sync: str) -> None:  # pragma: no cover - developer tool
    """Autogenerate a revision against a scratch database (developers only)."""
    from sqlalchemy import create_engine

    eng = create_engine(engine_url_sync)
    with eng.begin() as conn:
        cfg = _config(conn)
        command.revision(cfg, message=message, autogenerate=True)
