"""Signed, AES-encrypted WeChat messages per second through POST /channels/wechat, and the
p99 reply time at load, against a bare aiohttp handler that does what any handler must:
check the signature, decrypt, one INSERT of the message through the same driver as the
hotline (asyncpg, or aiosqlite with the hotline's pragmas), and the encrypted reply (the
baseline, measured in the same run with the same load generator).

    python bench/channels.py [--messages 2000] [--concurrency 50] [--senders N] [--pg URL]

Both servers run as processes of their own (the hotline as `hotline serve`), so the load
generator — this process — does not take their CPU and the p99 is what WeChat would see.

Uses the embedded default (SQLite in a temporary folder) unless `--pg` is given or
HOTLINE_DATABASE_URL is set: then PostgreSQL, in the schemas `bench_channels` (the
hotline) and `bench_channels_baseline`, both dropped and made anew. Every message comes
from a sender of its own (a new contact: a new order), unless `--senders` is smaller
than `--messages`: then each sender writes again within the follow-up window, and those
messages are appended to the sender's open order (补充). WeChat drops a passive reply
after 5 s, so the p99 must stay far below that.
Ends with one JSON line: {"bench": "channels", ..., "ratio": project/baseline}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

ROOT = Path(__file__).resolve().parent.parent
TOKEN, APPID, AES = "bench-token", "wxbench0123456789", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def sign(*parts: str) -> str:
    s = WeChatSigner()
    s.add_data(*parts)
    return s.signature


def requests_for(n: int, crypto: WeChatCrypto, salt: str, senders: int) -> list[tuple[str, bytes]]:
    out = []
    ts = str(int(time.time()))
    for i in range(n):
        nonce = f"{salt}{i}"
        xml = (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[o_bench_{salt}_{i % senders}]]>"
               f"</FromUserName><CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
               f"<Content><![CDATA[第{i}条：小区门口垃圾无人清运，请尽快处理]]></Content>"
               f"<MsgId>{abs(hash(salt)) % 10**8 * 10**9 + i}</MsgId></xml>")
        env = xmltodict.parse(crypto.encrypt_message(xml, nonce, ts))["xml"]
        body = f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><Encrypt><![CDATA[{env['Encrypt']}]]></Encrypt></xml>"
        q = {"signature": sign(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce, "openid": f"o_bench_{i}",
             "encrypt_type": "aes", "msg_signature": env["MsgSignature"]}
        out.append(("/channels/wechat?" + urlencode(q), body.encode()))
    return out


async def load(base: str, reqs: list[tuple[str, bytes]], concurrency: int) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = 0
    queue = list(reversed(reqs))
    conn = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=conn) as session:
        async def sender() -> None:
            nonlocal errors
            while queue:
                path, body = queue.pop()
                t0 = time.perf_counter()
                async with session.post(base + path, data=body, headers={"Content-Type": "text/xml"}) as r:
                    text = await r.text()
                latencies.append(time.perf_counter() - t0)
                if r.status != 200 or "<Encrypt>" not in text:
                    errors += 1
        start = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(concurrency)))
        return time.perf_counter() - start, latencies, errors


BASELINE = f"""
import asyncio, sys
from aiohttp import web
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

crypto = WeChatCrypto({TOKEN!r}, {AES!r}, {APPID!r})
PORT, DATABASE = int(sys.argv[1]), sys.argv[2]
INSERT = "INSERT INTO items (channel, external_id, sender, text, created_at) VALUES "


async def init(app):
    if DATABASE.startswith("postgresql"):
        import asyncpg

        pool = await asyncpg.create_pool(DATABASE, min_size=10, max_size=20,
                                         server_settings={{"search_path": sys.argv[3]}})

        async def insert(msg):
            async with pool.acquire() as conn:
                await conn.execute(INSERT + "($1, $2, $3, $4, now())", "wechat", str(msg.id), msg.source,
                                   msg.content)
        app["insert"] = insert
        yield
        await pool.close()
        return
    import aiosqlite

    db = await aiosqlite.connect(DATABASE, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
        await db.execute("PRAGMA " + pragma)
    await db.execute("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, channel TEXT NOT NULL, "
                     "external_id TEXT NOT NULL, sender TEXT, text TEXT NOT NULL, created_at TEXT NOT NULL, "
                     "UNIQUE (channel, external_id))")
    lock = asyncio.Lock()  # one connection, one writer: as the hotline's SQLite engine

    async def insert(msg):
        async with lock:
            await db.execute("BEGIN IMMEDIATE")
            await db.execute(INSERT + "(?, ?, ?, ?, datetime('now'))", ("wechat", str(msg.id), msg.source,
                                                                        msg.content))
            await db.execute("COMMIT")
    app["insert"] = insert
    yield
    await db.close()


async def handle(request):
    q = request.query
    check_signature({TOKEN!r}, q["signature"], q["timestamp"], q["nonce"])
    xml = crypto.decrypt_message(await request.read(), q["msg_signature"], q["timestamp"], q["nonce"])
    msg = parse_message(xml)
    await request.app["insert"](msg)
    reply = TextReply(message=msg, content="已收到").render()
    return web.Response(text=crypto.encrypt_message(reply, q["nonce"]), content_type="application/xml")

app = web.Application()
app.cleanup_ctx.append(init)
app.router.add_post("/channels/wechat", handle)
app.router.add_get("/healthz", lambda r: web.Response(text="ok"))
web.run_app(app, host="127.0.0.1", port=PORT, print=None, access_log=None)
"""

HOTLINE_SCHEMA, BASELINE_SCHEMA = "bench_channels", "bench_channels_baseline"


async def reset_schemas(dsn: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {HOTLINE_SCHEMA} CASCADE; CREATE SCHEMA {HOTLINE_SCHEMA};"
                           f"DROP SCHEMA IF EXISTS {BASELINE_SCHEMA} CASCADE; CREATE SCHEMA {BASELINE_SCHEMA};"
                           f"CREATE TABLE {BASELINE_SCHEMA}.items (id bigserial primary key, channel text not null,"
                           f" external_id text not null, sender text, text text not null,"
                           f" created_at timestamptz not null, UNIQUE (channel, external_id))")
    finally:
        await conn.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start(cmd: list[str], env: dict[str, str], url: str) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(*cmd, env=env, cwd=ROOT, stdout=asyncio.subprocess.DEVNULL)
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            if proc.returncode is not None:
                raise SystemExit(f"{cmd[2]} exited with {proc.returncode}")
            try:
                async with session.get(url) as r:
                    if r.status == 200:
                        return proc
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


async def stop(proc: asyncio.subprocess.Process) -> None:
    proc.terminate()
    async with asyncio.timeout(30):
        await proc.wait()


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] * 1000


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--senders", type=int, default=0, help="distinct senders (default: one per message)")
    ap.add_argument("--pg", default=os.environ.get("HOTLINE_DATABASE_URL"),
                    help="PostgreSQL URL (default: HOTLINE_DATABASE_URL; neither: SQLite)")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="bench-channels-")
    env = {**os.environ, "HOTLINE_DATA_DIR": tmp, "HOTLINE_SECRET_KEY": "bench-secret-key",
           "HOTLINE_WECHAT_TOKEN": TOKEN, "HOTLINE_WECHAT_APPID": APPID, "HOTLINE_WECHAT_AES_KEY": AES,
           "HOTLINE_LOG_LEVEL": "WARNING", "HOTLINE_HTTP_HOST": "127.0.0.1"}
    if args.pg:
        dsn = args.pg.replace("postgresql+asyncpg://", "postgresql://")
        await reset_schemas(dsn)
        env.update(HOTLINE_DATABASE_URL=dsn, HOTLINE_DATABASE_SCHEMA=HOTLINE_SCHEMA)
        baseline_db = [dsn, BASELINE_SCHEMA]
    else:
        env.pop("HOTLINE_DATABASE_URL", None)
        baseline_db = [str(Path(tmp) / "baseline.db")]
    database = "postgresql" if args.pg else "sqlite"
    senders = args.senders or args.messages + 100
    crypto = WeChatCrypto(TOKEN, AES, APPID)
    warm = 50
    print(f"preparing {args.messages + warm} encrypted messages per target …", file=sys.stderr, flush=True)
    base_reqs = requests_for(args.messages + warm, crypto, "b", senders)
    proj_reqs = requests_for(args.messages + warm, crypto, "p", senders)

    port = free_port()
    proc = await start([sys.executable, "-c", BASELINE, str(port), *baseline_db], env,
                       f"http://127.0.0.1:{port}/healthz")
    try:
        base_url = f"http://127.0.0.1:{port}"
        await load(base_url, base_reqs[:warm], args.concurrency)
        b_time, b_lat, b_err = await load(base_url, base_reqs[warm:], args.concurrency)
    finally:
        await stop(proc)
    print(f"baseline: {args.messages / b_time:.0f} msg/s", file=sys.stderr, flush=True)

    hotline = [sys.executable, "-m", "hotline"]
    upgrade = await asyncio.create_subprocess_exec(*hotline, "db", "upgrade", env=env, cwd=ROOT,
                                                   stdout=asyncio.subprocess.DEVNULL)
    if await upgrade.wait() != 0:
        raise SystemExit("hotline db upgrade failed")
    port = free_port()
    proc = await start([*hotline, "serve", "--port", str(port)], env, f"http://127.0.0.1:{port}/readyz")
    try:
        url = f"http://127.0.0.1:{port}"
        await load(url, proj_reqs[:warm], args.concurrency)
        p_time, p_lat, p_err = await load(url, proj_reqs[warm:], args.concurrency)
    finally:
        await stop(proc)
    print(f"project: {args.messages / p_time:.0f} msg/s", file=sys.stderr, flush=True)
    project_rate, baseline_rate = args.messages / p_time, args.messages / b_time
    print(json.dumps({
        "bench": "channels", "database": database,
        "messages": args.messages, "concurrency": args.concurrency, "senders": min(senders, args.messages + warm),
        "project_msgs_per_s": round(project_rate, 1), "project_p50_ms": round(statistics.median(p_lat) * 1000, 1),
        "project_p99_ms": round(pct(p_lat, 0.99), 1), "project_errors": p_err,
        "baseline_msgs_per_s": round(baseline_rate, 1),
        "baseline_p50_ms": round(statistics.median(b_lat) * 1000, 1), "baseline_p99_ms": round(pct(b_lat, 0.99), 1),
        "baseline_errors": b_err, "wechat_reply_limit_ms": 5000, "ratio": round(project_rate / baseline_rate, 3)}))


if __name__ == "__main__":
    asyncio.run(main())
