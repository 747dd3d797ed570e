"""热点预警 on the supervisors' wallboard: a burst of contacts about a water cut in one
community, arriving while the board is open, is raised by the running watch and appears
live (the `hotspot` event); one click (建立主单并合并) merges the burst under its first order,
which the API and the database confirm; a second alert is dismissed (关闭预警). Against
`serve --demo`'s simulator (the board needs a PBX)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from sqlalchemy import select

from tests.asterisk_support import until
from tests.e2e.desk_support import Watched, login, running_desk

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.e2e
WATER = ("城南社区停水了，什么时候来水", "我们城南社区从早上开始没水了", "城南社区自来水断水两个小时了")
LIGHTS = ("城北社区路灯全灭了，晚上太黑", "城北社区的路灯不亮了", "城北社区一整条街路灯坏了")


def _burst(h: Any, first: int, texts: tuple[str, ...], area: str, subject: str, n: int) -> list[Any]:
    from hotline.storage.models import WorkOrder

    now = h.clock()
    out = []
    for i in range(n):
        at = now - timedelta(minutes=20) + timedelta(seconds=30 * i)
        out.append(WorkOrder(number=f"2099{first + i:010d}", status="registered", version=1, channel="phone",
                             title="", description=texts[i % len(texts)], category="complaint", subject=subject,
                             area=area, urgency="normal", confidential=False, reopen_count=0, created_at=at,
                             updated_at=at))
    return out


async def _insert(h: Any, rows: list[Any]) -> None:
    async with h.sessions() as session, session.begin():
        session.add_all(rows)


async def test_a_burst_appears_live_on_the_wallboard_and_is_merged_in_one_click(tmp_path: Path, browser: Any) -> None:
    from playwright.async_api import expect

    from hotline.storage.models import WorkOrder
    from hotline.telephony.service import Telephony

    extra = {"telephony": {"simulator": {"calls_per_minute": 0, "survey": False, "answer_rate": 1.0}},
             "knowledge": {"hotspots": {"tick_seconds": 5, "text": {"enabled": False}}}}
    async with running_desk(tmp_path, extra=extra, demo=True) as (h, base, _receiver), aiohttp.ClientSession() as http:
        tel = h.module(Telephony)
        await until(lambda: tel.simulator is not None and tel.consumer is not None and tel.consumer.link.up)
        async with http.post(f"{base}/api/v1/auth/login", json={"username": "leader", "password": "demo-leader"}) as r:
            auth = {"Authorization": f"Bearer {(await r.json())['token']}"}

        board = Watched(await (await browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000}))
                        .new_page(), "wallboard-hotspots")
        page = board.page
        await login(page, base, "/supervisor", "leader", "demo-leader")
        section = page.locator("#hotspots")
        await expect(page.locator("#live-status")).to_have_attribute("data-state", "on")
        await expect(section).to_contain_text("暂无热点预警")
        await expect(section).to_have_attribute("data-count", "0")

        # The burst arrives with the board open: the watch (every 5 s) raises it, the board shows it live.
        water = _burst(h, 1, WATER, "chengnan", "util-water", 30)
        await _insert(h, water)
        row = section.locator("tbody tr[data-by='place_matter']")
        await expect(row).to_have_count(1, timeout=30_000)
        await expect(section).to_have_attribute("data-count", "1")
        await expect(row).to_have_class("new")
        await expect(row).to_contain_text("城南社区")
        await expect(row).to_contain_text("供水")
        await expect(row).to_contain_text("60 分钟内 30 件")
        await expect(row).to_contain_text(water[0].number)
        await expect(row).to_contain_text("等共 30 件")
        await board.shot("raised")

        # A second burst, dismissed from the keyboard.
        await _insert(h, _burst(h, 100, LIGHTS, "chengbei", "city-streetlights", 25))
        await expect(section.locator("tbody tr")).to_have_count(2, timeout=30_000)
        await expect(section).to_have_attribute("data-count", "2")
        other = section.locator("tbody tr", has_text="城北社区")
        other_id = await other.get_attribute("data-id")
        await other.locator("button.dismiss").focus()
        await page.keyboard.press("Enter")
        await expect(section.locator("tbody tr")).to_have_count(1)
        await expect(page.locator("#message")).to_have_text("预警已关闭")
        async with http.get(f"{base}/api/v1/hotspots", params={"status": "closed"}, headers=auth) as r:
            assert [a["id"] for a in await r.json()] == [int(other_id or 0)]

        await row.get_by_role("button", name="建立主单并合并").click()
        parent = water[0].number
        await expect(page.locator("#message")).to_have_text(f"已建立主单 {parent}，并入 29 件")
        await expect(section).to_contain_text("暂无热点预警")
        await expect(section).to_have_attribute("data-count", "0")
        async with http.get(f"{base}/api/v1/hotspots", params={"status": "merged"}, headers=auth) as r:
            (merged,) = await r.json()
        assert merged["parent"] == parent and len(merged["orders"]) == 30, merged
        async with h.sessions() as session:
            orders = {o.number: o for o in (await session.execute(
                select(WorkOrder).where(WorkOrder.number.in_([o.number for o in water])))).scalars()}
        assert orders[parent].status == "registered" and orders[parent].merged_into is None
        children = [o for n, o in orders.items() if n != parent]
        assert len(children) == 29 and {(o.status, o.merged_into) for o in children} == {("merged", parent)}
        async with http.get(f"{base}/api/v1/workorders/{parent}", headers=auth) as r:
            assert r.status == 200, await r.text()
        await board.shot("merged")

        await page.click("#lang-switch")
        await expect(section).to_contain_text("No open hotspot alerts")
        await expect(section.locator("th").first).to_have_text("Area")
        await board.shot("english")
        board.check()
        await page.context.close()
