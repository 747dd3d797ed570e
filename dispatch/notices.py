"""What a department is told when its work order changes (派单通知, 撤回, 催办 ...).

`department_notices` is pure: from the state before and after one change it lists who
gets which webhook event. `order_payload` renders the order the way a department may
see it: never the identity of a confidential reporter (举报人保密).

Webhook events (the `X-Hotline-Event` header):

    workorder.dispatched        a new assignment (主办/协办, or 下派 to a village)
    workorder.recalled          an assignment withdrawn (re-dispatched, merged, lead replied)
    workorder.return_accepted   退单 accepted by the hotline
    workorder.return_refused    退单 refused: the order is back with the department
    workorder.extension_approved / workorder.extension_refused   延期审批结果
    workorder.updated           the citizen added information, or the agent corrected details
    workorder.closed            归档, with the citizen's rating
    workorder.reminder / workorder.overdue / workorder.escalated   SLA timers (see timers.py)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hotline.domain.vocabulary import AssignmentStatus
from hotline.outbox import message_values
from hotline.redaction import Audience, citizen_block, redact_data, redact_text
from hotline.storage.models import Assignment, OutboxMessage, WorkOrder

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy.ext.asyncio import AsyncSession

    from hotline.domain import workorder as wo
    from hotline.settings import Settings


@dataclass(frozen=True)
class Notice:
    department: str
    event: str
    assignment: int | None = None  # index into the order's assignments, for role and deadlines
    data: Mapping[str, Any] = field(default_factory=dict)


def _withdrawn(before: wo.OrderState, after: wo.OrderState) -> list[int]:
    return [i for i, a in enumerate(before.assignments)
            if a.active and i < len(after.assignments) and after.assignments[i].status is AssignmentStatus.WITHDRAWN]


def department_notices(before: wo.OrderState, after: wo.OrderState, event: wo.Event) -> list[Notice]:
    """The notices one accepted command causes. Departments are not told what they did themselves."""
    kind = event.kind
    out: list[Notice] = []
    added = range(len(before.assignments), len(after.assignments))
    if kind in ("dispatched", "sub_dispatched"):
        for i in added:
            a = after.assignments[i]
            out.append(Notice(a.department, "workorder.dispatched", i,
                              {k: v for k, v in (("note", event.data.get("note")),
                                                 ("reason", event.data.get("reason"))) if v}))
    newly = {after.assignments[i].department for i in added}
    for i in _withdrawn(before, after):
        code = after.assignments[i].department
        if code not in newly:  # re-dispatched to the same department: "dispatched" says it all
            out.append(Notice(code, "workorder.recalled", i, {"because": kind, **(
                {"into": event.data["into"]} if kind == "merged" else {})}))
    lead_index = _lead_index(after)
    if kind in ("return_accepted", "return_refused", "extension_approved", "extension_refused"):
        dept = event.data.get("department")
        if dept:
            data = {k: event.data[k] for k in ("note", "working_days", "reply_by") if event.data.get(k) not in (None, "")}
            out.append(Notice(dept, f"workorder.{kind}", lead_index, data))
    elif kind in ("contact_appended", "updated"):
        data = ({"contact_id": event.data.get("contact_id"), "channel": event.data.get("channel")}
                if kind == "contact_appended" else {"fields": sorted(event.data.get("changes", {}))})
        for i, a in enumerate(after.assignments):
            if a.active:
                out.append(Notice(a.department, "workorder.updated", i, {"what": kind, **data}))
    elif kind == "closed" and lead_index is not None:
        lead = after.assignments[lead_index]
        if lead.status is AssignmentStatus.REPLIED:
            out.append(Notice(lead.department, "workorder.closed", lead_index, {"rating": after.rating}))
    return out


def _lead_index(state: wo.OrderState) -> int | None:
    lead = state.lead()
    return next((i for i, a in enumerate(state.assignments) if a is lead), None) if lead else None


def order_payload(order: Any, assignment: Any, *, public_url: str | None) -> dict[str, Any]:
    """The order as its department sees it (JSON-ready). Confidential reports carry no citizen."""
    def iso(t: datetime | None) -> str | None:
        return t.isoformat() if t else None

    body: dict[str, Any] = {
        "number": order.number, "status": order.status, "version": order.version, "channel": order.channel,
        "title": redact_text(order.title, confidential=bool(order.confidential), audience=Audience.DEPARTMENT),
        "category": order.category,
        "description": redact_text(order.description, confidential=bool(order.confidential),
                                   audience=Audience.DEPARTMENT, names=(order.contact_name,)),
        "subject": order.subject, "area": order.area, "address": order.address,
        "latitude": order.latitude, "longitude": order.longitude, "urgency": order.urgency,
        "confidential": order.confidential, "legacy_line": order.legacy_line,
        "created_at": iso(order.created_at),
        "citizen": citizen_block(order.contact_name, order.contact_phone, confidential=bool(order.confidential),
                                 audience=Audience.DEPARTMENT),
    }
    if assignment is not None:
        body["assignment"] = {
            "department": assignment.department_code, "role": assignment.role, "status": assignment.status,
            "parent_department": assignment.parent_department, "sign_by": iso(assignment.sign_by),
            "reply_by": iso(assignment.reply_by), "return_by": iso(assignment.return_by)}
    if public_url:
        body["url"] = f"{public_url.rstrip('/')}/api/v1/department/orders/{order.number}"
    return body


class NoticeWriter:
    """Turns notices into outbox rows, in the caller's transaction.

    Only departments with a webhook get a row; the others read the same news from the
    department API and page (their orders, deadlines and 催办 notices).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def wants(self, department: str) -> bool:
        d = self.settings.department(department)
        return bool(d and d.webhook.url)

    def values(self, order: Any, assignment: Any, department: str, event: str, data: Mapping[str, Any],
               now: datetime) -> dict[str, Any] | None:
        """The outbox row for one notice, or None when the department has no webhook.

        `order` and `assignment` may be ORM objects or result rows with the same columns."""
        if not self.wants(department):
            return None
        payload = {"occurred_at": now.isoformat(), "department": department,
                   "workorder": order_payload(order, assignment, public_url=self.settings.http.public_url),
                   "data": redact_data(data, confidential=bool(order.confidential), audience=Audience.DEPARTMENT)}
        # Order is kept per work order *and* receiver: one department's outage never holds
        # back what another department is told about the same order.
        return message_values(kind="webhook", target=department, event=event, payload=payload, now=now,
                              work_order_id=order.id, ordering_key=f"webhook:{department}:{order.id}")

    def head_sms(self, order: Any, department: str, info: Mapping[str, Any], now: datetime) -> list[dict[str, Any]]:
        """Outbox rows (kind "sms") to the department's heads for a fired timer, when Twilio
        is configured: an overdue order must reach a person, not only the department's system."""
        tw = self.settings.twilio
        d = self.settings.department(department)
        if d is None or not (tw.account_sid and tw.auth_token and tw.from_number):
            return []
        text = (f"【{self.settings.hotline.name}】工单 {order.number}「{order.title}」{info.get('timer_name', '')}"
                f"（{info.get('level_name', '')}），办理时限 {_local(info.get('deadline'), self.settings)}，请督促办理。")
        return [message_values(kind="sms", target=c.phone, event="escalation_sms",
                               payload={"number": order.number, "text": text, "department": department,
                                        "timer": info.get("timer")},
                               now=now, work_order_id=order.id, ordering_key=f"sms:{department}:{order.id}")
                for c in d.contacts if c.head and c.phone]

    def write(self, session: AsyncSession, order: WorkOrder, assignment: Assignment | None, department: str,
              event: str, data: Mapping[str, Any], now: datetime) -> OutboxMessage | None:
        values = self.values(order, assignment, department, event, data, now)
        if values is None:
            return None
        message = OutboxMessage(**values)
        session.add(message)
        return message


def _local(iso: Any, settings: Settings) -> str:
    """A deadline as the head reads it: local date and time, or empty."""
    if not iso:
        return "（未设）"
    try:
        return datetime.fromisoformat(str(iso)).astimezone(settings.tz).strftime("%m-%d %H:%M")
    except ValueError:
        return str(iso)
