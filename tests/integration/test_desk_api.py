"""The desk's pages and API (issue 11 part 1): a login redirect instead of a JSON 404, the
agent's softphone account and the pause reasons from config, the screen pop with the
caller's history across channels (frequent caller, a confidential reporter only as such,
the legacy line and its bureau), the agents' running times."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from hotline.contact import Contact, Identity
from hotline.desk.service import Desk
from hotline.domain.vocabulary import Channel
from tests.conftest import login_as, make_settings

if TYPE_CHECKING:
    from pathlib import Path

    from aiohttp.test_utils import TestClient


@pytest.fixture
def db_kind() -> str:
    return "sqlite"  # no SQL of its own beyond three SELECTs; the e2e tests run the pages


@pytest.fixture
def settings(tmp_path: Path) -> Any:
    return make_settings(tmp_path, extra_yaml="""
desk:
  pause_reasons:
    - {code: break, name: 小休, name_en: Break}
    - {code: meal, name: 用餐, name_en: Meal}
  wrapup_seconds: 45
  frequent_caller: {orders: 3, days: 30}
  softphone: {ws_url: "ws://pbx.lan:8088/ws", passwords: {"8001": "s3cret-8001"}}
""")


async def test_pages_need_a_login(client: TestClient, hotline: Any) -> None:
    client.session.cookie_jar.clear()
    for path in ("/agent", "/desk", "/supervisor", "/wallboard", "/wallboard/screen", "/admin"):
        async with client.get(path, allow_redirects=False) as r:
            assert r.status == 302, path
            assert r.headers["Location"] in (f"/login?next={path}", "/login?next=" + path.replace("/", "%2F"))
    async with client.get("/login") as r:
        assert r.status == 200 and "登录" in await r.text()
    agent = await login_as(hotline, client, "agent")
    client.session.cookie_jar.clear()
    token = agent.headers["Authorization"][7:]
    async with client.get("/agent", cookies={"hotline_session": token}) as r:
        assert r.status == 200
        assert "坐席工作台" in await r.text()
        assert "connect-src 'self'" in r.headers["Content-Security-Policy"]
        assert "ws://pbx.lan:8088" in r.headers["Content-Security-Policy"]
    for path in ("/supervisor", "/wallboard/screen", "/admin"):
        async with client.get(path, cookies={"hotline_session": token}) as r:
            assert r.status == 403  # an agent is not a supervisor, nor an admin
    async with client.get("/desk/static/vendor/sip.js-0.21.2/lib/platform/web/index.js") as r:
        assert r.status == 200 and "javascript" in r.headers["Content-Type"]
    async with client.get("/desk/static/vendor/echarts-5.6.0/echarts.esm.min.js") as r:
        assert r.status == 200 and "javascript" in r.headers["Content-Type"]


async def test_the_wallboard_links_the_other_supervisor_pages_the_modules_registered(client: TestClient,
                                                                                       hotline: Any) -> None:
    token = (await login_as(hotline, client, "supervisor")).headers["Authorization"][7:]
    client.session.cookie_jar.clear()
    async with client.get("/supervisor", cookies={"hotline_session": token}) as r:
        page = await r.text()
    nav = page.split('<nav id="more-pages" class="links">', 1)[1].split("</nav>", 1)[0]
    assert '<a href="/knowledge">知识库管理</a>' in nav and '<a href="/reports">统计报表</a>' in nav
    assert "/supervisor" not in nav and "{{" not in page
    async with client.get("/supervisor?lang=en", cookies={"hotline_session": token}) as r:
        assert '<a href="/reports">Reports</a>' in await r.text()


async def test_session_gives_the_agent_their_own_phone(client: TestClient, hotline: Any) -> None:
    agent = await login_as(hotline, client, "agent")
    status, body = await agent.get("/api/v1/desk/session")
    assert status == 200
    assert [r["name"] for r in body["pause_reasons"]] == ["小休", "用餐"]
    assert body["wrapup_seconds"] == 45 and body["wrapup_reason"] == "话后处理"
    assert body["softphone"]["uri"] == "sip:8001@pbx.lan"
    assert body["softphone"]["password"] == "s3cret-8001"
    assert {p["id"] for p in body["panels"]} == {"knowledge", "followup"}
    status, body = await agent.get("/api/v1/desk/session?lang=en")
    assert [r["label"] for r in body["pause_reasons"]] == ["Break", "Meal"]
    client.session.cookie_jar.clear()  # login_as left its cookie
    async with client.get("/api/v1/desk/session") as r:
        assert r.status == 401


async def _contact(h: Any, ext: str, channel: Channel, phone: str, *, confidential: bool = False) -> str:
    r = await h.intake.receive(Contact(channel=channel, external_id=ext, received_at=h.clock(),
                                       text=f"诉求 {ext}", sender=Identity("phone", phone), sender_name="钱先生",
                                       confidential=confidential, category="report" if confidential else "help"))
    return str(r.number)


async def test_screen_pop(client: TestClient, hotline: Any, clock: Any) -> None:
    desk = hotline.module(Desk)
    old = await _contact(hotline, "old", Channel.SMS, "13900001111")
    clock.advance(days=90)  # the first one falls outside the frequent-caller window
    agent = await login_as(hotline, client, "agent")
    for i, ch in enumerate((Channel.SMS, Channel.WEB, Channel.PHONE)):
        await _contact(hotline, f"c{i}", ch, "13900001111")
    desk.see({"topic": "call", "linkedid": "L1", "phase": "ringing", "caller": "13900001111", "line": "12315",
              "legacy_line": "12315", "wait_seconds": 12, "joined_at": None, "ended_at": None})
    status, pop = await agent.get("/api/v1/desk/pop?linkedid=L1")
    assert status == 200
    assert pop["known"] and pop["frequent"] and pop["recent_orders"] == 3
    assert pop["name"] == "钱先生" and not pop["confidential"]
    assert pop["line"]["legacy"] and pop["line"]["bureau"] == "青山县市场监督管理局"
    assert pop["wait_seconds"] == 12
    assert len(pop["orders"]) == 4 and pop["orders"][-1]["number"] == old
    assert pop["contacts"] == {"sms": 2, "web": 1, "phone": 1}
    assert len(pop["open_orders"]) == 4

    secret = await _contact(hotline, "rep", Channel.PHONE, "13700002222", confidential=True)
    status, pop = await agent.get("/api/v1/desk/pop?caller=13700002222")
    assert pop["confidential"] and pop["name"] is None  # a confidential reporter only as such
    assert pop["orders"][0]["number"] == secret and pop["orders"][0]["title"] == ""
    assert not pop["frequent"]

    status, pop = await agent.get("/api/v1/desk/pop?caller=13600000000")
    assert status == 200 and not pop["known"] and pop["line"] == {"number": "12345", "legacy": False}
    status, body = await agent.get("/api/v1/desk/pop?caller=drop%20table")
    assert status == 422 and body["code"]


async def test_running_time_restarts_only_when_the_state_changes(client: TestClient, hotline: Any,
                                                                 clock: Any) -> None:
    agent = await login_as(hotline, client, "agent")
    desk = hotline.module(Desk)
    desk.see({"topic": "agent", "extension": "8001", "name": "张敏", "state": "ready", "reason": None, "queues": ["q"]})
    first = desk.agents["8001"].since
    clock.advance(seconds=30)
    desk.see({"topic": "agent", "extension": "8001", "name": "张敏", "state": "ready", "reason": None, "queues": ["q"]})
    assert desk.agents["8001"].since == first
    desk.see({"topic": "agent", "extension": "8001", "state": "paused", "reason": "小休", "queues": ["q"]})
    status, body = await agent.get("/api/v1/desk/agents")
    assert status == 200
    assert body["agents"] == [{"extension": "8001", "name": "张敏", "state": "paused", "reason": "小休",
                               "since": (first + timedelta(seconds=30)).isoformat(), "queues": ["q"]}]


async def test_wallboard_figures(client: TestClient, hotline: Any, clock: Any) -> None:
    from hotline.telephony import queries as tq

    sup = await login_as(hotline, client, "supervisor")
    now = clock()
    async with hotline.sessions() as session, session.begin():
        for i, (outcome, wait, queue) in enumerate((("answered", 4, "q"), ("abandoned", 30, "q"),
                                                    ("after_hours", None, None))):
            await tq.record_call(session, dict(linkedid=f"L{i}", direction="inbound", outcome=outcome, caller="1380013",
                                               line="12345", queue=queue, started_at=now, ended_at=now,
                                               wait_seconds=wait, talk_seconds=50 if outcome == "answered" else None,
                                               data={}))
    status, day = await sup.get("/api/v1/telephony/stats")
    assert status == 200
    assert (day["offered"], day["answered"], day["abandoned"]) == (2, 1, 1)  # after hours never queued
    assert day["answer_rate"] == 0.5 and day["within_15s"] == 0.5 and day["avg_handle_seconds"] == 50.0
    status, other = await sup.get("/api/v1/telephony/stats?day=2020-01-01")
    assert status == 200 and other["offered"] == 0
    for bad_day in ("yesterday", "1", "2026-02-30"):
        status, bad = await sup.get(f"/api/v1/telephony/stats?day={bad_day}")
        assert status == 422, bad_day

    await _contact(hotline, "w1", Channel.SMS, "13500000001")
    status, backlog = await sup.get("/api/v1/desk/backlog")
    assert backlog == {"written_over_3min": 0, "oldest_wait_seconds": 0}  # not yet 3 minutes
    clock.advance(minutes=4)
    await _contact(hotline, "p1", Channel.PHONE, "13500000002")  # a call's order is not a written contact
    status, backlog = await sup.get("/api/v1/desk/backlog")
    assert backlog == {"written_over_3min": 1, "oldest_wait_seconds": 240}
