"""Signed, AES-encrypted WeChat messages per second through POST /channels/wechat, and the
p99 reply time at load, against a bare aiohttp handler that only checks the signature,
decrypts and replies (the baseline, measured in the same run).

    python bench/channels.py [--messages 2000] [--concurrency 50]

Both servers run as processes of their own (the hotline as `hotline serve`), so the load
generator — this process — does not take their CPU and the p99 is what WeChat would see.

Uses the embedded default (SQLite in a temporary folder) unless HOTLINE_DATABASE_URL is
set. WeChat drops a passive reply after 5 s, so the p99 must stay far below that.
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


def requests_for(n: int, crypto: WeChatCrypto, salt: str) -> list[tuple[str, bytes]]:
    out = []
    ts = str(int(time.time()))
    for i in range(n):
        nonce = f"{salt}{i}"
        xml = (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[o_bench_{salt}_{i % 500}]]>"
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
import sys
from aiohttp import web
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

crypto = WeChatCrypto({TOKEN!r}, {AES!r}, {APPID!r})


async def handle(request):
    q = request.query
    check_signature({TOKEN!r}, q["signature"], q["timestamp"], q["nonce"])
    xml = crypto.decrypt_message(await request.read(), q["msg_signature"], q["timestamp"], q["nonce"])
    msg = parse_message(xml)
    reply = TextReply(message=msg, content="已收到").render()
    return web.Response(text=crypto.encrypt_message(reply, q["nonce"]), content_type="application/xml")

app = web.Application()
app.router.add_post("/channels/wechat", handle)
app.router.add_get("/healthz", lambda r: web.Response(text="ok"))
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


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
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=50)
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="bench-channels-")
    env = {**os.environ, "HOTLINE_DATA_DIR": tmp, "HOTLINE_SECRET_KEY": "bench-secret-key",
           "HOTLINE_WECHAT_TOKEN": TOKEN, "HOTLINE_WECHAT_APPID": APPID, "HOTLINE_WECHAT_AES_KEY": AES,
           "HOTLINE_LOG_LEVEL": "WARNING", "HOTLINE_HTTP_HOST": "127.0.0.1"}
    database = "postgresql" if env.get("HOTLINE_DATABASE_URL") else "sqlite"
    crypto = WeChatCrypto(TOKEN, AES, APPID)
    warm = 50
    print(f"preparing {args.messages + warm} encrypted messages per target …", file=sys.stderr, flush=True)
    base_reqs = requests_for(args.messages + warm, crypto, "b")
    proj_reqs = requests_for(args.messages + warm, crypto, "p")

    port = free_port()
    proc = await start([sys.executable, "-c", BASELINE, str(port)], env, f"http://127.0.0.1:{port}/healthz")
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
        "messages": args.messages, "concurrency": args.concurrency,
        "project_msgs_per_s": round(project_rate, 1), "project_p50_ms": round(statistics.median(p_lat) * 1000, 1),
        "project_p99_ms": round(pct(p_lat, 0.99), 1), "project_errors": p_err,
        "baseline_msgs_per_s": round(baseline_rate, 1),
        "baseline_p50_ms": round(statistics.median(b_lat) * 1000, 1), "baseline_p99_ms": round(pct(b_lat, 0.99), 1),
        "baseline_errors": b_err, "wechat_reply_limit_ms": 5000, "ratio": round(project_rate / baseline_rate, 3)}))


if __name__ == "__main__":
    asyncio.run(main())
