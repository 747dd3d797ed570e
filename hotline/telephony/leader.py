"""One AMI consumer per Asterisk, however many `serve` processes run.

The consumer runs only while its process holds the lock for that Asterisk; the others
stand by (with an action-only AMI session, so the agents' buttons work on every node)
and take over when the holder goes away.

* Redis configured: `SET key token NX PX ttl`, renewed every ttl/3 by a compare-and-
  expire script; a holder that cannot renew in time lets go.
* PostgreSQL: `pg_try_advisory_lock` on a dedicated connection; the lock dies with that
  connection, so a crashed holder frees it at once.
* SQLite: one process by construction; no lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import uuid
from typing import TYPE_CHECKING, Protocol

from hotline.storage.locks import advisory_unlock, ping, try_advisory_lock

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class Leadership(Protocol):
    async def acquire(self) -> None:
        """Return once this process holds the lock."""

    async def keep(self) -> None:
        """Return (or raise) when the lock is lost; runs while it is held."""

    async def release(self) -> None: ...


class NoLock:
    """SQLite: a single process, always the consumer."""

    async def acquire(self) -> None:
        return None

    async def keep(self) -> None:
        await asyncio.Event().wait()

    async def release(self) -> None:
        return None


class RedisLock:
    def __init__(self, redis: Redis, key: str, *, ttl: float = 15.0, poll: float = 2.0) -> None:
        self.redis, self.key, self.ttl, self.poll = redis, key, ttl, poll
        self.token = uuid.uuid4().hex

    async def acquire(self) -> None:
        while True:
            try:
                if await self.redis.set(self.key, self.token, nx=True, px=int(self.ttl * 1000)):
                    return
            except Exception as exc:  # Redis away: nobody can lead through it; wait
                log.warning("leader lock: Redis unreachable (%s); retrying", type(exc).__name__)
            await asyncio.sleep(self.poll)

    async def keep(self) -> None:
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                async with asyncio.timeout(self.ttl / 3):
                    ok = await self.redis.eval(_RENEW, 1, self.key, self.token, int(self.ttl * 1000))
            except Exception as exc:
                log.warning("leader lock: renewal failed (%s); giving the AMI consumer up", type(exc).__name__)
                return
            if not ok:
                log.warning("leader lock: %s was taken over; giving the AMI consumer up", self.key)
                return

    async def release(self) -> None:
        with contextlib.suppress(Exception):
            await self.redis.eval(_RELEASE, 1, self.key, self.token)


class PgAdvisoryLock:
    def __init__(self, engine: AsyncEngine, name: str, *, poll: float = 2.0) -> None:
        self.engine, self.poll = engine, poll
        self.key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        self.conn: AsyncConnection | None = None

    async def acquire(self) -> None:
        while True:
            conn: AsyncConnection | None = None
            try:
                conn = await self.engine.connect()
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                if await try_advisory_lock(conn, self.key):
                    self.conn, conn = conn, None
                    return
            except Exception as exc:
                log.warning("leader lock: PostgreSQL unreachable (%s); retrying", type(exc).__name__)
            finally:
                if conn is not None:  # not ours to keep (not taken, failed, or cancelled): let it go
                    with contextlib.suppress(Exception):
                        await asyncio.shield(conn.close())
            await asyncio.sleep(self.poll)

    async def keep(self) -> None:
        assert self.conn is not None
        while True:
            await asyncio.sleep(self.poll)
            try:
                async with asyncio.timeout(5):
                    await ping(self.conn)
            except Exception as exc:  # the connection, and with it the lock, is gone
                log.warning("leader lock: lost the PostgreSQL session (%s)", type(exc).__name__)
                return

    async def release(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            # Shielded, so a second cancel cannot leave the lock held by a pooled session.
            await asyncio.shield(self._let_go(conn))

    async def _let_go(self, conn: AsyncConnection) -> None:
        with contextlib.suppress(Exception):
            await advisory_unlock(conn, self.key)
        with contextlib.suppress(Exception):
            await conn.invalidate()  # end the session itself, not just hand it back to the pool
        with contextlib.suppress(Exception):
            await conn.close()
