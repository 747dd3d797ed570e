"""Fired timers reach a person and the record: an overdue order goes by SMS to the
department's head (through the real Twilio client, to a local fake), and every 催办, 超期
and 督办 is an event in the order's history."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from hotline.storage.models import OutboxMessage
from tests.channels_support import channel_env, vendors
from tests.conftest import FakeClock, department_api, login_as
from tests.integration.dispatch_support import FAST, dispatch_settings
from tests.integration.test_dispatch_timers import bj, tick_at

if TYPE_CHECKING:
    from pathlib import Path

    from hotline.settings import Settings

__all__ = ["vendors"]
HEAD = "+8613507905814"  # 程小红, 分管副局长 of scjgj (head: true); 赵静, its 联络员, gets no SMS


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(bj(2026, 9, 30, 16, 0))


@pytest.fixture
def settings(db_kind: str, tmp_path: Path, request: pytest.FixtureRequest, vendors) -> Settings:
    schema = request.getfixturevalue("pg_schema") if db_kind == "pg" else None
    return dispatch_settings(tmp_path, db_kind, schema, {"scjgj": "http://127.0.0.1:9/hook/scjgj"},
                             {**FAST, "security": {"session_hours": 24 * 90}},  # logins outlive the days we skip
                             env=channel_env(vendors))


async def test_heads_get_sms_and_timers_are_in_the_history(hotline, client, clock, vendors):
    agent = await login_as(hotline, client, "agent")
    status, out = await agent.post("/api/v1/workorders", json={
        "text": "菜市场有商户卖过期食品", "category": "complaint", "caller": {"phone": "13800138000"}})
    number = out["number"]
    status, out = await agent.post(f"/api/v1/workorders/{number}/dispatch", json={"lead": "scjgj"})
    assert status == 200, out

    assert await tick_at(hotline, clock, bj(2026, 10, 8, 9, 1)) == ["sign_reminder"]
    async with hotline.sessions() as s:
        events = [m.event for m in (await s.execute(select(OutboxMessage))).scalars()]
    assert "workorder.reminder" in events and "escalation_sms" not in events  # 催签: no SMS
    assert await tick_at(hotline, clock, bj(2026, 10, 8, 11, 1)) == ["sign_overdue"]
    async with hotline.sessions() as s:
        sms = list((await s.execute(select(OutboxMessage).where(OutboxMessage.event == "escalation_sms"))).scalars())
    assert [(m.kind, m.target, m.payload["timer"]) for m in sms] == [("sms", "13507905814", "sign_overdue")]
    await hotline.outbox.deliver_due(limit=50)  # the webhook receiver is down; Twilio is not
    (texted,) = [m for m in vendors.sms if m["To"] == HEAD]
    assert number in texted["Body"] and "签收超期" in texted["Body"] and "部门负责人" in texted["Body"]
    assert all(m["To"] != "+8615807909209" for m in vendors.sms)

    status, order = await agent.get(f"/api/v1/workorders/{number}")
    assert status == 200, order
    fired = [e for e in order["events"] if e["kind"] == "timer_fired"]
    assert [(e["data"]["timer"], e["data"]["timer_name"], e["actor_kind"]) for e in fired] == [
        ("sign_reminder", "催签", "system"), ("sign_overdue", "签收超期", "system")]
    assert fired[1]["data"]["notified"] == ["scjgj"] and fired[1]["data"]["department"] == "scjgj"
    seqs = [e["seq"] for e in order["events"]]
    assert seqs == list(range(1, len(seqs) + 1)) and order["version"] == seqs[-1]
    # The order goes on as before: the department signs on the version the history reached.
    dept = await department_api(hotline, client, "scjgj")
    status, out = await dept.post(f"/api/v1/department/orders/{number}/sign", json={})
    assert status == 200, out

