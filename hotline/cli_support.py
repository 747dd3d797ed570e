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
    # SQLAlchemy's asyncpg adapter wraps the server's own error (role "x" does not exist):
    # name that one, which is what the operator can act on.
    if type(reason).__module__.startswith("sqlalchemy") and reason.__cause__ is not None:
        reason = reason.__cause__
    first = str(reason).splitlines()[0] if str(reason) else ""
    return Fail(f"无法连接数据库 / cannot reach the database at {url}: {type(reason).__name__}: {first}"
                " (检查 HOTLINE_DATABASE_URL 和数据库服务 / check HOTLINE_DATABASE_URL and that the server is running)")


def is_db_error(exc: BaseException) -> bool:
    """An error from the database driver or its connection (refused, unknown host, bad role or
    password), as opposed to a bug: `hotline.cli.main` words these with `db_error`."""
    import socket

    return (isinstance(exc, (ConnectionError, socket.gaierror))
            or type(exc).__module__.split(".")[0] in ("sqlalchemy", "asyncpg", "aiosqlite", "sqlite3"))


def stop_signal() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM (where the loop can take signal handlers)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop
