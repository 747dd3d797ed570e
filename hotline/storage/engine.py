"""The database engine: SQLite (embedded default) or PostgreSQL through asyncpg."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

if TYPE_CHECKING:
    from sqlalchemy.pool import ConnectionPoolEntry

SessionFactory = async_sessionmaker[AsyncSession]


def normalise_url(url: str) -> str:
    """Accept the URLs operators paste (postgres://, postgresql://) and pick the async driver."""
    u = make_url(url)
    driver = u.drivername
    if driver in ("postgres", "postgresql", "postgresql+psycopg2", "postgresql+psycopg"):
        u = u.set(drivername="postgresql+asyncpg")
    elif driver in ("sqlite", "sqlite+pysqlite"):
        u = u.set(drivername="sqlite+aiosqlite")
    return u.render_as_string(hide_password=False)


def create_engine(url: str, *, pool_size: int = 20, echo: bool = False, schema: str | None = None) -> AsyncEngine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        return _sqlite_engine(url, echo=echo)
    server_settings = {"timezone": "UTC", "application_name": "hotline"}
    if schema:  # one database, several hotlines (or test runs), each in its own schema
        server_settings["search_path"] = schema
    # No pre-ping: it costs a round trip on every checkout. A connection that died with a
    # server restart fails one request with a retryable 503 and the pool is refreshed.
    # No overflow: at peaks requests queue for a connection (fair, on the event loop) rather
    # than open and close extra ones, which would cost PostgreSQL a backend start each.
    return create_async_engine(url, pool_size=pool_size, max_overflow=0, pool_timeout=30, pool_recycle=1800,
                               echo=echo, connect_args={"server_settings": server_settings})


def _sqlite_engine(url: str, *, echo: bool) -> AsyncEngine:
    db = make_url(url).database
    if db and db != ":memory:":
        Path(db).parent.mkdir(parents=True, exist_ok=True)
    # One connection: SQLite has one writer anyway, and queueing for the connection on the
    # event loop is fair and instant, where competing connections would sleep in SQLite's
    # busy handler (up to 100 ms a try) and stall every concurrent request. Nothing in the
    # code holds a session while opening another, which a single connection requires.
    # `timeout` still covers other processes on the same file (e.g. `hotline worker`).
    engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30}, pool_size=1, max_overflow=0,
                                 pool_timeout=60)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the driver, open transactions, so that we can open them
        # with BEGIN IMMEDIATE: a deferred transaction that reads and then writes can
        # fail at once with "database is locked" instead of waiting its turn.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)


# SQLSTATEs that mean "the database is not there right now" rather than "this statement is
# wrong": connection exceptions (class 08), the server shutting down or starting up
# (57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now) and insufficient
# resources (class 53: too many connections, out of memory, disk full). asyncpg reports
# them as plain PostgresErrors, which SQLAlchemy wraps in a bare DBAPIError.
_UNAVAILABLE_STATES = ("08", "57P01", "57P02", "57P03", "53")


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database is unreachable or saturated (retry later: 503),
    whatever the driver: refused, not accepting connections, terminated, pool timeout."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(exc, (OperationalError, InterfaceError, PoolTimeout, ConnectionError, OSError)):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None) or ""
        return isinstance(state, str) and state.startswith(_UNAVAILABLE_STATES)
    return False
