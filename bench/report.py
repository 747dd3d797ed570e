"""Benchmark: the monthly department KPI report against the single raw SQL aggregate.

    python bench/report.py [--sizes 100000,300000] [--rounds 3] [--pg URL]

For each size, PostgreSQL holds that many orders spread over the year 2026, each with the
events of a normal life (created, dispatched, signed, replied, rated: 5 rows; a share
signed or replied late, a share rated 1–5), across 20 departments, and as many inbound
calls. Project: `Reports.kpis(October, by="department")`, every order KPI and the call
KPIs, as `hotline report` and the API run it. Baseline: one hand-written SQL statement
that counts the same month's order figures per department with FILTER clauses (with the
outer joins that 书面诉求3分钟响应 and 一次解决 need), run in the same process on the same data.
Dispatches come 0–5 minutes after the order, so some written contacts are answered in 3 minutes. ratio = baseline seconds / project seconds (higher is
better; the project runs ~20 grouped statements plus the calls; target ≥ 0.5).

Rows are generated inside PostgreSQL (INSERT ... SELECT generate_series), in a schema of
the benchmark's own that is dropped at the end. Output ends with one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from hotline.reports.service import Reports
from hotline.root import open_hotline
from hotline.settings import load_settings

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DEPTS = 20

BASELINE = """
SELECT coalesce(e.data->>'department', e.data->>'lead', o.lead_department) AS dept,
       count(DISTINCT e.work_order_id) FILTER (WHERE e.kind = 'created' AND e.to_status <> 'draft') AS received,
       count(*) FILTER (WHERE e.kind = 'signed') AS signs,
       count(*) FILTER (WHERE e.kind = 'signed' AND (e.data->>'late')::boolean = false) AS signs_on_time,
       count(*) FILTER (WHERE e.kind = 'replied') AS replies,
       count(*) FILTER (WHERE e.kind = 'replied' AND (e.data->>'late')::boolean = false) AS replies_on_time,
       count(DISTINCT e.work_order_id) FILTER (WHERE e.kind = 'dispatched') AS dispatched,
       count(DISTINCT e.work_order_id) FILTER (WHERE e.kind = 'returned') AS returned,
       count(*) FILTER (WHERE e.kind = 'rated') AS ratings,
       count(*) FILTER (WHERE e.kind = 'rated' AND (e.data->>'level')::int >= 3) AS satisfied,
       count(DISTINCT e.work_order_id) FILTER (WHERE e.kind = 'created' AND e.to_status = 'registered'
                                               AND o.channel <> 'phone') AS written,
       count(DISTINCT e.work_order_id) FILTER (WHERE e.kind = 'created' AND e.to_status = 'registered'
                                               AND o.channel <> 'phone' AND a.id IS NOT NULL) AS written_3min,
       count(DISTINCT e.work_order_id) FILTER (WHERE e.kind = 'resolved_directly' AND r.id IS NULL
                                               AND o2.id IS NULL) AS first_contact
FROM order_events e JOIN work_orders o ON o.id = e.work_order_id
LEFT JOIN order_events a ON e.kind = 'created' AND a.work_order_id = e.work_order_id
     AND a.at >= $1 AND a.at < $2::timestamptz + interval '180 seconds' AND a.at <= e.at + interval '180 seconds'
     AND a.from_status = 'registered' AND a.to_status <> 'registered'
LEFT JOIN order_events r ON e.kind = 'resolved_directly' AND r.work_order_id = e.work_order_id
     AND r.kind = 'reopened' AND r.at >= $1
LEFT JOIN work_orders o2 ON e.kind = 'resolved_directly' AND o2.citizen_id = o.citizen_id AND o2.id <> o.id
     AND coalesce(o2.category, '') = coalesce(o.category, '') AND o2.created_at >= o.created_at
     AND o2.created_at <= o.created_at + interval '7 days'
WHERE e.at >= $1 AND e.at < $2
GROUP BY 1
"""


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


async def generate(conn: asyncpg.Connection, first: int, last: int) -> None:
    """Orders first..last over 2026 (created every ~30 s of the year per 1 M), their 5 events, a call each."""
    span = 365 * 86400
    await conn.execute(f"""
        INSERT INTO work_orders (id, number, status, version, channel, title, description, urgency, confidential,
                                 reopen_count, dissatisfied, category, area, lead_department, created_at, updated_at)
        SELECT g, lpad(g::text, 14, '0'), 'follow_up', 5, (ARRAY['phone','sms','wechat','web'])[1 + g % 4],
               '工单' || g, '', 'normal', false, 0, false, (ARRAY['complaint','help','inquiry'])[1 + g % 3],
               'qingxi', 'd' || (g % {DEPTS}),
               $3::timestamptz + make_interval(secs => ((g * 7919) % {span})::double precision), $3
        FROM generate_series($1::bigint, $2::bigint) g""", first, last, T0)
    await conn.execute("""
        INSERT INTO order_events (work_order_id, seq, kind, from_status, to_status, actor_kind, at, data)
        SELECT o.id, k.seq, k.kind, k.from_s, k.to_s, 'system',
               o.created_at + coalesce(k.shift, interval '1 minute' * (o.id % 6)),  -- dispatched 0-5 min after
               CASE k.kind
                 WHEN 'dispatched' THEN jsonb_build_object('lead', o.lead_department)
                 WHEN 'signed' THEN jsonb_build_object('department', o.lead_department, 'late', o.id % 10 = 0)
                 WHEN 'replied' THEN jsonb_build_object('department', o.lead_department, 'late', o.id % 7 = 0,
                                                        'result', '已办理')
                 WHEN 'rated' THEN jsonb_build_object('level', 1 + o.id % 5, 'source', 'sms', 'round', 0)
                 ELSE '{}'::jsonb END
        FROM work_orders o CROSS JOIN (VALUES
            (1, 'created', NULL, 'registered', interval '0'),
            (2, 'dispatched', 'registered', 'dispatched', NULL::interval),
            (3, 'signed', 'dispatched', 'signed', interval '1 hour'),
            (4, 'replied', 'signed', 'replied', interval '2 days'),
            (5, 'rated', 'replied', 'follow_up', interval '3 days')) AS k(seq, kind, from_s, to_s, shift)
        WHERE o.id BETWEEN $1 AND $2""", first, last)
    await conn.execute("""
        INSERT INTO calls (linkedid, direction, outcome, caller, line, started_at, ended_at, wait_seconds,
                           talk_seconds, data)
        SELECT 'b' || o.id, 'inbound', (ARRAY['answered','answered','answered','abandoned','overflowed'])[1 + o.id % 5],
               '13800000000', '12345', o.created_at, o.created_at + interval '3 minutes', (o.id % 40)::int,
               (60 + o.id % 300)::int, '{}'::jsonb
        FROM work_orders o WHERE o.id BETWEEN $1 AND $2""", first, last)


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100000,300000", help="orders per measurement, ascending")
    ap.add_argument("--rounds", type=int, default=3, help="reports measured per size (median reported)")
    ap.add_argument("--pg", default=os.environ.get("HOTLINE_BENCH_PG_URL",
                                                  "postgresql+asyncpg://postgres@127.0.0.1:5432/test"))
    args = ap.parse_args()
    sizes = sorted(int(x) for x in args.sizes.split(","))
    schema = f"bench_report_{os.getpid()}"
    raw_url = args.pg.replace("postgresql+asyncpg", "postgresql")
    admin = await asyncpg.connect(raw_url)
    await admin.execute(f"CREATE SCHEMA {schema}")
    tmp = tempfile.TemporaryDirectory()
    env = {"HOTLINE_DATABASE_URL": args.pg, "HOTLINE_DATABASE_SCHEMA": schema, "HOTLINE_DATA_DIR": tmp.name,
           "HOTLINE_SECRET_KEY": "bench-secret-key-0123456789"}
    settings = load_settings(env)
    project: dict[str, float] = {}
    baseline: dict[str, float] = {}
    start, end = datetime(2026, 9, 30, 16, tzinfo=UTC), datetime(2026, 10, 31, 16, tzinfo=UTC)  # October, Beijing
    try:
        async with open_hotline(settings) as h:
            say(f"schema {schema}: migrating …")
            await h.schema.upgrade(h.engine)
            reports = h.module(Reports)
            conn = await asyncpg.connect(raw_url, server_settings={"search_path": schema})
            try:
                have = 0
                for size in sizes:
                    t = time.perf_counter()
                    for first in range(have + 1, size + 1, 100_000):
                        await generate(conn, first, min(size, first + 99_999))
                        say(f"  {min(size, first + 99_999):>9,} orders generated ({time.perf_counter() - t:.0f} s)")
                    have = size
                    for table in ("work_orders", "order_events", "calls"):
                        await conn.execute(f"VACUUM (ANALYZE) {table}")
                    p_times, b_times = [], []
                    for _ in range(args.rounds + 1):  # the first of each warms the caches
                        t1 = time.perf_counter()
                        rows = await reports.kpis(date(2026, 10, 1), date(2026, 10, 31), "department")
                        p_times.append(time.perf_counter() - t1)
                        t2 = time.perf_counter()
                        raw = await conn.fetch(BASELINE, start, end)
                        b_times.append(time.perf_counter() - t2)
                    # The same figures, both ways: the report is not faster by counting less.
                    mine = {r.group: r.values for r in rows}
                    for r in raw:
                        v = mine[r["dept"]]
                        assert v["orders_received"] == r["received"], (r, v)
                        assert v["on_time_sign_rate"] == round(r["signs_on_time"] / r["signs"], 4), (r, v)
                        assert v["satisfaction_rate"] == round(r["satisfied"] / r["ratings"], 4), (r, v)
                        assert v["written_3min_rate"] == (round(r["written_3min"] / r["written"], 4)  # d0, d4 …: phone
                                                          if r["written"] else None), (r, v)
                        assert v["first_contact_resolution_rate"] == round(r["first_contact"] / r["received"], 4), \
                            (r, v)
                    project[str(size)] = statistics.median(p_times[1:])
                    baseline[str(size)] = statistics.median(b_times[1:])
                    say(f"size {size:>9,}: report {project[str(size)] * 1000:.0f} ms (all KPIs, {len(rows)} rows), "
                        f"raw aggregate {baseline[str(size)] * 1000:.0f} ms")
            finally:
                await conn.close()
    finally:
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()
        tmp.cleanup()
    big = str(sizes[-1])
    print(json.dumps({"bench": "report", "orders": sizes, "events_per_order": 5,
                      "report_s": {k: round(v, 3) for k, v in project.items()},
                      "baseline_s": {k: round(v, 3) for k, v in baseline.items()},
                      "growth": round(project[big] / project[str(sizes[0])], 2) if len(sizes) > 1 else 1.0,
                      "ratio": round(baseline[big] / project[big], 3)}))


if __name__ == "__main__":
    asyncio.run(main())
