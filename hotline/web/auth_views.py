"""Login for agents and supervisors: a session cookie for the dashboard, a bearer token for API clients."""

from __future__ import annotations

from aiohttp import web

from hotline.auth import PasswordBusy, Principal, sha256_hex
from hotline.errors import HotlineError
from hotline.ratelimit import Attempts
from hotline.web import schemas as s
from hotline.web.api import ApiRoutes, dumps
from hotline.web.clients import client_address
from hotline.web.context import HOTLINE

routes = ApiRoutes()
TAG = ["登录 Auth"]
SESSION_COOKIE = "hotline_session"
# Login attempts per client address and per account (Redis-backed when Redis is configured).
LOGIN_ATTEMPTS: web.AppKey[Attempts] = web.AppKey("login_attempts", Attempts)


@routes.post("/api/v1/auth/login", summary="登录 / Log in", auth="none", body=s.LoginIn, response=s.LoginOut,
             tags=TAG, extra_responses={401: "用户名或密码错误 / bad credentials",
                                        429: "尝试过多 / too many attempts"})
async def login(request: web.Request, body: s.LoginIn) -> web.StreamResponse:
    h = request.app[HOTLINE]
    sec = h.settings.security
    attempts = request.app[LOGIN_ATTEMPTS]
    # Counted before the password is checked, atomically: parallel guesses all count, and a
    # spray of user names from one address meets the address limit.
    by_address, by_account = f"login:addr:{client_address(request)}", f"login:user:{body.username.casefold()}"
    n_address = await attempts.add(by_address, sec.login_window_seconds)
    n_account = await attempts.add(by_account, sec.login_window_seconds)
    if n_address > sec.login_attempts_per_address or n_account > sec.login_attempts_per_account:
        minutes = max(1, round(sec.login_window_seconds / 60))
        raise HotlineError(f"登录尝试次数过多，请 {minutes} 分钟后再试", code="too_many_attempts", status=429,
                           title="尝试过多", title_en="Too many attempts")
    now = h.clock()
    try:
        token, user = await h.auth.login(body.username, body.password, now)
    except PasswordBusy:  # never evaluated: it does not count
        await attempts.take_back(by_address)
        await attempts.take_back(by_account)
        raise
    # A colleague's successful login behind the same office address costs nothing.
    await attempts.take_back(by_address)
    await attempts.clear(by_account)
    out = s.LoginOut(token=token, csrf_token=h.auth.csrf_token(sha256_hex(token)), expires_at=now + h.auth.session_lifetime,
                     user=s.UserOut(id=user.id, username=user.username, display_name=user.display_name,
                                    role=user.role, extension=user.extension))
    resp = web.json_response(out.model_dump(mode="json"), dumps=dumps)
    resp.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Lax", path="/",
                    max_age=int(h.auth.session_lifetime.total_seconds()),
                    secure=(h.settings.http.public_url or "").startswith("https://"))
    return resp


@routes.post("/api/v1/auth/logout", summary="退出登录 / Log out", status=204, tags=TAG)
async def logout(request: web.Request, principal: Principal) -> web.StreamResponse:
    h = request.app[HOTLINE]
    if principal.token_hash:
        await h.auth.logout(principal.token_hash)
    resp = web.Response(status=204)
    resp.del_cookie(SESSION_COOKIE, path="/")
    return resp


@routes.get("/api/v1/auth/me", summary="当前用户 / Who am I", response=s.MeOut, tags=TAG)
async def me(request: web.Request, principal: Principal) -> s.MeOut:
    h = request.app[HOTLINE]
    return s.MeOut(user=s.UserOut(id=int(principal.id), username=principal.username or "", display_name=principal.name,
                                  role=principal.role.value if principal.role else "", extension=principal.extension),
                   csrf_token=h.auth.csrf_token(principal.token_hash) if principal.token_hash else None)
