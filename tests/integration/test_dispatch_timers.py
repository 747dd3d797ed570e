"""SLA timers as rows, with an injected clock: across National Day 2026 and its 调休
Saturday, through signing, an extension and a restart; fired once, by any number of ticks."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from dispatch.models import Timer
from dispatch.service import DispatchService
from hotline.storage.models import OutboxMessage
from tests.conftest import FakeClock, department_api, login_as, migrated_hotline
from tests.integration.dispatch_support import FAST, dispatch_settings

if TYPE_CHECKING:
    from pathlib import Path

    from hotline.module import Running as Hotline
    from hotline.settings import Settings

BJ = ZoneInfo("Asia/Shanghai")


def bj(*args: int) -> datetime:
    return datetime(*args, tzinfo=BJ).astimezone(UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(bj(2026, 9, 30, 16, 0))  # Wednesday before National Day, 16:00


@pytest.fixture
def settings(db_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    schema = request.getfixturevalue("pg_schema") if db_kind == "pg" else None
    return dispatch_settings(tmp_path, db_kind, schema, {"scjgj": "http://127.0.0.1:9/hook/scjgj",
                                                         "qingxi": "http://127.0.0.1:9/hook/qingxi",
                                                         "dcs": "http://127.0.0.1:9/hook/dcs"},
                             {**FAST, "security": {"session_hours": 24 * 90}})  # logins outlive the weeks we skip


async def tick_at(h: Hotline, clock: FakeClock, when: datetime) -> list[str]:
    clock.now = when
    return [f.kind for f in await h.module(DispatchService).escalation.tick()]


async def notices(h: Hotline) -> list[tuple[str, str, str]]:
    async with h.sessions() as session:
        rows = (await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars()
        return [(m.target, m.event, m.payload["data"].get("timer", "")) for m in rows]


async def timers(h: Hotline) -> dict[str, tuple[datetime, bool, bool]]:
    """kind → (due, fired, cancelled) of the latest row of each kind."""
    async with h.sessions() as session:
        rows = (await session.execute(select(Timer).order_by(Timer.id))).scalars()
        return {t.kind: (t.due_at, t.fired_at is not None, t.cancelled_at is not None) for t in rows}


async def test_escalation_ladder_across_the_holiday(hotline, client, clock, settings):
    agent = await login_as(hotline, client, "agent")
    supervisor = await login_as(hotline, client, "supervisor")
    status, out = await agent.post("/api/v1/workorders", json={
        "text": "青溪镇菜市场有商户卖过期食品", "category": "complaint", "area": "qingxi",
        "caller": {"phone": "13800138000"}})
    number = out["number"]
    await agent.post(f"/api/v1/workorders/{number}/dispatch", json={"lead": "scjgj"})
    t = await timers(hotline)
    assert t["sign_reminder"][0] == bj(2026, 10, 8, 9, 0) and t["reply_overdue"][0] == bj(2026, 10, 13, 17, 30)

    assert await tick_at(hotline, clock, bj(2026, 10, 3, 10, 0)) == []  # National Day: nothing is due
    assert await tick_at(hotline, clock, bj(2026, 10, 8, 9, 1)) == ["sign_reminder"]
    assert await tick_at(hotline, clock, bj(2026, 10, 8, 9, 2)) == []  # fired once
    assert await tick_at(hotline, clock, bj(2026, 10, 8, 11, 1)) == ["sign_overdue"]
    assert await notices(hotline) == [("scjgj", "workorder.dispatched", ""),
                                      ("scjgj", "workorder.reminder", "sign_reminder"),
                                      ("scjgj", "workorder.overdue", "sign_overdue")]
    status, page = await supervisor.get("/api/v1/supervisor/overdue")
    (late,) = page["items"]
    assert (late["number"], late["deadline_kind"], late["escalation_level"]) == (number, "sign", 1)
    metrics = (await (await client.get("/metrics")).text())
    assert "hotline_workorders_overdue 1.0" in metrics
    assert 'hotline_timers_fired_total{kind="sign_overdue"} 1.0' in metrics

    dept = await department_api(hotline, client, "scjgj")
    status, out = await dept.post(f"/api/v1/department/orders/{number}/sign", json={})
    assert status == 200
    assert (await timers(hotline))["sign_escalation"][2] is True  # cancelled: signed, late but signed
    status, page = await dept.get("/api/v1/department/notices")
    assert [n["kind"] for n in page["items"]] == ["sign_overdue", "sign_reminder"]
    assert page["items"][0]["name"] == "签收超期" and page["items"][0]["level_name"] == "部门负责人"

    # 延期: 3 working days from Tue 13 Oct → Fri 16 Oct
    status, out = await dept.post(f"/api/v1/department/orders/{number}/request-extension",
                                  json={"working_days": 3, "reason": "需要检测机构出具报告"})
    assert status == 200
    status, page = await supervisor.get("/api/v1/supervisor/extensions")
    (ext,) = page["items"]
    assert ext["working_days"] == 3 and ext["reply_by_if_approved"].startswith("2026-10-16T09:30")
    status, out = await supervisor.post(f"/api/v1/workorders/{number}/decide-extension", json={"approve": True})
    assert status == 200
    t = await timers(hotline)
    assert t["reply_overdue"][0] == bj(2026, 10, 16, 17, 30)

    assert await tick_at(hotline, clock, bj(2026, 10, 12, 16, 0)) == []  # the old 催办 time: moved
    # 75% of the new window's 61.5 working hours: Wed 14 Oct 17:07:30
    assert await tick_at(hotline, clock, bj(2026, 10, 14, 17, 7)) == []
    assert await tick_at(hotline, clock, bj(2026, 10, 14, 17, 8)) == ["reply_reminder"]
    assert await tick_at(hotline, clock, bj(2026, 10, 14, 17, 9)) == []

    # A restart: a new process on the same database neither loses nor repeats a timer.
    cm2, h2 = await migrated_hotline(settings, clock)
    try:
        assert await tick_at(h2, clock, bj(2026, 10, 15, 9, 0)) == []
        assert await tick_at(h2, clock, bj(2026, 10, 16, 17, 31)) == ["reply_overdue"]
        # + 2 working days: Mon 19, Tue 20 Oct
        assert await tick_at(h2, clock, bj(2026, 10, 20, 17, 0)) == []
        assert await tick_at(h2, clock, bj(2026, 10, 20, 17, 31)) == ["reply_escalation"]
    finally:
        await cm2.__aexit__(None, None, None)
    escalated = [n for n in await notices(hotline) if n[2] == "reply_escalation"]
    assert escalated == [("scjgj", "workorder.escalated", "reply_escalation"),
                         ("dcs", "workorder.escalated", "reply_escalation")]
    status, page = await supervisor.get("/api/v1/supervisor/overdue")
    assert page["items"][0]["escalation_level"] == 2

    status, out = await dept.post(f"/api/v1/department/orders/{number}/reply", json={"result": "已查处"})
    assert status == 200
    t = await timers(hotline)
    assert t["follow_up_due"][0] == bj(2026, 10, 21, 8, 30) and not t["follow_up_due"][1]
    status, page = await supervisor.get("/api/v1/supervisor/follow-ups")
    assert [(i["number"], i["due"]) for i in page["items"]] == [(number, False)]
    assert await tick_at(hotline, clock, bj(2026, 10, 21, 8, 31)) == ["follow_up_due"]
    await agent.post(f"/api/v1/workorders/{number}/follow-up", json={"rating": 4})
    async with hotline.sessions() as session:
        pending = (await session.execute(select(func.count()).select_from(Timer).where(
            Timer.fired_at.is_(None), Timer.cancelled_at.is_(None)))).scalar_one()
    assert pending == 0


async def test_sub_dispatched_village_late_tells_its_town(hotline, client, clock):
    agent = await login_as(hotline, client, "agent")
    status, out = await agent.post("/api/v1/workorders", json={
        "text": "桃源村村道塌方", "category": "help", "area": "taoyuan", "caller": {"phone": "13800138001"}})
    number = out["number"]
    await agent.post(f"/api/v1/workorders/{number}/dispatch", json={"lead": "qingxi"})
    town = await department_api(hotline, client, "qingxi")
    await town.post(f"/api/v1/department/orders/{number}/sign", json={})
    status, out = await town.post(f"/api/v1/department/orders/{number}/sub-dispatch", json={"to": "taoyuan"})
    assert status == 200, out
    # the village never signs: its lateness reaches the town (accountable) and then 督查室
    fired = await tick_at(hotline, clock, bj(2026, 10, 30, 9, 0))
    assert "sign_escalation" in fired
    targets = {(t, e) for t, e, k in await notices(hotline) if k == "sign_escalation"}
    assert targets == {("qingxi", "workorder.escalated"), ("dcs", "workorder.escalated")}  # taoyuan: no webhook


@pytest.mark.pg
@pytest.mark.parametrize("db_kind", ["pg"])
async def test_concurrent_ticks_fire_each_timer_once(hotline, client, clock, settings):
    agent = await login_as(hotline, client, "agent")
    numbers = []
    for i in range(30):
        status, out = await agent.post("/api/v1/workorders", json={
            "text": f"第{i}件：菜市场卖过期食品", "category": "complaint", "caller": {"phone": f"1380013{i:04d}"}})
        numbers.append(out["number"])
        await agent.post(f"/api/v1/workorders/{out['number']}/dispatch", json={"lead": "scjgj"})
    others = [await migrated_hotline(settings, clock) for _ in range(3)]
    try:
        clock.now = bj(2026, 10, 8, 11, 1)  # every sign_reminder and sign_overdue is due
        ticks = [h.module(DispatchService).escalation.tick(limit=7) for _ in range(4) for _, h in others]
        fired = [f for batch in await asyncio.gather(*ticks) for f in batch]
    finally:
        for cm, _ in others:
            await cm.__aexit__(None, None, None)
    ids = [f.timer_id for f in fired]
    assert len(ids) == len(set(ids)) == 60  # 30 orders × (reminder + overdue), each exactly once
    sent = [n for n in await notices(hotline) if n[2]]
    assert len(sent) == 60
