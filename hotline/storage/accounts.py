"""Accounts' statements: agents and supervisors, their logins, departments' API keys.
Hashing and checking secrets is `hotline.auth`'s; this is only where they are kept."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Row, delete, select

from hotline.storage.models import ApiKey, AuthToken, Department, User

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession


async def user_named(session: AsyncSession, username: str) -> User | None:
    return (await session.execute(select(User).where(User.username == username))).scalar_one_or_none()


async def usernames(session: AsyncSession) -> set[str]:
    return set((await session.execute(select(User.username))).scalars())


async def add_login(session: AsyncSession, user_id: int, token_hash: str, now: datetime, expires_at: datetime) -> None:
    """A new login for the user; the user's expired ones go."""
    session.add(AuthToken(token_hash=token_hash, user_id=user_id, created_at=now, expires_at=expires_at))
    await session.execute(delete(AuthToken).where(AuthToken.user_id == user_id, AuthToken.expires_at < now))


async def drop_login(session: AsyncSession, token_hash: str) -> None:
    await session.execute(delete(AuthToken).where(AuthToken.token_hash == token_hash))


async def login_of(session: AsyncSession, token_hash: str) -> Row[User, datetime] | None:
    """The user of a login, and when it expires."""
    return (await session.execute(
        select(User, AuthToken.expires_at).join(AuthToken, AuthToken.user_id == User.id)
        .where(AuthToken.token_hash == token_hash))).first()


async def live_key(session: AsyncSession, prefix: str) -> Row[ApiKey, Department] | None:
    """A department's API key by its public prefix (not revoked), with the department."""
    return (await session.execute(
        select(ApiKey, Department).join(Department, Department.code == ApiKey.department_code)
        .where(ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None)))).first()


# ---------------------------------------------------------------- administration

async def all_users(session: AsyncSession) -> list[User]:
    return list((await session.execute(select(User).order_by(User.id))).scalars())


async def drop_logins_of(session: AsyncSession, user_id: int) -> None:
    """Every login of one user (disabled, or a new password): effective on every node at once."""
    await session.execute(delete(AuthToken).where(AuthToken.user_id == user_id))


async def keys(session: AsyncSession, department: str | None = None) -> list[ApiKey]:
    q = select(ApiKey).order_by(ApiKey.id)
    if department is not None:
        q = q.where(ApiKey.department_code == department)
    return list((await session.execute(q)).scalars())


async def key_by_prefix(session: AsyncSession, prefix: str) -> ApiKey | None:
    return (await session.execute(select(ApiKey).where(ApiKey.prefix == prefix))).scalar_one_or_none()
