"""Reports as one module: the KPIs (docs/kpi.md) over the event log and the call records.

It reads telephony's `calls` table for the call KPIs (MODULE_DEPENDENCIES: reports →
telephony, its models only); everything else is the core's event log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hotline.module import Module
from hotline.reports.cli import add_commands

if TYPE_CHECKING:
    from hotline.ports import Hotline
    from hotline.reports.service import Reports


def install(h: Hotline) -> Reports:
    from hotline.reports import api
    from hotline.reports.service import REPORTS, Reports

    reports = Reports(h.sessions, h.settings.tz)
    h.share(REPORTS, reports)
    h.add_api(api.routes)
    return reports


MODULE = Module(name="reports", package="hotline.reports", install=install, commands=add_commands)
