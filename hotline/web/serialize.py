"""Stored rows → API bodies, in the caller's language and with what the caller may see.

A department never sees who filed a confidential report (举报保密): the citizen, the
contacts' senders and the citizen's identity in the event log are withheld.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from hotline.domain.vocabulary import STATUS_NAMES, ActorKind, Status
from hotline.storage.orders import OrderHistory, is_overdue
from hotline.web import schemas as s
from hotline.workorders import Change, event_row

if TYPE_CHECKING:
    from datetime import datetime

    from hotline.settings import Settings
    from hotline.storage.models import OrderEvent, WorkOrder

HIDDEN = "（保密）"


def status_name(status: str, lang: Literal["zh", "en"]) -> str:
    try:
        zh, en = STATUS_NAMES[Status(status)]
    except ValueError:
        return status
    return en if lang == "en" else zh


def summary(o: WorkOrder, now: datetime, lang: Literal["zh", "en"]) -> s.OrderSummary:
    return s.OrderSummary(
        number=o.number, status=o.status, status_name=status_name(o.status, lang), channel=o.channel,
        title=o.title, category=o.category, subject=o.subject, area=o.area, urgency=o.urgency,
        confidential=o.confidential, legacy_line=o.legacy_line, lead_department=o.lead_department,
        sign_by=o.sign_by, reply_by=o.reply_by, overdue=is_overdue(o, now), created_at=o.created_at,
        updated_at=o.updated_at, version=o.version)


def event_out(e: OrderEvent, *, hide_citizen: bool) -> s.EventOut:
    citizen = e.actor_kind == ActorKind.CITIZEN.value and hide_citizen
    return s.EventOut(seq=e.seq, kind=e.kind, from_status=e.from_status, to_status=e.to_status,
                      actor_kind=e.actor_kind, actor_id=None if citizen else e.actor_id,
                      actor_name=HIDDEN if citizen else e.actor_name, at=e.at, data=e.data)


def detail(hist: OrderHistory, settings: Settings, now: datetime, lang: Literal["zh", "en"], *,
           for_department: str | None) -> s.OrderDetail:
    o = hist.order
    hide = for_department is not None and o.confidential
    names = {d.code: (d.name_en if lang == "en" and d.name_en else d.name) for d in settings.departments}
    base = summary(o, now, lang).model_dump()
    citizen = None if hide else s.CitizenOut(id=o.citizen_id, name=o.contact_name, phone=o.contact_phone)
    return s.OrderDetail(
        **base, description=o.description, address=o.address, latitude=o.latitude, longitude=o.longitude,
        citizen=citizen, rating=o.rating, reopen_count=o.reopen_count, merged_into=o.merged_into,
        call_id=None if for_department else o.call_id,
        assignments=[s.AssignmentOut(
            department=a.department_code, department_name=names.get(a.department_code, a.department_code),
            role=a.role, status=a.status, parent_department=a.parent_department, dispatched_at=a.dispatched_at,
            sign_by=a.sign_by, reply_by=a.reply_by, return_by=a.return_by, signed_at=a.signed_at,
            replied_at=a.replied_at, extended_days=a.extended_days, result=a.result,
            return_reason=a.return_reason) for a in o.assignments],
        events=[event_out(e, hide_citizen=hide) for e in hist.events],
        contacts=[s.ContactOut(id=c.id, channel=c.channel, sender=None if hide else c.sender, text=c.text,
                               received_at=c.received_at) for c in hist.contacts],
        attachments=[s.AttachmentOut(id=a.id, kind=a.kind, filename=a.filename, content_type=a.content_type,
                                     size=a.size, created_at=a.created_at) for a in hist.attachments])


def action_out(change: Change) -> s.ActionOut:
    o = change.order
    row = event_row(o.id, change.event, o.version)
    return s.ActionOut(number=o.number, status=o.status, version=o.version,
                       event=event_out(row, hide_citizen=False))
