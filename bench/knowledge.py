"""Benchmark: knowledge search and duplicate candidates, against plain LIKE scans in the same run.

    python bench/knowledge.py [--entries 10000] [--orders 300000] [--queries 400] [--probes 60]

On the embedded default (SQLite in a temporary directory):

1. Search: 10,000 entries (the sample county's 51 and generated ones from its subjects,
   places and policy phrases, imported through the service, i.e. segmented and indexed in
   FTS5). The fixed question set (tests/fixtures/knowledge_questions.csv) is asked
   `queries` times through `KnowledgeBase.search` (segmentation + FTS5 BM25 + loading the
   hits) and through the baseline: the same terms as `LIKE '%term%'` over question and
   answer (`queries.like_scan`). p50/p99 of each.
2. Duplicates: `orders` open orders over 30 days in every town and village of the county
   (300,000 by default, so the whole run takes a few minutes on two cores; the issue's 1M is
   `--orders 1000000`, about 4× the insert time). For `probes` recent orders, the
   candidates through `Merging.candidates_for` (village/town, subject and time window in
   SQL, scoring in Python) against a baseline that finds same-place orders by a LIKE scan on
   the place name over all open orders and scores them the same way.

The search baseline ranks too (by how many of the terms an entry holds), so it reads every
row, as any LIKE search that ranks must; an unranked LIKE with LIMIT 5 stops at the first
five rows holding a common word and answers nothing useful.

ratio = baseline p50 / project p50 for search and for duplicates; the JSON line's `ratio`
is the smaller of the two (higher is better).

`--pg URL` (or `--pg` alone: HOTLINE_BENCH_PG_URL, else the test database) runs both on
PostgreSQL instead, in a schema of the benchmark's own dropped at the end; the orders are
then written with COPY in batches of 100,000 (1 M orders in well under a minute), the
search is the GIN tsvector index.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import json

from sqlalchemy import insert, select

from hotline.knowledge import queries
from hotline.knowledge.merging import facts_of
from hotline.knowledge.schemas import EntryIn
from hotline.knowledge.service import KnowledgeBase
from hotline.knowledge.tabular import parse_rows, read_table
from hotline.root import load_settings, open_hotline
from hotline.storage.models import WorkOrder

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
PHRASES = ("如何办理", "需要哪些材料", "在哪里办", "多久能办好", "收费标准", "可以网上办理吗", "政策规定",
           "申请条件", "投诉渠道", "办理时限")
ROADS = ("建设路", "人民路", "解放路", "滨江路", "青山大道", "新华街", "工业大道", "文昌路")


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def generated_entries(settings: Any, n: int, rng: random.Random) -> list[EntryIn]:
    leaves = [(g, leaf) for g in settings.subjects for leaf in g.children if leaf.keywords]
    places = [d.name.removeprefix(settings.hotline.county) for d in settings.departments if d.level != "county"]
    out = []
    for i in range(n):
        g, leaf = rng.choice(leaves)
        kw = rng.choice(leaf.keywords)
        q = f"{rng.choice(places)}{kw}{rng.choice(PHRASES)}？"
        a = (f"关于{leaf.name}（{kw}）：{rng.choice(PHRASES)}，请携带身份证到{rng.choice(places)}便民服务中心办理，"
             f"或拨打12345咨询。{g.name}相关政策以主管部门公告为准。")
        out.append(EntryIn(key=f"GEN{i:06d}", question=q, answer=a, policy_source=f"《青山县{leaf.name}管理办法》",
                           tags=[g.name, leaf.name], public=False))
    return out


async def bench_search(h: Any, kb: KnowledgeBase, entries: int, n_queries: int, rng: random.Random) -> dict[str, Any]:
    sample = parse_rows(read_table((ROOT / "config/knowledge/qingshan.csv").read_bytes(), "csv"), kb.department_code)
    gen = generated_entries(h.settings, max(0, entries - len(sample)), rng)
    t = time.perf_counter()
    await kb.import_entries(sample + gen, "bench")
    say(f"  imported {len(sample) + len(gen)} entries in {time.perf_counter() - t:.1f} s (segmented, indexed)")
    questions = [r["question"] for r in csv.DictReader((ROOT / "tests/fixtures/knowledge_questions.csv").open())]
    asks = [rng.choice(questions) for _ in range(n_queries)]
    fts, like = [], []
    today = kb.today()
    for q in asks[:20]:  # warm both paths
        await kb.search(q, limit=5)
    for q in asks:
        t = time.perf_counter()
        await kb.search(q, limit=5)
        fts.append(time.perf_counter() - t)
        t = time.perf_counter()
        terms = kb.segmenter.query_terms(q)
        async with h.sessions() as session:
            await queries.like_scan(session, terms, today, limit=5)
        like.append(time.perf_counter() - t)
    return {"search_p50_ms": round(pct(fts, 0.5) * 1000, 2), "search_p99_ms": round(pct(fts, 0.99) * 1000, 2),
            "like_p50_ms": round(pct(like, 0.5) * 1000, 2), "like_p99_ms": round(pct(like, 0.99) * 1000, 2)}


async def bench_duplicates(h: Any, kb: KnowledgeBase, n_orders: int, probes: int,
                           rng: random.Random) -> dict[str, Any]:
    s = h.settings
    villages = [d for d in s.departments if d.level == "village"]
    leaves = [leaf for g in s.subjects for leaf in g.children if leaf.keywords]
    t = time.perf_counter()
    copy = h.engine.dialect.name == "postgresql"
    chunk = 100_000 if copy else 20_000
    for start in range(0, n_orders, chunk):
        rows = []
        for i in range(start, min(n_orders, start + chunk)):
            v, leaf = rng.choice(villages), rng.choice(leaves)
            at = T0 - timedelta(minutes=rng.uniform(0, 30 * 24 * 60))
            place = v.name.removeprefix(s.hotline.county)
            road = rng.choice(ROADS)
            rows.append({"number": f"9{i:013d}", "status": "registered", "version": 1, "channel": "phone",
                         "title": "", "description": f"{place}{road}{rng.choice(leaf.keywords)}，请尽快处理",
                         "category": leaf.category or "complaint", "subject": leaf.code, "area": v.code,
                         "address": f"{place}{road}{rng.randint(1, 200)}号", "urgency": "normal",
                         "confidential": False, "reopen_count": 0, "dissatisfied": False, "created_at": at,
                         "updated_at": at})
        if copy:
            await copy_orders(h, rows)
        else:
            async with h.sessions() as session, session.begin():
                await session.execute(insert(WorkOrder), rows)
        say(f"  orders {min(n_orders, start + chunk)}/{n_orders} ({time.perf_counter() - t:.0f} s)")
    if copy:
        await copy_orders(h, [], analyze=True)
    say(f"  inserted {n_orders} orders in {time.perf_counter() - t:.1f} s")
    merging = kb.merging
    assert merging is not None
    async with h.sessions() as session:
        recent = list((await session.execute(select(WorkOrder.number, WorkOrder.area, WorkOrder.created_at)
                                             .where(WorkOrder.created_at > T0 - timedelta(days=3)).limit(5000))).all())
    picks = rng.sample(recent, min(probes, len(recent)))
    ours, base, found = [], [], []
    for number, _, _ in picks:
        t = time.perf_counter()
        c = await merging.candidates_for(number)
        ours.append(time.perf_counter() - t)
        found.append(len(c))
        t = time.perf_counter()
        await like_candidates(h, merging, number)
        base.append(time.perf_counter() - t)
    return {"dup_p50_ms": round(pct(ours, 0.5) * 1000, 2), "dup_p99_ms": round(pct(ours, 0.99) * 1000, 2),
            "dup_like_p50_ms": round(pct(base, 0.5) * 1000, 2), "dup_like_p99_ms": round(pct(base, 0.99) * 1000, 2),
            "dup_candidates_mean": round(statistics.mean(found), 1)}


async def copy_orders(h: Any, rows: list[dict[str, Any]], *, analyze: bool = False) -> None:
    """PostgreSQL: one COPY for a batch of orders (the driver's binary copy), or ANALYZE after the last."""
    async with h.engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        if analyze:
            await raw.execute("VACUUM (ANALYZE) work_orders")
            return
        columns = list(rows[0])
        await raw.copy_records_to_table("work_orders", records=[tuple(r[c] for c in columns) for r in rows],
                                        columns=columns, schema_name=h.settings.database.schema_)


async def like_candidates(h: Any, merging: Any, number: str) -> list[Any]:
    """The baseline: same-place orders by a LIKE on the place name over every open order."""
    from hotline.knowledge.duplicates import candidates

    g = merging.gazetteer
    async with h.sessions() as session:
        o = (await session.execute(select(WorkOrder).where(WorkOrder.number == number))).scalar_one()
        me = facts_of(g, o)
        d = h.settings.department(me.place.village or me.place.town or "")
        name = d.name.removeprefix(h.settings.hotline.county) if d else ""
        rows = list((await session.execute(select(WorkOrder).where(
            WorkOrder.status.not_in(("closed", "merged", "invalid")),
            WorkOrder.description.like(f"%{name}%"), WorkOrder.id != o.id))).scalars())
    return candidates(me, (facts_of(g, r) for r in rows), merging.rules)


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=10_000)
    ap.add_argument("--orders", type=int, default=300_000)
    ap.add_argument("--queries", type=int, default=400)
    ap.add_argument("--probes", type=int, default=60)
    ap.add_argument("--pg", nargs="?", const=os.environ.get(
        "HOTLINE_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"), default=None,
        help="run on PostgreSQL (this URL) instead of SQLite")
    args = ap.parse_args()
    rng = random.Random(2026)
    schema = f"bench_knowledge_{os.getpid()}"
    with tempfile.TemporaryDirectory() as tmp:
        env = {"HOTLINE_DATA_DIR": tmp, "HOTLINE_SECRET_KEY": "bench-secret-key-0123456789"}
        admin = None
        if args.pg:
            import asyncpg

            admin = await asyncpg.connect(args.pg.replace("postgresql+asyncpg", "postgresql"))
            await admin.execute(f"CREATE SCHEMA {schema}")
            env |= {"HOTLINE_DATABASE_URL": args.pg, "HOTLINE_DATABASE_SCHEMA": schema}
        settings = load_settings(env)
        try:
            async with open_hotline(settings, clock=lambda: T0) as h:
                await h.schema.upgrade(h.engine)
                kb = h.module(KnowledgeBase)
                say(f"search over {args.entries} entries …")
                search = await bench_search(h, kb, args.entries, args.queries, rng)
                say(json.dumps(search))
                say(f"duplicate candidates over {args.orders} orders …")
                dup = await bench_duplicates(h, kb, args.orders, args.probes, rng)
                say(json.dumps(dup))
        finally:
            if admin is not None:
                await admin.execute(f"DROP SCHEMA {schema} CASCADE")
                await admin.close()
    search_ratio = search["like_p50_ms"] / max(search["search_p50_ms"], 1e-6)
    dup_ratio = dup["dup_like_p50_ms"] / max(dup["dup_p50_ms"], 1e-6)
    print(json.dumps({"bench": "knowledge", "engine": "postgresql" if args.pg else "sqlite",
                      "entries": args.entries, "orders": args.orders,
                      **search, **dup, "search_ratio": round(search_ratio, 2), "dup_ratio": round(dup_ratio, 2),
                      "ratio": round(min(search_ratio, dup_ratio), 2)}))


if __name__ == "__main__":
    asyncio.run(main())
