"""Owned background loops: restarted when they crash, never silently lost."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def supervised(name: str, fn: Callable[[], Awaitable[None]], *, restart_after: float = 2.0) -> None:
    """Run a loop until it returns or is cancelled; if it crashes, log why and start it again."""
    while True:
        try:
            await fn()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("background task %s crashed; restarting in %g s", name, restart_after)
            await asyncio.sleep(restart_after)


def is_unmigrated(exc: BaseException) -> bool:
    """The database answers but lacks a table: `hotline db upgrade` has not run (or not for
    every module) yet. PostgreSQL's undefined_table (42P01); SQLite's "no such table"."""
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) == "42P01":
        return True
    return type(orig).__name__ == "OperationalError" and "no such table" in str(orig)


class RoundLog:
    """How a polling loop (outbox, timers, the worker's pump) reports a failed round.

    An unmigrated database is a state, not a crash: /readyz already says 503, so the loop
    warns once, keeps polling quietly, and says when it resumes. Anything else is logged with
    its traceback each time, as before."""

    def __init__(self, name: str, logger: logging.Logger) -> None:
        self.name = name
        self.log = logger
        self.waiting = False

    def failed(self, exc: BaseException) -> None:
        if not is_unmigrated(exc):
            self.log.error("%s: round failed; retrying", self.name, exc_info=exc)
            return
        if not self.waiting:
            self.log.warning("%s: the database is not migrated yet (%s); waiting for `hotline db upgrade`",
                             self.name, str(getattr(exc, "orig", exc)).splitlines()[0],
                             extra={"reason": "database_not_migrated"})
        self.waiting = True

    def succeeded(self) -> None:
        if self.waiting:
            self.log.info("%s: the database is migrated; resuming", self.name)
            self.waiting = False
