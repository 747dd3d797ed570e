"""Building the work-order commands that need dispatch's knowledge: SLA deadlines from the
policy and the working-day calendar, the department directory, the extension limits.

Dispatch's order actions (`dispatch.actions`, the department API) and the auto-dispatch
hook call these; the state machine stays pure because everything it needs arrives inside
the command.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dispatch.sla import SlaRules, deadlines, extended_reply_by
from hotline.domain import workorder as wo
from hotline.errors import ValidationFailed

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from dispatch.workcalendar import WorkCalendar
    from hotline.settings import Settings
    from hotline.storage.models import WorkOrder


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
