"""并单: duplicate candidates agree on place, matter and time; several orders merge under a
parent in one transaction; the parent's reply answers every merged child through the normal
transitions (its own citizen by SMS, its own follow-up timer)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dispatch.models import Timer
from hotline.storage.models import OutboxMessage, WorkOrder
from tests.channels_support import channel_env
from tests.conftest import login_as, make_settings

# The merge is the core's own transitions (load_for_update, apply_loaded), tested on both engines elsewhere.
pytestmark = pytest.mark.parametrize("db_kind", ["sqlite"])


@pytest.fixture
def settings(db_kind, tmp_path):  # SMS configured: the citizens' notices become outbox rows
    return make_settings(tmp_path, database=db_kind, env=channel_env(None))


async def _order(agent, text: str, phone: str, **fields) -> str:
    status, out = await agent.post("/api/v1/workorders", json={"text": text, "category": "complaint",
                                                               "caller": {"phone": phone}, **fields})
    assert status == 201, out
    return out["number"]


async def test_candidates_merge_and_the_parents_reply_reaches_every_child(hotline, client, agent, clock):
    lamp = {"subject": "city-streetlights", "area": "chengnan", "address": "城关街道城南社区建设路12号"}
    parent = await _order(agent, "建设路12号门口的路灯不亮好几天了", "13800000001", **lamp)
    clock.advance(hours=2)
    c1 = await _order(agent, "城南社区建设路路灯晚上不亮，黑漆漆的很危险", "13800000002", subject="city-streetlights",
                      area="chengnan")
    c2 = await _order(agent, "建设路那边路灯坏了不亮", "13800000003", **lamp)
    # The same address, another problem: never a duplicate, however alike the words.
    other = await _order(agent, "建设路12号门口的垃圾好几天没人清运了", "13800000004",
                         **{**lamp, "subject": "city-sanitation"})
    # The same problem in another community.
    elsewhere = await _order(agent, "锦绣社区门口的路灯不亮好几天了", "13800000005", subject="city-streetlights",
                             area="jinxiu")
    clock.advance(hours=100)
    agent = await login_as(hotline, client, "agent")  # the first session has expired meanwhile
    supervisor = await login_as(hotline, client, "supervisor")
    late = await _order(agent, "建设路12号门口的路灯还是不亮", "13800000006", **lamp)  # outside the window

    status, found = await agent.get(f"/api/v1/workorders/{parent}/duplicates")
    assert status == 200, found
    assert {c["number"] for c in found} == {c1, c2}
    assert all("同一村（社区）" in c["reasons"][0] for c in found)
    # Place, matter and time: how far apart they came is said too (the desk shows it).
    assert all((c["hours_apart"], c["reasons"][-1]) == (2.0, "相隔 2 小时（72 小时内）") for c in found), found
    assert {c["title"] for c in found} == {"城南社区建设路路灯晚上不亮，黑漆漆的很危险", "建设路那边路灯坏了不亮"}
    assert {other, elsewhere, late}.isdisjoint(c["number"] for c in found)

    status, out = await agent.post("/api/v1/knowledge/merges", json={"parent": parent, "children": [c2, c1]})
    assert (status, sorted(out["merged"])) == (201, sorted([c1, c2]))
    # All or nothing: c1 is merged already, so `other` is not merged either.
    status, problem = await agent.post("/api/v1/knowledge/merges", json={"parent": parent, "children": [other, c1]})
    assert status == 409, problem
    status, o = await agent.get(f"/api/v1/workorders/{other}")
    assert o["status"] == "registered"
    status, problem = await agent.post("/api/v1/knowledge/merges", json={"parent": c1, "children": [other]})
    assert (status, problem["code"]) == (422, "bad_merge_target")

    assert (await agent.post(f"/api/v1/workorders/{parent}/dispatch", json={"lead": "cgj"}))[0] == 200
    assert (await supervisor.post(f"/api/v1/workorders/{parent}/sign", json={"department": "cgj"}))[0] == 200
    status, out = await supervisor.post(f"/api/v1/workorders/{parent}/reply",
                                        json={"department": "cgj", "result": "已更换建设路路灯灯泡，恢复照明"})
    assert status == 200, out

    async with hotline.sessions() as session:
        rows = {o.number: o for o in (await session.execute(
            select(WorkOrder).where(WorkOrder.number.in_([parent, c1, c2])))).scalars()}
        sms = list((await session.execute(select(OutboxMessage).where(
            OutboxMessage.kind == "sms", OutboxMessage.event == "replied"))).scalars())
        timers = list((await session.execute(select(Timer).where(Timer.kind == "follow_up_due"))).scalars())
    assert {n: o.status for n, o in rows.items()} == {parent: "replied", c1: "replied", c2: "replied"}
    # Each child's citizen is told on their own channel (SMS to their own phone).
    assert {m.work_order_id for m in sms} == {o.id for o in rows.values()}
    assert {m.target[-11:] for m in sms if m.work_order_id != rows[parent].id} == {"13800000002", "13800000003"}
    assert {t.work_order_id for t in timers} == {o.id for o in rows.values()}  # each child's follow-up is due
    for child in (c1, c2):
        status, d = await agent.get(f"/api/v1/workorders/{child}")
        replied = [e for e in d["events"] if e["kind"] == "replied"]
        assert replied[-1]["data"]["parent"] == parent and "已更换建设路路灯灯泡" in replied[-1]["data"]["result"]
