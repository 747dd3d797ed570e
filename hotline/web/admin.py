"""`/api/v1/admin/…`: users and department API keys, for administrators only (the JSON
the admin screens and scripts use; the same use cases as `hotline user|apikey`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from hotline import admin
from hotline.domain.vocabulary import UserRole
from hotline.errors import NotFound
from hotline.web.api import ApiRoutes
from hotline.web.context import HOTLINE

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from aiohttp import web
    from sqlalchemy.ext.asyncio import AsyncSession

    from hotline.auth import Auth, Principal
    from hotline.storage.models import ApiKey, User
    from hotline.web.api import Handler

    UserChange = Callable[[AsyncSession, User, BaseModel | None, Principal, Auth], Awaitable[None]]

routes = ApiRoutes()
TAG = ["管理 Admin"]
ADMIN_ONLY = {403: "需要管理员角色 / admin role required", 404: "不存在 / not found"}
_MAX_ID = 2**63 - 1
Role = Literal["agent", "supervisor", "admin"]


class AdminUserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    extension: str | None
    active: bool
    created_at: datetime


class AdminUserList(BaseModel):
    items: list[AdminUserOut]


class AdminUserIn(BaseModel):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(min_length=8, max_length=200)
    role: Role
    display_name: str = Field("", max_length=100)
    extension: str | None = Field(None, max_length=32, pattern=r"^[0-9]+$")


class UserPasswordIn(BaseModel):
    password: str = Field(min_length=8, max_length=200)


class UserExtensionIn(BaseModel):
    extension: str | None = Field(max_length=32, pattern=r"^[0-9]*$", description="null or empty: none")


class UserRoleIn(BaseModel):
    role: Role


class ApiKeyOut(BaseModel):
    id: int
    prefix: str = Field(description="the public part: keys look like hk_<prefix>_<secret>")
    department: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyList(BaseModel):
    items: list[ApiKeyOut]


class ApiKeyIssued(ApiKeyOut):
    key: str = Field(description="the whole key; shown this once, only its hash is kept")


class ApiKeyIn(BaseModel):
    department: str = Field(min_length=1, max_length=64)
    label: str = Field("", max_length=200)


class ApiKeyQuery(BaseModel):
    department: str | None = Field(None, max_length=64)


def _user_out(u: User) -> AdminUserOut:
    return AdminUserOut(id=u.id, username=u.username, display_name=u.display_name, role=u.role,
                        extension=u.extension, active=u.active, created_at=u.created_at)


def _key_out(k: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(id=k.id, prefix=k.prefix, department=k.department_code, label=k.label,
                     created_at=k.created_at, revoked_at=k.revoked_at)


def _id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) <= _MAX_ID:
        raise NotFound(f"{raw} 不存在", code="not_found")
    return int(raw)


# ---------------------------------------------------------------- users

@routes.get("/api/v1/admin/users", summary="用户列表 / List users", response=AdminUserList, tags=TAG,
            extra_responses=ADMIN_ONLY)
async def admin_users(request: web.Request, principal: Principal) -> AdminUserList:
    principal.require_role(UserRole.ADMIN)
    async with request.app[HOTLINE].sessions() as session:
        return AdminUserList(items=[_user_out(u) for u in await admin.list_users(session)])


@routes.post("/api/v1/admin/users", summary="新增用户 / Add a user", body=AdminUserIn, response=AdminUserOut,
             status=201, tags=TAG, extra_responses={**ADMIN_ONLY, 409: "用户名已存在 / username taken"})
async def admin_add_user(request: web.Request, principal: Principal, body: AdminUserIn) -> AdminUserOut:
    principal.require_role(UserRole.ADMIN)
    h = request.app[HOTLINE]
    async with h.sessions() as session, session.begin():
        user = await h.auth.add_user(session, username=body.username, password=body.password,
                                     role=UserRole(body.role), now=h.clock(), display_name=body.display_name,
                                     extension=body.extension)
        return _user_out(user)


def _user_action(path: str, summary: str, body: type[BaseModel] | None = None) -> Callable[[UserChange], Handler]:
    def deco(change: UserChange) -> Handler:
        async def handler(request: web.Request, principal: Principal, body: BaseModel | None = None
                          ) -> AdminUserOut:
            principal.require_role(UserRole.ADMIN)
            async with request.app[HOTLINE].sessions() as session, session.begin():
                user = await admin.find_user(session, _id(request))
                await change(session, user, body, principal, request.app[HOTLINE].auth)
                return _user_out(user)
        handler.__name__ = f"admin_user_{path.replace('-', '_')}"
        extra = {**ADMIN_ONLY, 409: "不能对自己这样做 / not on your own account"}
        routes.post(f"/api/v1/admin/users/{{id}}/{path}", summary=summary, body=body, response=AdminUserOut,
                    tags=TAG, extra_responses=extra)(handler)
        return handler
    return deco


@_user_action("disable", "停用用户（立即退出所有登录） / Disable a user (ends every login at once)")
async def _disable(session: AsyncSession, user: User, body: BaseModel | None, by: Principal, auth: Auth) -> None:
    await admin.set_active(session, user, False, by=by.id)


@_user_action("enable", "启用用户 / Enable a user")
async def _enable(session: AsyncSession, user: User, body: BaseModel | None, by: Principal, auth: Auth) -> None:
    await admin.set_active(session, user, True)


@_user_action("reset-password", "重置密码（立即退出所有登录） / Reset the password (ends every login)", UserPasswordIn)
async def _reset(session: AsyncSession, user: User, body: BaseModel | None, by: Principal, auth: Auth) -> None:
    assert isinstance(body, UserPasswordIn)
    await admin.reset_password(session, auth, user, body.password)


@_user_action("extension", "设置分机号 / Set the phone extension", UserExtensionIn)
async def _extension(session: AsyncSession, user: User, body: BaseModel | None, by: Principal, auth: Auth) -> None:
    assert isinstance(body, UserExtensionIn)
    admin.set_extension(user, body.extension)


@_user_action("role", "设置角色 / Set the role", UserRoleIn)
async def _role(session: AsyncSession, user: User, body: BaseModel | None, by: Principal, auth: Auth) -> None:
    assert isinstance(body, UserRoleIn)
    admin.set_role(user, body.role, by=by.id)


# ---------------------------------------------------------------- department API keys

@routes.get("/api/v1/admin/apikeys", summary="部门密钥列表 / List department API keys", query=ApiKeyQuery,
            response=ApiKeyList, tags=TAG, extra_responses=ADMIN_ONLY)
async def admin_apikeys(request: web.Request, principal: Principal, query: ApiKeyQuery) -> ApiKeyList:
    principal.require_role(UserRole.ADMIN)
    async with request.app[HOTLINE].sessions() as session:
        return ApiKeyList(items=[_key_out(k) for k in await admin.list_keys(session, query.department)])


@routes.post("/api/v1/admin/apikeys", summary="新建部门密钥（只显示一次） / Issue a department API key (shown once)",
             body=ApiKeyIn, response=ApiKeyIssued, status=201, tags=TAG, extra_responses=ADMIN_ONLY)
async def admin_issue_apikey(request: web.Request, principal: Principal, body: ApiKeyIn) -> ApiKeyIssued:
    principal.require_role(UserRole.ADMIN)
    h = request.app[HOTLINE]
    async with h.sessions() as session, session.begin():
        secret = await h.auth.issue_api_key(session, body.department, h.clock(), body.label)
        key = await admin.find_key(session, admin.prefix_of(secret))
        return ApiKeyIssued(**_key_out(key).model_dump(), key=secret)


@routes.post("/api/v1/admin/apikeys/{id}/revoke", summary="吊销部门密钥（所有节点立即生效） / Revoke a key (at once, every node)",
             response=ApiKeyOut, tags=TAG, extra_responses=ADMIN_ONLY)
async def admin_revoke_apikey(request: web.Request, principal: Principal) -> ApiKeyOut:
    principal.require_role(UserRole.ADMIN)
    h = request.app[HOTLINE]
    async with h.sessions() as session, session.begin():
        return _key_out(admin.revoke_key(await admin.find_key(session, _id(request)), h.clock()))


@routes.post("/api/v1/admin/apikeys/{id}/rotate",
             summary="轮换部门密钥：新密钥只显示一次，旧密钥立即吊销 / Rotate a key: a new one (shown once), the old revoked",
             response=ApiKeyIssued, status=201, tags=TAG,
             extra_responses={**ADMIN_ONLY, 409: "已吊销 / already revoked"})
async def admin_rotate_apikey(request: web.Request, principal: Principal) -> ApiKeyIssued:
    principal.require_role(UserRole.ADMIN)
    h = request.app[HOTLINE]
    async with h.sessions() as session, session.begin():
        new, secret = await admin.rotate_key(session, h.auth, await admin.find_key(session, _id(request)), h.clock())
        return ApiKeyIssued(**_key_out(new).model_dump(), key=secret)
