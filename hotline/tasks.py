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
