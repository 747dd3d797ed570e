"""The telephony runtime of one `serve` process: stand by or consume, and the demo PBX.

`run()` is the owned background task. It keeps an action-only AMI session while another
process holds the consumer lock, and runs the consumer (tracker, live events, call desk)
while this one holds it. With `serve --demo` and no `HOTLINE_AMI_HOST`, it first starts
the PBX simulator in-process on an ephemeral loopback port, with agents 8001/8002 in the
queue and a gentle call rate.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
from typing import TYPE_CHECKING, Any

from aiohttp import web

from hotline.telephony.actions import Switchboard
from hotline.telephony.consumer import AmiConsumer
from hotline.telephony.journal import DeskJournal
from hotline.telephony.leader import Leadership, NoLock, PgAdvisoryLock, RedisLock
from hotline.telephony.link import AmiLink
from hotline.telephony.tracker import Tracker, TrackerConfig

if TYPE_CHECKING:
    from pathlib import Path

    from redis.asyncio import Redis
    from sqlalchemy.ext.asyncio import AsyncEngine

    from hotline.clock import Clock
    from hotline.live import LiveBus
    from hotline.metrics import Metrics
    from hotline.settings import Settings
    from hotline.telephony.config import TelephonySettings
    from hotline.telephony.desk import CallDesk

log = logging.getLogger(__name__)
BOARD_KEY = "hotline:telephony:board"
DEMO_MEMBERS = [("Local/8001@agents/n", "话务员 张敏"), ("Local/8002@agents/n", "话务员 李强")]


class Telephony:
    def __init__(self, config: TelephonySettings, settings: Settings, *, engine: AsyncEngine, redis: Redis | None,
                 clock: Clock, metrics: Metrics, live: LiveBus, desk: CallDesk) -> None:
        self.config, self.settings = config, settings
        self.engine, self.redis = engine, redis
        self.clock, self.metrics, self.live = clock, metrics, live
        self.switchboard = Switchboard(config)
        self.desk = desk
        self.consumer: AmiConsumer | None = None
        self.simulator: Any = None
        self.leading = False
        self.board_key = BOARD_KEY

    @property
    def tracker(self) -> Tracker | None:
        return self.consumer.tracker if self.consumer is not None and self.leading else None

    def tracker_config(self) -> TrackerConfig:
        c = self.config
        return TrackerConfig(inbound_contexts=frozenset(c.inbound_contexts),
                             transfer_contexts=frozenset({c.department_context, "departments"}),
                             recording_template=c.recording_template.replace("{dir}", c.recordings_dir),
                             wrapup_reason=c.wrapup_reason)

    def lock(self, where: str) -> Leadership:
        # Several hotlines may share one database (a schema each): each elects its own consumer.
        schema = self.settings.database.schema_
        where = f"{schema}:{where}" if schema else where
        if self.redis is not None:
            return RedisLock(self.redis, f"hotline:ami-consumer:{where}")
        if self.engine.dialect.name == "postgresql":
            return PgAdvisoryLock(self.engine, f"hotline:ami-consumer:{where}")
        return NoLock()

    def journal_path(self, host: str, port: int) -> Path:
        """One journal per Asterisk (and database schema): a take-over on this host replays it."""
        schema = self.settings.database.schema_ or "public"
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"desk-{schema}-{host}-{port}.jsonl")
        return self.settings.data_dir / "telephony" / name

    async def _share_board(self, board: dict[str, Any]) -> None:
        assert self.redis is not None
        await self.redis.set(self.board_key, json.dumps(board, ensure_ascii=False, default=str), ex=10)

    async def shared_board(self) -> dict[str, Any] | None:
        """The consuming node's board as it shared it (stand-by nodes with Redis)."""
        if self.redis is None:
            return None
        raw = await self.redis.get(self.board_key)
        return json.loads(raw) if raw else None

    async def run(self) -> None:
        ami = self.settings.ami
        if ami.host:
            await self._serve(ami.host, ami.port, ami.user, ami.secret or "")
            return
        from hotline.telephony.sim import running_simulator
        from hotline.telephony.sim.traffic import Traffic

        sim = self.config.simulator
        secret = ami.secret or secrets.token_urlsafe(12)
        traffic = Traffic(calls_per_minute=sim.calls_per_minute, repeat_callers=sim.repeat_callers,
                          legacy_share=sim.legacy_share, mean_talk=sim.mean_talk_seconds,
                          mean_patience=sim.mean_patience_seconds,
                          legacy_lines=tuple(x.number for x in self.settings.legacy_lines[:5]) or ("12315",))
        async with running_simulator(user=ami.user, secret=secret, traffic=traffic, survey=sim.survey,
                                     members=DEMO_MEMBERS, answer_rate=sim.answer_rate) as simulator:
            self.simulator = simulator
            simulator.pbx.globals["RECORDINGS"] = self.config.recordings_dir
            simulator.pbx.write_recordings = True
            log.info("demo: PBX simulator on 127.0.0.1:%d, %.1f calls/min", simulator.port, sim.calls_per_minute)
            await self._serve("127.0.0.1", simulator.port, ami.user, secret)

    async def _serve(self, host: str, port: int, user: str, secret: str) -> None:
        args: dict[str, Any] = {"host": host, "port": port, "user": user, "secret": secret}
        self.board_key = f"{BOARD_KEY}:{host}:{port}"
        lock = self.lock(f"{host}:{port}")
        while True:
            standby = AmiLink(**args, events=False, name="ami-actions")
            self.switchboard.link = standby
            waiting = asyncio.create_task(standby.run(), name="ami:standby")
            try:
                await lock.acquire()
            finally:
                waiting.cancel()
                await asyncio.gather(waiting, return_exceptions=True)
                await standby.close()
            log.info("telephony: this process is now the AMI consumer for %s:%d", host, port)
            self.consumer = AmiConsumer(args, Tracker(self.tracker_config()), clock=self.clock,
                                        metrics=self.metrics, live=self.live, desk=self.desk.handle,
                                        share_board=self._share_board if self.redis is not None else None,
                                        journal=DeskJournal(self.journal_path(host, port)))
            self.switchboard.link = self.consumer.link
            self.leading = True
            running = asyncio.create_task(self.consumer.run(), name="ami:consumer")
            keeping = asyncio.create_task(lock.keep(), name="ami:lock")
            try:
                done, _ = await asyncio.wait({running, keeping}, return_when=asyncio.FIRST_COMPLETED)
                if running in done:
                    running.result()
            finally:
                self.leading = False
                for t in (running, keeping):
                    t.cancel()
                await asyncio.gather(running, keeping, return_exceptions=True)
                with contextlib.suppress(Exception):
                    await lock.release()
            log.warning("telephony: gave up the AMI consumer for %s:%d; standing by", host, port)


TELEPHONY: web.AppKey[Telephony] = web.AppKey("telephony", Telephony)
