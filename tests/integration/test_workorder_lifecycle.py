"""A work order's whole life through the HTTP API, then a look in the database."""

from __future__ import annotations

from sqlalchemy import select

from hotline.storage.models import Assignment, OrderEvent, WorkOrder
from tests.conftest import department_api


async def _new_order(agent, **fields):
    body = {"text": "青溪镇菜市场有商户卖过期食品", "category": "complaint", "caller": {"phone": "13800138000"},
            **fields}
    status, out = await agent.post("/api/v1/workorders", json=body)
    assert status == 201, out
    return out["number"]


async def test_lifecycle_from_intake_to_close(hotline, client, agent, supervisor, clock):
    number = await _new_order(agent, area="qingxi")
    assert len(number) == 14 and number.startswith("20261126")

    status, out = await agent.post(f"/api/v1/workorders/{number}/dispatch",
                                   json={"lead": "scjgj", "assisting": ["qingxi"], "reason": "规则：食品安全"})
    assert status == 200, out
    assert out["status"] == "dispatched" and out["event"]["data"]["lead"] == "scjgj"

    dept = await department_api(hotline, client, "scjgj")
    status, page = await dept.get("/api/v1/department/orders")
    assert [o["number"] for o in page["items"]] == [number]
    status, out = await dept.post(f"/api/v1/department/orders/{number}/sign", json={})
    assert (status, out["status"]) == (200, "signed")
    clock.advance(hours=3)
    status, out = await dept.post(f"/api/v1/department/orders/{number}/progress", json={"note": "已派员核查"})
    assert status == 200
    status, out = await dept.post(f"/api/v1/department/orders/{number}/reply",
                                  json={"result": "已责令商户下架过期食品并立案调查"})
    assert (status, out["status"]) == (200, "replied")

    clock.advance(hours=5)
    status, out = await agent.post(f"/api/v1/workorders/{number}/follow-up",
                                   json={"note": "市民表示满意", "rating": 5})
    assert (status, out["status"]) == (200, "follow_up")
    status, out = await agent.post(f"/api/v1/workorders/{number}/close", json={})
    assert (status, out["status"]) == (200, "closed")

    status, detail = await agent.get(f"/api/v1/workorders/{number}")
    assert status == 200
    kinds = [e["kind"] for e in detail["events"]]
    assert kinds == ["created", "dispatched", "signed", "progress", "replied", "followed_up", "closed"]
    assert [e["seq"] for e in detail["events"]] == list(range(1, 8))
    assert detail["rating"] == 5
    lead = next(a for a in detail["assignments"] if a["role"] == "lead")
    assert lead["status"] == "replied" and lead["result"].startswith("已责令")
    assist = next(a for a in detail["assignments"] if a["role"] == "assist")
    assert assist["status"] == "withdrawn"  # done with the order when the lead replied

    async with hotline.sessions() as session:
        order = (await session.execute(select(WorkOrder).where(WorkOrder.number == number))).scalar_one()
        assert order.status == "closed" and order.closed_at == clock.now and order.rating == 5
        events = (await session.execute(select(OrderEvent).where(OrderEvent.work_order_id == order.id))).scalars()
        assert len(list(events)) == 7
        assignments = list((await session.execute(
            select(Assignment).where(Assignment.work_order_id == order.id))).scalars())
        assert {a.department_code for a in assignments} == {"scjgj", "qingxi"}


async def test_department_sees_only_its_own_and_never_a_confidential_reporter(hotline, client, agent):
    secret = await _new_order(agent, confidential=True, category="report", text="举报某厂夜间偷排废水")
    other = await _new_order(agent)
    assert (await agent.post(f"/api/v1/workorders/{secret}/dispatch", json={"lead": "sthj"}))[0] == 200
    assert (await agent.post(f"/api/v1/workorders/{other}/dispatch", json={"lead": "scjgj"}))[0] == 200

    env = await department_api(hotline, client, "sthj")
    status, page = await env.get("/api/v1/department/orders")
    assert [o["number"] for o in page["items"]] == [secret]
    status, detail = await env.get(f"/api/v1/department/orders/{secret}")
    assert status == 200
    assert detail["citizen"] is None
    assert all(c["sender"] is None for c in detail["contacts"])
    created = detail["events"][0]
    assert created["actor_kind"] == "citizen" and created["actor_id"] is None
    assert "13800138000" not in str(detail)

    # Another department's order: the same 404 as a number that does not exist.
    for number in (other, "20261126999999"):
        status, problem = await env.get(f"/api/v1/department/orders/{number}")
        assert status == 404 and problem["code"] == "workorder_not_found"
        status, problem = await env.post(f"/api/v1/department/orders/{number}/sign", json={})
        assert status == 404

    # Staff still see the reporter.
    status, detail = await agent.get(f"/api/v1/workorders/{secret}")
    assert detail["citizen"]["phone"] == "13800138000"


async def test_return_review_and_redispatch(hotline, client, agent, supervisor):
    number = await _new_order(agent)
    assert (await agent.post(f"/api/v1/workorders/{number}/dispatch", json={"lead": "jtj"}))[0] == 200
    wrong = await department_api(hotline, client, "jtj")
    status, problem = await wrong.post(f"/api/v1/department/orders/{number}/return", json={"reason": " "})
    assert status == 422  # a reason is required
    status, out = await wrong.post(f"/api/v1/department/orders/{number}/return",
                                   json={"reason": "食品安全不属于交通运输局职责"})
    assert (status, out["status"]) == (200, "returned")
    status, problem = await agent.post(f"/api/v1/workorders/{number}/review-return", json={"accept": True})
    assert status == 403 and problem["code"] == "role_required"
    status, out = await supervisor.post(f"/api/v1/workorders/{number}/review-return", json={"accept": True})
    assert (status, out["status"]) == (200, "registered")
    status, out = await agent.post(f"/api/v1/workorders/{number}/dispatch", json={"lead": "scjgj"})
    assert (status, out["status"]) == (200, "dispatched")
    # The department that returned it no longer acts on it.
    status, _ = await wrong.post(f"/api/v1/department/orders/{number}/sign", json={})
    assert status == 409


async def test_refused_transition_is_a_problem_with_a_stable_code(agent):
    number = await _new_order(agent)
    status, problem = await agent.post(f"/api/v1/workorders/{number}/close", json={})
    assert status == 409
    assert problem["code"] == "transition_not_allowed"
    assert problem["type"] == "urn:hotline:problem:transition_not_allowed"
    assert "已受理" in problem["detail"]
    status, problem = await agent.post(f"/api/v1/workorders/{number}/dispatch", json={"lead": "nope"})
    assert (status, problem["code"]) == (422, "unknown_department")
    status, problem = await agent.post(f"/api/v1/workorders/{number}/dispatch",
                                       json={"lead": "scjgj", "expected_version": 7})
    assert (status, problem["code"]) == (409, "stale_version")
