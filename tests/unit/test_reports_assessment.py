"""The assessment's arithmetic and its settings, without a database."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hotline.reports.assessment import AssessmentConfig, Score, ranked, score
from hotline.reports.kpi import figures
from hotline.reports.service import month_days


def test_score_weights_lower_is_better_and_deductions() -> None:
    cfg = AssessmentConfig(weights={"satisfaction_rate": 3, "reopen_rate": 1}, deductions={"return_refused": 5})
    # 3 × 0.8 + 1 × (1 − 0.2) = 3.2 of 4 → 80; two refused returns → −10.
    assert score(cfg, {"satisfaction_rate": 0.8, "reopen_rate": 0.2, "return_refused": 2}) == (70.0, 80.0, 10.0)
    assert score(cfg, {"satisfaction_rate": None, "reopen_rate": None}) is None  # nothing to score
    assert score(cfg, {"satisfaction_rate": 0.0, "return_refused": 40})[0] == 0.0  # never below 0


def test_ranked_within_tier_with_ties() -> None:
    rows = ranked([Score("a", "town", 80, 80, 0), Score("b", "town", 90, 90, 0), Score("c", "town", 80, 80, 0),
                   Score("x", "county", 50, 50, 0)])
    assert [(s.department, s.rank) for s in rows] == [("x", 1), ("b", 1), ("a", 2), ("c", 2)]


def test_settings_name_what_is_wrong() -> None:
    with pytest.raises(ValidationError, match="not a rate KPI"):
        AssessmentConfig(weights={"calls_offered": 1})
    with pytest.raises(ValidationError, match="cannot be deducted"):
        AssessmentConfig(deductions={"late": 1})
    with pytest.raises(ValidationError, match="at least one weight"):
        AssessmentConfig(weights={"satisfaction_rate": 0})


def test_rates_are_none_without_a_denominator_and_months_have_their_days() -> None:
    f = figures({"ratings": 3, "ratings_satisfied": 2, "signs": 0})
    assert (f["satisfaction_rate"], f["on_time_sign_rate"]) == (0.6667, None)
    assert month_days("2026-02") == (month_days("2026-02")[0], month_days("2026-02")[0].replace(day=28))
    assert month_days("2026-12")[1].isoformat() == "2026-12-31"
    with pytest.raises(ValueError):
        month_days("2026-1")
