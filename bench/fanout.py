"""Live events from an AMI event to every desk and wallboard, against a bare aiohttp broadcast.

500 WebSocket clients (agents' desks and supervisors' wallboards, 9 to 1), each with a
session of its own, connect the way the pages do: `/api/v1/live` with the session cookie
and the page's Origin (see `add_users` for how the sessions are made). Each event is a `QueueMemberPause` that the PBX simulator writes over
real AMI to the hotline's consumer (AMI framing, panoramisk, typed events, the tracker, the
live bus, the socket handler), with a pause reason that names the event; the clock starts
when the simulator writes the frame and stops when the LAST client has the message.

- **Project**: the hotline's app (`open_hotline` + `create_app`, every module installed,
  the AMI consumer on the simulator), SQLite in a temporary folder.
- **Baseline**: a bare aiohttp WebSocket handler; each event is the same JSON text the
  clients got from the project, serialised once and sent to every socket in a loop.
- **One node**: one app, every client on it. **Two nodes**: two apps on two ports sharing
  Redis (the hotline's `RedisLiveBus`), half the clients on each; the simulator's event
  enters node 1 (the AMI consumer, which node 2 stands by for). The two-node baseline is two
  bare servers relaying one Redis pub/sub channel the same way.

Two figures per round: latency (`--events` events one at a time, each after the previous
one reached every client: p50/p99 of "the last client has it"), and throughput (`--events`
events in one burst: deliveries per second, `msgs_per_s` = events × clients / the time until
every client has every event); the best of `--rounds` rounds of each. Servers and clients
share this process and its one event loop, for the project and the baseline alike.

    python bench/fanout.py [--clients 500] [--events 200] [--rounds 3] [--redis-url URL]

(`--redis-url` defaults to $HOTLINE_TEST_REDIS_URL, else redis://127.0.0.1:6379/0; the run's
live channel is a name of its own, so it never reaches another process's pages.)

Ends with one JSON line {"bench": "fanout", "one_node_p50_ms", "one_node_p99_ms",
"one_node_msgs_per_s", "one_node_baseline_…", the same for "two_nodes_…", "ratio"}, where
ratio = project msgs/s / baseline msgs/s, the lower of the two modes (higher is better;
the target is ≥ 0.5 with p99 < 100 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web

import hotline.live
from hotline.auth import sha256_hex
from hotline.domain.vocabulary import UserRole
from hotline.root import open_hotline
from hotline.settings import load_settings
from hotline.storage import accounts
from hotline.storage.models import User
from hotline.telephony.service import Telephony
from hotline.telephony.sim.pbx import Pbx
from hotline.telephony.sim.server import AmiServer
from hotline.web.app import create_app
from hotline.web.auth_views import SESSION_COOKIE

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from hotline.module import Running
    from hotline.telephony.sim.core import SimMember

AMI_USER, AMI_SECRET, PASSWORD = "bench", "bench-secret-0123", "bench-password-123"
TAG = "bench-"
WALLBOARD_EVERY = 10  # one client in ten is a supervisor's wallboard
WAIT_S = 30.0
HTTP_LOGIN_EVERY = 25


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the clients

@dataclass
class Tally:
    """Who has had which event: arrival counts and the last arrival per event number."""
    clients: int
    sent: dict[int, float] = field(default_factory=dict)
    seen: dict[int, int] = field(default_factory=dict)
    last: dict[int, float] = field(default_factory=dict)
    sample: dict[str, Any] | None = None
    waiting: dict[int, asyncio.Event] = field(default_factory=dict)

    def arrived(self, n: int, at: float) -> None:
        count = self.seen.get(n, 0) + 1
        self.seen[n], self.last[n] = count, at
        if count >= self.clients and n in self.waiting:
            self.waiting.pop(n).set()

    def expect(self, n: int) -> asyncio.Event:
        done = self.waiting[n] = asyncio.Event()
        if self.seen.get(n, 0) >= self.clients:
            done.set()
        return done


async def follow(ws: aiohttp.ClientWebSocketResponse, tally: Tally) -> None:
    """What a page does with each message: parse it, look at its topic."""
    async for msg in ws:
        if msg.type is not aiohttp.WSMsgType.TEXT:
            break
        at = time.perf_counter()
        data = json.loads(msg.data)
        reason = data.get("reason") if data.get("topic") == "agent" else None
        if isinstance(reason, str) and reason.startswith(TAG):
            tally.arrived(int(reason[len(TAG):]), at)
            if tally.sample is None:
                tally.sample = data


@contextlib.asynccontextmanager
async def connected(http: aiohttp.ClientSession, bases: list[str], tokens: list[str],
                    tally: Tally) -> AsyncIterator[None]:
    """Every client on its node (round robin), following the live socket until the end."""
    sockets: list[aiohttp.ClientWebSocketResponse] = []
    for i, token in enumerate(tokens):
        base = bases[i % len(bases)]
        ws = await http.ws_connect(f"{base.replace('http', 'ws', 1)}/api/v1/live",
                                   headers={"Cookie": f"{SESSION_COOKIE}={token}", "Origin": base},
                                   heartbeat=None, autoping=True)
        sockets.append(ws)
    tasks = [asyncio.create_task(follow(ws, tally)) for ws in sockets]
    try:
        yield
    finally:
        for ws in sockets:
            await ws.close()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


# ---------------------------------------------------------------- the measurement

@dataclass
class Figures:
    p50_ms: float
    p99_ms: float
    msgs_per_s: float
    lost: int


async def warm_up(emit: Callable[[int], Awaitable[None]], tally: Tally) -> None:
    """Until every client's subscription is live: the handshake returns before it is."""
    deadline = time.monotonic() + WAIT_S
    n = -1
    while True:
        n -= 1
        await emit(n)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(0.5):
                await tally.expect(n).wait()
                return
        if time.monotonic() > deadline:
            raise SystemExit(f"only {tally.seen.get(n, 0)} of {tally.clients} clients are subscribed")


async def one_round(emit: Callable[[int], Awaitable[None]], tally: Tally, first: int, events: int) -> Figures:
    latencies: list[float] = []
    for n in range(first, first + events):  # one at a time: the latency of a quiet system
        done = tally.expect(n)
        tally.sent[n] = time.perf_counter()
        await emit(n)
        async with asyncio.timeout(WAIT_S):
            await done.wait()
        latencies.append((tally.last[n] - tally.sent[n]) * 1000)
    burst = range(first + events, first + 2 * events)  # all at once: the throughput
    waits = [tally.expect(n) for n in burst]
    start = time.perf_counter()
    for n in burst:
        await emit(n)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(WAIT_S):
            for w in waits:
                await w.wait()
    end = max(tally.last.get(n, start) for n in burst)
    delivered = sum(tally.seen.get(n, 0) for n in burst)
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return Figures(statistics.median(latencies), cuts[98], delivered / max(end - start, 1e-9),
                   events * tally.clients - delivered)


async def measure(emit: Callable[[int], Awaitable[None]], tally: Tally, events: int, rounds: int) -> Figures:
    """The best of `rounds` rounds for each figure (the machine's noise hits both sides
    alike); what was lost, summed over all rounds."""
    await warm_up(emit, tally)
    runs = [await one_round(emit, tally, r * 2 * events, events) for r in range(rounds)]
    return Figures(round(min(f.p50_ms for f in runs), 2), round(min(f.p99_ms for f in runs), 2),
                   round(max(f.msgs_per_s for f in runs)), sum(f.lost for f in runs))


# ---------------------------------------------------------------- the project

def node_settings(folder: Path, ami_port: int, redis_url: str | None) -> Any:
    env = {"HOTLINE_DATA_DIR": str(folder / "var"), "HOTLINE_SECRET_KEY": "bench-secret-key-0123456789",
           "HOTLINE_AMI_HOST": "127.0.0.1", "HOTLINE_AMI_PORT": str(ami_port), "HOTLINE_AMI_USER": AMI_USER,
           "HOTLINE_AMI_SECRET": AMI_SECRET, "HOTLINE_HTTP_HOST": "127.0.0.1"}
    if redis_url:
        env["HOTLINE_REDIS_URL"] = redis_url
    return load_settings(env)


@contextlib.asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def node(settings: Any) -> AsyncIterator[tuple[Running, str]]:
    async with open_hotline(settings) as h, serving(create_app(h)) as base:
        yield h, base


async def until(check: Callable[[], bool], what: str) -> None:
    # Polled: the telephony service has no event to wait on for "leading and resynced".
    deadline = time.monotonic() + WAIT_S
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"fanout: timed out waiting until {what}")
        await asyncio.sleep(0.05)
    log(f"fanout: {what}")


async def add_users(h: Running, base: str, clients: int) -> list[str]:
    """One user and one session per client. argon2 is deliberately slow (~0.1 s a hash, a
    check): one password hash for all, and one client in HTTP_LOGIN_EVERY logs in over HTTP
    as the login page does; the others' sessions are the rows that login writes. The socket
    checks every one of them the same way."""
    now = h.clock()
    users = []
    async with h.sessions() as session, session.begin():
        first = await h.auth.add_user(session, username="bench-agent-0000", password=PASSWORD,
                                      role=UserRole.AGENT, now=now, extension="80000")
        users.append(first)
        for i in range(1, clients):
            role = UserRole.SUPERVISOR if i % WALLBOARD_EVERY == 0 else UserRole.AGENT
            user = User(username=f"bench-{role.value}-{i:04d}", display_name=f"bench {i}", role=role.value,
                        extension=None if role is UserRole.SUPERVISOR else f"8{i:04d}",
                        password_hash=first.password_hash, active=True, created_at=now)
            session.add(user)
            users.append(user)
        await session.flush()
        tokens = [""] * clients
        for i, user in enumerate(users):
            if i % HTTP_LOGIN_EVERY:
                tokens[i] = secrets.token_urlsafe(32)
                await accounts.add_login(session, user.id, sha256_hex(tokens[i]), now, now + h.auth.session_lifetime)
    async with aiohttp.ClientSession() as http:
        for i in range(0, clients, HTTP_LOGIN_EVERY):
            body = {"username": users[i].username, "password": PASSWORD}
            async with http.post(f"{base}/api/v1/auth/login", json=body) as r:
                if r.status != 200:
                    raise SystemExit(f"login of {users[i].username} failed: {r.status} {await r.text()}")
                tokens[i] = str((await r.json())["token"])
    return tokens


async def prepare(settings: Any, clients: int) -> list[str]:
    """The database migrated and the users logged in, before any node runs its loops."""
    async with open_hotline(settings) as h:
        await h.schema.upgrade(h.engine)
        async with serving(create_app(h, run_background=False)) as base:
            return await add_users(h, base, clients)


def pause_emitter(pbx: Pbx) -> Callable[[int], Awaitable[None]]:
    member: SimMember = pbx.members[0]

    async def emit(n: int) -> None:
        member.paused, member.reason = True, f"{TAG}{n}"
        pbx.member_event("QueueMemberPause", member)  # written to the consumer's AMI socket now

    return emit


async def run_project(folder: Path, clients: int, events: int, rounds: int, redis_url: str | None,
                      tokens: list[str] | None = None) -> tuple[Figures, dict[str, Any], list[str]]:
    pbx = Pbx(speed=1, members=[("Local/8001@agents/n", "Bench Agent 8001")])
    ami = AmiServer(pbx, user=AMI_USER, secret=AMI_SECRET)
    port = await ami.start()
    settings = node_settings(folder, port, redis_url)
    tally = Tally(clients)
    try:
        async with contextlib.AsyncExitStack() as stack:
            if tokens is None:
                tokens = await prepare(settings, clients)
            h1, base1 = await stack.enter_async_context(node(settings))
            tel = h1.module(Telephony)
            await until(lambda: tel.leading and tel.consumer is not None and tel.consumer.resyncs > 0,
                        "node 1 consumes the AMI events")
            bases = [base1]
            if redis_url:  # node 2 stands by for the AMI consumer; its clients hear node 1 through Redis
                _, base2 = await stack.enter_async_context(node(settings))
                bases.append(base2)
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                             cookie_jar=aiohttp.DummyCookieJar()) as http, \
                    connected(http, bases, tokens, tally):
                figures = await measure(pause_emitter(pbx), tally, events, rounds)
    finally:
        await ami.stop(graceful=False)
    assert tally.sample is not None
    return figures, tally.sample, tokens


# ---------------------------------------------------------------- the baseline

def bare_app(sockets: set[web.WebSocketResponse]) -> web.Application:
    async def live(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        sockets.add(ws)
        try:
            async for _ in ws:
                pass
        finally:
            sockets.discard(ws)
        return ws

    app = web.Application()
    app.router.add_get("/api/v1/live", live)
    return app


async def broadcast(sockets: set[web.WebSocketResponse], text: str) -> None:
    for ws in list(sockets):
        await ws.send_str(text)


async def relay(redis: aioredis.Redis, channel: str, sockets: set[web.WebSocketResponse],
                ready: asyncio.Event) -> None:
    pubsub = redis.pubsub()
    await pubsub.subscribe(channel)
    ready.set()
    try:
        async for item in pubsub.listen():
            if item.get("type") == "message":
                await broadcast(sockets, item["data"].decode())
    finally:
        await pubsub.aclose()


async def run_baseline(sample: dict[str, Any], clients: int, events: int, rounds: int, tokens: list[str],
                       redis_url: str | None) -> Figures:
    def text(n: int) -> str:
        return json.dumps({**sample, "reason": f"{TAG}{n}"}, ensure_ascii=False, default=str)

    nodes = 2 if redis_url else 1
    socket_sets: list[set[web.WebSocketResponse]] = [set() for _ in range(nodes)]
    tally = Tally(clients)
    async with contextlib.AsyncExitStack() as stack:
        bases = [await stack.enter_async_context(serving(bare_app(s))) for s in socket_sets]
        emit: Callable[[int], Awaitable[None]]
        if redis_url:
            redis = aioredis.from_url(redis_url)
            stack.push_async_callback(redis.aclose)
            channel = f"bench:fanout:{uuid.uuid4().hex}"
            relays = []
            for s in socket_sets:
                ready = asyncio.Event()
                relays.append(asyncio.create_task(relay(redis, channel, s, ready)))
                await ready.wait()

            async def emit(n: int) -> None:
                await redis.publish(channel, text(n))

            async def stop_relays() -> None:
                for t in relays:
                    t.cancel()
                await asyncio.gather(*relays, return_exceptions=True)

            stack.push_async_callback(stop_relays)
        else:
            async def emit(n: int) -> None:
                await broadcast(socket_sets[0], text(n))

        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                         cookie_jar=aiohttp.DummyCookieJar()) as http, \
                connected(http, bases, tokens, tally):
            return await measure(emit, tally, events, rounds)


# ---------------------------------------------------------------- main

async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=500)
    p.add_argument("--events", type=int, default=200)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--redis-url", default=os.environ.get("HOTLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = p.parse_args()
    if min(args.clients, args.events) < 2 or args.rounds < 1:
        raise SystemExit("--clients and --events must be at least 2, --rounds at least 1")
    # The live channel is one name on the whole Redis server (pub/sub ignores the database
    # number): a channel of this run's own, so neither it nor anything else hears the other.
    hotline.live.CHANNEL = f"hotline:live:bench:{uuid.uuid4().hex}"
    out: dict[str, Any] = {"bench": "fanout", "clients": args.clients, "events": args.events, "rounds": args.rounds}
    ratios = []
    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmp:
        tokens: list[str] | None = None
        for mode, redis_url in (("one_node", None), ("two_nodes", args.redis_url)):
            project, sample, tokens = await run_project(Path(tmp), args.clients, args.events, args.rounds,
                                                          redis_url, tokens)
            baseline = await run_baseline(sample, args.clients, args.events, args.rounds, tokens, redis_url)
            log(f"fanout {mode}: project {project}, baseline {baseline}")
            for name, f in (("", project), ("baseline_", baseline)):
                out.update({f"{mode}_{name}p50_ms": f.p50_ms, f"{mode}_{name}p99_ms": f.p99_ms,
                            f"{mode}_{name}msgs_per_s": f.msgs_per_s, f"{mode}_{name}lost": f.lost})
            ratios.append(project.msgs_per_s / max(baseline.msgs_per_s, 1e-9))
            out[f"{mode}_ratio"] = round(ratios[-1], 3)
    out["ratio"] = round(min(ratios), 3)
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main())
