"""A database outage is a retryable 503 with Retry-After on every endpoint (issue 9,
item 12), whatever form the outage takes: refused connections, a server "not accepting
connections" (starting up, 57P03), one terminating them (57P01), too many clients (53300).

A tiny fake PostgreSQL answers every connection attempt with the FATAL error asyncpg
would get from the real server in that state; "refused" is a port nobody listens on."""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hotline.auth import API_KEY_PREFIX
from hotline.root import open_hotline
from hotline.web.app import create_app
from tests.channels_support import OPEN311_KEY, channel_env
from tests.conftest import FakeClock, make_settings
from tests.integration.test_channels_wechat import query, text
from tests.integration.test_hostile_input import _twilio

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

pytestmark = pytest.mark.timeout(60)

STATES = {"starting": ("57P03", "the database system is starting up"),
          "terminated": ("57P01", "terminating connection due to administrator command"),
          "too_many": ("53300", "sorry, too many clients already")}


async def _fake_postgres(state: str) -> tuple[asyncio.AbstractServer, int]:
    code, message = STATES[state]
    fields = b"SFATAL\x00VFATAL\x00C" + code.encode() + b"\x00M" + message.encode() + b"\x00\x00"
    error = b"E" + struct.pack("!I", 4 + len(fields)) + fields

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                (length,) = struct.unpack("!I", await reader.readexactly(4))
                payload = await reader.readexactly(length - 4)
                if payload[:4] == struct.pack("!I", 80877103):  # SSLRequest: "no TLS here"
                    writer.write(b"N")
                    continue
                writer.write(error)  # the StartupMessage: refused with the server's FATAL
                await writer.drain()
                break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(params=["refused", *STATES])
async def down(request, tmp_path) -> AsyncIterator[TestClient]:
    server = None
    if request.param == "refused":
        port = _free_port()
    else:
        server, port = await _fake_postgres(request.param)
    env = {**channel_env(None), "HOTLINE_DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:{port}/test"}
    settings = make_settings(tmp_path, env=env,
                             extra_yaml="channels:\n  wechat:\n    outage_hold_seconds: 0\n    plain_mode: true\n")
    clock = FakeClock()
    async with open_hotline(settings, clock=clock) as h:
        app = create_app(h, run_background=False)
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            client.clock = clock  # type: ignore[attr-defined]
            yield client
    if server is not None:
        server.close()
        await server.wait_closed()


async def test_every_endpoint_answers_503_with_retry_after(down):
    client = down
    clock = client.clock
    sms, sms_headers = _twilio({"MessageSid": "SMdown1", "From": "+8613800138002", "To": "+8612345",
                                "Body": "路灯坏了"})
    requests = [
        ("POST", "/channels/sms/twilio", {"data": sms, "headers": sms_headers}),
        ("POST", "/channels/wechat?" + urlencode(query(clock)),
         {"data": text("路灯坏了", 7001, clock=clock).encode(), "headers": {"Content-Type": "text/xml"}}),
        ("POST", "/api/v1/app/requests", {"json": {"text": "路灯不亮", "phone": "13800138001"},
                                          "headers": {"X-App-Key": OPEN311_KEY, "Idempotency-Key": "k1"}}),
        ("GET", "/api/v1/app/requests/20261126000001", {"params": {"phone_last4": "8000"},
                                                         "headers": {"X-App-Key": OPEN311_KEY}}),
        ("GET", "/api/v1/workorders", {"headers": {"Authorization": "Bearer x" * 3}}),
        ("POST", "/api/v1/auth/login", {"json": {"username": "zhang", "password": "password-123"}}),
        ("GET", "/api/v1/department/orders", {"headers": {"X-Api-Key": API_KEY_PREFIX + "0a1b2c3d4e5f_secret"}}),
        ("GET", "/open311/v2/requests.json", {}),
        ("POST", "/open311/v2/requests.xml", {"data": {"api_key": OPEN311_KEY, "service_code": "env-noise",
                                                       "description": "施工", "address_string": "幸福路"}}),
        ("GET", "/readyz", {}),
    ]
    wrong = []
    for method, path, kw in requests:
        async with client.request(method, path, **kw) as r:
            await r.read()
            if r.status != 503 or not r.headers.get("Retry-After", "").isdigit():
                wrong.append(f"{method} {path}: {r.status} Retry-After={r.headers.get('Retry-After')}")
    assert wrong == []


async def test_wechat_holds_a_message_until_the_database_is_back():
    """WeChat retries only silence: `answer(hold=…)` retries receive while the database is
    unavailable, and answers normally once it is back."""
    from sqlalchemy.exc import OperationalError

    from hotline.channel import answer

    class Port:
        tries = 0

        async def verify(self, raw: str) -> str:
            return raw

        async def receive(self, inbound: str) -> str:
            self.tries += 1
            if self.tries < 3:
                raise OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))
            return "stored"

        def acknowledge(self, raw, inbound, outcome):
            from aiohttp import web

            return web.Response(text=outcome)

    port = Port()
    assert (await answer(port, "msg", hold=5)).text == "stored"
    assert port.tries == 3
    with pytest.raises(OperationalError):
        await answer(Port(), "msg", hold=0)
