"""PostgreSQL session-level advisory locks, and the cheapest round trip there is.

A lock is held by one connection and dies with it, so a crashed holder frees it at
once (`hotline.telephony.leader` elects one AMI consumer with it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import text

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection


async def try_advisory_lock(conn: AsyncConnection, key: int) -> bool:
    return bool((await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})).scalar())


async def advisory_unlock(conn: AsyncConnection, key: int) -> None:
    await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})


async def ping(conn: AsyncConnection) -> None:
    """One round trip: the server (and the connection) is there."""
    await conn.execute(text("SELECT 1"))
