"""Closing the loop (回访 → 评价 → 重办) end to end over HTTP: the rating request with its
signed link, the portal's 不满意 that reopens the order to the same department with the
shorter deadline and tells the citizen, the limit after which a supervisor decides, the
follow-up queue and the agent's record, one rating per round — on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from sqlalchemy import select

from hotline.storage.models import OrderEvent, WorkOrder
from tests import channels_support as support
from tests.channels_support import PUBLIC_URL
from tests.conftest import department_api, login_as
from tests.integration.test_channels_sms import text_in

settings, vendors = support.settings, support.vendors  # fixtures: every channel configured


async def replied_order(hotline, client, agent, text: str = "青溪镇东街路灯不亮") -> str:
    status, out = await agent.post("/api/v1/workorders", json={
        "channel": "web", "text": text, "category": "complaint", "caller": {"phone": "13800138000"}})
    assert status == 201, out
    number = out["number"]
    status, out = await agent.post(f"/api/v1/workorders/{number}/dispatch", json={"lead": "qingxi"})
    assert status == 200, out
    await reply(hotline, client, number, "已更换路灯")
    return number


async def reply(hotline, client, number: str, result: str) -> None:
    dept = await department_api(hotline, client, "qingxi")
    assert (await dept.post(f"/api/v1/department/orders/{number}/sign", json={}))[0] == 200
    status, out = await dept.post(f"/api/v1/department/orders/{number}/reply", json={"result": result})
    assert status == 200, out


async def deliver(hotline) -> None:
    while await hotline.outbox.deliver_due():  # one citizen's messages go out in order, one per round
        pass


async def csrf_of(client, path: str) -> tuple[str, str]:
    async with client.get(path) as r:
        html = await r.text()
        assert r.status == 200, html
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1), html  # type: ignore[union-attr]


async def events(hotline, number: str) -> list[OrderEvent]:
    async with hotline.sessions() as s:
        oid = (await s.execute(select(WorkOrder.id).where(WorkOrder.number == number))).scalar_one()
        return list((await s.execute(select(OrderEvent).where(OrderEvent.work_order_id == oid)
                                     .order_by(OrderEvent.seq))).scalars())


async def test_dissatisfied_on_the_portal_reopens_to_the_same_department(hotline, client, agent, vendors, clock):
    number = await replied_order(hotline, client, agent)
    await deliver(hotline)
    ask = next(m["Body"] for m in vendors.sms if "评价" in m["Body"])
    link = re.search(re.escape(PUBLIC_URL) + r"(/portal/r/\S+/0/[0-9a-f]{16})", ask).group(1)  # type: ignore[union-attr]

    # A forged link shows nothing.
    async with client.get(link[:-1] + ("0" if link[-1] != "0" else "1")) as r:
        assert r.status == 404
    token, html = await csrf_of(client, link)
    assert number in html and 'id="rate-form"' in html

    clock.advance(hours=2)
    async with client.post(link, data={"csrf": token, "level": "2", "comment": "路灯还是不亮"}) as r:
        page = await r.text()
        assert r.status == 200
    assert "重新交承办单位办理" in page and "感谢您的评价" not in page  # the old page said thanks and did nothing

    status, order = await agent.get(f"/api/v1/workorders/{number}")
    assert (order["status"], order["lead_department"], order["reopen_count"]) == ("dispatched", "qingxi", 1)
    kinds = [e.kind for e in await events(hotline, number)]
    assert kinds[-3:] == ["rated", "reopened", "dispatched"]
    reopened = (await events(hotline, number))[-2]
    assert reopened.data["words"] == "路灯还是不亮" and reopened.data["rating"] == 2 and reopened.data["round"] == 1
    # The reopen deadline: 3 working days (followup.reopen_reply_working_days), shorter than the policy's.
    lead = [a for a in order["assignments"] if a["status"] == "dispatched"][0]
    first = next(a for a in order["assignments"] if a["status"] == "replied")
    # Thu 26 Nov 12:00 Beijing + 3 working days: Tue 1 Dec 17:30; the first round had 5 (a complaint).
    assert (lead["reply_by"], first["reply_by"]) == ("2026-12-01T09:30:00Z", "2026-12-03T09:30:00Z")
    # The citizen is told what happens next on their own channel.
    await deliver(hotline)
    assert any("重新办理" in m["Body"] and number in m["Body"] for m in vendors.sms)
    # The old round's link rates nothing now.
    async with client.post(link, data={"csrf": token, "level": "5"}) as r:
        assert r.status == 200
    status, order = await agent.get(f"/api/v1/workorders/{number}")
    assert order["status"] == "dispatched" and order["rating"] is None

    # Second round: replied again, the agent's follow-up call finds it "not resolved": reopened again.
    await reply(hotline, client, number, "已再次维修")
    status, queue = await agent.get("/api/v1/supervisor/follow-ups")
    item = next(i for i in queue["items"] if i["number"] == number)
    assert (item["round"], item["attempts"], item["contact_phone"]) == (2 - 1, 0, "13800138000")
    status, out = await agent.post(f"/api/v1/workorders/{number}/follow-up",
                                   json={"reached": False, "note": "无人接听", "expected_version": item["version"]})
    assert status == 200 and out["status"] == "replied"
    status, queue = await agent.get("/api/v1/supervisor/follow-ups")
    item = next(i for i in queue["items"] if i["number"] == number)
    assert item["attempts"] == 1 and item["last_attempt_at"] is not None
    status, out = await agent.post(f"/api/v1/workorders/{number}/follow-up", json={
        "reached": True, "resolved": False, "rating": 3, "words": "晚上还是黑的", "expected_version": item["version"]})
    assert status == 200, out
    status, order = await agent.get(f"/api/v1/workorders/{number}")
    assert (order["status"], order["reopen_count"]) == ("reopened", 2)  # max_reopens 1: the second reopen is a supervisor's
    assert number not in [i["number"] for i in (await agent.get("/api/v1/supervisor/follow-ups"))[1]["items"]]

    # Never archived without the supervisor's decision and its reason.
    status, problem = await agent.post(f"/api/v1/workorders/{number}/close", json={"note": "已解释"})
    assert status == 409 and problem["code"] == "decision_required"
    sup = await login_as(hotline, client, "supervisor")
    status, waiting = await sup.get("/api/v1/supervisor/reopened")
    mine = next(i for i in waiting["items"] if i["number"] == number)
    assert (mine["round"], mine["words"], mine["lead_department"]) == (2, "晚上还是黑的", "qingxi")
    status, problem = await sup.post(f"/api/v1/workorders/{number}/close", json={"note": " "})
    assert status in (409, 422)
    status, out = await sup.post(f"/api/v1/workorders/{number}/close", json={"note": "线路改造已列入明年计划，已向市民解释"})
    assert status == 200 and out["status"] == "closed" and out["event"]["data"]["decision"] is True


async def test_one_rating_per_round_sms_first_portal_later_is_a_comment(hotline, client, agent, vendors):
    number = await replied_order(hotline, client, agent)
    _, twiml = await text_in(client, "4", "SM" + "e" * 32)
    assert "满意" in twiml
    status, out = await agent.post(f"/api/v1/workorders/{number}/rate", json={"level": 1, "comment": "补评"})
    assert status == 200 and out["event"]["kind"] == "rating_comment"
    status, order = await agent.get(f"/api/v1/workorders/{number}")
    assert (order["rating"], order["status"], order["reopen_count"]) == (4, "follow_up", 0)
    # Rated by the citizen: off the follow-up queue; a satisfied order closes as before.
    assert number not in [i["number"] for i in (await agent.get("/api/v1/supervisor/follow-ups"))[1]["items"]]
    status, out = await agent.post(f"/api/v1/workorders/{number}/close", json={})
    assert status == 200 and out["status"] == "closed"
