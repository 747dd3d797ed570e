"""Item 7: `kill -9` of `hotline serve` in the middle of a burst of calls ending on the real
Asterisk loses no call: the desk's journal has every item the PBX told us before it is queued,
and the next start writes what the killed process had not."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys

from hotline.telephony.trial import free_port
from tests.asterisk_support import SECRET, Caller, until

CALLS = 60


def serve(tmp_path, pbx, http_port: int) -> asyncio.subprocess.Process:
    env = {**os.environ, "HOTLINE_DATA_DIR": str(tmp_path / "var"), "HOTLINE_HTTP_HOST": "127.0.0.1",
           "HOTLINE_HTTP_PORT": str(http_port), "HOTLINE_LOG_FORMAT": "text", "HOTLINE_AMI_HOST": "127.0.0.1",
           "HOTLINE_AMI_PORT": str(pbx.ami_port), "HOTLINE_AMI_USER": "hotline", "HOTLINE_AMI_SECRET": SECRET,
           "HOTLINE_SECRET_KEY": "durable-test-secret-key-0123456789"}
    return asyncio.create_subprocess_exec(sys.executable, "-m", "hotline", "serve", env=env, cwd=tmp_path,
                                          stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)


async def connected(http_port: int) -> bool:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", http_port)
    except OSError:
        return False
    writer.write(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
    body = (await reader.read()).decode()
    writer.close()
    return "hotline_ami_connected 1.0" in body


def recorded(tmp_path) -> int:
    db = tmp_path / "var" / "hotline.db"
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM calls").fetchone()[0])


async def test_kill_9_mid_burst_loses_no_call(real_asterisk, tmp_path):
    pbx = real_asterisk()
    pbx.start()
    env = {**os.environ, "HOTLINE_DATA_DIR": str(tmp_path / "var")}
    upgrade = await asyncio.create_subprocess_exec(sys.executable, "-m", "hotline", "db", "upgrade", env=env,
                                                   stdout=asyncio.subprocess.DEVNULL)
    assert await upgrade.wait() == 0
    port = free_port()
    proc = await serve(tmp_path, pbx, port)
    try:
        await until(lambda: connected(port), limit=60)
        async with Caller(pbx) as caller:
            for a in ("8001", "8002"):
                await caller.pause(a)
            for i in range(CALLS):
                await caller.call(f"1350013{i:04d}", patience=3)  # they all hang up at about once
            await until(lambda: _count(caller, 2 * CALLS), limit=30, step=0.02)
            await until(lambda: _count(caller, 0), limit=30, step=0.01)
            proc.send_signal(signal.SIGKILL)  # the moment Asterisk has told us every hang-up
            await proc.wait()
        at_kill = recorded(tmp_path)
        proc = await serve(tmp_path, pbx, port)
        await until(lambda: connected(port), limit=60)
        await until(lambda: recorded(tmp_path) >= CALLS, limit=30)
        # Replayed items come first in the desk's queue: by now a replay counted twice would show.
        assert recorded(tmp_path) == CALLS
        with sqlite3.connect(tmp_path / "var" / "hotline.db") as conn:
            tasks = conn.execute("SELECT count(*), sum(missed_calls) FROM callback_tasks").fetchone()
        assert tuple(tasks) == (CALLS, CALLS)  # one task per number, each missed call counted once
        print(f"figures: item 7: calls {CALLS}, recorded when killed {at_kill}, recorded after restart "
              f"{recorded(tmp_path)}")
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            await proc.wait()


async def _count(caller: Caller, n: int) -> bool:
    return len(await caller.channels()) == n
