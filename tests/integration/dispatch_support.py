"""Helpers for the dispatch tests: a webhook receiver and settings that point departments at it."""

from __future__ import annotations

import asyncio
import json
import random
import socket
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from aiohttp import web

from dispatch.webhooks import verify
from hotline.settings import DEFAULT_CONFIG, Settings
from tests.conftest import make_settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from pathlib import Path

    from tests.conftest import FakeClock

SECRET = "dept-secret-{code}-0123456789"


def secret_of(code: str) -> str:
    return SECRET.format(code=code)


def overlay_yaml(hooks: dict[str, str], extra: dict[str, Any] | None = None) -> str:
    """An overlay giving `hooks` departments a webhook (the departments list is replaced whole)."""
    base = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    departments = base["departments"]
    for d in departments:
        if d["code"] in hooks:
            d["webhook"] = {"url": hooks[d["code"]], "secret": secret_of(d["code"])}
    doc: dict[str, Any] = {"departments": departments}
    doc.update(extra or {})
    return yaml.safe_dump(doc, allow_unicode=True)


FAST = {"delivery": {"base_delay_seconds": 1, "max_delay_seconds": 8, "max_attempts": 5, "lease_seconds": 30,
                     "timeout_seconds": 5, "poll_seconds": 0.2}}


def dispatch_settings(tmp_path: Path, db_kind: str, schema: str | None, hooks: dict[str, str],
                      extra: dict[str, Any] | None = None, env: dict[str, str] | None = None) -> Settings:
    return make_settings(tmp_path, database=db_kind, schema=schema, extra_yaml=overlay_yaml(hooks, extra or FAST),
                         env=env)


@dataclass
class Received:
    department: str
    delivery: str
    event: str
    timestamp: str
    body: bytes
    valid: bool
    status: int

    @property
    def doc(self) -> dict[str, Any]:
        return json.loads(self.body)


class Receiver:
    """Departments' webhook endpoints on 127.0.0.1: checks signatures, fails a share of
    requests on purpose, and can be taken down and brought back on the same port."""

    def __init__(self, *, fail_rate: float = 0.0, seed: int = 12345,
                 now: Callable[[], float] = time.time) -> None:
        self.fail_rate = fail_rate
        self.rng = random.Random(seed)
        self.now = now
        self.got: list[Received] = []
        self.status_override: int | None = None
        self.gate = asyncio.Event()  # cleared: requests wait (are "in flight") until it is set
        self.gate.set()
        self.waiting = 0
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._sock: socket.socket | None = None

    def bind(self) -> int:
        """Take a port now (synchronously), serve on it at `start`: for settings made before a loop runs."""
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        return self.port

    async def _handle(self, request: web.Request) -> web.Response:
        dept = request.match_info["dept"]
        body = await request.read()
        held = not self.gate.is_set()
        if held:
            self.waiting += 1
            try:
                await self.gate.wait()
            finally:
                self.waiting -= 1
        ts = request.headers.get("X-Hotline-Timestamp", "")
        valid = verify(secret_of(dept), ts, body, request.headers.get("X-Hotline-Signature", ""), now=self.now())
        status = 200
        if self.status_override is not None:
            status = self.status_override
        elif not valid:
            status = 401
        elif not held and self.rng.random() < self.fail_rate:  # a held request is one the test needs taken
            status = 500
        self.got.append(Received(dept, request.headers.get("X-Hotline-Delivery", ""),
                                 request.headers.get("X-Hotline-Event", ""), ts, body, valid, status))
        return web.Response(status=status, text="ok" if status == 200 else "nope")

    def url(self, dept: str) -> str:
        return f"http://127.0.0.1:{self.port}/hook/{dept}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook/{dept}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site: web.BaseSite
        if self._sock is not None:
            site, self._sock = web.SockSite(self._runner, self._sock), None
        else:
            site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        if not self.port:
            self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def accepted(self) -> list[Received]:
        return [r for r in self.got if 200 <= r.status < 300]


@pytest.fixture
async def receiver(clock: FakeClock) -> AsyncIterator[Receiver]:
    """A local webhook receiver on 127.0.0.1, its clock the test's."""
    r = Receiver(now=lambda: clock().timestamp())
    await r.start()
    yield r
    await r.stop()
