"""A KPI report as a table: headers (Chinese first, English with `lang="en"`), one row per
group, written as CSV or XLSX. Shared by `hotline report` and `/api/v1/reports/kpis`."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from hotline.domain.vocabulary import CHANNEL_NAMES
from hotline.reports.kpi import KPIS

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hotline.reports.service import Row
    from hotline.settings import Settings

GROUP_HEADERS = {None: ("范围", "Scope"), "department": ("部门", "Department"), "area": ("区域", "Area"),
                 "agent": ("话务员", "Agent"), "channel": ("渠道", "Channel"), "category": ("诉求类型", "Category"),
                 "legacy_line": ("原热线号码", "Legacy line"), "day": ("日期", "Day")}
ALL = ("全部", "All")


def headers(by: str | None, lang: str) -> list[str]:
    en = lang == "en"
    return [GROUP_HEADERS[by][en], *((k.en if en else k.zh) for k in KPIS)]


def group_name(settings: Settings, by: str | None, key: str, lang: str) -> str:
    en = lang == "en"
    if by is None:
        return ALL[en]
    if not key:
        return "（未填）" if not en else "(none)"
    if by in ("department", "area"):
        d = settings.department(key)
        return (d.name_en or d.name) if d and en else (d.name if d else key)
    if by == "category":
        c = next((c for c in settings.categories if c.code == key), None)
        return (c.name_en or c.name) if c and en else (c.name if c else key)
    if by == "channel" and key in CHANNEL_NAMES:
        return CHANNEL_NAMES[key][en]
    if by == "legacy_line" and (line := settings.legacy_line(key)) is not None:
        return f"{key} {(line.name_en or line.name) if en else line.name}"
    return key  # a day, an agent's id, or a code no longer configured


def cells(row: Row) -> list[float | int | None]:
    return [row.values.get(k.code) for k in KPIS]


def shown(value: float | int | None, kind: str) -> str:
    """A CSV cell: rates as percentages with two decimals, empty when there is nothing to divide. Pure.

    >>> shown(0.6667, "rate"), shown(None, "rate"), shown(12, "count"), shown(11.7, "seconds")
    ('66.67%', '', '12', '11.7')
    """
    if value is None:
        return ""
    if kind == "rate":
        return f"{value * 100:.2f}%"
    return str(value)


def to_csv(settings: Settings, rows: Sequence[Row], by: str | None, lang: str) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(headers(by, lang))
    for r in rows:
        w.writerow([group_name(settings, by, r.group, lang),
                    *(shown(v, k.kind) for v, k in zip(cells(r), KPIS, strict=True))])
    return buf.getvalue()


def to_xlsx(settings: Settings, rows: Sequence[Row], by: str | None, lang: str) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "KPI"
    ws.append(headers(by, lang))
    for r in rows:
        ws.append([group_name(settings, by, r.group, lang), *cells(r)])
    for col, k in enumerate(KPIS, start=2):  # rates as Excel percentages, so they sum and chart as numbers
        if k.kind == "rate":
            for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
                cell.number_format = "0.00%"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
