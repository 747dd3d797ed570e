"""Benchmark: department webhook deliveries per second through `hotline worker` processes.

    python bench/delivery.py [--messages 2000] [--workers 2] [--pg URL] [--redis URL]

A receiver (its own process, checking every signature) stands in for the departments.
Baseline: the same signed POSTs, built and sent by the same `WebhookSender`, straight
from one process, one after another on one keep-alive connection: what a simple
in-line sender would do. Measured: the same number of messages written to the outbox
(PostgreSQL), claimed by the workers' pumps and delivered by rq jobs in `--workers`
`hotline worker` processes (Redis), each delivery recorded back in the database.
ratio = worker deliveries per second / baseline POSTs per second.

The workers are started and idle before the clock starts; the run ends when every
outbox row is recorded delivered. Uses a schema and an rq queue of its own.
Output ends with one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-webhook-secret"


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the receiver (own process)

def serve_receiver(port_file: str) -> None:
    from aiohttp import web

    from dispatch.webhooks import verify

    seen: set[str] = set()
    bad = 0

    async def hook(request: web.Request) -> web.Response:
        nonlocal bad
        body = await request.read()
        if not verify(SECRET, request.headers["X-Hotline-Timestamp"], body, request.headers["X-Hotline-Signature"],
                      now=time.time()):
            bad += 1
            return web.Response(status=401)
        seen.add(request.headers["X-Hotline-Delivery"])
        return web.Response(text="ok")

    async def count(request: web.Request) -> web.Response:
        return web.json_response({"distinct": len(seen), "bad": bad})

    async def reset(request: web.Request) -> web.Response:
        seen.clear()
        return web.json_response({})

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/hook/{dept}", hook)
        app.router.add_get("/count", count)
        app.router.add_post("/reset", reset)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        await asyncio.to_thread(Path(port_file).write_text, str(runner.addresses[0][1]))
        await asyncio.Event().wait()

    asyncio.run(main())


# ---------------------------------------------------------------- the run

def webhook_overlay(url: str, queue: str, batch: int) -> str:
    import yaml

    from hotline.settings import DEFAULT_CONFIG

    departments = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))["departments"]
    for d in departments:
        if d["code"] == "scjgj":
            d["webhook"] = {"url": url, "secret": SECRET}
    return yaml.safe_dump({"departments": departments,
                           "delivery": {"queue": queue, "poll_seconds": 0.2, "batch": batch}}, allow_unicode=True)


def payload(i: int) -> dict:
    return {"occurred_at": datetime.now(UTC).isoformat(), "department": "scjgj",
            "workorder": {"number": f"20261126{i:06d}", "title": f"第{i}件：菜市场卖过期食品", "status": "dispatched",
                          "assignment": {"role": "lead", "sign_by": None, "reply_by": None}},
            "data": {"reason": "派单规则第77条：关键词「过期」 → 青山县市场监督管理局"}}


def wait_for(cond, every: float = 0.05) -> None:  # type: ignore[no-untyped-def]
    while not cond():
        time.sleep(every)


async def receiver_count(http, base: str) -> dict:  # type: ignore[no-untyped-def]
    async with http.get(base + "/count") as r:
        return await r.json()


async def main() -> None:
    import aiohttp
    import asyncpg
    from redis import Redis
    from rq import Worker

    from dispatch.webhooks import WebhookSender
    from hotline.outbox import enqueue_many, message_values
    from hotline.root import open_hotline
    from hotline.settings import load_settings

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch", type=int, default=20, help="messages per rq job (delivery.batch)")
    ap.add_argument("--pg", default=os.environ.get("HOTLINE_BENCH_PG_URL",
                                                  "postgresql+asyncpg://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--redis", default=os.environ.get("HOTLINE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"))
    args = ap.parse_args()

    tmp = tempfile.TemporaryDirectory()
    port_file = Path(tmp.name) / "port"
    receiver = await asyncio.to_thread(subprocess.Popen, [sys.executable, __file__, "--serve-receiver", str(port_file)])
    schema = f"bench_delivery_{os.getpid()}"
    raw_pg = args.pg.replace("postgresql+asyncpg", "postgresql")
    admin = await asyncpg.connect(raw_pg)
    await admin.execute(f"CREATE SCHEMA {schema}")
    workers: list[subprocess.Popen[bytes]] = []
    queue = f"bench-delivery-{uuid.uuid4().hex[:8]}"
    try:
        await asyncio.to_thread(wait_for, lambda: port_file.exists() and bool(port_file.read_text()))
        base = f"http://127.0.0.1:{port_file.read_text()}"
        overlay = Path(tmp.name) / "bench.yaml"
        overlay.write_text(webhook_overlay(base + "/hook/scjgj", queue, args.batch), encoding="utf-8")
        env = {**os.environ, "HOTLINE_DATABASE_URL": args.pg, "HOTLINE_DATABASE_SCHEMA": schema,
               "HOTLINE_REDIS_URL": args.redis, "HOTLINE_CONFIG": str(overlay), "HOTLINE_DATA_DIR": tmp.name,
               "HOTLINE_SECRET_KEY": "bench-secret-key-0123456789", "HOTLINE_LOG_LEVEL": "ERROR"}
        settings = load_settings(env)
        n = args.messages
        async with aiohttp.ClientSession() as http:
            # ---- baseline: the same POSTs, straight from this process, one after another
            sender = WebhookSender(lambda: settings, lambda: datetime.now(UTC), http)
            # Stand-ins for outbox rows: the sender reads these four attributes.
            messages: list[Any] = [SimpleNamespace(delivery_id=str(uuid.uuid4()), event="workorder.dispatched",
                                                   target="scjgj", payload=payload(i)) for i in range(n)]
            await sender.send(messages[0])  # connect once, as a long-running sender would have
            t = time.perf_counter()
            for m in messages:
                await sender.send(m)
            baseline = n / (time.perf_counter() - t)
            say(f"baseline: {n} POSTs from one process in {n / baseline:.2f} s → {baseline:.0f}/s")
            async with http.post(base + "/reset"):
                pass

            # ---- workers: outbox rows, pumps, rq jobs, recorded back in PostgreSQL
            async with open_hotline(settings, modules=()) as h:
                await h.schema.upgrade(h.engine)
            workers.extend([await asyncio.to_thread(
                subprocess.Popen, [sys.executable, "-m", "hotline", "worker", "--no-timers", "--name", f"{queue}-{i}"],
                env=env, cwd=ROOT) for i in range(args.workers)])
            redis = Redis.from_url(args.redis)
            await asyncio.to_thread(wait_for, lambda: sum(
                1 for w in Worker.all(connection=redis) if w.name.startswith(queue)) >= args.workers)
            await asyncio.sleep(1)  # pumps polling, idle
            async with open_hotline(settings, modules=()) as h:
                now = datetime.now(UTC)
                rows = [message_values(kind="webhook", target="scjgj", event="workorder.dispatched",
                                       payload=payload(i), now=now, ordering_key=f"webhook:scjgj:{i}")
                        for i in range(n)]
                t = time.perf_counter()
                async with h.sessions() as session, session.begin():
                    await enqueue_many(session, rows)
                conn = await asyncpg.connect(raw_pg, server_settings={"search_path": schema})
                try:
                    while True:
                        delivered = await conn.fetchval("SELECT count(*) FROM outbox WHERE status = 'delivered'")
                        if delivered >= n:
                            break
                        await asyncio.sleep(0.05)
                    elapsed = time.perf_counter() - t
                    dead = await conn.fetchval("SELECT count(*) FROM outbox WHERE status = 'dead'")
                finally:
                    await conn.close()
            counted = await receiver_count(http, base)
        rate = n / elapsed
        say(f"workers: {n} deliveries through {args.workers} hotline worker(s) in {elapsed:.2f} s → {rate:.0f}/s "
            f"(receiver saw {counted['distinct']} distinct, {counted['bad']} bad signatures, {dead} dead)")
        print(json.dumps({"bench": "delivery", "messages": n, "workers": args.workers, "batch": args.batch,
                          "worker_deliveries_per_s": round(rate, 1), "baseline_posts_per_s": round(baseline, 1),
                          "ratio": round(rate / baseline, 3)}))
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(20)
            except subprocess.TimeoutExpired:
                w.kill()
        receiver.terminate()
        receiver.wait(10)
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()
        tmp.cleanup()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve-receiver":
        serve_receiver(sys.argv[2])
    else:
        asyncio.run(main())
