"""The web process's outbox and timer loops on a PostgreSQL that `hotline db upgrade` has not
reached yet: one clear warning each, no traceback per round, and they resume by themselves
once the schema is there."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import pytest

from dispatch.service import DispatchService
from hotline.outbox import enqueue
from hotline.root import open_hotline
from tests.conftest import make_settings

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from hotline.storage.models import OutboxMessage

pytestmark = pytest.mark.pg


class Rounds:
    """Counts the rounds a loop ran (failed or not) and wakes the test after `want` of them."""

    def __init__(self, fn: Callable[..., Awaitable[Any]]) -> None:
        self.fn = fn
        self.count = 0
        self.want = 0
        self.reached = asyncio.Event()

    async def __call__(self, *args: Any, **kw: Any) -> Any:
        try:
            return await self.fn(*args, **kw)
        finally:
            self.count += 1
            if self.count >= self.want:
                self.reached.set()

    async def wait_for(self, more: int) -> None:
        self.want, self.reached = self.count + more, asyncio.Event()
        async with asyncio.timeout(30):
            await self.reached.wait()


async def test_loops_wait_quietly_until_the_schema_exists(tmp_path, pg_schema, clock, caplog):
    settings = make_settings(tmp_path, database="pg", schema=pg_schema,
                             extra_yaml="delivery: {poll_seconds: 0.02}\nescalation: {tick_seconds: 0.02}\n")
    async with open_hotline(settings, clock=clock) as h:
        escalation = h.module(DispatchService).escalation
        outbox_rounds = Rounds(h.outbox.deliver_due)
        timer_rounds = Rounds(escalation.tick)
        h.outbox.deliver_due = outbox_rounds  # type: ignore[method-assign]
        escalation.tick = timer_rounds  # type: ignore[method-assign]
        delivered = asyncio.Event()

        class Sender:
            async def send(self, message: OutboxMessage) -> None:
                delivered.set()

        h.outbox.register("test", Sender())
        caplog.set_level(logging.INFO)
        tasks = [asyncio.create_task(h.background[name]()) for name in ("outbox", "timers")]
        try:
            await asyncio.gather(outbox_rounds.wait_for(5), timer_rounds.wait_for(5))
            waiting = [r for r in caplog.records if r.levelno >= logging.WARNING]
            assert sorted(r.getMessage().split(":")[0] for r in waiting) == ["escalation", "outbox"], waiting
            assert all(r.levelno == logging.WARNING and r.exc_info is None for r in waiting)
            assert all("the database is not migrated yet" in r.getMessage()
                       and "hotline db upgrade" in r.getMessage() for r in waiting)

            await h.schema.upgrade(h.engine)
            async with h.sessions() as session, session.begin():
                enqueue(session, kind="test", target="t", event="ping", payload={}, now=clock())
            await h.outbox.nudge()
            async with asyncio.timeout(30):
                await delivered.wait()
            await timer_rounds.wait_for(2)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    resumed = sorted(r.getMessage() for r in caplog.records if "resuming" in r.getMessage())
    assert resumed == ["escalation: timer tick: the database is migrated; resuming",
                       "outbox: delivery: the database is migrated; resuming"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
