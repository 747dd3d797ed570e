"""`hotline serve` (the real command, its own process) against the PBX simulator on loopback."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys

import aiohttp

from hotline.telephony.sim import running_simulator
from hotline.telephony.sim.traffic import Traffic

SECRET = "serve-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_serve_follows_the_simulator_and_stops_cleanly(tmp_path):
    traffic = Traffic(calls_per_minute=0, limit=20, mean_talk=15, mean_patience=20)  # calls once serve is up
    members = [(f"Local/80{i:02d}@agents/n", f"Agent 80{i:02d}") for i in range(1, 4)]
    async with running_simulator(user="hotline", secret=SECRET, traffic=traffic, speed=20, members=members,
                                 seed=3) as sim:
        port = free_port()
        env = {**os.environ, "HOTLINE_DATA_DIR": str(tmp_path / "var"), "HOTLINE_SECRET_KEY": "k" * 32,
               "HOTLINE_AMI_HOST": "127.0.0.1", "HOTLINE_AMI_PORT": str(sim.port), "HOTLINE_AMI_SECRET": SECRET,
               "HOTLINE_HTTP_HOST": "127.0.0.1", "HOTLINE_HTTP_PORT": str(port), "HOTLINE_LOG_FORMAT": "json"}
        env.pop("HOTLINE_DATABASE_URL", None)
        env.pop("HOTLINE_REDIS_URL", None)
        add = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hotline", "db", "upgrade", env=env, stdout=asyncio.subprocess.DEVNULL)
        assert await add.wait() == 0
        add = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hotline", "user", "add", "--username", "zhang", "--role", "agent",
            "--extension", "8001", "--password-stdin", env=env, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL)
        await add.communicate(b"password-123\n")
        assert add.returncode == 0
        serve = await asyncio.create_subprocess_exec(sys.executable, "-m", "hotline", "serve", env=env,
                                                     stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        base = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession() as http:
                for _ in range(200):
                    try:
                        async with http.post(f"{base}/api/v1/auth/login",
                                             json={"username": "zhang", "password": "password-123"}) as r:
                            token = (await r.json())["token"]
                            break
                    except aiohttp.ClientConnectionError:
                        await asyncio.sleep(0.1)
                auth = {"Authorization": f"Bearer {token}"}
                for _ in range(200):
                    if any(s.logged_in and s.events for s in sim.server.sessions):
                        break
                    await asyncio.sleep(0.05)
                traffic.calls_per_minute = 300
                records: list = []
                for _ in range(400):
                    async with http.get(f"{base}/api/v1/telephony/calls?limit=100", headers=auth) as r:
                        records = await r.json()
                    if len(records) == 20:
                        break
                    await asyncio.sleep(0.1)
                assert len(records) == 20
                async with http.get(f"{base}/metrics") as r:
                    metrics = await r.text()
                async with http.get(f"{base}/api/v1/openapi.json") as r:
                    paths = (await r.json())["paths"]
            assert "hotline_ami_connected 1.0" in metrics
            assert "/api/v1/telephony/agent/pause" in paths and "/api/v1/telephony/calls/transfer" in paths
        finally:
            serve.send_signal(signal.SIGTERM)
            out, err = await asyncio.wait_for(serve.communicate(), 30)
        assert serve.returncode == 0, err.decode()[-2000:]
        assert b"Traceback" not in err, [line for line in err.decode().splitlines() if "Traceback" in line][:1]
        assert b"is now the AMI consumer" in err
