"""Stored rows → API bodies, in the caller's language and with what the caller may see.

A department never sees who filed a confidential report (举报保密): the citizen, the
contacts' senders, and every person field of the event log (the actor, an agent's
correction of `contact_name` ...) are withheld by `hotline.redaction`, the one step that
decides it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from hotline.domain.vocabulary import STATUS_NAMES, Status
from hotline.redaction import (
    Audience,
    attachment_name,
    citizen_block,
    hides_person,
    redact_actor,
    redact_data,
    redact_text,
)
from hotline.storage.orders import OrderHistory, is_overdue
from hotline.web import schemas as s
from hotline.workorders import Change, event_row

if TYPE_CHECKING:
    from datetime import datetime

    from hotline.settings import Settings
    from hotline.storage.models import OrderEvent, WorkOrder


def status_name(status: str, lang: Literal["zh", "en"]) -> str:
    try:
        zh, en = STATUS_NAMES[Status(status)]
    except ValueError:
        return status
    return en if lang == "en" else zh


def summary(o: WorkOrder, now: datetime, lang: Literal["zh", "en"], *,
            audience: Audience = Audience.STAFF) -> s.OrderSummary:
    # The default title is the start of the citizen's words: masked like them.
    return s.OrderSummary(
        number=o.number, status=o.status, status_name=status_name(o.status, lang), channel=o.channel,
        title=redact_text(o.title, confidential=bool(o.confidential), audience=audience), category=o.category, subject=o.subject, area=o.area, urgency=o.urgency,
        confidential=o.confidential, legacy_line=o.legacy_line, lead_department=o.lead_department,
        sign_by=o.sign_by, reply_by=o.reply_by, overdue=is_overdue(o, now), created_at=o.created_at,
        updated_at=o.updated_at, version=o.version)


def event_out(e: OrderEvent, *, confidential: bool, audience: Audience) -> s.EventOut:
    actor_id, actor_name = redact_actor(e.actor_kind, e.actor_id, e.actor_name, confidential=confidential,
                                        audience=audience)
    return s.EventOut(seq=e.seq, kind=e.kind, from_status=e.from_status, to_status=e.to_status,
                      actor_kind=e.actor_kind, actor_id=actor_id, actor_name=actor_name, at=e.at,
                      data=redact_data(e.data, confidential=confidential, audience=audience))


def detail(hist: OrderHistory, settings: Settings, now: datetime, lang: Literal["zh", "en"], *,
           for_department: str | None) -> s.OrderDetail:
    o = hist.order
    audience = Audience.STAFF if for_department is None else Audience.DEPARTMENT
    confidential = bool(o.confidential)
    hide = hides_person(confidential=confidential, audience=audience)
    names_known = (o.contact_name,)
    names = {d.code: (d.name_en if lang == "en" and d.name_en else d.name) for d in settings.departments}
    base = summary(o, now, lang, audience=audience).model_dump()
    block = citizen_block(o.contact_name, o.contact_phone, confidential=confidential, audience=audience)
    citizen = None if block is None else s.CitizenOut(id=o.citizen_id, **block)
    return s.OrderDetail(
        **base, description=redact_text(o.description, confidential=confidential, audience=audience,
                                        names=names_known),
        address=o.address, latitude=o.latitude, longitude=o.longitude,
        citizen=citizen, rating=o.rating, reopen_count=o.reopen_count, merged_into=o.merged_into,
        call_id=None if for_department else o.call_id,
        assignments=[s.AssignmentOut(
            department=a.department_code, department_name=names.get(a.department_code, a.department_code),
            role=a.role, status=a.status, parent_department=a.parent_department, dispatched_at=a.dispatched_at,
            sign_by=a.sign_by, reply_by=a.reply_by, return_by=a.return_by, signed_at=a.signed_at,
            replied_at=a.replied_at, extended_days=a.extended_days, result=a.result,
            return_reason=a.return_reason) for a in o.assignments],
        events=[event_out(e, confidential=confidential, audience=audience) for e in hist.events],
        contacts=[s.ContactOut(id=c.id, channel=c.channel, sender=None if hide else c.sender,
                               text=redact_text(c.text, confidential=confidential, audience=audience,
                                                names=names_known),
                               received_at=c.received_at) for c in hist.contacts],
        attachments=[s.AttachmentOut(id=a.id, kind=a.kind, content_type=a.content_type,
                                     filename=attachment_name(a.id, a.filename, a.content_type, audience=audience,
                                                              from_citizen=a.contact_id is not None),
                                     size=a.size, created_at=a.created_at) for a in hist.attachments])


def action_out(change: Change, *, department: str | None = None) -> s.ActionOut:
    """The answer to an action; a department acting gets the event as departments see it."""
    o = change.order
    row = event_row(o.id, change.event, o.version)
    audience = Audience.STAFF if department is None else Audience.DEPARTMENT
    return s.ActionOut(number=o.number, status=o.status, version=o.version,
                       event=event_out(row, confidential=bool(o.confidential), audience=audience))
