"""Administering accounts and department keys (用户与部门密钥管理): the use cases behind
`hotline user …` / `hotline apikey …` and `/api/v1/admin/…`.

Every change that takes a credential away (disable, new password, revoke, rotate) is in
the database at once, and `hotline.auth` reads the database on every request, so it
holds on every node from the next request on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hotline.auth import API_KEY_PREFIX, check_password_strength, hash_secret
from hotline.domain.vocabulary import UserRole
from hotline.errors import Conflict, NotFound, ValidationFailed
from hotline.storage import accounts
from hotline.storage.models import ApiKey, Department, User

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from hotline.auth import Auth


async def list_users(session: AsyncSession) -> list[User]:
    return await accounts.all_users(session)


async def find_user(session: AsyncSession, who: int | str) -> User:
    """A user by id or by user name."""
    user = await session.get(User, who) if isinstance(who, int) else await accounts.user_named(session, who)
    if user is None:
        raise NotFound(f"用户 {who} 不存在", code="user_not_found")
    return user


async def set_active(session: AsyncSession, user: User, active: bool, *, by: str | None = None) -> User:
    """Enable or disable (停用) an account; disabling ends its logins on every node."""
    if not active and by is not None and str(user.id) == by:
        raise Conflict("不能停用自己的账号", code="cannot_disable_self")
    user.active = active
    if not active:
        await accounts.drop_logins_of(session, user.id)
    return user


async def reset_password(session: AsyncSession, auth: Auth, user: User, password: str) -> User:
    """A new password (重置密码); the old one's logins end."""
    check_password_strength(password)
    user.password_hash = await auth.pool.run(hash_secret, password)
    await accounts.drop_logins_of(session, user.id)
    return user


def set_extension(user: User, extension: str | None) -> User:
    extension = (extension or "").strip() or None
    if extension is not None and (not extension.isascii() or not extension.isdigit() or len(extension) > 32):
        raise ValidationFailed("分机号须为数字", code="bad_extension")
    user.extension = extension
    return user


def set_role(user: User, role: str, *, by: str | None = None) -> User:
    try:
        new = UserRole(role)
    except ValueError:
        raise ValidationFailed(f"未知角色 {role}（agent、supervisor 或 admin）", code="unknown_role") from None
    if by is not None and str(user.id) == by and new is not UserRole.ADMIN:
        raise Conflict("不能取消自己的管理员角色", code="cannot_demote_self")
    user.role = new.value
    return user


# ---------------------------------------------------------------- department keys

def prefix_of(key: str) -> str:
    """The public part of a whole key `hk_<prefix>_<secret>`."""
    return key.removeprefix(API_KEY_PREFIX).partition("_")[0]


async def find_key(session: AsyncSession, which: int | str) -> ApiKey:
    """A key by id or by its public prefix (the part after `hk_`)."""
    key = await session.get(ApiKey, which) if isinstance(which, int) else await accounts.key_by_prefix(session, which)
    if key is None:
        raise NotFound(f"密钥 {which} 不存在", code="api_key_not_found")
    return key


async def list_keys(session: AsyncSession, department: str | None) -> list[ApiKey]:
    if department is not None and await session.get(Department, department) is None:
        raise ValidationFailed(f"部门 {department} 不存在", code="unknown_department")
    return await accounts.keys(session, department)


def revoke_key(key: ApiKey, now: datetime) -> ApiKey:
    """Revoke (吊销); a key already revoked keeps its first revocation time."""
    if key.revoked_at is None:
        key.revoked_at = now
    return key


async def rotate_key(session: AsyncSession, auth: Auth, key: ApiKey, now: datetime) -> tuple[ApiKey, str]:
    """A new key for the same department and label, the old one revoked in the same transaction."""
    if key.revoked_at is not None:
        raise Conflict("该密钥已吊销，请新建密钥", code="api_key_revoked")
    secret = await auth.issue_api_key(session, key.department_code, now, key.label)
    revoke_key(key, now)
    return await find_key(session, prefix_of(secret)), secret
