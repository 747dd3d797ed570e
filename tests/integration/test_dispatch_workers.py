"""The real thing: `hotline serve` and `hotline worker` processes on PostgreSQL and Redis,
department webhooks to a receiver that fails a share of requests and is down for a while,
a worker and the web process killed with SIGKILL mid-run. Nothing acknowledged is lost,
every signature verifies, order per work order and receiver holds, and a message sent
twice carries the same delivery id and the same bytes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from sqlalchemy import select

from hotline.storage.engine import create_engine, session_factory
from hotline.storage.models import OutboxMessage
from tests.conftest import PG_URL
from tests.integration.dispatch_support import Receiver, overlay_yaml

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

pytestmark = [pytest.mark.pg, pytest.mark.redis]

HOOKS = ("scjgj", "qingxi", "dcs")


class Proc:
    """One `hotline` process, its output in a file (kept for the failure report)."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], logdir: Path) -> None:
        self.name = name
        self.log = logdir / f"{name}.log"
        self._f = open(self.log, "wb")  # noqa: SIM115 - closed in stop(), after the process
        self.p = subprocess.Popen([sys.executable, "-m", "hotline", *args], env=env, stdout=self._f,
                                  stderr=subprocess.STDOUT)

    def kill9(self) -> None:
        self.p.send_signal(signal.SIGKILL)
        self.p.wait(10)

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(15)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(5)
        self._f.close()

    async def port(self, within: float = 30) -> int:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            m = re.search(rb"http://127\.0\.0\.1:(\d+)/", self.log.read_bytes())
            if m:
                return int(m.group(1))
            if self.p.poll() is not None:
                break
            await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name} did not start:\n{self.log.read_text(errors='replace')}")


def run(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    out = subprocess.run([sys.executable, "-m", "hotline", *args], env=env, input=stdin, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver(fail_rate=0.3, seed=5)
    await r.start()
    yield r
    await r.stop()


class Web:
    """A client of whichever `hotline serve` is up."""

    def __init__(self, http: aiohttp.ClientSession) -> None:
        self.http = http
        self.base = ""
        self.token = ""

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        async with self.http.request(method, self.base + path, json=body,
                                     headers={"Authorization": f"Bearer {self.token}"}) as r:
            return r.status, await r.json(content_type=None)


async def test_workers_deliver_everything_through_failures_and_kills(pg_schema, redis_url, receiver, tmp_path):
    queue = f"hotline-test-{uuid.uuid4().hex[:8]}"
    config = tmp_path / "extra.yaml"
    config.write_text(overlay_yaml({c: receiver.url(c) for c in HOOKS}, {
        "delivery": {"queue": queue, "base_delay_seconds": 0.2, "max_delay_seconds": 2, "max_attempts": 60,
                     "lease_seconds": 4, "timeout_seconds": 1.5, "poll_seconds": 0.3, "max_queued": 20},
        "escalation": {"tick_seconds": 1}}), encoding="utf-8")
    env = {**os.environ, "HOTLINE_DATABASE_URL": PG_URL, "HOTLINE_DATABASE_SCHEMA": pg_schema,
           "HOTLINE_REDIS_URL": redis_url, "HOTLINE_CONFIG": str(config), "HOTLINE_DATA_DIR": str(tmp_path / "var"),
           "HOTLINE_SECRET_KEY": "worker-test-secret-0123456789", "HOTLINE_HTTP_HOST": "127.0.0.1",
           "HOTLINE_HTTP_PORT": "0", "HOTLINE_LOG_FORMAT": "text", "PYTHONUNBUFFERED": "1"}
    run(["db", "upgrade"], env)
    run(["user", "add", "--username", "agent", "--role", "agent", "--password-stdin"], env, "password-123\n")
    procs: list[Proc] = []

    def start(name: str, *args: str) -> Proc:
        p = Proc(name, list(args), env, tmp_path)
        procs.append(p)
        return p

    acked: list[tuple[str, str]] = []  # (number, what) the web process acknowledged
    try:
        web_proc = start("web1", "serve")
        workers = [start("worker1", "worker", "--name", f"{queue}-1"),
                   start("worker2", "worker", "--name", f"{queue}-2")]
        async with aiohttp.ClientSession() as http:
            web = Web(http)

            async def connect(p: Proc) -> None:
                web.base = f"http://127.0.0.1:{await p.port()}"
                async with http.post(web.base + "/api/v1/auth/login",
                                     json={"username": "agent", "password": "password-123"}) as r:
                    assert r.status == 200, await r.text()
                    web.token = (await r.json())["token"]

            async def one_order(i: int) -> None:
                status, out = await web.call("POST", "/api/v1/workorders", {
                    "text": f"第{i}件：菜市场有商户卖过期食品", "category": "complaint", "area": "qingxi",
                    "caller": {"phone": f"1380000{i:04d}"}})
                if status != 201:
                    return
                number = out["number"]
                for what, path, body in (
                        ("dispatch", "dispatch", {"lead": "scjgj", "assisting": ["qingxi"]}),
                        ("update", "update", {"address": f"菜市场{i}号摊位"}),
                        ("append", None, {"text": f"补充{i}：今天又看到了", "follow_up_of": number,
                                          "caller": {"phone": f"1380000{i:04d}"}})):
                    status, _ = await web.call("POST", f"/api/v1/workorders/{number}/{path}" if path
                                               else "/api/v1/workorders", body)
                    if status not in (200, 201):
                        return
                    acked.append((number, what))

            async def traffic(first: int, count: int) -> None:
                for i in range(first, first + count):
                    with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                        await one_order(i)

            await connect(web_proc)
            await traffic(0, 10)
            # The receiver goes down for a while, then a worker dies mid-run.
            await receiver.stop()
            await traffic(10, 5)
            await asyncio.sleep(2)
            await receiver.start()
            await _until(lambda: len(receiver.got) >= 15, 30, "first deliveries")
            # Both workers are mid-send when one is killed: the receiver takes its message
            # (200), the dead worker never records it, its lease runs out, it comes again.
            receiver.gate.clear()
            await traffic(30, 2)
            await _until(lambda: receiver.waiting >= 2, 30, "both workers in flight")
            workers[0].kill9()
            receiver.gate.set()
            workers.append(start("worker3", "worker", "--name", f"{queue}-3"))
            # The web process dies while it is answering requests.
            busy = asyncio.create_task(traffic(15, 10))
            await asyncio.sleep(random.Random(3).uniform(0.3, 0.8))
            web_proc.kill9()
            await busy
            web_proc = start("web2", "serve")
            await connect(web_proc)
            await traffic(25, 5)
            async with http.get(web.base + "/metrics") as r:
                web_metrics = await r.text()

        engine = create_engine(PG_URL, schema=pg_schema)
        try:
            sessions = session_factory(engine)

            async def outbox() -> list[OutboxMessage]:
                async with sessions() as s:
                    return list((await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())

            async def settled() -> bool:
                return all(m.status in ("delivered", "dead") for m in await outbox())

            await _until_async(settled, 120, "the outbox to drain")
            messages = await outbox()
        finally:
            await engine.dispose()
    finally:
        for p in procs:
            p.stop()
    logs = "\n".join(f"== {p.name}\n{p.log.read_text(errors='replace')[-3000:]}" for p in procs)

    # Every acknowledged change has its messages, and every message was delivered.
    assert len(acked) >= 60, logs
    numbers = {n for n, what in acked if what == "dispatch"}
    dispatched = {(m.payload["workorder"]["number"], m.target) for m in messages if m.event == "workorder.dispatched"}
    assert {(n, d) for n in numbers for d in ("scjgj", "qingxi")} <= dispatched
    assert {m.status for m in messages} == {"delivered"}, logs
    by_id: dict[str, list] = defaultdict(list)
    for r in receiver.got:
        by_id[r.delivery].append(r)
    accepted_ids = {r.delivery for r in receiver.accepted()}
    assert {m.delivery_id for m in messages} == accepted_ids  # all arrived, nothing unknown
    assert all(r.valid for r in receiver.got)  # every signature verifies
    for tries in by_id.values():  # a message sent again is the same message
        assert len({t.body for t in tries}) == 1 and len({t.event for t in tries}) == 1
    assert any(len(t) > 1 for t in by_id.values())  # there were retries (30% failed, an outage)
    twice = [d for d, tries in by_id.items() if sum(200 <= t.status < 300 for t in tries) > 1]
    assert twice, "the killed worker's message was not delivered again"
    # Order per work order and receiver: first acceptances follow the outbox order.
    order_of = {m.delivery_id: m.id for m in messages}
    streams: dict[tuple[str, str], list[int]] = defaultdict(list)
    seen: set[str] = set()
    for r in receiver.accepted():
        if r.delivery in seen or "workorder" not in r.doc:
            # 60 orders in a minute about one matter is a burst: the supervision office's
            # hotspot alert is delivered too, and ordering is promised per work order only.
            continue
        seen.add(r.delivery)
        streams[(r.department, r.doc["workorder"]["number"])].append(order_of[r.delivery])
    assert streams and all(ids == sorted(ids) for ids in streams.values())
    assert max(len(ids) for ids in streams.values()) >= 3
    # The web process delivered nothing itself: with Redis the workers do.
    assert 'hotline_webhook_deliveries_total{result="delivered"}' not in web_metrics


async def _until(cond: Any, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


async def _until_async(cond: Any, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not await cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.5)

