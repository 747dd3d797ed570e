"""Benchmark: the cost of one SLA timer tick as the timers table grows.

    python bench/escalation.py [--sizes 10000,100000,1000000] [--due 200] [--rounds 5] [--pg URL]

For each size, PostgreSQL holds that many open work orders, each signed by its department
and carrying three pending timers (催办, 超期, 督办) due in the coming weeks: 3 × size
pending timer rows. On top, `rounds` batches of `due` orders have their reply deadline
pass one minute apart. A tick claims the due timers (`FOR UPDATE SKIP LOCKED` over the
partial index of pending rows), checks each still applies, writes the department's
webhook notice to the outbox and marks it fired, in one transaction. The median tick
time must stay flat from the smallest size to the largest: ratio = tick(smallest) /
tick(largest), target ≥ 0.5.

Rows are generated inside PostgreSQL (INSERT ... SELECT generate_series), in a schema of
the benchmark's own that is dropped at the end. The default sizes take a few minutes
(1M orders: about 5M rows with their assignments and timers); `--sizes 10000,100000`
is quick. Output ends with one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from dispatch.service import DispatchService
from hotline.root import open_hotline
from hotline.settings import load_settings

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
DUE_BASE = 500_000_000  # ids of the orders whose deadline passes during the ticks


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


async def add_background(conn: asyncpg.Connection, first: int, last: int) -> None:
    """Orders first..last, signed, reply deadline in 10–40 days, three pending timers each."""
    if last < first:
        return
    await conn.execute("""
        INSERT INTO work_orders (id, number, status, version, channel, title, description, urgency, confidential,
                                 reopen_count, category, lead_department, reply_by, created_at, updated_at)
        SELECT g, lpad(g::text, 14, '0'), 'signed', 3, 'phone', '工单' || g, '', 'normal', false, 0,
               'complaint', 'scjgj', $3::timestamptz + make_interval(days => (10 + g % 30)::int, secs => (g % 86400)::double precision), $3, $3
        FROM generate_series($1::bigint, $2::bigint) g""", first, last, T0)
    await conn.execute("""
        INSERT INTO assignments (id, work_order_id, department_code, role, status, extended_days, dispatched_at,
                                 signed_at, reply_by)
        SELECT id, id, 'scjgj', 'lead', 'signed', 0, $3, $3, reply_by FROM work_orders
        WHERE id BETWEEN $1 AND $2""", first, last, T0)
    await conn.execute("""
        INSERT INTO dispatch_timers (work_order_id, assignment_id, kind, level, due_at, data)
        SELECT a.id, a.id, k.kind, k.level, a.reply_by + k.shift,
               jsonb_build_object('deadline', to_char(a.reply_by AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS+00:00'),
                                  'department', 'scjgj')
        FROM assignments a CROSS JOIN (VALUES ('reply_reminder', 0, interval '-1 day'),
                                              ('reply_overdue', 1, interval '0'),
                                              ('reply_escalation', 2, interval '2 days')) AS k(kind, level, shift)
        WHERE a.id BETWEEN $1 AND $2""", first, last)


async def add_due(conn: asyncpg.Connection, first: int, count: int, start: datetime, per_round: int) -> None:
    """`count` orders whose reply deadline passes in minute steps after `start`, `per_round` a minute."""
    last = first + count - 1
    await conn.execute("""
        INSERT INTO work_orders (id, number, status, version, channel, title, description, urgency, confidential,
                                 reopen_count, category, lead_department, reply_by, created_at, updated_at)
        SELECT g, lpad(g::text, 14, '0'), 'signed', 3, 'phone', '到期工单' || g, '', 'normal', false, 0,
               'complaint', 'scjgj', $3::timestamptz + make_interval(mins => ((g - $1) / $4::bigint)::int), $3, $3
        FROM generate_series($1::bigint, $2::bigint) g""", first, last, start, per_round)
    await conn.execute("""
        INSERT INTO assignments (id, work_order_id, department_code, role, status, extended_days, dispatched_at,
                                 signed_at, reply_by)
        SELECT id, id, 'scjgj', 'lead', 'signed', 0, $3, $3, reply_by FROM work_orders
        WHERE id BETWEEN $1 AND $2""", first, last, start - timedelta(days=5))
    await conn.execute("""
        INSERT INTO dispatch_timers (work_order_id, assignment_id, kind, level, due_at, data)
        SELECT a.id, a.id, 'reply_overdue', 1, a.reply_by,
               jsonb_build_object('deadline', to_char(a.reply_by AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS+00:00'),
                                  'department', 'scjgj')
        FROM assignments a WHERE a.id BETWEEN $1 AND $2""", first, last)


def webhook_overlay(code: str, url: str) -> str:
    """A config overlay giving one department a webhook (the departments list is replaced whole)."""
    import yaml

    from hotline.settings import DEFAULT_CONFIG

    departments = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))["departments"]
    for d in departments:
        if d["code"] == code:
            d["webhook"] = {"url": url, "secret": "bench-webhook-secret"}
    return yaml.safe_dump({"departments": departments}, allow_unicode=True)


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,1000000", help="open orders per measurement, ascending")
    ap.add_argument("--due", type=int, default=200, help="timers due per tick")
    ap.add_argument("--rounds", type=int, default=11, help="ticks measured per size (median reported)")
    ap.add_argument("--warmup", type=int, default=3, help="ticks first run and not counted, per size")
    ap.add_argument("--pg", default=os.environ.get("HOTLINE_BENCH_PG_URL",
                                                  "postgresql+asyncpg://postgres@127.0.0.1:5432/test"))
    args = ap.parse_args()
    sizes = sorted(int(x) for x in args.sizes.split(","))
    schema = f"bench_escalation_{os.getpid()}"
    raw_url = args.pg.replace("postgresql+asyncpg", "postgresql")
    admin = await asyncpg.connect(raw_url)
    await admin.execute(f"CREATE SCHEMA {schema}")
    tmp = tempfile.TemporaryDirectory()
    overlay = Path(tmp.name) / "bench.yaml"
    # scjgj gets a webhook so every fired timer writes its outbox row, as in production.
    overlay.write_text(webhook_overlay("scjgj", "http://127.0.0.1:9/hook"), encoding="utf-8")
    env = {"HOTLINE_DATABASE_URL": args.pg, "HOTLINE_DATABASE_SCHEMA": schema, "HOTLINE_CONFIG": str(overlay),
           "HOTLINE_DATA_DIR": tmp.name, "HOTLINE_SECRET_KEY": "bench-secret-key-0123456789"}
    settings = load_settings(env)
    results: dict[str, float] = {}
    best: dict[str, float] = {}
    rows: dict[str, int] = {}
    now = T0
    try:
        async with open_hotline(settings, clock=lambda: now) as h:
            say(f"schema {schema}: migrating …")
            await h.schema.upgrade(h.engine)
            escalation = h.module(DispatchService).escalation
            conn = await asyncpg.connect(raw_url, server_settings={"search_path": schema})
            try:
                have = 0
                for n, size in enumerate(sizes):
                    t = time.perf_counter()
                    step = 200_000
                    for first in range(have + 1, size + 1, step):
                        last = min(size, first + step - 1)
                        await add_background(conn, first, last)
                        say(f"  {last:>9,} open orders generated ({time.perf_counter() - t:.0f} s)")
                    have = size
                    start = T0 + timedelta(days=1 + n)
                    await add_due(conn, DUE_BASE + n * 1_000_000, args.due * (args.rounds + args.warmup), start,
                                  args.due)
                    # Settle the fresh rows (hint bits, visibility map, statistics) before timing, so
                    # autovacuum catching up on the bulk load does not run during the ticks.
                    for table in ("work_orders", "assignments", "dispatch_timers", "outbox"):
                        await conn.execute(f"VACUUM (ANALYZE) {table}")
                    with contextlib.suppress(asyncpg.PostgresError):
                        await conn.execute("CHECKPOINT")  # needs a superuser; fine without
                    pending = await conn.fetchval("SELECT count(*) FROM dispatch_timers WHERE fired_at IS NULL")
                    rows[str(size)] = int(pending)
                    times = []
                    for r in range(args.rounds + args.warmup):  # the first ticks warm caches, not counted
                        now = start + timedelta(minutes=r, seconds=30)
                        t1 = time.perf_counter()
                        fired = await escalation.tick(now=now, limit=args.due)
                        elapsed = time.perf_counter() - t1
                        if len(fired) != args.due:
                            raise SystemExit(f"expected {args.due} timers to fire, got {len(fired)}")
                        if r >= args.warmup:
                            times.append(elapsed)
                    results[str(size)] = statistics.median(times) * 1000
                    best[str(size)] = min(times) * 1000
                    say(f"size {size:>9,}: {pending:,} pending timers; tick of {args.due} due: "
                        f"median {results[str(size)]:.1f} ms, best {best[str(size)]:.1f} ms over {args.rounds} ticks")
            finally:
                await conn.close()
    finally:
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()
        tmp.cleanup()
    small, large = results[str(sizes[0])], results[str(sizes[-1])]
    print(json.dumps({"bench": "escalation", "due_per_tick": args.due, "pending_timers": rows,
                      "tick_ms": {k: round(v, 2) for k, v in results.items()},
                      "best_tick_ms": {k: round(v, 2) for k, v in best.items()},
                      "ratio": round(small / large, 3)}))


if __name__ == "__main__":
    asyncio.run(main())
