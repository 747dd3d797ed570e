"""The PBX simulator against the real Asterisk 22 traces.

Each scenario's recorded actions (the `tx` lines of its `.client.jsonl`) are sent to the
simulator over a real socket, at the recorded times (sped up), and what it answers is
compared with what Asterisk answered: per call (by Linkedid), the significant events in
the same order up to the end of the call and the same ones (as a multiset) around the
end, whose order Asterisk itself does not keep (trace README, surprise 10); the events
not tied to a call in the same order; and every frame with a header layout (names and
order) that Asterisk uses for that event.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import re
from collections import Counter

import pytest

from hotline.telephony.sim.pbx import Pbx
from hotline.telephony.sim.server import AmiServer
from tests.ami_traces import TRACES, frames, parse_frames

SPEED = 5.0
NOISE = {"Newexten", "Newstate", "NewCallerid", "NewConnectedLine", "LocalBridge", "DialState", "HangupRequest",
         "SoftHangupRequest", "MixMonitorStart", "BridgeCreate", "BridgeDestroy", "DeviceStateChange"}
HOTLINE_VARS = {"__HOTLINE_CHANNEL", "__IVR_CHOICE", "__LEGACY_LINE"}
# Where a call's end begins: from here on Asterisk's order varies between identical runs.
END_STARTS = {"Cdr", "AgentComplete", "QueueCallerAbandon", "BridgeLeave", "Hangup(caller)"}
RACY = {"OriginateResponse"}  # its place among the first events differs from trace to trace


def significant(items: list[dict]) -> list[dict]:
    out = []
    for d in items:
        name = d.get("Event") or f"Response:{d.get('Response')}"
        if name in NOISE or (name == "VarSet" and d.get("Variable") not in HOTLINE_VARS):
            continue
        out.append({**d, "__name__": name})
    return out


def by_call(items: list[dict]) -> tuple[dict[str, list[str]], list[str]]:
    calls: dict[str, list[str]] = {}
    other: list[str] = []
    uid_to_call: dict[str, str] = {}
    for d in items:
        if d.get("Uniqueid") and d.get("Linkedid"):
            uid_to_call[d["Uniqueid"]] = d["Linkedid"]
        link = d.get("Linkedid") or d.get("DestLinkedid") or uid_to_call.get(d.get("UniqueID") or d.get("Uniqueid") or "")
        if d["__name__"] in RACY or d["__name__"].startswith("Response:"):
            continue
        if link:
            # A caller leg hanging up is part of the end too; an agent leg may hang up mid-call.
            caller_gone = d["__name__"] == "Hangup" and "@from-pstn" in d.get("Channel", "")
            calls.setdefault(link, []).append("Hangup(caller)" if caller_gone else d["__name__"])
        else:
            other.append(d["__name__"])
    return calls, other


def split_end(names: list[str]) -> tuple[list[str], Counter[str]]:
    cut = next((i for i, n in enumerate(names) if n in END_STARTS), len(names))
    return names[:cut], Counter(names[cut:])


async def run_against_simulator(name: str) -> bytes:
    pbx = Pbx(speed=SPEED, rng=random.Random(1))
    # Local channels are numbered by one counter; start where the trace's Asterisk was, so
    # the recorded Redirect/BlindTransfer actions name channels that exist here too.
    first = re.search(rb"Channel: Local/\S+?-([0-9a-f]{8});1", (TRACES / f"{name}.ami").read_bytes())
    pbx.local_counter = itertools.count(int(first.group(1), 16) if first else 0)
    # rrmemory remembers who took the last call: offer the first call to whom Asterisk offered it.
    called = re.search(rb"Event: AgentCalled\r\n(?:.*\r\n)*?Interface: (\S+)\r\n", (TRACES / f"{name}.ami").read_bytes())
    if called and called.group(1).decode() in [m.interface for m in pbx.members]:
        pbx.rr_next = [m.interface for m in pbx.members].index(called.group(1).decode())
    server = AmiServer(pbx, user="hotline", secret="hotline-secret", login_fail_delay=0.05)
    port = await server.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    received = bytearray()

    async def read() -> None:
        while chunk := await reader.read(65536):
            received.extend(chunk)

    task = asyncio.create_task(read())
    loop = asyncio.get_running_loop()
    start = loop.time()
    raw = (TRACES / f"{name}.ami").read_bytes()
    lines = [json.loads(x) for x in (TRACES / f"{name}.client.jsonl").read_text().splitlines()]
    last_rx: dict | None = None
    for item in lines:
        await asyncio.sleep(max(0.0, start + item.get("t", 0) / SPEED - loop.time()))
        if item.get("dir") == "rx":
            last_rx = item
        elif item.get("dir") == "tx":
            if last_rx is not None and item["t"] - last_rx["t"] < 0.05:
                # The recorder answered what it had just read (e.g. unpaused an agent on
                # AgentRingNoAnswer): wait for the same event here before sending.
                seen = raw[:last_rx["offset"] + last_rx["len"]]
                event = re.findall(rb"Event: (\w+)\r\n", raw[last_rx["offset"]:last_rx["offset"] + last_rx["len"]])
                if event:
                    marker = b"Event: " + event[-1] + b"\r\n"
                    for _ in range(400):
                        if received.count(marker) >= seen.count(marker):
                            break
                        await asyncio.sleep(0.01)
            writer.write(item["data"].encode())
        elif item.get("note", "").endswith(" stop"):  # `core stop now` on the real one
            await server.stop(graceful=True)
    end = max(x.get("t", 0) for x in lines)
    await asyncio.sleep(max(0.0, start + end / SPEED + 0.3 - loop.time()))
    await server.stop(graceful=False)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    writer.close()
    return bytes(received)


CALL_SCENARIOS = ["answered", "abandoned", "legacy", "ringnoanswer", "transfer", "blindtransfer", "agent-ops",
                  "reconnect"]


@pytest.mark.parametrize("name", CALL_SCENARIOS)
async def test_simulator_matches_the_real_trace(name):
    real = significant(frames(name))
    simulated = significant(parse_frames(await run_against_simulator(name)))

    real_calls, real_other = by_call(real)
    sim_calls, sim_other = by_call(simulated)
    assert len(sim_calls) == len(real_calls)
    for (rid, r), (sid, s) in zip(sorted(real_calls.items()), sorted(sim_calls.items()), strict=True):
        r_prefix, r_end = split_end(r)
        s_prefix, s_end = split_end(s)
        assert s_prefix == r_prefix, f"{name}: call {sid} (real {rid}) starts differently"
        assert s_end == r_end, f"{name}: call {sid} ends with other events"
    assert sim_other == real_other

    layouts: dict[str, set[tuple[str, ...]]] = {}
    for d in frames(name):
        layouts.setdefault(d.get("Event") or "Response", set()).add(tuple(d["__headers__"]))
    for d in simulated:
        event = d.get("Event")
        if event in layouts:
            assert tuple(d["__headers__"]) in layouts[event], f"{name}: {event} headers differ: {d['__headers__']}"
