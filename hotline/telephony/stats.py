"""The day's call figures of the wallboard (pure): offered, answered, abandoned, the answer
rate, the share answered within 15 s (GB/T 33358: 15秒接通率 ≥ 95%), average wait and
handle time, and the same per hour of the local day."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hotline.telephony.calls import Outcome

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime, tzinfo

ANSWERED = frozenset({Outcome.ANSWERED.value, Outcome.TRANSFERRED.value})
WITHIN_SECONDS = 15


@dataclass(frozen=True)
class QueuedCall:
    """An inbound call that reached a queue (after-hours and fax calls never do)."""

    started_at: datetime
    outcome: str
    wait_seconds: int | None
    talk_seconds: int | None


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _mean(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def day_figures(calls: Iterable[QueuedCall], tz: tzinfo) -> dict[str, Any]:
    hours = [{"hour": h, "offered": 0, "answered": 0, "abandoned": 0} for h in range(24)]
    offered = answered = abandoned = within = 0
    waits: list[int] = []
    talks: list[int] = []
    for c in calls:
        row = hours[c.started_at.astimezone(tz).hour]
        offered += 1
        row["offered"] += 1
        if c.outcome in ANSWERED:
            answered += 1
            row["answered"] += 1
            wait = c.wait_seconds or 0
            waits.append(wait)
            within += wait <= WITHIN_SECONDS
            if c.talk_seconds is not None:
                talks.append(c.talk_seconds)
        elif c.outcome == Outcome.ABANDONED.value:
            abandoned += 1
            row["abandoned"] += 1
    return {"offered": offered, "answered": answered, "abandoned": abandoned,
            "answer_rate": _share(answered, offered), "within_15s": _share(within, offered),
            "avg_wait_seconds": _mean(waits), "avg_handle_seconds": _mean(talks), "hours": hours}
