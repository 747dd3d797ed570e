"""Issue 11, test 2: the agent desk against the PBX simulator (`serve --demo`), the whole flow
without audio, so the demo works on any machine: log in, queue login, pause with a reason and
back, a call on a legacy line rings (screen pop with the caller's earlier order and the
bureau), is answered, the draft order is completed and dispatched, the department's webhook
arrives, the wallboard follows, hang-up and wrap-up, then English."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aiohttp
import pytest

from tests.asterisk_support import until
from tests.e2e.desk_support import Watched, login, running_desk

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.e2e
CALLER = "13800138000"


async def _earlier_order(h: Any) -> str:
    from hotline.contact import Contact, Identity
    from hotline.domain.vocabulary import Channel

    r = await h.intake.receive(Contact(channel=Channel.SMS, external_id="sms-earlier", received_at=h.clock(),
                                       text="小区门口有人占道经营", sender=Identity("phone", CALLER),
                                       sender_name="赵女士"))
    return r.number


async def test_desk_against_the_simulator(tmp_path: Path, browser: Any) -> None:
    from playwright.async_api import expect

    from hotline.telephony.service import Telephony

    extra = {"desk": {"softphone": {"enabled": False}, "wrapup_seconds": 2},
             "telephony": {"simulator": {"calls_per_minute": 0, "survey": False, "answer_rate": 1.0}}}
    async with running_desk(tmp_path, extra=extra, demo=True) as (h, base, receiver):
        tel = h.module(Telephony)
        await until(lambda: tel.simulator is not None and tel.consumer is not None and tel.consumer.link.up)
        pbx = tel.simulator.pbx
        await tel.switchboard.pause("8002", True, "会议")  # agent1 (8001) takes the call
        pbx.globals["AGENT_RING"] = "0.5"  # answered quickly (and always: answer_rate 1): this test is about the page
        earlier = await _earlier_order(h)

        desk = Watched(await (await browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000}))
                       .new_page(), "demo-desk")
        page = desk.page
        await login(page, base, "/agent", "agent1", "demo-agent-1")
        await expect(page.locator("#live-status")).to_have_attribute("data-state", "on")
        await expect(page.locator("#who")).to_have_text("话务员 张敏 · 8001")
        await expect(page.locator("#sip-status")).to_have_text("软电话未启用")
        await desk.shot("logged-in")

        # The simulator's agents start in the queue: out, and in again.
        await expect(page.locator("#state")).to_have_attribute("data-state", "ready")
        await page.click("#queue-toggle")
        await expect(page.locator("#state")).to_have_attribute("data-state", "logged_out")
        await expect(page.locator("#queue-toggle")).to_have_text("签入队列")
        await page.keyboard.press("Alt+q")
        await expect(page.locator("#state")).to_have_attribute("data-state", "ready")
        await page.select_option("#pause-reason", "培训")
        await page.keyboard.press("Alt+p")  # the keyboard alone drives the desk
        await expect(page.locator("#state")).to_have_text("示忙 · 培训")
        await page.click("#ready")
        await expect(page.locator("#state")).to_have_text("空闲")
        await expect(page.locator("#state-time")).to_have_text("00:01", timeout=5000)  # its running time

        board = Watched(await (await browser.new_context(locale="zh-CN", viewport={"width": 1200, "height": 800}))
                        .new_page(), "demo-wallboard")
        await login(board.page, base, "/supervisor", "leader", "demo-leader")
        await expect(board.page.locator("#agents tr[data-extension='8001']")).to_have_attribute("data-state", "ready")

        pbx.call_in("12315", CALLER, talk=600)
        await expect(page.locator("#pop")).to_be_visible(timeout=15000)
        await expect(page.locator("#pop-facts")).to_contain_text("12315 市场监管投诉举报热线")
        await expect(page.locator("#pop-facts")).to_contain_text("市场监督管理局")
        await expect(page.locator(f"#pop-orders tr[data-number='{earlier}']")).to_be_visible()
        await expect(page.locator("#pop-open")).to_contain_text(earlier)
        await desk.shot("screen-pop")

        await expect(page.locator("#order")).to_be_visible(timeout=15000)
        await expect(page.locator("#call-state")).to_have_attribute("data-state", "talking")
        await expect(board.page.locator("#agents tr[data-extension='8001']")).to_have_attribute("data-state", "on_call")
        await board.shot("agent-on-call")
        # 监听: the supervisor's phone (8100) is originated into ChanSpy on the agent's channel.
        await board.page.locator("#agents tr[data-extension='8001'] button.spy-listen").click()
        await expect(board.page.locator("#message")).to_have_text("监听：您的话机将振铃，接听后开始")
        await until(lambda: any(c.state == "spy" and ch.app_data.endswith(",qES") and "8100" in ch.name
                                for c, ch in pbx.channels.values()))
        number = await page.inner_text("#o-number")
        await expect(page.locator("#o-title")).to_have_value("来电（市场监管投诉举报热线）")
        await expect(page.locator("#o-phone")).to_have_value(CALLER)
        await expect(page.locator("#o-lead")).to_have_value("scjgj")  # the legacy line's department
        await page.fill("#o-description", "超市出售过期牛奶，要求查处")
        await page.select_option("#o-category", "complaint")
        await desk.shot("order-filled")
        await page.click("#o-dispatch")
        await expect(page.locator("#o-status")).to_have_text("已派单")
        await desk.shot("dispatched")
        await until(lambda: any(r.doc.get("order", {}).get("number") == number or number in r.body.decode()
                                for r in receiver.accepted()), limit=20)
        assert {r.department for r in receiver.accepted()} == {"scjgj"}

        # Blind transfer to the department's number (AMI BlindTransfer): the agent's call ends.
        await page.select_option("#x-department", "jtj")
        await page.click("#x-transfer")
        await expect(page.locator("#message")).to_have_text("已转接：青山县交通运输局")
        await expect(page.locator("#call-state")).to_have_attribute("data-state", "ended")
        await expect(page.locator("#state")).to_have_attribute("data-state", "wrap_up")
        await expect(page.locator("#state")).to_have_text("空闲", timeout=10000)  # wrap-up ends by itself
        await expect(board.page.locator("#agents tr[data-extension='8001']")).to_have_attribute("data-state", "ready")
        await expect(page.locator("#o-recording audio")).to_have_count(1, timeout=10000)  # the call's recording
        # The wallboard's day: the call is counted once recorded; the per-hour chart is drawn.
        await expect(board.page.locator("#f-answered b")).to_have_text("1", timeout=10000)  # transferred counts
        await expect(board.page.locator("#f-answer-rate b")).to_have_text("100.0%")
        await expect(board.page.locator("#hours-chart canvas")).to_have_count(1)

        # A return by the department is a decision for the supervisor, taken on the wallboard.
        async with h.sessions() as session, session.begin():
            key = await h.auth.issue_api_key(session, "scjgj", h.clock())
        async with aiohttp.ClientSession() as http, http.post(
                f"{base}/api/v1/department/orders/{number}/return", headers={"X-Api-Key": key},
                json={"reason": "不属于本局职责，应由交通运输局办理"}) as r:
            assert r.status == 200, await r.text()
        returned = board.page.locator(f"#d-returns tr[data-key='{number}']")
        await expect(returned).to_contain_text("不属于本局职责")
        await board.shot("return-to-review")
        await returned.get_by_role("button", name="同意退单").click()
        await expect(returned).to_have_count(0)
        async with h.sessions() as session:
            from hotline.storage.orders import order_history
            assert (await order_history(session, number)).order.status == "registered"

        # One inbox for the written channels: the earlier text, claimed, answered by text.
        row = page.locator(f"#inbox-list tr[data-number='{earlier}']")
        await row.locator("button.claim").click()
        await expect(page.locator("#o-number")).to_have_text(earlier)
        await expect(row).to_contain_text("话务员 张敏")
        await page.fill("#o-answer", "已转城管部门处理，感谢反映")
        await page.click("#o-resolve")
        await expect(page.locator("#o-status")).to_have_text("直接办结")
        await expect(row).to_have_count(0)
        await desk.shot("inbox-answered")

        # A callback task (回拨) is one click away.
        from hotline.telephony import queries as tq
        async with h.sessions() as session, session.begin():
            task = await tq.missed_call(session, phone="13900009999", citizen_id=None, reason="abandoned",
                                        linkedid="missed-1", ended_at=h.clock(), now=h.clock())
        await h.live.publish("callback", {"event": "missed_call", "task": task})
        await page.locator(f"#callback-list tr[data-task='{task}'] button.call-back").click()
        await expect(page.locator("#message")).to_have_text("正在回拨 13900009999")
        # The callback connects (the simulator answers both legs); the agent hangs up.
        await expect(page.locator("#call-state")).to_have_attribute("data-state", "talking", timeout=15000)
        await page.keyboard.press("Alt+h")
        await expect(page.locator("#call-state")).to_have_attribute("data-state", "ended", timeout=15000)
        await page.fill("#x-number", "13700001234")
        await page.click("#x-dial")  # click-to-call
        await expect(page.locator("#message")).to_have_text("正在外呼 13700001234")

        await page.click("#lang-switch")
        await expect(page.locator("#ready")).to_have_text("Ready")
        await expect(page.locator("#queue-toggle")).to_have_text("Log out of queue")
        await desk.shot("english")
        desk.check()
        board.check()
        # Closed before the server: an open live socket would hold its shutdown up.
        await page.context.close()
        await board.page.context.close()
