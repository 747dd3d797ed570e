"""Call traffic for the simulator: citizens calling 12345 and the legacy lines.

Arrivals are a Poisson process at `calls_per_minute`; callers are realistic Chinese
mobile numbers (real carrier prefixes), a share of them calling again; each caller has
a patience (how long they wait in the queue before hanging up) and, once answered, a
talk time; after the agent hangs up some key in a satisfaction rating.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hotline.telephony.sim.pbx import Pbx

log = logging.getLogger(__name__)

# 中国移动 / 联通 / 电信 / 广电 mobile prefixes.
PREFIXES = ("134", "135", "136", "137", "138", "139", "147", "150", "151", "152", "157", "158", "159", "178",
            "182", "183", "187", "188", "198", "130", "131", "132", "155", "156", "166", "175", "176", "185",
            "186", "133", "149", "153", "173", "177", "180", "181", "189", "191", "199", "192")


def mobile_number(rng: random.Random) -> str:
    return rng.choice(PREFIXES) + f"{rng.randrange(10 ** 8):08d}"


@dataclass
class Traffic:
    calls_per_minute: float = 6.0
    repeat_callers: float = 0.2
    legacy_share: float = 0.15
    legacy_lines: tuple[str, ...] = ("12315", "12333", "12369")
    mean_talk: float = 90.0
    mean_patience: float = 60.0
    survey_share: float = 0.6
    limit: int | None = None  # stop after this many calls


class TrafficGenerator:
    def __init__(self, pbx: Pbx, traffic: Traffic, rng: random.Random | None = None) -> None:
        self.pbx, self.traffic = pbx, traffic
        self.rng = rng or random.Random()
        self.seen: list[str] = []
        self.placed = 0

    def next_call(self) -> None:
        t, rng = self.traffic, self.rng
        if self.seen and rng.random() < t.repeat_callers:
            caller = rng.choice(self.seen)
        else:
            caller = mobile_number(rng)
            self.seen.append(caller)
        line = rng.choice(t.legacy_lines) if t.legacy_lines and rng.random() < t.legacy_share else "12345"
        talk = max(5.0, rng.lognormvariate(0, 0.5) * t.mean_talk)
        patience = max(3.0, rng.expovariate(1 / t.mean_patience))
        survey = rng.choice((5, 5, 5, 4, 4, 3, 2, 1)) if rng.random() < t.survey_share else None
        self.pbx.call_in(line, caller, patience=patience, talk=talk, survey=survey)
        self.placed += 1

    async def run(self) -> None:
        """Until cancelled (or `limit` calls): one arrival after another."""
        t = self.traffic
        while t.limit is None or self.placed < t.limit:
            if t.calls_per_minute <= 0:
                await asyncio.sleep(1)
                continue
            gap = self.rng.expovariate(t.calls_per_minute / 60.0)
            await asyncio.sleep(gap / self.pbx.speed)
            self.next_call()
