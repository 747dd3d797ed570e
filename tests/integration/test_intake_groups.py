"""Group commit in intake (`hotline.groupcommit`): contacts that arrive together are written
together, each answered only after the commit, each with its own answer — on SQLite and
PostgreSQL. Counts of writes and statements, never times."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, select

from hotline.contact import Contact, Identity
from hotline.errors import ValidationFailed
from hotline.groupcommit import WriteInterrupted
from hotline.intake import IntakeResult
from hotline.storage.models import Citizen, OrderEvent, WorkOrder
from hotline.storage.models import Contact as ContactRow
from tests.integration.test_intake import contact, count
from tests.integration.test_intake_statements import counted


def many(n: int, prefix: str = "SM-g", **kw: object) -> list[Contact]:
    return [contact(f"{prefix}{i}", sender=Identity("phone", f"1370000{i:04d}"), text=f"第{i}条：路灯不亮", **kw)
            for i in range(n)]


async def test_contacts_arriving_together_share_one_write_and_are_all_stored(hotline, db_kind):
    plain = many(30)
    # Two identities each: the general way on PostgreSQL too (in a savepoint each).
    general = [contact(f"SM-x{i}", sender=Identity("phone", f"1360000{i:04d}"),
                       other_identities=(Identity("wechat_openid", f"o_group_{i}"),)) for i in range(5)]
    with counted(hotline.engine) as seen:
        results = await asyncio.gather(*(hotline.intake.receive(c) for c in plain + general))
    assert all(r.created for r in results)
    assert len({r.number for r in results}) == 35 and len({r.citizen_id for r in results}) == 35
    assert await count(hotline, WorkOrder) == await count(hotline, ContactRow) == 35
    assert await count(hotline, OrderEvent) == await count(hotline, Citizen) == 35
    fast_statements = [s for s in seen.sql if s.startswith("WITH input")]
    if db_kind == "pg":  # 30 plain contacts, one statement; the 5 others in one transaction
        assert len(fast_statements) == 1 and seen.transactions == 1
    else:  # one transaction, one commit, for all 35
        assert fast_statements == [] and seen.transactions == 1
    async with hotline.sessions() as session:  # each answer names its own contact's order
        rows = (await session.execute(select(ContactRow.external_id, WorkOrder.number, WorkOrder.description)
                                      .join(WorkOrder, WorkOrder.id == ContactRow.work_order_id))).all()
    by_id = {external: (number, text) for external, number, text in rows}
    for c, r in zip(plain + general, results, strict=True):
        assert by_id[c.external_id] == (r.number, c.text)


@pytest.mark.parametrize("error", [ValidationFailed("这一条不能受理", code="refused_by_effect"),
                                   RuntimeError("an effect's bug")], ids=["refused", "bug"])
async def test_a_failing_member_does_not_fail_its_group(hotline, error):
    """A refusal is the member's own answer (a savepoint undoes it); anything else fails
    the group, which is then written member by member: the same answers either way."""
    async def refuse_one(change):
        if "坏" in change.order.description:
            raise error

    hotline.add_on_created(refuse_one)
    contacts = many(8)
    contacts[3] = contact("SM-bad", sender=Identity("phone", "13799999999"), text="坏的一条")
    results = await asyncio.gather(*(hotline.intake.receive(c) for c in contacts), return_exceptions=True)
    assert results[3] is error
    good = [r for i, r in enumerate(results) if i != 3]
    assert all(isinstance(r, IntakeResult) and r.created for r in good)
    assert await count(hotline, WorkOrder) == await count(hotline, ContactRow) == 7
    async with hotline.sessions() as session:
        stored = set((await session.execute(select(ContactRow.external_id))).scalars())
    assert stored == {c.external_id for i, c in enumerate(contacts) if i != 3}


async def test_repeats_in_a_group_and_across_groups_get_the_first_answer(hotline):
    first = await hotline.intake.receive(contact("SM-old"))
    batch = [contact("SM-old"), contact("SM-twin", text="一"), contact("SM-new", sender=Identity("phone", "13600001111")),
             contact("SM-twin", text="二")]
    old, twin, new, twin_again = await asyncio.gather(*(hotline.intake.receive(c) for c in batch))
    assert (old.number, old.repeated, old.created) == (first.number, True, False)
    assert new.created and twin.number == twin_again.number
    assert sorted([twin.created, twin_again.created]) == [False, True]
    assert sorted([twin.repeated, twin_again.repeated]) == [False, True]
    assert await count(hotline, WorkOrder) == await count(hotline, ContactRow) == 3
    again = await asyncio.gather(*(hotline.intake.receive(c) for c in batch))
    assert [r.number for r in again] == [old.number, twin.number, new.number, twin.number]
    assert all(r.repeated for r in again)
    assert await count(hotline, WorkOrder) == 3


@pytest.mark.parametrize("where", ["statement", "effect"])
async def test_a_crash_before_the_commit_acknowledges_none(hotline, where):
    """The writing task dies (cancelled, as at shutdown) with the group half written: as
    its statement goes out, or in a creation effect after it. No member is answered with
    a number, nothing is kept, and the senders' retries are then stored normally."""
    crash = True

    def die_as_sent(conn, cursor, statement, *args):
        # PostgreSQL: the group's one statement; SQLite: after the first member's order and contact.
        if crash and where == "statement" and statement.lstrip().startswith(("WITH input", "INSERT INTO order_events")):
            raise asyncio.CancelledError()

    async def die_in_effect(change):
        if crash and where == "effect":
            asyncio.current_task().cancel()  # the task writing the group
            await asyncio.sleep(0)

    hotline.add_on_created(die_in_effect)
    event.listen(hotline.engine.sync_engine, "before_cursor_execute", die_as_sent)
    contacts = many(6)
    try:
        results = await asyncio.gather(*(hotline.intake.receive(c) for c in contacts), return_exceptions=True)
    finally:
        event.remove(hotline.engine.sync_engine, "before_cursor_execute", die_as_sent)
    assert not any(isinstance(r, IntakeResult) for r in results), results
    assert all(isinstance(r, asyncio.CancelledError | WriteInterrupted) for r in results), results
    assert sum(isinstance(r, WriteInterrupted) for r in results) == 5  # all but the writer itself
    assert await count(hotline, WorkOrder) == await count(hotline, ContactRow) == 0
    crash = False
    retried = await asyncio.gather(*(hotline.intake.receive(c) for c in contacts))
    assert all(r.created for r in retried) and await count(hotline, WorkOrder) == len(contacts)
