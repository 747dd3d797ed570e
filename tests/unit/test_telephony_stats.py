"""The wallboard's day figures (hotline.telephony.stats): rates over the calls offered to the
queue, the 15-second share, averages over the answered ones, local hours."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hotline.telephony.stats import QueuedCall, day_figures

SH = ZoneInfo("Asia/Shanghai")


def _at(hour: int) -> datetime:
    return datetime(2026, 12, 1, hour, 5, tzinfo=SH).astimezone(UTC)


def test_day_figures() -> None:
    calls = [QueuedCall(_at(9), "answered", 5, 60), QueuedCall(_at(9), "answered", 15, 120),
             QueuedCall(_at(9), "transferred", 40, 30), QueuedCall(_at(10), "abandoned", 70, None),
             QueuedCall(_at(23), "overflowed", 120, None)]
    f = day_figures(calls, SH)
    assert (f["offered"], f["answered"], f["abandoned"]) == (5, 3, 1)
    assert f["answer_rate"] == 0.6
    assert f["within_15s"] == 0.4  # 15 s exactly counts; the denominator is every call offered
    assert f["avg_wait_seconds"] == 20.0 and f["avg_handle_seconds"] == 70.0
    assert f["hours"][9] == {"hour": 9, "offered": 3, "answered": 3, "abandoned": 0}  # local hours, not UTC
    assert f["hours"][10]["abandoned"] == 1 and f["hours"][23]["offered"] == 1


def test_no_calls_no_rates() -> None:
    f = day_figures([], SH)
    assert f["answer_rate"] is None and f["within_15s"] is None and f["avg_wait_seconds"] is None
    assert len(f["hours"]) == 24
