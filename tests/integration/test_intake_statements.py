"""How many statements one new WeChat or SMS contact costs: counted by SQLAlchemy's own
event hooks on the engine, so a change that adds a round trip to intake fails here.

On PostgreSQL a new contact from a new sender is one statement, outside any transaction
(`hotline.storage.fastintake`): the follow-up window, the claim, the citizen, the order
and its event are all in it. SQLite takes the general way (one statement per row).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import event

from tests import channels_support as support
from tests.integration.test_channels_sms import number_in, text_in
from tests.integration.test_channels_wechat import post_aes, text

if TYPE_CHECKING:
    from collections.abc import Iterator

settings, vendors = support.settings, support.vendors
# SQLite, a new sender: BEGIN IMMEDIATE, the identities (twice), the citizen, the identity,
# the follow-up window, the day's number, the order, the contact, the event.
GENERAL_WAY = 10


@dataclass
class Statements:
    sql: list[str] = field(default_factory=list)
    transactions: int = 0  # BEGIN ... COMMIT/ROLLBACK around statements (not autocommit)


@contextmanager
def counted(engine: Any) -> Iterator[Statements]:
    seen = Statements()
    sync = engine.sync_engine

    def on_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.sql.append(" ".join(statement.split())[:80])

    def on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            seen.transactions += 1

    event.listen(sync, "before_cursor_execute", on_execute)
    event.listen(sync, "begin", on_begin)
    try:
        yield seen
    finally:
        event.remove(sync, "before_cursor_execute", on_execute)
        event.remove(sync, "begin", on_begin)


async def test_a_new_sms_contact_costs_one_statement_on_postgresql(hotline, client, db_kind):
    await text_in(client, "预热：建立当天的编号序列", "SM" + "0" * 32, sender="+8613900000000")
    with counted(hotline.engine) as seen:
        status, twiml = await text_in(client, "小区门口垃圾三天没人清运", "SM" + "1" * 32)
    assert status == 200 and number_in(twiml)
    if db_kind == "pg":  # was 2 statements and a transaction: the follow-up window's query apart
        assert (len(seen.sql), seen.transactions) == (1, 0), seen
    else:  # the general way, in one transaction (was 11 statements in 2 transactions)
        assert (len(seen.sql), seen.transactions) == (GENERAL_WAY, 1), seen


async def test_a_new_wechat_contact_costs_one_statement_on_postgresql(hotline, client, clock, db_kind):
    await post_aes(client, clock, text("预热", 1, sender="o_warm_up", clock=clock))
    with counted(hotline.engine) as seen:
        status, body, _, _ = await post_aes(client, clock, text("路灯不亮", 2, clock=clock))
    assert status == 200 and "<Encrypt>" in body
    if db_kind == "pg":
        assert (len(seen.sql), seen.transactions) == (1, 0), seen
    else:
        assert (len(seen.sql), seen.transactions) == (GENERAL_WAY, 1), seen
