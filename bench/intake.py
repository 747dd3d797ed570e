"""Work orders created per second through the JSON API on PostgreSQL, 50 concurrent clients.

Baseline, measured in the same run with the same load generator: a bare aiohttp handler
that does one INSERT through the same driver (asyncpg). Both servers run as one process
each; the load generator is this process.

    python bench/intake.py [--seconds 20] [--clients 50] [--pg postgresql://postgres@127.0.0.1:5432/test]

Ends with one JSON line: {"bench": "intake", "orders_per_s", "baseline_per_s", "p99_ms",
"baseline_p99_ms", "ratio"} where ratio = orders_per_s / baseline_per_s (higher is better).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = "bench_intake"

BASELINE = textwrap.dedent('''
    import asyncio, json, sys
    import asyncpg
    from aiohttp import web

    DSN, PORT, SCHEMA = sys.argv[1], int(sys.argv[2]), sys.argv[3]

    async def init(app):
        app["pool"] = await asyncpg.create_pool(DSN, min_size=10, max_size=20,
                                                server_settings={"search_path": SCHEMA})
        yield
        await app["pool"].close()

    async def create(request):
        body = await request.json()
        async with request.app["pool"].acquire() as conn:
            row_id = await conn.fetchval(
                "INSERT INTO items (channel, external_id, text, created_at) VALUES ($1, $2, $3, now()) RETURNING id",
                body.get("channel", "phone"), request.headers["Idempotency-Key"], body["text"])
        return web.json_response({"id": row_id}, status=201)

    app = web.Application()
    app.cleanup_ctx.append(init)
    app.router.add_post("/api/v1/workorders", create)
    web.run_app(app, host="127.0.0.1", port=PORT, print=None, access_log=None)
''')


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_up(url: str, proc: asyncio.subprocess.Process, limit_s: float = 60) -> None:
    deadline = time.monotonic() + limit_s
    async with aiohttp.ClientSession() as s:
        while True:
            if proc.returncode is not None:
                raise SystemExit(f"server exited early with {proc.returncode}")
            try:
                async with s.get(url) as r:
                    if r.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"server at {url} did not come up")
            await asyncio.sleep(0.2)


async def load(url: str, headers: dict[str, str], seconds: float, clients: int, label: str) -> tuple[float, float, int]:
    """`clients` concurrent senders for `seconds`; returns (requests/s, p99 ms, errors)."""
    latencies: list[float] = []
    errors = 0
    stop_at = time.monotonic() + seconds
    rng = random.Random(7)
    counter = 0

    async def sender(session: aiohttp.ClientSession) -> None:
        nonlocal errors, counter
        while time.monotonic() < stop_at:
            counter += 1
            body = {"text": f"小区夜间施工噪音扰民，请尽快处理（{counter}）", "category": "complaint",
                    "caller": {"phone": f"139{rng.randrange(10**8):08d}"}, "channel": "phone"}
            t0 = time.perf_counter()
            async with session.post(url, json=body, headers={**headers, "Idempotency-Key": f"{label}-{counter}"}) as r:
                await r.read()
                if r.status != 201:
                    errors += 1
            latencies.append(time.perf_counter() - t0)

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        warm_until = time.monotonic() + 2
        while time.monotonic() < warm_until:  # warm-up: pools, caches, JIT-less but still
            async with session.post(url, json={"text": "warm-up", "category": "inquiry"},
                                    headers={**headers, "Idempotency-Key": f"{label}-warm-{time.monotonic()}"}) as r:
                await r.read()
        start = time.monotonic()
        stop_at = start + seconds
        progress = asyncio.create_task(_progress(label, lambda: len(latencies), start, seconds))
        await asyncio.gather(*(sender(session) for _ in range(clients)))
        progress.cancel()
        elapsed = time.monotonic() - start
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else float("nan")
    return len(latencies) / elapsed, p99, errors


async def _progress(label: str, done: object, start: float, seconds: float) -> None:
    while True:
        await asyncio.sleep(5)
        n = done()  # type: ignore[operator]
        log(f"  {label}: {n} requests in {time.monotonic() - start:.0f}/{seconds:.0f} s")


async def run(cmd: list[str], env: dict[str, str], stdin: bytes | None = None) -> None:
    proc = await asyncio.create_subprocess_exec(*cmd, env=env, cwd=ROOT, stdin=asyncio.subprocess.PIPE,
                                                stdout=asyncio.subprocess.DEVNULL)
    await proc.communicate(stdin)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[2:])} failed with {proc.returncode}")


async def reset_schema(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA};"
                           f"CREATE TABLE {SCHEMA}.items (id bigserial primary key, channel text not null,"
                           f" external_id text not null, text text not null, created_at timestamptz not null,"
                           f" UNIQUE (channel, external_id))")
    finally:
        await conn.close()


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--pg", default=os.environ.get("HOTLINE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    args = ap.parse_args()

    await reset_schema(args.pg)
    data_dir = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    env = {**os.environ, "HOTLINE_DATABASE_URL": args.pg, "HOTLINE_DATABASE_SCHEMA": SCHEMA,
           "HOTLINE_DATA_DIR": str(data_dir), "HOTLINE_HTTP_HOST": "127.0.0.1", "HOTLINE_LOG_LEVEL": "WARNING",
           "HOTLINE_SECRET_KEY": "bench-secret-key-0123456789"}
    hotline = [sys.executable, "-m", "hotline"]
    log("migrating the benchmark schema …")
    await run([*hotline, "db", "upgrade"], env)
    await run([*hotline, "user", "add", "--username", "bench", "--role", "agent", "--password-stdin"], env,
              stdin=b"bench-password\n")

    results = {}
    for label in ("baseline", "hotline"):
        port = free_port()
        if label == "baseline":
            cmd = [sys.executable, "-c", BASELINE, args.pg, str(port), SCHEMA]
        else:
            cmd = [*hotline, "serve", "--port", str(port)]
        proc = await asyncio.create_subprocess_exec(*cmd, env=env, cwd=ROOT, stdout=asyncio.subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            await wait_up(base + ("/api/v1/workorders" if label == "baseline" else "/readyz"), proc)
            headers: dict[str, str] = {}
            if label == "hotline":
                async with aiohttp.ClientSession() as s, s.post(
                        base + "/api/v1/auth/login", json={"username": "bench", "password": "bench-password"}) as r:
                    headers["Authorization"] = f"Bearer {(await r.json())['token']}"
            log(f"{label}: {args.clients} clients for {args.seconds:.0f} s …")
            results[label] = await load(base + "/api/v1/workorders", headers, args.seconds, args.clients, label)
            rate, p99, errors = results[label]
            log(f"{label}: {rate:.0f}/s, p99 {p99:.1f} ms, {errors} errors")
        finally:
            proc.terminate()
            async with asyncio.timeout(30):
                await proc.wait()

    (orders, p99, errors), (base_rate, base_p99, _) = results["hotline"], results["baseline"]
    print(json.dumps({"bench": "intake", "orders_per_s": round(orders, 1), "baseline_per_s": round(base_rate, 1),
                      "p99_ms": round(p99, 1), "baseline_p99_ms": round(base_p99, 1), "errors": errors,
                      "clients": args.clients, "seconds": args.seconds, "ratio": round(orders / base_rate, 3)}))


if __name__ == "__main__":
    asyncio.run(main())
