"""PostgreSQL: a new work order in one statement.

Intake is the hot path of the hotline (every call, message and form). On PostgreSQL a
plain new contact — at most one sender identity, no attachments, not a follow-up — is
written by a single statement, which runs on its own (autocommit) when no creation
effect needs a transaction, so an order costs one round trip:

1. the order's and (for an unknown sender) the citizen's ids are drawn from their
   sequences up front;
2. the contact claims its `(channel, external_id)` — on a repeat nothing else happens;
3. only then the citizen, its identity, the order (numbered from the day's sequence)
   and the `created` event are inserted.

Foreign keys are checked at the end of the statement, so the contact may name the order
and citizen inserted after it. Validation, effects and repeats are handled by
`hotline.intake`, which SQLite and complex contacts go through the general way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

    from hotline.contact import Contact


@dataclass(frozen=True)
class FastResult:
    claimed: bool  # False: this (channel, external_id) was stored before; nothing was written
    order_id: int | None = None
    number: str | None = None
    contact_id: int | None = None
    citizen_id: int | None = None
    identity_lost: bool = False  # a concurrent intake linked the sender to another citizen first


def fits(contact: Contact) -> bool:
    return not (contact.attachments or contact.other_identities or contact.follow_up or contact.follow_up_of)


# The order's own columns and their SQL types (all bound as :o_<column>).
ORDER_COLUMNS: dict[str, str] = {
    "status": "text", "version": "integer", "channel": "text", "title": "text", "description": "text",
    "category": "text", "subject": "text", "area": "text", "address": "text", "latitude": "double precision",
    "longitude": "double precision", "urgency": "text", "confidential": "boolean", "legacy_line": "text",
    "contact_name": "text", "contact_phone": "text", "agent_id": "bigint", "call_id": "text",
    "created_at": "timestamptz", "updated_at": "timestamptz", "registered_at": "timestamptz",
    "reopen_count": "integer",
}
_O_COLS = ", ".join(ORDER_COLUMNS)
_O_VALS = ", ".join(f"CAST(:o_{c} AS {t})" for c, t in ORDER_COLUMNS.items())

STATEMENT = text(f"""
WITH known AS (
    SELECT citizen_id AS id FROM citizen_identities
    WHERE kind = CAST(:id_kind AS text) AND value = CAST(:id_value AS text)
), ids AS (
    SELECT nextval('work_orders_id_seq') AS order_id,
           CASE WHEN CAST(:id_kind AS text) IS NULL THEN NULL
                ELSE COALESCE((SELECT id FROM known LIMIT 1), nextval('citizens_id_seq')) END AS citizen_id,
           CAST(:id_kind AS text) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM known) AS new_citizen
), claimed AS (
    INSERT INTO contacts (channel, external_id, citizen_id, work_order_id, sender_kind, sender, text,
                          received_at, raw)
    SELECT CAST(:o_channel AS text), CAST(:external_id AS text), ids.citizen_id, ids.order_id,
           CAST(:id_kind AS text), CAST(:id_value AS text), CAST(:o_description AS text),
           CAST(:received_at AS timestamptz), CAST(:raw AS jsonb)
    FROM ids
    ON CONFLICT (channel, external_id) DO NOTHING
    RETURNING id, work_order_id, citizen_id
), citizen AS (
    INSERT INTO citizens (id, name, created_at)
    SELECT ids.citizen_id, CAST(:sender_name AS text), CAST(:now AS timestamptz)
    FROM ids, claimed WHERE ids.new_citizen
    RETURNING id
), identity AS (
    INSERT INTO citizen_identities (citizen_id, kind, value, created_at)
    SELECT citizen.id, CAST(:id_kind AS text), CAST(:id_value AS text), CAST(:now AS timestamptz) FROM citizen
    ON CONFLICT (kind, value) DO NOTHING
    RETURNING citizen_id
), ord AS (
    INSERT INTO work_orders (id, number, citizen_id, {_O_COLS})
    SELECT claimed.work_order_id,
           CAST(:day AS text) || lpad(CAST(nextval(CAST(:day_sequence AS regclass)) AS text), 6, '0'),
           claimed.citizen_id, {_O_VALS}
    FROM claimed
    RETURNING id, number
), ev AS (
    INSERT INTO order_events (work_order_id, seq, kind, from_status, to_status, actor_kind, actor_id,
                              actor_name, at, data)
    SELECT ord.id, 1, 'created', NULL, CAST(:o_status AS text), 'citizen', CAST(:id_value AS text),
           CAST(:sender_name AS text), CAST(:now AS timestamptz),
           jsonb_build_object('contact_id', claimed.id) || CAST(:event_data AS jsonb)
    FROM ord, claimed
    RETURNING id
)
SELECT claimed.id AS contact_id, ord.id AS order_id, ord.number, claimed.citizen_id,
       (SELECT count(*) FROM ev) AS events,
       ids.new_citizen AND claimed.id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM identity) AS identity_lost
FROM ids LEFT JOIN claimed ON true LEFT JOIN ord ON true
""")


async def insert_new_order(conn: AsyncSession | AsyncConnection, c: Contact, *, day: str, day_sequence: str,
                           now: datetime, order_values: dict[str, Any], event_data: dict[str, Any]) -> FastResult:
    params: dict[str, Any] = {f"o_{k}": order_values[k] for k in ORDER_COLUMNS}
    params.update(id_kind=c.sender.kind if c.sender else None, id_value=c.sender.value if c.sender else None,
                  sender_name=c.sender_name, now=now, external_id=c.external_id, received_at=c.received_at,
                  raw=json.dumps(dict(c.raw), ensure_ascii=False, default=str),
                  event_data=json.dumps(event_data, ensure_ascii=False), day=day, day_sequence=day_sequence)
    row = (await conn.execute(STATEMENT, params)).one()
    if row.contact_id is None:
        return FastResult(claimed=False)
    return FastResult(True, row.order_id, row.number, row.contact_id, row.citizen_id, bool(row.identity_lost))
