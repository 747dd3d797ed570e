"""Department webhooks through the outbox, in-process (no Redis): signed, retried with
back-off, in order per work order and receiver, dead letters a supervisor can retry."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from hotline.outbox import DEAD, DELIVERED, DELIVERING, PENDING, STALE
from hotline.storage.models import OutboxMessage
from tests.conftest import FakeClock, department_api, login_as
from tests.integration import dispatch_support
from tests.integration.dispatch_support import Receiver, dispatch_settings

if TYPE_CHECKING:
    from pathlib import Path

    from hotline.module import Running as Hotline
    from hotline.settings import Settings

HOOKS = ("scjgj", "qingxi", "sthj", "dcs", "jtj")


receiver = dispatch_support.receiver  # the shared local webhook receiver


@pytest.fixture
def settings(db_kind: str, tmp_path: Path, request: pytest.FixtureRequest, receiver: Receiver) -> Settings:
    schema = request.getfixturevalue("pg_schema") if db_kind == "pg" else None
    return dispatch_settings(tmp_path, db_kind, schema, {c: receiver.url(c) for c in HOOKS})


async def new_order(agent, **fields) -> str:
    body = {"text": "青溪镇菜市场有商户卖过期食品", "category": "complaint", "caller": {"phone": "13800138000"},
            "area": "qingxi", **fields}
    status, out = await agent.post("/api/v1/workorders", json=body)
    assert status == 201, out
    return out["number"]


async def rows(h: Hotline) -> list[OutboxMessage]:
    async with h.sessions() as session:
        return list((await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


async def drain(h: Hotline, clock: FakeClock, *, rounds: int = 40) -> None:
    """Deliver until nothing is pending, moving the clock past each back-off."""
    for _ in range(rounds):
        await h.outbox.deliver_due(100)
        pending = [m for m in await rows(h) if m.status in (PENDING, DELIVERING)]
        if not pending:
            return
        later = [m.next_attempt_at for m in pending if m.next_attempt_at > clock.now]
        if later:
            clock.now = min(later) + timedelta(milliseconds=1)
    raise AssertionError("outbox did not drain")


async def test_dispatch_sends_signed_webhooks_to_lead_and_assisting(hotline, client, receiver, clock):
    agent = await login_as(hotline, client, "agent")
    number = await new_order(agent)
    status, _ = await agent.post(f"/api/v1/workorders/{number}/dispatch",
                                 json={"lead": "scjgj", "assisting": ["qingxi"], "reason": "规则：食品安全"})
    assert status == 200
    assert [(m.target, m.event, m.status) for m in await rows(hotline)] == [
        ("scjgj", "workorder.dispatched", PENDING), ("qingxi", "workorder.dispatched", PENDING)]
    assert await hotline.outbox.deliver_due() == 2
    got = sorted(receiver.accepted(), key=lambda r: r.department)
    assert [(r.department, r.event, r.valid) for r in got] == [
        ("qingxi", "workorder.dispatched", True), ("scjgj", "workorder.dispatched", True)]
    doc = got[1].doc
    assert doc["id"] == got[1].delivery and doc["event"] == "workorder.dispatched"
    assert doc["workorder"]["number"] == number and doc["workorder"]["assignment"]["role"] == "lead"
    assert doc["workorder"]["citizen"]["phone"] == "13800138000" and doc["data"]["reason"] == "规则：食品安全"
    assert got[0].doc["workorder"]["assignment"]["role"] == "assist"
    assert {m.status for m in await rows(hotline)} == {DELIVERED}
    metrics = hotline.metrics.render().decode()
    assert 'hotline_webhook_deliveries_total{result="delivered"} 2.0' in metrics


async def test_confidential_report_reaches_the_department_without_the_reporter(hotline, client, receiver):
    agent = await login_as(hotline, client, "agent")
    number = await new_order(agent, confidential=True, category="report", text="举报某厂夜间偷排废水")
    await agent.post(f"/api/v1/workorders/{number}/dispatch", json={"lead": "sthj"})
    await hotline.outbox.deliver_due()
    (got,) = receiver.accepted()
    assert got.doc["workorder"]["confidential"] is True and got.doc["workorder"]["citizen"] is None
    assert b"13800138000" not in got.body


async def test_retries_back_off_keep_the_delivery_id_and_hold_later_messages(hotline, client, receiver, clock):
    agent = await login_as(hotline, client, "agent")
    number = await new_order(agent)
    await agent.post(f"/api/v1/workorders/{number}/dispatch", json={"lead": "scjgj"})
    receiver.status_override = 503
    assert await hotline.outbox.deliver_due() == 1
    (first,) = await rows(hotline)
    assert first.status == PENDING and first.attempts == 1 and "HTTP 503" in (first.last_error or "")
    assert first.next_attempt_at > clock.now  # backed off
    # A second change for the same department waits behind the first message.
    await agent.post("/api/v1/workorders", json={"text": "补充：今天又看到了", "follow_up_of": number,
                                                 "caller": {"phone": "13800138000"}})
    assert await hotline.outbox.deliver_due() == 0  # the first is backing off, the second is blocked
    receiver.status_override = None
    await drain(hotline, clock)
    accepted = receiver.accepted()
    assert [r.event for r in accepted] == ["workorder.dispatched", "workorder.updated"]
    tries = [r for r in receiver.got if r.delivery == accepted[0].delivery]
    assert len(tries) == 2 and tries[0].body == tries[1].body  # a retry is the same message
    assert tries[0].timestamp != tries[1].timestamp or tries[0].status != tries[1].status


async def test_a_refused_message_is_a_dead_letter_a_supervisor_can_retry(hotline, client, receiver, clock):
    agent = await login_as(hotline, client, "agent")
    supervisor = await login_as(hotline, client, "supervisor")
    number = await new_order(agent)
    await agent.post(f"/api/v1/workorders/{number}/dispatch", json={"lead": "scjgj"})
    receiver.status_override = 410  # the receiver says: gone, do not retry
    await hotline.outbox.deliver_due()
    (m,) = await rows(hotline)
    assert (m.status, m.attempts) == (DEAD, 1)
    status, page = await supervisor.get("/api/v1/supervisor/dead-letters?target=scjgj")
    assert status == 200 and [x["delivery_id"] for x in page["items"]] == [m.delivery_id]
    assert page["items"][0]["workorder"] == number and "410" in page["items"][0]["last_error"]
    status, problem = await agent.post(f"/api/v1/supervisor/dead-letters/{m.id}/retry")
    assert status == 403
    receiver.status_override = None
    status, out = await supervisor.post(f"/api/v1/supervisor/dead-letters/{m.id}/retry")
    assert (status, out) == (200, {"retried": 1})
    status, problem = await supervisor.post(f"/api/v1/supervisor/dead-letters/{m.id}/retry")
    assert status == 404 and problem["code"] == "dead_letter_not_found"
    await drain(hotline, clock)
    assert [r.delivery for r in receiver.accepted()] == [m.delivery_id]
    status, summary = await supervisor.get("/api/v1/supervisor/outbox")
    assert summary["counts"]["webhook"] == {"delivered": 1}


async def test_out_of_attempts_goes_dead_and_no_longer_blocks_the_next(hotline, client, receiver, clock):
    agent = await login_as(hotline, client, "agent")
    number = await new_order(agent)
    await agent.post(f"/api/v1/workorders/{number}/dispatch", json={"lead": "scjgj"})
    await receiver.stop()  # the department's server is down
    for _ in range(5):  # max_attempts in these settings
        assert await hotline.outbox.deliver_due() == 1
        (m,) = await rows(hotline)
        clock.now = max(clock.now, m.next_attempt_at) + timedelta(milliseconds=1)
    (m,) = await rows(hotline)
    assert m.status == DEAD and m.attempts == 5 and "ClientConnectorError" in (m.last_error or "")
    await receiver.start()
    await agent.post("/api/v1/workorders", json={"text": "补充：地址是菜市场东门", "follow_up_of": number,
                                                 "caller": {"phone": "13800138000"}})
    await drain(hotline, clock)
    assert [r.event for r in receiver.accepted()] == ["workorder.updated"]


async def test_a_lease_that_runs_out_is_claimed_again_and_the_late_outcome_ignored(hotline, client, receiver, clock):
    agent = await login_as(hotline, client, "agent")
    number = await new_order(agent)
    await agent.post(f"/api/v1/workorders/{number}/dispatch", json={"lead": "scjgj"})
    (lost,) = await hotline.outbox.claim()  # a worker claims it, then dies before sending
    assert await hotline.outbox.claim() == []  # leased: nobody else takes it meanwhile
    clock.advance(seconds=31)  # lease_seconds is 30 here
    (again,) = await hotline.outbox.claim()
    assert again.id == lost.id and again.attempts == lost.attempts + 1
    assert await hotline.outbox.deliver(again) == DELIVERED
    # the first worker comes back to life: its lease is gone, its result does not count
    assert await hotline.outbox.deliver_leased([(lost.id, lost.attempts)]) == [STALE]
    assert await hotline.outbox.deliver(lost) == STALE
    assert len({r.delivery for r in receiver.accepted()}) == 1


async def test_department_without_webhook_gets_no_outbox_rows(hotline, client):
    agent = await login_as(hotline, client, "agent")
    number = await new_order(agent)
    await agent.post(f"/api/v1/workorders/{number}/dispatch", json={"lead": "rsj"})  # rsj has no webhook
    assert await rows(hotline) == []
    dept = await department_api(hotline, client, "rsj")
    status, page = await dept.get("/api/v1/department/orders")
    assert [o["number"] for o in page["items"]] == [number]  # it reads its orders instead


async def test_a_correction_of_the_reporters_name_never_reaches_the_department(hotline, client, receiver):
    """Issue 9 item 1: an agent's `update {"contact_name"}` on a 举报 was kept verbatim in the
    `updated` event and shown to the department; every person field goes through redaction."""
    agent = await login_as(hotline, client, "agent")
    number = await new_order(agent, confidential=True, category="report", text="举报某厂夜间偷排废水")
    await agent.post(f"/api/v1/workorders/{number}/dispatch", json={"lead": "sthj"})
    status, out = await agent.post(f"/api/v1/workorders/{number}/update",
                                   json={"contact_name": "李举报", "title": "某厂偷排废水"})
    assert status == 200 and out["event"]["data"]["changes"]["contact_name"] == "李举报"  # staff see it
    await hotline.outbox.deliver_due()
    dept = await department_api(hotline, client, "sthj")
    status, detail = await dept.get(f"/api/v1/department/orders/{number}")
    assert status == 200
    updated = next(e for e in detail["events"] if e["kind"] == "updated")
    assert updated["data"]["changes"] == {"title": "某厂偷排废水"}
    assert "李举报" not in str(detail) and "13800138000" not in str(detail)
    assert receiver.accepted() and all("李举报".encode() not in got.body and b"13800138000" not in got.body
                                       for got in receiver.accepted())
    # a department acting on it gets the event as departments see it; staff keep the record
    status, out = await dept.post(f"/api/v1/department/orders/{number}/sign", json={})
    assert status == 200 and out["event"]["actor_kind"] == "department"
    status, full = await agent.get(f"/api/v1/workorders/{number}")
    assert "李举报" in str(full) and full["citizen"]["phone"] == "13800138000"


async def test_a_confidential_reporters_own_words_are_masked_for_the_department(hotline, client, receiver):
    """Item 1/3: the reporter writes who they are into the text; the department reads what
    the report is about, never the self-introduction, number or door."""
    agent = await login_as(hotline, client, "agent")
    number = await new_order(agent, confidential=True, category="report",
                             text="我是李四，电话13912345678，住幸福小区3栋501，举报某厂夜间偷排废水")
    await agent.post(f"/api/v1/workorders/{number}/dispatch", json={"lead": "sthj"})
    await hotline.outbox.deliver_due()
    dept = await department_api(hotline, client, "sthj")
    _, page = await dept.get("/api/v1/department/orders")
    _, detail = await dept.get(f"/api/v1/department/orders/{number}")
    assert detail["description"] == "我是李某，电话[手机号]，住幸福小区[门牌号]，举报某厂夜间偷排废水"
    for shown in (str(page), str(detail), *(got.body.decode() for got in receiver.accepted())):
        assert "李四" not in shown and "13912345678" not in shown and "3栋501" not in shown
