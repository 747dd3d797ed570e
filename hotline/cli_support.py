"""What every `hotline` sub-command shares, the core's and the modules' alike: the one-line
failure, reading the database error an operator can act on, and waiting for a stop signal."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hotline.settings import Settings


class Fail(Exception):
    """A one-line reason for the user, and exit status 1 (`hotline.cli.main` prints it)."""


def db_error(exc: BaseException, settings: Settings) -> Fail:
    """A database that cannot be reached, said in one line with the URL (password hidden)."""
    from sqlalchemy.engine import make_url

    url = make_url(settings.database_url).render_as_string(hide_password=True)
    reason: Any = getattr(exc, "orig", None) or exc
    first = str(reason).splitlines()[0] if str(reason) else ""
    return Fail(f"cannot reach the database at {url}: {type(reason).__name__}: {first}"
                " (check HOTLINE_DATABASE_URL and that the server is running)")


def stop_signal() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM (where the loop can take signal handlers)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop
