"""Building work-order commands that need more than the request: SLA deadlines from
the policy and the calendar, the department directory, the extension limits.

The web edge (agent API, department API) and the jobs call these; the state machine
stays pure because everything it needs arrives inside the command.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dispatch.sla import SlaRules, deadlines, extended_reply_by
from dispatch.workcalendar import WorkCalendar
from hotline.domain import workorder as wo
from hotline.errors import ValidationFailed
from hotline.settings import Settings
from hotline.storage.models import WorkOrder

# Fields an agent may correct on an open order, and how to check each.
EDITABLE = ("title", "description", "category", "subject", "area", "address", "latitude", "longitude",
            "urgency", "confidential", "legacy_line", "contact_name")


@dataclass(frozen=True)
class Context:
    settings: Settings
    calendar: WorkCalendar
    sla: SlaRules
    now: datetime

    def department(self, code: str, *, what: str = "部门") -> str:
        d = self.settings.department(code)
        if d is None:
            raise ValidationFailed(f"{what} {code!r} 不在部门目录中", code="unknown_department")
        return d.code

    def plan(self, order: WorkOrder, department: str) -> wo.Plan:
        category = order.category or "other"
        dl = deadlines(self.sla, self.calendar, category, order.urgency, self.now)
        return wo.Plan(department, dl.sign_by, dl.reply_by, dl.return_by)


def dispatch(ctx: Context, order: WorkOrder, actor: wo.Actor, lead: str, assisting: Sequence[str] = (),
             note: str = "", reason: str = "") -> wo.Dispatch:
    if not order.category:
        raise ValidationFailed("派单前请先选择诉求类型", code="category_required")
    lead = ctx.department(lead, what="主办部门")
    plans = tuple(ctx.plan(order, ctx.department(code, what="协办部门")) for code in assisting)
    return wo.Dispatch(actor, ctx.plan(order, lead), plans, note, reason)


def sub_dispatch(ctx: Context, order: WorkOrder, actor: wo.Actor, department: str, to: str,
                 note: str = "") -> wo.SubDispatch:
    target = ctx.settings.department(to)
    if target is None:
        raise ValidationFailed(f"下派单位 {to!r} 不在部门目录中", code="unknown_department")
    return wo.SubDispatch(actor, department, ctx.plan(order, target.code), target.parent, note)


def request_extension(ctx: Context, actor: wo.Actor, department: str, working_days: int,
                      reason: str) -> wo.RequestExtension:
    return wo.RequestExtension(actor, department, working_days, reason, ctx.sla.extension_max_working_days)


def decide_extension(ctx: Context, state: wo.OrderState, actor: wo.Actor, approve: bool,
                     note: str = "") -> wo.DecideExtension:
    new_reply_by = None
    lead = state.lead()
    if approve and lead is not None and lead.reply_by is not None and state.pending_extension_days:
        new_reply_by = extended_reply_by(ctx.calendar, lead.reply_by, state.pending_extension_days)
    return wo.DecideExtension(actor, approve, note, new_reply_by)


def update_details(ctx: Context, order: WorkOrder, actor: wo.Actor, fields: Mapping[str, Any]) -> wo.UpdateDetails:
    s = ctx.settings
    checks = {"category": {c.code for c in s.categories}, "urgency": {u.code for u in s.urgencies},
              "subject": s.subject_codes(), "area": s.area_codes(),
              "legacy_line": {line.number for line in s.legacy_lines}}
    changes: dict[str, Any] = {}
    for key, value in fields.items():
        if key not in EDITABLE:
            raise ValidationFailed(f"字段 {key} 不可修改", code="field_not_editable")
        if key in checks and value is not None and value not in checks[key]:
            raise ValidationFailed(f"{key}: 未知的取值 {value!r}", code=f"unknown_{key}")
        if getattr(order, key) != value:
            changes[key] = value
    return wo.UpdateDetails(actor, changes)


def apply_details(order: WorkOrder, changes: Mapping[str, Any]) -> None:
    """Write an accepted `updated` event's changes onto the row."""
    for key, value in changes.items():
        if key in EDITABLE:
            setattr(order, key, value)
