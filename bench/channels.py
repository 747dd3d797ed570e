"""Signed, AES-encrypted WeChat messages per second through POST /channels/wechat, and the
p99 reply time at load, against a bare aiohttp handler that only checks the signature,
decrypts and replies (the baseline, measured in the same run).

    python bench/channels.py [--messages 2000] [--concurrency 50]

Uses the embedded default (SQLite in a temporary folder) unless HOTLINE_DATABASE_URL is
set. WeChat drops a passive reply after 5 s, so the p99 must stay far below that.
Ends with one JSON line: {"bench": "channels", ..., "ratio": project/baseline}.
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
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
import xmltodict
from aiohttp import web
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.replies import TextReply
from wechatpy.utils import WeChatSigner, check_signature

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


def baseline_app() -> web.Application:
    crypto = WeChatCrypto(TOKEN, AES, APPID)

    async def handle(request: web.Request) -> web.Response:
        q = request.query
        check_signature(TOKEN, q["signature"], q["timestamp"], q["nonce"])
        xml = crypto.decrypt_message(await request.read(), q["msg_signature"], q["timestamp"], q["nonce"])
        msg = parse_message(xml)
        reply = TextReply(message=msg, content="已收到").render()
        return web.Response(text=crypto.encrypt_message(reply, q["nonce"]), content_type="application/xml")

    app = web.Application()
    app.router.add_post("/channels/wechat", handle)
    return app


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] * 1000


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=50)
    args = ap.parse_args()
    import logging

    logging.disable(logging.WARNING)
    from hotline.directory import sync_departments
    from hotline.root import open_hotline
    from hotline.settings import load_settings
    from hotline.storage.migrate import upgrade
    from hotline.web.app import create_app

    tmp = tempfile.mkdtemp(prefix="bench-channels-")
    env = {**os.environ, "HOTLINE_DATA_DIR": tmp, "HOTLINE_SECRET_KEY": "bench-secret-key",
           "HOTLINE_WECHAT_TOKEN": TOKEN, "HOTLINE_WECHAT_APPID": APPID, "HOTLINE_WECHAT_AES_KEY": AES}
    settings = load_settings(env)
    crypto = WeChatCrypto(TOKEN, AES, APPID)
    warm = 50
    print(f"preparing {args.messages + warm} encrypted messages per target …", file=sys.stderr, flush=True)
    base_reqs = requests_for(args.messages + warm, crypto, "b")
    proj_reqs = requests_for(args.messages + warm, crypto, "p")

    runner, base_url = await serve(baseline_app())
    await load(base_url, base_reqs[:warm], args.concurrency)
    b_time, b_lat, b_err = await load(base_url, base_reqs[warm:], args.concurrency)
    await runner.cleanup()
    print(f"baseline: {args.messages / b_time:.0f} msg/s", file=sys.stderr, flush=True)

    async with open_hotline(settings) as h:
        await upgrade(h.engine)
        async with h.sessions() as session, session.begin():
            await sync_departments(session, settings)
        runner, url = await serve(create_app(h, run_background=False))
        await load(url, proj_reqs[:warm], args.concurrency)
        p_time, p_lat, p_err = await load(url, proj_reqs[warm:], args.concurrency)
        await runner.cleanup()
    print(f"project: {args.messages / p_time:.0f} msg/s", file=sys.stderr, flush=True)
    project_rate, baseline_rate = args.messages / p_time, args.messages / b_time
    print(json.dumps({
        "bench": "channels", "database": "sqlite" if settings.is_sqlite else "postgresql",
        "messages": args.messages, "concurrency": args.concurrency,
        "project_msgs_per_s": round(project_rate, 1), "project_p50_ms": round(statistics.median(p_lat) * 1000, 1),
        "project_p99_ms": round(pct(p_lat, 0.99), 1), "project_errors": p_err,
        "baseline_msgs_per_s": round(baseline_rate, 1),
        "baseline_p50_ms": round(statistics.median(b_lat) * 1000, 1), "baseline_p99_ms": round(pct(b_lat, 0.99), 1),
        "baseline_errors": b_err, "wechat_reply_limit_ms": 5000, "ratio": round(project_rate / baseline_rate, 3)}))


if __name__ == "__main__":
    asyncio.run(main())
