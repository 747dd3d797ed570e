"""Shared fixtures.

Integration tests run twice: on SQLite (a file under tmp_path) and on the real
PostgreSQL at 127.0.0.1 (each test in a schema of its own, dropped afterwards). When
`CI` is set, a missing PostgreSQL or Redis fails the run instead of skipping.

Environment: HOTLINE_TEST_PG_URL (default postgresql+asyncpg://postgres@127.0.0.1:5432/test),
HOTLINE_TEST_REDIS_URL (default redis://127.0.0.1:6379/15).
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hotline.root import open_hotline
from hotline.settings import Settings, load_settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator
    from pathlib import Path

    from hotline.module import Running as Hotline

PG_URL = os.environ.get("HOTLINE_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("HOTLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = bool(os.environ.get("CI"))


def _reachable(url: str, default_port: int) -> bool:
    u = urlparse(url.replace("+asyncpg", ""))
    try:
        with socket.create_connection((u.hostname or "127.0.0.1", u.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def require_service(url: str, port: int, name: str) -> None:
    if _reachable(url, port):
        return
    msg = f"{name} is not reachable at {url}"
    if IN_CI:
        pytest.fail(f"{msg}; CI must provide it (integration tests never skip in CI)")
    pytest.skip(msg)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # Thu 10:00 Beijing

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        from datetime import timedelta

        self.now += timedelta(**kw)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema, dropped after the test."""
    require_service(PG_URL, 5432, "PostgreSQL")
    name = f"t_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_exec(f"CREATE SCHEMA {name}"))
    try:
        yield name
    finally:
        asyncio.run(_pg_exec(f"DROP SCHEMA IF EXISTS {name} CASCADE"))


async def _pg_exec(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def make_settings(tmp_path: Path, *, database: str = "sqlite", schema: str | None = None,
                  env: dict[str, str] | None = None, extra_yaml: str | None = None) -> Settings:
    e = {"HOTLINE_DATA_DIR": str(tmp_path / "var"), "HOTLINE_SECRET_KEY": "test-secret-key-0123456789"}
    if database == "pg":
        e["HOTLINE_DATABASE_URL"] = PG_URL
        assert schema is not None
        e["HOTLINE_DATABASE_SCHEMA"] = schema
    if extra_yaml is not None:
        path = tmp_path / "extra.yaml"
        path.write_text(extra_yaml, encoding="utf-8")
        e["HOTLINE_CONFIG"] = str(path)
    e.update(env or {})
    return load_settings(e)


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(db_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    schema = request.getfixturevalue("pg_schema") if db_kind == "pg" else None
    return make_settings(tmp_path, database=db_kind, schema=schema)


async def migrated_hotline(settings: Settings, clock: Callable[[], datetime]) -> Any:
    from hotline.storage.directory import sync_departments

    cm = open_hotline(settings, clock=clock)
    h = await cm.__aenter__()
    await h.schema.upgrade(h.engine)
    async with h.sessions() as session, session.begin():
        await sync_departments(session, settings)
    return cm, h


@pytest.fixture
async def hotline(settings: Settings, clock: FakeClock) -> AsyncIterator[Hotline]:
    cm, h = await migrated_hotline(settings, clock)
    try:
        yield h
    finally:
        await cm.__aexit__(None, None, None)


@pytest.fixture
async def client(hotline: Hotline) -> AsyncIterator[TestClient]:
    from hotline.web.app import create_app

    server = TestServer(create_app(hotline, run_background=False), host="127.0.0.1")
    async with TestClient(server) as c:
        yield c


class Api:
    """A logged-in API client: `await api.post(path, json=...)` returns (status, body)."""

    def __init__(self, client: TestClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers

    async def call(self, method: str, path: str, **kw: Any) -> tuple[int, Any]:
        headers = {**self.headers, **kw.pop("headers", {})}
        async with self.client.request(method, path, headers=headers, **kw) as resp:
            body = await resp.json(content_type=None) if resp.content_length != 0 else None
            return resp.status, body

    async def get(self, path: str, **kw: Any) -> tuple[int, Any]:
        return await self.call("GET", path, **kw)

    async def post(self, path: str, **kw: Any) -> tuple[int, Any]:
        return await self.call("POST", path, **kw)


async def login_as(hotline: Hotline, client: TestClient, role: str = "agent", username: str | None = None,
                   extension: str | None = "8001") -> Api:
    from hotline.domain.vocabulary import UserRole

    username = username or f"{role}-{uuid.uuid4().hex[:6]}"
    async with hotline.sessions() as session, session.begin():
        await hotline.auth.add_user(session, username=username, password="password-123", role=UserRole(role),
                                    now=hotline.clock(), extension=extension)
    async with client.post("/api/v1/auth/login", json={"username": username, "password": "password-123"}) as r:
        assert r.status == 200, await r.text()
        token = (await r.json())["token"]
    return Api(client, {"Authorization": f"Bearer {token}"})


async def department_api(hotline: Hotline, client: TestClient, department: str) -> Api:
    async with hotline.sessions() as session, session.begin():
        key = await hotline.auth.issue_api_key(session, department, hotline.clock())
    return Api(client, {"X-Api-Key": key})


@pytest.fixture
async def agent(hotline: Hotline, client: TestClient) -> Api:
    return await login_as(hotline, client, "agent")


@pytest.fixture
async def supervisor(hotline: Hotline, client: TestClient) -> Api:
    return await login_as(hotline, client, "supervisor")


@pytest.fixture
def redis_url() -> str:
    require_service(REDIS_URL, 6379, "Redis")
    return REDIS_URL
