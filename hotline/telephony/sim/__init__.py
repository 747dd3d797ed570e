"""The PBX simulator (`hotline pbx-sim`): an AMI server with call traffic, shaped like
the real Asterisk 22 traces. Used by tests, `serve --demo`, benchmarks and agent training."""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hotline.telephony.sim.pbx import Pbx
from hotline.telephony.sim.server import AmiServer
from hotline.telephony.sim.traffic import Traffic, TrafficGenerator

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


@dataclass
class Simulator:
    pbx: Pbx
    server: AmiServer
    traffic: TrafficGenerator

    @property
    def port(self) -> int:
        return self.server.port


@contextlib.asynccontextmanager
async def running_simulator(*, user: str, secret: str, host: str = "127.0.0.1", port: int = 0,
                            traffic: Traffic | None = None, speed: float = 1.0, survey: bool = True,
                            members: list[tuple[str, str]] | None = None, seed: int | None = None,
                            login_fail_delay: float = 1.0, answer_rate: float = 0.95) -> AsyncIterator[Simulator]:
    """A simulator listening on `host:port` (0: any free port), its traffic an owned task."""
    rng = random.Random(seed)
    traffic = traffic or Traffic()
    pbx = Pbx(speed=speed, members=members, survey=survey, rng=rng, legacy_lines=traffic.legacy_lines or ("12315",),
              answer_rate=answer_rate, back_from_auto_pause=30.0)
    server = AmiServer(pbx, user=user, secret=secret, host=host, port=port, login_fail_delay=login_fail_delay)
    await server.start()
    gen = TrafficGenerator(pbx, traffic, rng)
    task = asyncio.create_task(gen.run(), name="pbx-sim:traffic")
    try:
        yield Simulator(pbx, server, gen)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await server.stop(graceful=False)
        pbx.close()
