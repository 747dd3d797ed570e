"""The live socket's fan-out (issue 11, found by bench/fanout.py): every page gets the one
JSON text the bus made (or Redis carried), not a serialisation of its own, and a page that
goes away takes its subscription with it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

import hotline.live
from hotline.clock import utc_now
from hotline.live import LiveMessage
from hotline.web.app import create_app
from tests.asterisk_support import until
from tests.conftest import login_as, make_settings, migrated_hotline

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

async def _token(h: Any, client: TestClient) -> str:
    api = await login_as(h, client)
    return api.headers["Authorization"].split()[1]


@pytest.mark.parametrize("db_kind", ["sqlite"])  # the socket, not storage
async def test_every_page_gets_the_text_the_bus_made_once(hotline, client):
    token = await _token(hotline, client)
    bus = hotline.live
    before = len(bus._subscribers)
    sockets = [await client.ws_connect(f"/api/v1/live?token={token}") for _ in range(3)]
    await until(lambda: len(bus._subscribers) == before + 3)
    # A text no json.dumps of ours would write (no spaces): a page receiving it proves the
    # handler sent the message's own text rather than serialising the dict again.
    made = '{"topic":"agent","extension":"8001","state":"paused","reason":"小休"}'
    bus._fan_out(LiveMessage(json.loads(made), made))
    await bus.publish("queue", {"queue": "12345", "waiting": 2})
    got = [[(await ws.receive(timeout=5)).data for _ in range(2)] for ws in sockets]
    assert got == [[made, '{"topic": "queue", "queue": "12345", "waiting": 2}']] * 3
    # A page that goes away leaves the bus; the others go on.
    await sockets[0].close()
    await until(lambda: len(bus._subscribers) == before + 2)
    await bus.publish("queue", {"queue": "12345", "waiting": 1})
    for ws in sockets[1:]:
        assert json.loads((await ws.receive(timeout=5)).data)["waiting"] == 1
        await ws.close()
    await until(lambda: len(bus._subscribers) == before)


@contextlib.asynccontextmanager
async def _node(settings: Any) -> AsyncIterator[tuple[Any, TestClient]]:
    cm, h = await migrated_hotline(settings, utc_now)
    relay = asyncio.create_task(h.live.run())
    try:
        async with TestClient(TestServer(create_app(h, run_background=False), host="127.0.0.1")) as c:
            yield h, c
    finally:
        relay.cancel()
        await asyncio.gather(relay, return_exceptions=True)
        await cm.__aexit__(None, None, None)


async def test_a_node_relays_what_redis_carried_byte_for_byte(tmp_path: Path, redis_url: str, monkeypatch):
    # Pub/sub channels ignore the database number: a channel of this test's own.
    monkeypatch.setattr(hotline.live, "CHANNEL", f"hotline:live:test:{uuid.uuid4().hex}")
    settings = make_settings(tmp_path, env={"HOTLINE_REDIS_URL": redis_url})
    async with _node(settings) as (one, _), _node(settings) as (two, client_two):
        token = await _token(two, client_two)
        async with client_two.ws_connect(f"/api/v1/live?token={token}") as ws:
            await until(lambda: len(two.live._subscribers) >= 1)
            await asyncio.sleep(0.2)  # both relays subscribed
            await one.live.publish("agent", {"extension": "8001", "state": "paused", "reason": "培训"})
            assert (await ws.receive(timeout=5)).data == \
                '{"topic": "agent", "extension": "8001", "state": "paused", "reason": "培训"}'
            compact = '{"topic":"queue","queue":"12345","waiting":3}'  # from another node's writer
            await one.redis.publish(hotline.live.CHANNEL, compact)
            assert (await ws.receive(timeout=5)).data == compact
