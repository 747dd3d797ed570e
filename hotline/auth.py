"""Who is calling: agents and supervisors (login → token), departments (API key).

Passwords and API-key secrets are stored as argon2 hashes. Login tokens are 256-bit
random strings stored as SHA-256 (enough for a random token, and fast to look up on
every request).

Revocation is effective at once on every node: each request reads the login or the key's
row (one indexed lookup), so a logout, a disabled user or a revoked key elsewhere is seen
on the next request. Only argon2's slow verification of a key's secret is remembered, keyed
by a SHA-256 of the whole key *and* the stored hash it was checked against, so it can never
stand in for a row that is gone.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hotline.domain import workorder as wo
from hotline.domain.vocabulary import ActorKind, UserRole
from hotline.errors import Conflict, Forbidden, HotlineError, Unauthorized, ValidationFailed
from hotline.storage import accounts
from hotline.storage.models import ApiKey, Department, User

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    from sqlalchemy.ext.asyncio import AsyncSession

    T = TypeVar("T")

    from hotline.storage.engine import SessionFactory

_hasher = PasswordHasher()
API_KEY_PREFIX = "hk_"
_KEY_CACHE_SECONDS = 300


@dataclass(frozen=True)
class Principal:
    """The caller of a request."""

    kind: str  # "user" | "department"
    id: str  # user id or department code
    name: str
    role: UserRole | None = None  # users only
    extension: str | None = None
    department: str | None = None  # departments only
    via_cookie: bool = False
    token_hash: str | None = None
    username: str | None = None

    @property
    def actor(self) -> wo.Actor:
        if self.kind == "department":
            return wo.Actor(ActorKind.DEPARTMENT, self.department, self.name)
        return wo.Actor(ActorKind(self.role.value if self.role else "agent"), self.id, self.name)

    def require_role(self, *roles: UserRole) -> None:
        if self.kind != "user" or self.role not in roles:
            names = "、".join({"agent": "话务员", "supervisor": "班长/督查", "admin": "管理员"}[r.value] for r in roles)
            raise Forbidden(f"此操作需要以下角色之一：{names}", code="role_required")


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def verify_secret(stored: str, secret: str) -> bool:
    try:
        return _hasher.verify(stored, secret)
    except (VerificationError, InvalidHashError):
        return False


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def check_password_strength(password: str) -> None:
    if len(password) < 8:
        raise ValidationFailed("密码至少 8 位", code="weak_password")


class PasswordBusy(HotlineError):
    code = "too_many_attempts"
    status = 429
    title = "尝试过多"
    title_en = "Too many attempts"


class PasswordPool:
    """argon2 (deliberately slow) in a few threads of its own, never the shared default
    executor that intake and file writes use; past `queue` waiting, callers get a 429 at
    once instead of a place in an ever longer line."""

    def __init__(self, workers: int = 2, queue: int = 16) -> None:
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="hotline-argon2")
        self.capacity = workers + queue
        self.in_flight = 0

    async def run(self, fn: Callable[..., T], *args: str) -> T:
        if self.in_flight >= self.capacity:
            raise PasswordBusy("登录请求过多，请稍后再试", code="too_many_attempts")
        self.in_flight += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        finally:
            self.in_flight -= 1

    async def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class Auth:
    def __init__(self, sessions: SessionFactory, secret_key: str, session_hours: float,
                 pool: PasswordPool | None = None) -> None:
        self.sessions = sessions
        self.pool = pool or PasswordPool()
        self._secret = secret_key.encode()
        self.session_lifetime = timedelta(hours=session_hours)
        # sha256(key) → (until, the secret hash it matched): saves argon2, never the row lookup.
        self._key_cache: dict[str, tuple[float, str]] = {}

    # ------------------------------------------------------------ users
    async def add_user(self, session: AsyncSession, *, username: str, password: str, role: UserRole,
                       now: datetime, display_name: str = "", extension: str | None = None) -> User:
        check_password_strength(password)
        if await accounts.user_named(session, username) is not None:
            raise Conflict(f"用户名 {username} 已存在", code="username_taken")
        user = User(username=username, display_name=display_name or username, role=role.value,
                    extension=extension, password_hash=await self.pool.run(hash_secret, password),
                    active=True, created_at=now)
        session.add(user)
        await session.flush()
        return user

    async def login(self, username: str, password: str, now: datetime) -> tuple[str, User]:
        # No connection is held while argon2 runs: on SQLite there is one, on PostgreSQL a
        # pool that intake needs as much as logins do.
        async with self.sessions() as session:
            user = await accounts.user_named(session, username)
        # Hash even for an unknown user, so timing does not reveal which names exist.
        stored = user.password_hash if user else _DUMMY_HASH
        ok = await self.pool.run(verify_secret, stored, password)
        if user is None or not ok or not user.active:
            raise Unauthorized("用户名或密码错误", code="bad_credentials")
        token = secrets.token_urlsafe(32)
        async with self.sessions() as session, session.begin():
            await accounts.add_login(session, user.id, sha256_hex(token), now, now + self.session_lifetime)
        return token, user

    async def logout(self, token_hash: str) -> None:
        async with self.sessions() as session, session.begin():
            await accounts.drop_login(session, token_hash)

    async def user_for_token(self, token: str, now: datetime, *, via_cookie: bool = False) -> Principal:
        h = sha256_hex(token)
        async with self.sessions() as session:
            row = await accounts.login_of(session, h)
        if row is None or row[1] < now or not row[0].active:
            raise Unauthorized("登录已失效，请重新登录", code="session_expired")
        user = row[0]
        return Principal("user", str(user.id), user.display_name or user.username, UserRole(user.role),
                         user.extension, via_cookie=via_cookie, token_hash=h, username=user.username)

    def csrf_token(self, token_hash: str) -> str:
        """Bound to the login, so a page from another site cannot forge it."""
        return hmac.new(self._secret, b"csrf:" + token_hash.encode(), hashlib.sha256).hexdigest()

    def check_csrf(self, principal: Principal, presented: str | None) -> None:
        if not principal.via_cookie or principal.token_hash is None:
            return
        if not presented or not hmac.compare_digest(presented, self.csrf_token(principal.token_hash)):
            raise Forbidden("缺少或错误的 X-CSRF-Token", code="csrf_failed")

    # ------------------------------------------------------------ department keys
    async def issue_api_key(self, session: AsyncSession, department: str, now: datetime,
                            label: str = "") -> str:
        dept = await session.get(Department, department)
        if dept is None:
            raise ValidationFailed(f"部门 {department} 不存在", code="unknown_department")
        prefix = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        session.add(ApiKey(prefix=prefix, secret_hash=await self.pool.run(hash_secret, secret),
                           department_code=department, label=label, created_at=now))
        await session.flush()
        return f"{API_KEY_PREFIX}{prefix}_{secret}"

    async def department_for_key(self, key: str) -> Principal:
        if not key.startswith(API_KEY_PREFIX) or key.count("_") < 2:
            raise Unauthorized("X-Api-Key 无效", code="bad_api_key")
        prefix, _, secret = key[len(API_KEY_PREFIX):].partition("_")
        async with self.sessions() as session:
            row = await accounts.live_key(session, prefix)  # every time: a revoked key fails at once
        if row is None:
            raise Unauthorized("X-Api-Key 无效", code="bad_api_key")
        stored = row[0].secret_hash
        cache_key = sha256_hex(key)
        hit = self._key_cache.get(cache_key)
        if not (hit and hit[0] > time.monotonic() and hit[1] == stored):
            if not await self.pool.run(verify_secret, stored, secret):
                raise Unauthorized("X-Api-Key 无效", code="bad_api_key")
            if len(self._key_cache) > 10_000:
                self._key_cache.clear()
            self._key_cache[cache_key] = (time.monotonic() + _KEY_CACHE_SECONDS, stored)
        return Principal("department", row[1].code, row[1].name, department=row[1].code)


_DUMMY_HASH = hash_secret("not-a-real-password")
