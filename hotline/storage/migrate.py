"""Schema migrations (Alembic), run on the application's own async engine.

The core's revisions live in `hotline/storage/migrations/versions`; each module keeps its
own branch in its own folder (`Module.migrations`), and the composition root hands the
whole list in as a `Schema`. "heads" upgrades every branch.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
CORE_VERSIONS = MIGRATIONS / "versions"


@dataclass(frozen=True)
class Schema:
    """Where the revisions are, and the model modules whose tables they create."""

    locations: Sequence[Path] = (CORE_VERSIONS,)
    models: Sequence[str] = ("hotline.storage.models",)  # the modules' own declare their tables too

    def config(self, connection: Any = None) -> Config:
        for name in self.models:  # so that `Base.metadata` knows every table when Alembic compares
            importlib.import_module(name)
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("path_separator", "os")
        cfg.set_main_option("version_locations", os.pathsep.join(str(p) for p in self.locations))
        cfg.attributes["connection"] = connection
        return cfg

    def heads(self) -> set[str]:
        return set(ScriptDirectory.from_config(self.config()).get_heads())

    async def upgrade(self, engine: AsyncEngine, target: str = "heads") -> None:
        async with engine.begin() as conn:
            await conn.run_sync(lambda sync_conn: command.upgrade(self.config(sync_conn), target))

    async def downgrade(self, engine: AsyncEngine, target: str) -> None:
        """Developers and tests only: a release is never rolled back on a live database."""
        async with engine.begin() as conn:
            await conn.run_sync(lambda sync_conn: command.downgrade(self.config(sync_conn), target))

    async def current_heads(self, engine: AsyncEngine) -> set[str]:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda c: set(MigrationContext.configure(c).get_current_heads()))

    async def pending(self, engine: AsyncEngine) -> set[str]:
        """Heads in the code that the database has not reached (empty: up to date)."""
        return self.heads() - await self.current_heads(engine)

    async def pending_revisions(self, engine: AsyncEngine) -> list[str]:
        """Every revision `upgrade` would apply, oldest first."""
        script = ScriptDirectory.from_config(self.config())
        current = await self.current_heads(engine)
        applied = {r.revision for head in current for r in script.iterate_revisions(head, "base")}
        return [r.revision for r in reversed(list(script.walk_revisions())) if r.revision not in applied]

    def new_revision(self, message: str, engine_url_sync: str, *, head: str, location: Path) -> None:
        """Autogenerate a revision against a scratch database (developers only): `head` is
        the branch to extend (e.g. "dispatch@head"), `location` that module's folder."""
        from sqlalchemy import create_engine

        eng = create_engine(engine_url_sync)
        with eng.begin() as conn:
            command.revision(self.config(conn), message=message, autogenerate=True, head=head,
                             version_path=str(location))
