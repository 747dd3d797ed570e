"""The big screen (数据大屏, /wallboard/screen) in headless Chromium against `serve --demo`:
a supervisor's page; its ECharts charts render (a canvas in each), the figures are the API's
(calls per hour and the two rates from the day's call figures, orders by channel and by
department, the overdue count), hotspots appear once there is one, live; then English.
Screenshots under var/e2e-desk/."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest

from tests.asterisk_support import until
from tests.e2e.desk_support import Watched, login, running_desk

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.e2e
CHARTS = ("c-hours", "c-answer", "c-15s", "c-channels", "c-departments")


async def test_big_screen_draws_the_day_with_echarts(tmp_path: Path, browser: Any) -> None:
    from playwright.async_api import expect

    from hotline.knowledge.models import KnowledgeHotspotAlert
    from hotline.telephony.models import CallRecord
    from hotline.telephony.service import Telephony

    extra = {"telephony": {"simulator": {"calls_per_minute": 0, "survey": False, "answer_rate": 1.0}}}
    async with running_desk(tmp_path, extra=extra, demo=True) as (h, base, _receiver), aiohttp.ClientSession() as http:
        tel = h.module(Telephony)
        await until(lambda: tel.simulator is not None and tel.consumer is not None and tel.consumer.link.up)
        pbx = tel.simulator.pbx
        pbx.globals["AGENT_RING"] = "0.5"
        async with http.post(f"{base}/api/v1/auth/login", json={"username": "leader", "password": "demo-leader"}) as r:
            auth = {"Authorization": f"Bearer {(await r.json())['token']}"}

        async def get(path: str, **params: str) -> Any:
            async with http.get(f"{base}{path}", headers=auth, params=params) as resp:
                assert resp.status == 200, await resp.text()
                return await resp.json()

        # The day: one answered call (recorded), one order of the demo dispatched to a department.
        call = pbx.call_in("12345", "13800138000", talk=1)
        await until(lambda: call.state == "ended", limit=30)

        async def recorded() -> bool:
            async with h.sessions() as session:
                from sqlalchemy import select
                return (await session.execute(select(CallRecord))).first() is not None
        await until(recorded, limit=30)
        some = await get("/api/v1/workorders", limit="20")
        first = next(o["number"] for o in (some["items"] if isinstance(some, dict) else some)
                     if o.get("category") and o["status"] == "registered")
        async with http.post(f"{base}/api/v1/workorders/{first}/dispatch", headers=auth, json={"lead": "scjgj"}) as r:
            assert r.status == 200, await r.text()

        context = await browser.new_context(locale="zh-CN", viewport={"width": 1600, "height": 1000})
        screen = Watched(await context.new_page(), "screen")
        page = screen.page
        await page.goto(f"{base}/wallboard/screen")  # a login first
        await page.wait_for_url(re.compile(r"/login\?next="))
        await login(page, base, "/wallboard/screen", "leader", "demo-leader")
        await expect(page.locator("#live-status")).to_have_attribute("data-state", "on")
        for chart in CHARTS:
            await expect(page.locator(f"#{chart} canvas")).to_have_count(1, timeout=15000)
            await expect(page.locator(f"#{chart}")).to_have_attribute("data-drawn", "1")
        await expect(page.locator("h2#h-hours")).to_have_text("今日分时段话务量")
        stats = await get("/api/v1/telephony/stats")
        assert stats["answered"] == 1
        await expect(page.locator("#c-answer")).to_have_attribute("data-value", "100")
        day = stats["day"]
        channels = await get("/api/v1/reports/kpis", **{"from": day, "to": day, "by": "channel"})
        total = sum(r["values"]["orders_received"] or 0 for r in channels["rows"])
        assert total > 0
        await expect(page.locator("#c-channels")).to_have_attribute("data-total", str(total))
        await expect(page.locator("#c-departments")).to_have_attribute("data-count", "1")  # scjgj; undispatched ones have none
        overdue = await get("/api/v1/supervisor/overdue", limit="200")
        await expect(page.locator("#s-overdue")).to_have_text(str(len(overdue["items"])))
        await expect(page.locator("#no-hotspots")).to_be_visible()
        await expect(page.locator("#no-hotspots")).to_have_text("暂无热点预警")
        await screen.shot("screen")

        # A hotspot alert appears on the next refresh (polling every few seconds), as a chart.
        now = h.clock()
        async with h.sessions() as session, session.begin():
            session.add(KnowledgeHotspotAlert(key="qingxi|market", place="qingxi", matter="菜市场", status="open",
                                              count=6, usual=0.5, first_at=now - timedelta(minutes=50), last_at=now,
                                              numbers=[], created_at=now, updated_at=now))
        assert len(await get("/api/v1/hotspots")) == 1
        await expect(page.locator("#c-hotspots canvas")).to_have_count(1, timeout=15000)
        await expect(page.locator("#c-hotspots")).to_have_attribute("data-count", "1")
        await expect(page.locator("#no-hotspots")).to_be_hidden()
        await screen.shot("screen-hotspot")

        await page.click("#lang-switch")
        await expect(page.locator("h2#h-hours")).to_have_text("Calls per hour today")
        for chart in (*CHARTS, "c-hotspots"):
            await expect(page.locator(f"#{chart} canvas")).to_have_count(1, timeout=15000)
        await screen.shot("screen-english")
        screen.check()

        # Agents are not shown the big screen.
        agent_page = Watched(await (await browser.new_context(locale="zh-CN")).new_page(), "screen-agent")
        await agent_page.page.goto(f"{base}/wallboard/screen")
        await agent_page.page.fill("#username", "agent1")
        await agent_page.page.fill("#password", "demo-agent-1")
        await agent_page.page.press("#password", "Enter")
        await expect(agent_page.page.locator("body")).to_contain_text("无权访问")
        await agent_page.page.context.close()
        await context.close()
