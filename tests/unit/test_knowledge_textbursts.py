"""Hotspots by text, pure: a bigram is bursty by its share of the window against its share
of the baseline, so a busy hour of the usual complaints raises nothing, while one complaint
said many ways does, as one cluster."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hotline.knowledge.textbursts import Baseline, Said, TextThresholds, grams, text_bursts

NOW = datetime(2026, 11, 1, 8, tzinfo=UTC)
USUAL = ("建设路路灯不亮，请尽快处理", "小区垃圾没人清运，请尽快处理", "楼下烧烤油烟太大，希望尽快处理",
         "广场舞噪音扰民，希望相关部门尽快处理", "公交站点撤了不方便，请尽快处理")
GAS = ("楼道里一股煤气味，是不是燃气管漏了", "闻到很重的煤气味，燃气公司快来看看", "整栋楼都是煤气味道，怕出事",
       "煤气味很浓，燃气管道可能泄漏", "我们这一片都有煤气味")


def _said(texts: list[str], start: int = 0) -> list[Said]:
    return [Said(start + i, f"N{start + i}", NOW + timedelta(seconds=i), grams(t)) for i, t in enumerate(texts)]


def _baseline() -> tuple[Baseline, list[frozenset[str]]]:
    texts = [grams(USUAL[i % len(USUAL)]) for i in range(700)]
    return Baseline.of(texts), texts


def test_a_busy_hour_of_the_usual_complaints_is_no_hotspot() -> None:
    counts, texts = _baseline()
    window = _said([USUAL[i % len(USUAL)] for i in range(400)])  # ten times the usual hour
    assert text_bursts(window, counts, texts, TextThresholds()) == []


def test_one_complaint_said_many_ways_is_one_cluster() -> None:
    counts, texts = _baseline()
    window = _said([USUAL[i % len(USUAL)] for i in range(60)]) + _said([GAS[i % len(GAS)] for i in range(30)], 100)
    (burst,) = text_bursts(window, counts, texts, TextThresholds(), {100: GAS[0]})
    assert burst.count == 30 and set(burst.ids) == set(range(100, 130))
    assert "煤气" in burst.terms and burst.usual == 0
    # Below the count in the settings: nothing.
    assert text_bursts(window, counts, texts, TextThresholds(min_count=31)) == []
