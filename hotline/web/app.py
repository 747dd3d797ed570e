"""The aiohttp application factory: routes, error mapping, access log, background tasks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web
from multidict import MultiDict
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from hotline.errors import Forbidden, HotlineError, NotFound, Unauthorized, Unavailable, ValidationFailed
from hotline.live import live_text
from hotline.ratelimit import Attempts, RedisAttempts
from hotline.storage.engine import database_unavailable
from hotline.storage.locks import ping
from hotline.storage.orders import count_overdue
from hotline.tasks import supervised
from hotline.web import admin, auth_views, orders, pages, reference
from hotline.web.api import ApiRoutes, AuthKind, dumps
from hotline.web.auth_views import LOGIN_ATTEMPTS, SESSION_COOKIE
from hotline.web.boundary import BadInput, bad_identifier, clean_text
from hotline.web.context import HOTLINE, lang_of
from hotline.web.messages import describe
from hotline.web.openapi import build as build_openapi

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from hotline.auth import Principal
    from hotline.ports import Hotline

log = logging.getLogger("hotline.web")
access_log = logging.getLogger("hotline.access")
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Headers whose value is free text that nothing authenticates or stores (a browser's or a
# library's own words): not worth refusing a request over.
_FREE_HEADERS = {"user-agent", "referer", "accept-language"}
CORE_TABLES = [auth_views.routes, orders.routes, reference.routes, admin.routes]
_HTTP_CODES = {400: ("bad_request", "请求格式错误", "Bad request"), 404: ("not_found", "未找到", "Not found"),
               405: ("method_not_allowed", "不支持该请求方法", "Method not allowed"),
               413: ("payload_too_large", "上传内容过大", "Payload too large"),
               415: ("unsupported_media_type", "不支持的内容类型", "Unsupported media type")}


def problem(request: web.Request, status: int, code: str, title: str, title_en: str, detail: str,
            extra: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> web.Response:
    """RFC 9457 problem details, the one error shape of every JSON endpoint."""
    body = {"type": f"urn:hotline:problem:{code}", "title": title_en if lang_of(request) == "en" else title,
            "status": status, "detail": detail, "code": code, "instance": request.path, **(extra or {})}
    return web.json_response(body, status=status, content_type="application/problem+json", dumps=dumps,
                             headers=headers)


@web.middleware
async def errors_middleware(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                            ) -> web.StreamResponse:
    try:
        return await handler(request)
    except HotlineError as exc:
        headers = {"Retry-After": RETRY_AFTER} if exc.status == 503 else None
        if exc.status == 401:
            headers = {"WWW-Authenticate": 'Bearer realm="hotline"'}
        detail, extra = exc.detail, exc.extra
        field_errors = extra.get("errors")
        # Only a request body's field errors (pydantic's, with `loc`) are translated; other
        # lists, such as an import's row errors, are already in the reader's words.
        if (isinstance(exc, ValidationFailed) and isinstance(field_errors, list) and field_errors
                and all(isinstance(e, dict) and "loc" in e for e in field_errors)):
            detail, errors = describe(extra["errors"], lang_of(request))  # field errors: 中文 first, ?lang=en
            extra = {**extra, "errors": errors}
        return problem(request, exc.status, exc.code, exc.title, exc.title_en, detail, extra, headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code, title, title_en = _HTTP_CODES.get(exc.status, (f"http_{exc.status}", exc.reason, exc.reason))
        text = exc.text if exc.status != 404 else f"{request.method} {request.path} 不存在"
        if exc.status == 413:
            text = f"请求体超过上限 {request.app[HOTLINE].settings.http.max_body_bytes} 字节"
        allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None  # a 405 names what is allowed
        return problem(request, exc.status, code, title, title_en, text or title, headers=allow)
    except DBAPIError as exc:
        if database_unavailable(exc):
            return _unavailable(request, exc)
        log.exception("database error on %s %s", request.method, request.path)
        return problem(request, 500, "internal_error", "服务器内部错误", "Internal server error",
                       "服务器内部错误，已记录日志")
    except (PoolTimeout, ConnectionError, OSError) as exc:
        return _unavailable(request, exc)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem(request, 500, "internal_error", "服务器内部错误", "Internal server error",
                       "服务器内部错误，已记录日志")


RETRY_AFTER = "5"  # seconds: what a 503 asks clients (and Twilio with #rp=5xx) to wait


def _unavailable(request: web.Request, exc: BaseException) -> web.Response:
    # The database is down or saturated: a retryable 503, so clients and vendors retry.
    log.error("database unavailable on %s %s: %s", request.method, request.path, exc)
    err = Unavailable("数据库暂时不可用，请稍后重试", code="database_unavailable")
    return problem(request, 503, err.code, err.title, err.title_en, err.detail, headers={"Retry-After": RETRY_AFTER})


@web.middleware
async def boundary_middleware(request: web.Request,
                              handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """Hostile bytes decided once (`hotline.web.boundary`): refused in the path and the
    headers, removed from the query before any handler reads it."""
    if bad_identifier(request.path):  # no resource has such a name
        raise NotFound(f"{request.method} 路径中含有控制字符，不存在", code="not_found")
    for name, value in request.headers.items():
        if bad_identifier(value) and name.lower() not in _FREE_HEADERS:
            raise BadInput(f"请求头 {name} 含有控制字符或非 UTF-8 字节", code="bad_header")
    query = request.rel_url.query
    if any(bad_identifier(k) or clean_text(v) != v for k, v in query.items()):
        cleaned = MultiDict((clean_text(k), clean_text(v)) for k, v in query.items())
        request = request.clone(rel_url=request.rel_url.with_query(cleaned))
    return await handler(request)


@web.middleware
async def access_middleware(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                            ) -> web.StreamResponse:
    start = time.perf_counter()
    status = 500
    try:
        resp = await handler(request)
        status = resp.status
        return resp
    except web.HTTPException as exc:  # a redirect (303 after a form) or any HTTP answer raised
        status = exc.status
        raise
    finally:
        elapsed = time.perf_counter() - start
        route = request.match_info.route.resource.canonical if request.match_info.route.resource else "unmatched"
        h = request.app[HOTLINE]
        h.metrics.http_requests.labels(request.method, route, str(status)).observe(elapsed)
        access_log.info("%s %s %s", request.method, request.path, status,
                        extra={"method": request.method, "path": request.path, "status": status,
                               "ms": round(elapsed * 1000, 1), "remote": request.remote})


async def authenticate(request: web.Request, kind: AuthKind) -> Principal | None:
    if kind == "none":
        return None
    h = request.app[HOTLINE]
    if kind in ("department", "any") and "X-Api-Key" in request.headers:
        return await h.auth.department_for_key(request.headers["X-Api-Key"])
    if kind == "department":
        raise Unauthorized("请在 X-Api-Key 头中提供部门 API 密钥", code="api_key_required")
    auth = request.headers.get("Authorization", "")
    now = h.clock()
    if auth.lower().startswith("bearer "):
        return await h.auth.user_for_token(auth[7:].strip(), now)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        principal = await h.auth.user_for_token(cookie, now, via_cookie=True)
        if request.method in UNSAFE:
            h.auth.check_csrf(principal, request.headers.get("X-CSRF-Token"))
        return principal
    raise Unauthorized("请先登录（Authorization: Bearer <token>）", code="login_required")


# ---------------------------------------------------------------- operations endpoints

async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    h = request.app[HOTLINE]
    try:
        async with h.engine.connect() as conn:
            await ping(conn)
        missing = await h.schema.pending(h.engine)
    except Exception as exc:  # any failure to reach the database means "not ready"
        return web.json_response({"status": "not_ready", "reason": f"database unreachable: {type(exc).__name__}"},
                                 status=503, headers={"Retry-After": RETRY_AFTER})
    if missing:
        return web.json_response({"status": "not_ready",
                                  "reason": "database not migrated: run `hotline db upgrade`",
                                  "missing": sorted(missing)}, status=503, headers={"Retry-After": RETRY_AFTER})
    return web.json_response({"status": "ready"})


async def metrics(request: web.Request) -> web.Response:
    h = request.app[HOTLINE]
    # Gauges that are facts about the database are read at scrape time, so every node
    # reports the same truth without a background loop.
    with contextlib.suppress(Exception):
        h.metrics.outbox_pending.set(await h.outbox.pending_count())
        async with h.sessions() as session:
            h.metrics.workorders_overdue.set(await count_overdue(session, h.clock()))
    return web.Response(body=h.metrics.render(), headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


async def live(request: web.Request) -> web.WebSocketResponse:
    """Live dashboard events over a WebSocket (login by cookie, or ?token= for tools)."""
    h = request.app[HOTLINE]
    token = request.query.get("token") or request.cookies.get(SESSION_COOKIE)
    if not token:
        raise Unauthorized("请先登录", code="login_required")
    if "token" not in request.query:
        check_origin(request)
    await h.auth.user_for_token(token, h.clock())
    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(request)
    async with h.live.subscribe() as queue:
        # Two tasks for the socket's life, not one per message: with hundreds of pages open
        # a task and a wait per page per event cost more than the sends themselves.
        reader = asyncio.create_task(_drain(ws))
        sender = asyncio.create_task(_send(ws, queue))
        try:
            await asyncio.wait({reader, sender}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in (reader, sender):
                t.cancel()
            for t, outcome in zip((reader, sender), await asyncio.gather(reader, sender, return_exceptions=True),
                                  strict=True):
                if isinstance(outcome, Exception) and not isinstance(outcome, ConnectionError):
                    log.warning("live: the socket's %s stopped: %r", t.get_name(), outcome)
    return ws


async def _send(ws: web.WebSocketResponse, queue: asyncio.Queue[dict[str, Any]]) -> None:
    """Each event's one JSON text (`live_text`), in order, until the page goes."""
    while not ws.closed:
        await ws.send_str(live_text(await queue.get()))


def allowed_origins(request: web.Request) -> set[str]:
    """The page origins that may use a session cookie here: HOTLINE_PUBLIC_URL's, the
    configured `http.cors_origins`, and this server as the browser addressed it."""
    http = request.app[HOTLINE].settings.http
    found = {f"{request.scheme}://{request.host}".lower()}
    for url in (http.public_url, *http.cors_origins):
        if url:
            parts = urlsplit(url.strip())
            if parts.scheme and parts.netloc:
                found.add(f"{parts.scheme}://{parts.netloc}".lower())
    return found


def check_origin(request: web.Request) -> None:
    """A browser always sends Origin on a WebSocket handshake and always sends our cookie
    along, so a page on any other site could open the live feed as the logged-in agent
    (cross-site WebSocket hijacking). Tools without a browser send no Origin."""
    origin = request.headers.get("Origin")
    if origin is not None and origin.strip().lower().rstrip("/") not in allowed_origins(request):
        log.warning("live: refused a session cookie from origin %r", origin[:200])
        raise Forbidden("不允许从该来源页面连接", code="bad_origin")


async def _drain(ws: web.WebSocketResponse) -> None:
    async for msg in ws:
        if msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
            break


# ---------------------------------------------------------------- the factory

def background_tasks(h: Hotline) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        tasks = {name: asyncio.create_task(supervised(name, fn), name=f"hotline:{name}")
                 for name, fn in h.background.items()}
        app[BACKGROUND] = tasks
        yield
        for t in tasks.values():
            t.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
    return ctx


BACKGROUND: web.AppKey[dict[str, asyncio.Task[None]]] = web.AppKey("background")


def create_app(h: Hotline, *, run_background: bool = True) -> web.Application:
    app = web.Application(client_max_size=h.settings.http.max_body_bytes,
                          middlewares=[access_middleware, errors_middleware, boundary_middleware])
    app[HOTLINE] = h
    # With Redis every web node counts the same attempts.
    app[LOGIN_ATTEMPTS] = RedisAttempts(h.redis) if h.redis is not None else Attempts()
    tables: list[ApiRoutes] = [*CORE_TABLES, *h.api_tables]
    for table in tables:
        table.install(app, authenticate, h.settings.tz)
    doc = build_openapi(tables, title=f"{h.settings.hotline.name} API",
                        description="12345 政务服务便民热线：工单受理、派单、承办、回访。错误均为 RFC 9457 problem+json。")
    async def openapi(request: web.Request) -> web.Response:
        return web.json_response(doc, dumps=dumps)

    app.router.add_get("/api/v1/openapi.json", openapi)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api/v1/live", live)
    pages.install(app)
    for install in h.routes:
        install(app)
    if run_background:
        app.cleanup_ctx.append(background_tasks(h))
    return app
