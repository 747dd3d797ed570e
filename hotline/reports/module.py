"""Reports as one module: the KPIs (docs/kpi.md) over the event log and the call records.

It reads telephony's `calls` table for the call KPIs (MODULE_DEPENDENCIES: reports →
telephony, its models only); everything else is the core's event log.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from hotline.module import Module, Summary
from hotline.ports import Link
from hotline.reports.cli import add_commands
from hotline.settings import read_section

if TYPE_CHECKING:
    from hotline.ports import Hotline
    from hotline.reports.assessment import AssessmentConfig
    from hotline.reports.service import Reports
    from hotline.settings import Settings


def install(h: Hotline) -> Reports:
    from hotline.reports import api, page
    from hotline.reports.service import REPORTS, Reports

    reports = Reports(h.sessions, h.settings.tz, h.settings, assessment_config(h.settings))
    h.share(REPORTS, reports)
    h.add_api(api.routes)
    h.add_routes(page.install)
    h.add_link(Link("/reports", "统计报表（考核指标、图表、导出）", "Reports (KPIs, charts, export)", "supervisors", 13))
    return reports


def assessment_config(settings: Settings) -> AssessmentConfig:
    from hotline.reports.assessment import AssessmentConfig

    return read_section(settings, "assessment", AssessmentConfig, "docs/kpi.md")


def check(settings: Settings) -> Summary:
    cfg = assessment_config(settings)
    return Summary((f"assessment: {len(cfg.weights)} weighted KPIs, {len(cfg.deductions)} deductions",))


MODULE = Module(name="reports", package="hotline.reports", install=install, sections=("assessment",), check=check,
                models=("hotline.reports.models",), migrations=Path(__file__).resolve().parent / "migrations",
                commands=add_commands)
