"""The monthly department assessment (考评): a score from weighted KPIs minus deductions,
ranked within the department's tier (county bureaus, towns/streets, villages/communities).

    score = 100 × Σ w·s / Σ w  −  Σ points × count,   at least 0

over the KPIs the department has a value for, where s is the rate (higher is better) or
1 − rate for the rates where lower is better (退单率, 重办率, 延期率). Weights and
deductions come from the `assessment:` section (docs/kpi.md). Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from hotline.reports.kpi import BY_CODE
from hotline.settings import ConfigModel

if TYPE_CHECKING:
    from collections.abc import Mapping

LOWER_IS_BETTER = frozenset({"return_rate", "reopen_rate", "extension_rate"})
DEDUCTIBLE = {"return_refused": "推诿扯皮（退单被驳回）", "reopened": "重办"}
TIERS = ("county", "town", "village")


class AssessmentConfig(ConfigModel):
    """`assessment:` the weights of the KPIs (any scale; they are normalised) and the points
    deducted per event."""

    weights: dict[str, float] = Field(default_factory=lambda: {
        "on_time_sign_rate": 15.0, "on_time_completion_rate": 25.0, "return_rate": 10.0, "reopen_rate": 10.0,
        "resolution_rate": 15.0, "satisfaction_rate": 25.0})
    deductions: dict[str, float] = Field(default_factory=lambda: {"return_refused": 2.0, "reopened": 1.0})

    @field_validator("weights")
    @classmethod
    def _rates(cls, v: dict[str, float]) -> dict[str, float]:
        for code, w in v.items():
            if code not in BY_CODE or BY_CODE[code].kind != "rate":
                rates = ", ".join(k for k, d in BY_CODE.items() if d.kind == "rate")
                raise ValueError(f"{code!r} is not a rate KPI; use one of {rates}")
            if w < 0:
                raise ValueError(f"{code}: a weight is not negative")
        if not any(v.values()):
            raise ValueError("at least one weight above 0")
        return v

    @field_validator("deductions")
    @classmethod
    def _deductible(cls, v: dict[str, float]) -> dict[str, float]:
        for code, points in v.items():
            if code not in DEDUCTIBLE:
                raise ValueError(f"{code!r} cannot be deducted for; use one of {', '.join(DEDUCTIBLE)}")
            if points < 0:
                raise ValueError(f"{code}: points are not negative")
        return v


@dataclass(frozen=True)
class Score:
    department: str
    tier: str
    score: float
    kpi_points: float
    deducted: float
    rank: int = 0


def score(cfg: AssessmentConfig, values: Mapping[str, float | int | None]) -> tuple[float, float, float] | None:
    """(score, KPI points, deducted) of one department, or None with no KPI to score.

    >>> cfg = AssessmentConfig(weights={"on_time_sign_rate": 1, "return_rate": 1}, deductions={"reopened": 1})
    >>> score(cfg, {"on_time_sign_rate": 0.5, "return_rate": 0.25, "reopened": 2})
    (60.5, 62.5, 2.0)
    """
    total = points = 0.0
    for code, w in cfg.weights.items():
        v = values.get(code)
        if v is None or not w:
            continue
        total += w
        points += w * ((1 - float(v)) if code in LOWER_IS_BETTER else float(v))
    if not total:
        return None
    kpi_points = round(100 * points / total, 2)
    deducted = round(sum(p * float(values.get(code) or 0) for code, p in cfg.deductions.items()), 2)
    return max(0.0, round(kpi_points - deducted, 2)), kpi_points, deducted


def ranked(scores: list[Score]) -> list[Score]:
    """Ranked within each tier, best first; equal scores share a rank. Pure."""
    out: list[Score] = []
    for tier in TIERS:
        rows = sorted((s for s in scores if s.tier == tier), key=lambda s: (-s.score, s.department))
        rank, last = 0, None
        for i, s in enumerate(rows, start=1):
            if s.score != last:
                rank, last = i, s.score
            out.append(Score(s.department, s.tier, s.score, s.kpi_points, s.deducted, rank))
    return out
