"""The convenience-service directory's pure rules (便民服务企业库): how far a company is in
minutes (the 15-minute circle), and what a month's figures mean for it (加盟商考评).

    >>> round(minutes_away(28.68, 115.86, 28.70, 115.86, road_factor=1.4, kmh=20), 1)
    9.3
    >>> from hotline.public.config import Assessment
    >>> judge(MonthFigures(requests=4, confirmed=4, done=4, response_minutes=20, complaints=0,
    ...                    ratings=(5, 4)), Assessment(), failed_before=0).action
    'ok'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from hotline.public.config import Assessment

EARTH_KM = 6371.0088


def straight_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(a)))


def minutes_away(lat1: float, lon1: float, lat2: float, lon2: float, *, road_factor: float, kmh: float) -> float:
    """An estimate of the travel time: the straight line stretched by the county's road factor."""
    return straight_km(lat1, lon1, lat2, lon2) * road_factor / kmh * 60


@dataclass(frozen=True)
class MonthFigures:
    requests: int           # handed over in the month
    confirmed: int
    done: int
    response_minutes: float | None  # average from handing over to confirming
    complaints: int
    ratings: tuple[int, ...]

    @property
    def completion(self) -> float | None:
        return self.done / self.requests if self.requests else None

    @property
    def rating(self) -> float | None:
        return sum(self.ratings) / len(self.ratings) if self.ratings else None


Action = Literal["ok", "not_judged", "warned", "suspended"]


@dataclass(frozen=True)
class Verdict:
    action: Action
    failed: int             # months failed in a row, this one included
    reasons: tuple[str, ...]


def judge(f: MonthFigures, rules: Assessment, *, failed_before: int) -> Verdict:
    """The month's verdict: which limits it missed, and warn/suspend by how many months in a row."""
    if f.requests < rules.min_requests:
        return Verdict("not_judged", failed_before, ())
    reasons = []
    if f.rating is not None and f.rating < rules.min_rating:
        reasons.append(f"平均评分 {f.rating:.2f} 低于 {rules.min_rating}")
    if f.completion is not None and f.completion < rules.min_completion:
        reasons.append(f"完成率 {f.completion:.0%} 低于 {rules.min_completion:.0%}")
    if f.complaints > rules.max_complaints:
        reasons.append(f"投诉 {f.complaints} 次，超过 {rules.max_complaints} 次")
    if f.response_minutes is not None and f.response_minutes > rules.max_response_minutes:
        reasons.append(f"平均响应 {f.response_minutes:.0f} 分钟，超过 {rules.max_response_minutes:.0f} 分钟")
    if not reasons:
        return Verdict("ok", 0, ())
    failed = failed_before + 1
    if failed >= rules.suspend_after:
        return Verdict("suspended", failed, tuple(reasons))
    if failed >= rules.warn_after:
        return Verdict("warned", failed, tuple(reasons))
    return Verdict("ok", failed, tuple(reasons))
