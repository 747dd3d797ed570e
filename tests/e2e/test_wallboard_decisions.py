"""The wallboard's orders needing a decision: a dissatisfied citizen (rated 不满意) past
`followup.max_reopens` is listed with the rating and the citizen's words, and the supervisor
decides on the board: dispatch it to another department (改派), or close it with a reason;
the API says the same. Against `serve --demo`'s simulator (the board needs a PBX)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aiohttp
import pytest

from tests.asterisk_support import until
from tests.e2e.desk_support import Watched, login, running_desk

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.e2e


async def _dissatisfied(h: Any, http: aiohttp.ClientSession, base: str, token: str, key: str, text: str,
                        words: str) -> str:
    from hotline.contact import Contact, Identity
    from hotline.domain.vocabulary import Channel

    auth = {"Authorization": f"Bearer {token}"}
    r = await h.intake.receive(Contact(channel=Channel.WEB, external_id=f"web-{text}", received_at=h.clock(),
                                       text=text, category="complaint", sender=Identity("phone", "13800138000")))
    number = r.number
    for path, body, headers in (
            (f"/api/v1/workorders/{number}/dispatch", {"lead": "scjgj"}, auth),
            (f"/api/v1/department/orders/{number}/sign", {}, {"X-Api-Key": key}),
            (f"/api/v1/department/orders/{number}/reply", {"result": "已处理"}, {"X-Api-Key": key}),
            (f"/api/v1/workorders/{number}/rate", {"level": 2, "comment": words}, auth)):
        async with http.post(f"{base}{path}", headers=headers, json=body) as resp:
            assert resp.status == 200, (path, await resp.text())
    return number


async def _order(http: aiohttp.ClientSession, base: str, token: str, number: str) -> dict[str, Any]:
    async with http.get(f"{base}/api/v1/workorders/{number}", headers={"Authorization": f"Bearer {token}"}) as r:
        return await r.json()


async def test_dissatisfied_orders_are_decided_on_the_wallboard(tmp_path: Path, browser: Any) -> None:
    from playwright.async_api import expect

    from hotline.telephony.service import Telephony

    extra = {"followup": {"max_reopens": 0}, "telephony": {"simulator": {"calls_per_minute": 0, "survey": False, "answer_rate": 1.0}}}
    async with running_desk(tmp_path, extra=extra, demo=True) as (h, base, _receiver), aiohttp.ClientSession() as http:
        tel = h.module(Telephony)
        await until(lambda: tel.simulator is not None and tel.consumer is not None and tel.consumer.link.up)
        async with h.sessions() as session, session.begin():
            key = await h.auth.issue_api_key(session, "scjgj", h.clock())
        async with http.post(f"{base}/api/v1/auth/login", json={"username": "leader", "password": "demo-leader"}) as r:
            token = (await r.json())["token"]
        sent = await _dissatisfied(h, http, base, token, key, "超市出售过期牛奶", "牛奶还在卖")
        closed = await _dissatisfied(h, http, base, token, key, "菜市场占道经营", "没人来管")
        for number in (sent, closed):
            assert (await _order(http, base, token, number))["status"] == "reopened"

        board = Watched(await (await browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000}))
                        .new_page(), "wallboard-decisions")
        page = board.page
        await login(page, base, "/supervisor", "leader", "demo-leader")
        await expect(page.locator("#decisions")).to_contain_text("市民不满意 · 重办待决定")
        row = page.locator(f"#d-dissatisfied tr[data-key='{sent}']")
        await expect(row).to_contain_text("评价 2 不满意")
        await expect(row).to_contain_text("牛奶还在卖")
        await board.shot("dissatisfied")
        await row.locator("select.redispatch-to").select_option("jtj")
        await row.get_by_role("button", name="改派").click()
        await expect(row).to_have_count(0)
        after = await _order(http, base, token, sent)
        assert after["status"] == "dispatched" and after["lead_department"] == "jtj", after

        other = page.locator(f"#d-dissatisfied tr[data-key='{closed}']")
        await other.get_by_role("button", name="解释归档").click()  # no reason: refused on the page
        await expect(page.locator("#message")).to_have_text("请填写归档理由")
        await other.locator("input.close-reason").fill("已联系城管，摊位已清理，向市民解释")
        await other.get_by_role("button", name="解释归档").click()
        await expect(other).to_have_count(0)
        after = await _order(http, base, token, closed)
        assert after["status"] == "closed", after

        await page.click("#lang-switch")
        await expect(page.locator("#decisions")).to_contain_text("Dissatisfied citizens")
        await board.shot("english")
        board.check()
        await page.context.close()
