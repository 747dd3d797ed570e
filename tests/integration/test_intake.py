"""Intake: idempotency under concurrency, numbering, citizens across channels, follow-ups."""

from __future__ import annotations

import asyncio
from datetime import UTC

import pytest
from sqlalchemy import func, select

from hotline.contact import Contact, Identity
from hotline.domain.vocabulary import Channel
from hotline.errors import ValidationFailed
from hotline.storage.models import Citizen, CitizenIdentity, OrderEvent, WorkOrder
from hotline.storage.models import Contact as ContactRow


def contact(external_id: str, **kw) -> Contact:
    defaults = dict(channel=Channel.SMS, external_id=external_id, text="楼下餐馆油烟扰民", category="complaint",
                    sender=Identity("phone", "13800138000"))
    return Contact(received_at=kw.pop("received_at", None) or _now(), **{**defaults, **kw})


def _now():
    from datetime import datetime

    return datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


async def count(h, model) -> int:
    async with h.sessions() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def test_twenty_identical_contacts_at_once_make_one_order(hotline):
    results = await asyncio.gather(*(hotline.intake.receive(contact("SM-same")) for _ in range(20)))
    assert len({r.number for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert sum(r.repeated for r in results) == 19
    assert await count(hotline, WorkOrder) == 1
    assert await count(hotline, ContactRow) == 1
    assert await count(hotline, OrderEvent) == 1
    assert await count(hotline, Citizen) == 1


async def test_numbers_are_unique_and_daily_under_concurrency(hotline, clock):
    results = await asyncio.gather(*(hotline.intake.receive(contact(f"SM-{i}", sender=Identity("phone", f"1390000{i:04d}")))
                                     for i in range(40)))
    numbers = sorted(r.number for r in results)
    assert len(set(numbers)) == 40
    assert all(n.startswith("20261126") for n in numbers)
    seqs = sorted(int(n[8:]) for n in numbers)
    assert seqs[0] >= 1 and seqs[-1] <= 40 + 5  # gaps are possible, but few
    # Beijing's date decides: 16:30 UTC is already the 27th in Beijing, and the count restarts.
    clock.advance(hours=14, minutes=30)
    late = await hotline.intake.receive(contact("SM-next-day", received_at=clock.now))
    assert late.number == "20261127000001"


async def test_a_citizen_is_recognised_across_channels(hotline):
    first = await hotline.intake.receive(contact("SM-1", other_identities=(Identity("wechat_openid", "oABC"),)))
    second = await hotline.intake.receive(contact("WX-1", channel=Channel.WECHAT, sender=Identity("wechat_openid", "oABC"),
                                                  text="路灯不亮", category="help"))
    assert first.citizen_id == second.citizen_id and first.number != second.number
    async with hotline.sessions() as session:
        kinds = set((await session.execute(select(CitizenIdentity.kind).where(
            CitizenIdentity.citizen_id == first.citizen_id))).scalars())
    assert kinds == {"phone", "wechat_openid"}


async def test_a_follow_up_message_is_added_to_the_open_order(hotline):
    first = await hotline.intake.receive(contact("SM-a"))
    more = await hotline.intake.receive(contact("SM-b", text="补充：每天晚上十点以后最严重", follow_up=True))
    assert more.appended and more.number == first.number
    by_number = await hotline.intake.receive(contact("SM-c", text="补充照片", follow_up_of=first.number))
    assert by_number.appended and by_number.number == first.number
    # Someone else cannot append to this citizen's order by guessing its number.
    stranger = await hotline.intake.receive(contact("SM-d", sender=Identity("phone", "13911112222"),
                                                    follow_up_of=first.number))
    assert stranger.created and stranger.number != first.number
    async with hotline.sessions() as session:
        order = (await session.execute(select(WorkOrder).where(WorkOrder.number == first.number))).scalar_one()
        kinds = list((await session.execute(select(OrderEvent.kind).where(OrderEvent.work_order_id == order.id)
                                             .order_by(OrderEvent.seq))).scalars())
    assert kinds == ["created", "contact_appended", "contact_appended"]
    assert order.version == 3


async def test_a_repeat_after_the_fact_answers_the_first_number(hotline):
    a = await hotline.intake.receive(contact("SM-r"))
    b = await hotline.intake.receive(contact("SM-r", text="totally different text"))
    assert (b.number, b.repeated, b.created) == (a.number, True, False)


async def test_a_phone_draft_is_registered_later(hotline, client, agent):
    result = await hotline.intake.receive(contact("1795695813.0", channel=Channel.PHONE, draft=True,
                                                  category=None, call_id="1795695813.0", legacy_line="12315"))
    assert result.status == "draft"
    status, detail = await agent.get(f"/api/v1/workorders/{result.number}")
    assert detail["category"] == "complaint"  # pre-classified by the legacy line 12315
    status, out = await agent.post(f"/api/v1/workorders/{result.number}/update",
                                   json={"title": "过期食品举报", "category": "report", "area": "qingxi"})
    assert status == 200 and out["event"]["data"]["changes"] == {"title": "过期食品举报", "category": "report",
                                                                 "area": "qingxi"}
    status, problem = await agent.post(f"/api/v1/workorders/{result.number}/update", json={"category": "nonsense"})
    assert (status, problem["code"]) == (422, "unknown_category")
    status, out = await agent.post(f"/api/v1/workorders/{result.number}/register", json={})
    assert (status, out["status"]) == (200, "registered")
    status, detail = await agent.get(f"/api/v1/workorders/{result.number}")
    assert (detail["title"], detail["category"], detail["legacy_line"], detail["call_id"]) == \
        ("过期食品举报", "report", "12315", "1795695813.0")


async def test_unknown_codes_are_refused_before_anything_is_stored(hotline):
    with pytest.raises(ValidationFailed, match="area"):
        await hotline.intake.receive(contact("SM-x", area="atlantis"))
    assert await count(hotline, ContactRow) == 0


async def test_creation_effects_work_on_the_stored_row(hotline):
    """Effects see the new order as a tracked row: what they change is committed with it."""
    seen = []

    async def effect(change):
        seen.append((change.event.kind, change.order.number, list(change.order.assignments)))
        change.order.title = "由受理效果修改"

    hotline.add_on_created(effect)
    result = await hotline.intake.receive(contact("SM-effect"))
    assert seen == [("created", result.number, [])]
    async with hotline.sessions() as session:
        order = (await session.execute(select(WorkOrder).where(WorkOrder.number == result.number))).scalar_one()
    assert order.title == "由受理效果修改" and order.citizen_id == result.citizen_id


async def test_a_new_sender_racing_itself_ends_as_one_citizen(hotline):
    """Twenty different messages at once from a number never seen before."""
    results = await asyncio.gather(*(hotline.intake.receive(contact(f"SM-burst-{i}", sender=Identity("phone", "13512345678")))
                                     for i in range(20)))
    assert len({r.number for r in results}) == 20
    assert len({r.citizen_id for r in results}) == 1
    async with hotline.sessions() as session:
        assert await count(hotline, Citizen) == 1
        owners = set((await session.execute(select(WorkOrder.citizen_id))).scalars())
        senders = set((await session.execute(select(ContactRow.citizen_id))).scalars())
    assert owners == senders == {results[0].citizen_id}


async def test_repeats_do_not_use_up_numbers(hotline):
    first = await hotline.intake.receive(contact("SM-n1"))
    for _ in range(3):
        assert (await hotline.intake.receive(contact("SM-n1"))).repeated
    second = await hotline.intake.receive(contact("SM-n2"))
    assert int(second.number[8:]) == int(first.number[8:]) + 1


async def test_creation_effects_run_only_where_they_may_apply(hotline):
    calls = []

    async def effect(change):
        calls.append(change.order.channel)

    hotline.add_on_created(effect, when=lambda c: c.channel is Channel.WEB)
    await hotline.intake.receive(contact("SM-w1"))
    await hotline.intake.receive(contact("WEB-w1", channel=Channel.WEB))
    assert calls == ["web"]


async def test_a_refused_claim_is_told_apart_by_the_constraint_the_database_names(hotline):
    from sqlalchemy.exc import IntegrityError

    from hotline.storage.models import CONTACT_CLAIM
    from hotline.storage.queries import violates

    async def refused(*rows: object) -> IntegrityError:
        with pytest.raises(IntegrityError) as exc:
            async with hotline.sessions() as session, session.begin():
                for row in rows:
                    session.add(row)
                    await session.flush()
        return exc.value

    now = _now()
    twice = await refused(*(ContactRow(channel="sms", external_id="SM-1", text="", received_at=now, raw={})
                            for _ in range(2)))
    assert violates(twice, CONTACT_CLAIM)
    citizen = Citizen(name=None, created_at=now)
    async with hotline.sessions() as session, session.begin():
        session.add(citizen)
    other = await refused(*(CitizenIdentity(citizen_id=citizen.id, kind="phone", value="13800000000", created_at=now)
                            for _ in range(2)))
    assert not violates(other, CONTACT_CLAIM)
