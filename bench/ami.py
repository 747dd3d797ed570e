"""AMI events per second through the hotline's pipeline, against bare panoramisk parsing.

1. Record: the PBX simulator makes a burst of calls (fast clock, realistic event mix:
   queue, agents, bridges, hangups, dialplan noise) and a client records every byte it
   sends over a real loopback socket.
2. Project: a simulator-like server replays those bytes over a real socket to the
   hotline's AMI consumer: framing and panoramisk parsing, typed events, the tracker,
   metrics, and the live bus (a subscriber attached, so every notice is published).
3. Baseline: the same bytes over the same kind of socket into panoramisk's own
   `AMIProtocol` with a factory that does nothing with the events.

Prints one JSON line: {"bench": "ami", "events_per_s", "baseline_events_per_s", "ratio", ...}.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from panoramisk.ami_protocol import AMIProtocol

from hotline.live import LiveBus
from hotline.metrics import Metrics
from hotline.telephony.consumer import AmiConsumer
from hotline.telephony.protocol import AmiProtocol
from hotline.telephony.sim.pbx import Pbx
from hotline.telephony.sim.server import AmiServer
from hotline.telephony.sim.traffic import Traffic, TrafficGenerator
from hotline.telephony.tracker import Tracker

CALLS = 3000
ROUNDS = 3


async def record() -> bytes:
    """What the simulator sends while CALLS calls come and go."""
    members = [(f"Local/8{i:03d}@agents/n", f"Agent 8{i:03d}") for i in range(1, 41)]
    pbx = Pbx(speed=2000, members=members, survey=True)
    server = AmiServer(pbx, user="bench", secret="bench")
    port = await server.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"Action: Login\r\nUsername: bench\r\nSecret: bench\r\nEvents: on\r\n\r\n")
    data = bytearray()

    async def read() -> None:
        while chunk := await reader.read(1 << 16):
            data.extend(chunk)

    task = asyncio.create_task(read())
    gen = TrafficGenerator(pbx, Traffic(calls_per_minute=600, limit=CALLS, mean_talk=60, mean_patience=90))
    await gen.run()
    for _ in range(6000):  # the last calls talk and hang up
        if not pbx.calls:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    await server.stop(graceful=False)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    writer.close()
    return bytes(data)


async def serve_bytes(payload: bytes) -> tuple[asyncio.Server, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")  # the login
        writer.write(payload)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def count_events(payload: bytes) -> int:
    return payload.count(b"\r\nEvent: ") + payload.startswith(b"Event: ")


async def run_project(payload: bytes) -> float:
    live = LiveBus()
    consumer = AmiConsumer({"host": "", "port": 0, "user": "bench", "secret": "bench"}, Tracker(),
                           clock=lambda: datetime.now(UTC),
                           metrics=Metrics(), live=live, desk=None)
    publisher = asyncio.create_task(consumer._publisher())
    server, port = await serve_bytes(payload)
    done = asyncio.Event()

    class Factory:
        def dispatch(self, message: Any) -> None:
            consumer.on_message(message)

        def connection_lost(self, exc: Any) -> None:
            done.set()

    loop = asyncio.get_running_loop()
    async with live.subscribe() as queue:
        start = time.perf_counter()
        _, proto = await loop.create_connection(AmiProtocol, "127.0.0.1", port)
        proto.factory = Factory()
        proto.transport.write(b"Action: Login\r\n\r\n")
        await done.wait()
        await consumer._live_q.join()
        elapsed = time.perf_counter() - start
        assert queue.qsize() > 0
    publisher.cancel()
    await asyncio.gather(publisher, return_exceptions=True)
    server.close()
    assert consumer.malformed == 0
    return elapsed


async def run_baseline(payload: bytes) -> float:
    server, port = await serve_bytes(payload)
    done = asyncio.Event()

    class Factory:
        forgetable_actions = ()
        awaiting_actions: list[Any] = []

        def dispatch(self, message: Any) -> None:
            pass

        def connection_lost(self, exc: Any) -> None:
            done.set()

    class Baseline(AMIProtocol):
        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self.factory = Factory()
            self.encoding = "utf-8"

    loop = asyncio.get_running_loop()
    start = time.perf_counter()
    _, proto = await loop.create_connection(Baseline, "127.0.0.1", port)
    proto.transport.write(b"Action: Login\r\n\r\n")
    await done.wait()
    elapsed = time.perf_counter() - start
    server.close()
    return elapsed


async def main() -> None:
    payload = await record()
    events = count_events(payload)
    project, baseline = [], []
    for _ in range(ROUNDS):  # interleaved, best of each: the machine's noise hits both alike
        baseline.append(await run_baseline(payload))
        project.append(await run_project(payload))
    eps, base = events / min(project), events / min(baseline)
    print(json.dumps({"bench": "ami", "events": events, "bytes": len(payload), "calls": CALLS,
                      "events_per_s": round(eps), "baseline_events_per_s": round(base),
                      "ratio": round(eps / base, 3)}))


if __name__ == "__main__":
    asyncio.run(main())
