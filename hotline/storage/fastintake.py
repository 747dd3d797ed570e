"""PostgreSQL: a new work order in one statement.

Intake is the hot path of the hotline (every call, message and form). On PostgreSQL a
plain new contact — at most one sender identity, no attachments, not a follow-up — is
written with a single data-modifying CTE: find or create the citizen, insert the order,
claim the contact's `(channel, external_id)` and append the `created` event. That is one
round trip instead of six; validation, effects and the commit are the same as on the
general path in `hotline.intake`, which SQLite and complex contacts use.

The statement is built once, with bind parameters, so that each order costs only its
values, not the construction and compilation of the expression.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    Integer,
    Select,
    String,
    Text,
    bindparam,
    exists,
    func,
    insert,
    literal,
    null,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.contact import Contact
from hotline.storage.models import Citizen, CitizenIdentity, Json, OrderEvent, UTCDateTime, WorkOrder
from hotline.storage.models import Contact as ContactRow


@dataclass(frozen=True)
class FastResult:
    order_id: int
    contact_id: int | None  # None: an identical contact won the race; roll back
    citizen_id: int | None  # None with a sender: lost a race creating the citizen


def fits(contact: Contact) -> bool:
    return not (contact.attachments or contact.other_identities or contact.follow_up or contact.follow_up_of)


# The order's own columns, bound by name (prefixed o_ so they cannot clash with the rest).
_ORDER_COLUMNS: dict[str, Any] = {
    "number": String(), "status": String(), "version": Integer(), "channel": String(), "title": String(),
    "description": Text(), "category": String(), "subject": String(), "area": String(), "address": String(),
    "latitude": Float(), "longitude": Float(), "urgency": String(), "confidential": Boolean(),
    "legacy_line": String(), "contact_name": String(), "contact_phone": String(), "agent_id": Integer(),
    "call_id": String(), "created_at": UTCDateTime(), "updated_at": UTCDateTime(),
    "registered_at": UTCDateTime(), "reopen_count": Integer(),
}


def _p(name: str, type_: Any) -> Any:
    return bindparam(name, type_=type_)


@functools.cache
def _statement() -> Select[Any]:
    ts = UTCDateTime()
    kind, value, now = _p("id_kind", String()), _p("id_value", String()), _p("now", ts)
    known = (select(CitizenIdentity.citizen_id.label("id"))
             .where(CitizenIdentity.kind == kind, CitizenIdentity.value == value).cte("known"))
    # A citizen is created only for a sender never seen before (and never without a sender).
    new_citizen = (insert(Citizen)
                   .from_select(["name", "created_at"],
                                select(_p("sender_name", String()), now)
                                .where(kind.isnot(None), ~exists(select(known.c.id))))
                   .returning(Citizen.id).cte("new_citizen"))
    new_identity = (pg_insert(CitizenIdentity)
                    .from_select(["citizen_id", "kind", "value", "created_at"],
                                 select(new_citizen.c.id, kind, value, now))
                    .on_conflict_do_nothing(index_elements=["kind", "value"])
                    .returning(CitizenIdentity.citizen_id).cte("new_identity"))
    citizen = union_all(select(known.c.id), select(new_identity.c.citizen_id)).cte("citizen")
    citizen_id = select(citizen.c.id).limit(1).scalar_subquery()

    order = (insert(WorkOrder)
             .values(citizen_id=citizen_id, **{c: _p(f"o_{c}", t) for c, t in _ORDER_COLUMNS.items()})
             .returning(WorkOrder.id).cte("ord"))
    claimed = (pg_insert(ContactRow)
               .from_select(["channel", "external_id", "citizen_id", "work_order_id", "sender_kind", "sender",
                             "text", "received_at", "raw"],
                            select(_p("o_channel", String()), _p("external_id", String()), citizen_id, order.c.id,
                                   kind, value, _p("o_description", Text()), _p("received_at", ts),
                                   _p("raw", Json)))
               .on_conflict_do_nothing(index_elements=["channel", "external_id"])
               .returning(ContactRow.id, ContactRow.work_order_id).cte("claimed"))
    data = func.jsonb_build_object("contact_id", claimed.c.id).op("||")(_p("event_data", Json))
    event = (insert(OrderEvent)
             .from_select(["work_order_id", "seq", "kind", "from_status", "to_status", "actor_kind", "actor_id",
                           "actor_name", "at", "data"],
                          select(claimed.c.work_order_id, literal(1), literal("created"), null(),
                                 _p("o_status", String()), literal("citizen"), value, _p("sender_name", String()),
                                 now, data))
             .returning(OrderEvent.id).cte("ev"))
    return (select(order.c.id.label("order_id"), claimed.c.id.label("contact_id"), citizen_id.label("citizen_id"),
                   select(func.count()).select_from(event).scalar_subquery().label("events"))
            .select_from(order).outerjoin(claimed, true()))


async def insert_new_order(session: AsyncSession, c: Contact, *, now: datetime, order_values: dict[str, Any],
                           event_data: dict[str, Any]) -> FastResult:
    params = {f"o_{k}": order_values[k] for k in _ORDER_COLUMNS}
    params.update(id_kind=c.sender.kind if c.sender else None, id_value=c.sender.value if c.sender else None,
                  sender_name=c.sender_name, now=now, external_id=c.external_id, received_at=c.received_at,
                  raw=dict(c.raw), event_data=event_data)
    row = (await session.execute(_statement(), params)).one()
    return FastResult(row.order_id, row.contact_id, row.citizen_id)
