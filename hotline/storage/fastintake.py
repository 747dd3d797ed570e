"""PostgreSQL: new work orders in one statement, for one contact or a group of them.

Intake is the hot path of the hotline (every call, message and form). On PostgreSQL a
plain new contact — at most one sender identity, no attachments, not a follow-up — is
written by a single statement, which runs on its own (autocommit) when no creation
effect needs a transaction. Contacts that arrive together (`hotline.groupcommit`) are
one statement too: each of its columns is an array with a value per contact, so a group
costs one round trip and one commit, however large. For each contact:

1. when it carries a follow-up window (`Contact.follow_up_since`) and its sender's order
   of that window is still open, nothing is written: intake appends it the general way;
2. the order's and (for an unknown sender) the citizen's ids are drawn from their
   sequences up front;
3. the contact claims its `(channel, external_id)` — on a repeat (stored before, or
   earlier in the same group) nothing else happens for it;
4. only then the citizen, its identity, the order (numbered from the day's sequence)
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

from hotline.domain.vocabulary import OPEN

if TYPE_CHECKING:
    from collections.abc import Sequence
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
    follow_up: bool = False  # the sender's order of the follow-up window is open: nothing was written


@dataclass(frozen=True)
class FastRow:
    """One contact of a group, with what intake computed for it."""

    contact: Contact
    day: str  # the local date, YYYYMMDD: the number's prefix
    day_sequence: str  # the sequence numbering that day's orders
    now: datetime
    order_values: dict[str, Any]
    event_data: dict[str, Any]


def fits(contact: Contact) -> bool:
    return not (contact.attachments or contact.other_identities or contact.follow_up or contact.follow_up_of)


# The order's own columns and their SQL types (each bound as the array :o_<column>).
ORDER_COLUMNS: dict[str, str] = {
    "status": "text", "version": "integer", "channel": "text", "title": "text", "description": "text",
    "category": "text", "subject": "text", "area": "text", "address": "text", "latitude": "double precision",
    "longitude": "double precision", "urgency": "text", "confidential": "boolean", "legacy_line": "text",
    "contact_name": "text", "contact_phone": "text", "agent_id": "bigint", "call_id": "text",
    "created_at": "timestamptz", "updated_at": "timestamptz", "registered_at": "timestamptz",
    "reopen_count": "integer",
}
# The contact's own values, one array each; `since` opens the follow-up window (or NULL).
ROW_COLUMNS: dict[str, str] = {
    "external_id": "text", "id_kind": "text", "id_value": "text", "sender_name": "text", "now": "timestamptz",
    "received_at": "timestamptz", "raw": "text", "event_data": "text", "day": "text", "day_sequence": "text",
    "since": "timestamptz", **{f"o_{c}": t for c, t in ORDER_COLUMNS.items()},
}
_O_COLS = ", ".join(ORDER_COLUMNS)
_O_VALS = ", ".join(f"input.o_{c}" for c in ORDER_COLUMNS)
_ARRAYS = ", ".join(f"CAST(:{c} AS {t}[])" for c, t in ROW_COLUMNS.items())
_NAMES = ", ".join(ROW_COLUMNS)

STATEMENT = text(f"""
WITH input AS (
    SELECT * FROM unnest({_ARRAYS}) WITH ORDINALITY AS t({_NAMES}, n)
), known AS (
    SELECT input.n, ci.citizen_id AS id FROM input
    JOIN citizen_identities ci ON ci.kind = input.id_kind AND ci.value = input.id_value
), recent AS (
    SELECT known.n FROM known JOIN input USING (n)
    WHERE input.since IS NOT NULL AND EXISTS (
        SELECT 1 FROM contacts c JOIN work_orders o ON o.id = c.work_order_id
        WHERE c.citizen_id = known.id AND c.channel = input.o_channel AND c.sender = input.id_value
          AND c.received_at >= input.since AND o.status = ANY(CAST(:open AS text[])))
), ids AS (
    SELECT input.n, nextval('work_orders_id_seq') AS order_id,
           CASE WHEN input.id_kind IS NULL THEN NULL
                ELSE COALESCE(known.id, nextval('citizens_id_seq')) END AS citizen_id,
           input.id_kind IS NOT NULL AND known.id IS NULL AS new_citizen
    FROM input LEFT JOIN known USING (n)
    WHERE NOT EXISTS (SELECT 1 FROM recent WHERE recent.n = input.n)
), claimed AS (
    INSERT INTO contacts (channel, external_id, citizen_id, work_order_id, sender_kind, sender, text,
                          received_at, raw)
    SELECT input.o_channel, input.external_id, ids.citizen_id, ids.order_id, input.id_kind, input.id_value,
           input.o_description, input.received_at, CAST(input.raw AS jsonb)
    FROM input JOIN ids USING (n) ORDER BY input.n
    ON CONFLICT (channel, external_id) DO NOTHING
    RETURNING id, work_order_id, citizen_id
), mine AS (
    SELECT ids.n, claimed.id AS contact_id, ids.order_id, ids.citizen_id, ids.new_citizen
    FROM claimed JOIN ids ON ids.order_id = claimed.work_order_id
), citizen AS (
    INSERT INTO citizens (id, name, created_at)
    SELECT mine.citizen_id, input.sender_name, input.now FROM mine JOIN input USING (n) WHERE mine.new_citizen
    RETURNING id
), identity AS (
    INSERT INTO citizen_identities (citizen_id, kind, value, created_at)
    SELECT citizen.id, input.id_kind, input.id_value, input.now
    FROM citizen JOIN mine ON mine.citizen_id = citizen.id JOIN input USING (n) ORDER BY mine.n
    ON CONFLICT (kind, value) DO NOTHING
    RETURNING citizen_id
), ord AS (
    INSERT INTO work_orders (id, number, citizen_id, {_O_COLS})
    SELECT mine.order_id,
           input.day || lpad(CAST(nextval(CAST(input.day_sequence AS regclass)) AS text), 6, '0'),
           mine.citizen_id, {_O_VALS}
    FROM mine JOIN input USING (n) ORDER BY mine.n
    RETURNING id, number
), ev AS (
    INSERT INTO order_events (work_order_id, seq, kind, from_status, to_status, actor_kind, actor_id,
                              actor_name, at, data)
    SELECT mine.order_id, 1, 'created', NULL, input.o_status, 'citizen', input.id_value, input.sender_name,
           input.now, jsonb_build_object('contact_id', mine.contact_id) || CAST(input.event_data AS jsonb)
    FROM mine JOIN input USING (n)
)
SELECT input.n, mine.contact_id, ord.id AS order_id, ord.number, mine.citizen_id,
       EXISTS (SELECT 1 FROM recent WHERE recent.n = input.n) AS follow_up,
       COALESCE(mine.new_citizen AND NOT EXISTS (
           SELECT 1 FROM identity WHERE identity.citizen_id = mine.citizen_id), false) AS identity_lost
FROM input LEFT JOIN mine USING (n) LEFT JOIN ord ON ord.id = mine.order_id
ORDER BY input.n
""")


def _params(rows: Sequence[FastRow]) -> dict[str, list[Any]]:
    columns: dict[str, list[Any]] = {c: [] for c in ROW_COLUMNS}
    for r in rows:
        c = r.contact
        values: dict[str, Any] = {
            "external_id": c.external_id, "id_kind": c.sender.kind if c.sender else None,
            "id_value": c.sender.value if c.sender else None, "sender_name": c.sender_name, "now": r.now,
            "received_at": c.received_at, "raw": json.dumps(dict(c.raw), ensure_ascii=False, default=str),
            "event_data": json.dumps(r.event_data, ensure_ascii=False), "day": r.day,
            "day_sequence": r.day_sequence, "since": c.follow_up_since if c.sender else None,
        }
        for k, v in values.items():
            columns[k].append(v)
        for k in ORDER_COLUMNS:
            columns[f"o_{k}"].append(r.order_values[k])
    return columns


async def insert_new_orders(conn: AsyncSession | AsyncConnection, rows: Sequence[FastRow]) -> list[FastResult]:
    """Every row's contact, citizen, order and event in one statement; one result per row, in order."""
    params: dict[str, Any] = {**_params(rows), "open": [s.value for s in OPEN]}
    out = []
    for row in (await conn.execute(STATEMENT, params)).all():
        if row.follow_up:
            out.append(FastResult(claimed=False, follow_up=True))
        elif row.contact_id is None:
            out.append(FastResult(claimed=False))
        else:
            out.append(FastResult(True, row.order_id, row.number, row.contact_id, row.citizen_id,
                                  bool(row.identity_lost)))
    return out
