"""The directory's pure rules: minutes away (the 15-minute circle) and the monthly verdict."""

from __future__ import annotations

import pytest

from hotline.public.circle import MonthFigures, judge, minutes_away, straight_km
from hotline.public.config import Assessment


def test_a_kilometre_north_is_a_kilometre_and_the_road_factor_stretches_it() -> None:
    assert straight_km(28.0, 115.0, 28.0 + 1 / 111.195, 115.0) == pytest.approx(1.0, abs=0.001)
    assert minutes_away(28.0, 115.0, 28.0 + 1 / 111.195, 115.0, road_factor=1.5, kmh=30) == pytest.approx(3.0, abs=0.01)


def f(**kw: object) -> MonthFigures:
    base: dict[str, object] = {"requests": 5, "confirmed": 5, "done": 5, "response_minutes": 20.0, "complaints": 0,
                               "ratings": (5, 4, 4)}
    return MonthFigures(**{**base, **kw})  # type: ignore[arg-type]


@pytest.mark.parametrize(("figures", "before", "action", "failed"), [
    (f(), 0, "ok", 0),
    (f(), 1, "ok", 0),                                   # a good month clears the count
    (f(ratings=(2, 3)), 0, "warned", 1),                 # rating 2.5 < 3.5
    (f(done=3), 0, "warned", 1),                         # completion 60% < 80%
    (f(complaints=3), 0, "warned", 1),
    (f(response_minutes=61.0), 0, "warned", 1),
    (f(ratings=(1,)), 1, "suspended", 2),                # the second failed month in a row
    (f(requests=0, confirmed=0, done=0, ratings=(), response_minutes=None), 1, "not_judged", 1),
])
def test_the_monthly_verdict(figures: MonthFigures, before: int, action: str, failed: int) -> None:
    v = judge(figures, Assessment(), failed_before=before)
    assert (v.action, v.failed) == (action, failed)
    assert bool(v.reasons) == (action in ("warned", "suspended"))


def test_an_outbox_kind_has_one_sender() -> None:
    """Public's press messages once took channels' kind `media` and its vendor-media fetches."""
    from hotline.outbox import Outbox

    outbox = Outbox(None, None)  # type: ignore[arg-type]
    outbox.register("press", object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="press"):
        outbox.register("press", object())  # type: ignore[arg-type]
