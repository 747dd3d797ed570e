"""Issue 11, test 1: the agent desk against the real Asterisk 22 (`../shared/asterisk`).

The agent logs in, the browser softphone (SIP.js, Chromium with a fake microphone)
registers the WebRTC endpoint 8002 over Asterisk's WebSocket and goes ready (QueueAdd of
PJSIP/8002); a citizen's call placed into the 12345 queue (AMI Originate of a Local channel)
rings in the page, the pop-up shows the caller's earlier order, the agent answers in the
browser and the channels are bridged (checked over AMI), fills and dispatches the order, the
department webhook arrives at a local receiver, and the supervisor's wallboard changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.asterisk_support import SECRET, Caller, RealAsterisk, require_asterisk, until
from tests.e2e.conftest import ARGS
from tests.e2e.desk_support import MEDIA_ARGS, Watched, login, running_desk

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.e2e
CALLER = "13800138000"


async def test_desk_against_the_real_asterisk(tmp_path: Path, chromium: str) -> None:
    from playwright.async_api import async_playwright, expect

    from hotline.contact import Contact, Identity
    from hotline.domain.vocabulary import Channel

    require_asterisk()
    pbx = RealAsterisk(tmp_path / "asterisk", agents=()).prepare()  # the browser is the only member
    pbx.start()
    try:
        env = {"HOTLINE_AMI_HOST": "127.0.0.1", "HOTLINE_AMI_PORT": str(pbx.ami_port), "HOTLINE_AMI_SECRET": SECRET}
        extra = {"desk": {"wrapup_seconds": 0,
                          "softphone": {"ws_url": f"ws://127.0.0.1:{pbx.ports.http}/ws", "domain": "127.0.0.1"}}}
        async with running_desk(tmp_path, extra=extra, env=env) as (h, base, receiver), \
                async_playwright() as p, Caller(pbx) as caller:
            earlier = (await h.intake.receive(Contact(
                channel=Channel.SMS, external_id="sms-earlier", received_at=h.clock(), text="超市门口占道经营",
                sender=Identity("phone", CALLER)))).number
            browser = await p.chromium.launch(executable_path=chromium, args=[*ARGS, *MEDIA_ARGS])
            try:
                ctx = await browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000},
                                                permissions=["microphone"])
                desk = Watched(await ctx.new_page(), "asterisk-desk")
                page = desk.page
                await login(page, base, "/agent", "agent2", "demo-agent-2")
                await expect(page.locator("#sip-status")).to_have_attribute("data-state", "on", timeout=20000)
                assert "8002" in pbx.cli("pjsip show contacts")
                await expect(page.locator("#state")).to_have_attribute("data-state", "logged_out", timeout=10000)
                await page.click("#queue-toggle")
                await expect(page.locator("#state")).to_have_attribute("data-state", "ready", timeout=10000)
                assert "PJSIP/8002" in pbx.cli("queue show hotline-12345")
                await desk.shot("registered-ready")

                board = Watched(await (await browser.new_context(locale="zh-CN")).new_page(), "asterisk-wallboard")
                await login(board.page, base, "/supervisor", "leader", "demo-leader")
                row = board.page.locator("#agents tr[data-extension='8002']")
                await expect(row).to_have_attribute("data-state", "ready")
                await board.shot("before")

                await caller.call(CALLER)
                await expect(page.locator("#call-state")).to_have_attribute("data-state", "call_ringing", timeout=30000)
                await expect(page.locator("#pop")).to_be_visible()
                await expect(page.locator(f"#pop-orders tr[data-number='{earlier}']")).to_be_visible()
                await expect(page.locator("#pop-facts")).to_contain_text(CALLER)
                await desk.shot("ringing-pop")
                await page.keyboard.press("Alt+a")
                await expect(page.locator("#call-state")).to_have_attribute("data-state", "talking")

                async def bridged() -> bool:
                    chans = await caller.channels()
                    ours = [c for c in chans if str(c.get("Channel", "")).startswith("PJSIP/8002-")]
                    return bool(ours and ours[0].get("BridgeId"))
                await until(bridged, limit=15)
                await expect(row).to_have_attribute("data-state", "on_call")
                await board.shot("on-call")
                await page.keyboard.press("Alt+m")
                await expect(page.locator("#mute")).to_have_attribute("aria-pressed", "true")
                await page.keyboard.press("Alt+o")  # a re-INVITE: Asterisk plays hold music to the citizen
                await expect(page.locator("#call-state")).to_have_attribute("data-state", "held")
                await page.keyboard.press("Alt+o")
                await expect(page.locator("#call-state")).to_have_attribute("data-state", "talking")
                await page.click("#dialpad button[aria-label='DTMF 5']")

                await expect(page.locator("#order")).to_be_visible(timeout=15000)
                number = await page.inner_text("#o-number")
                await page.fill("#o-title", "超市出售过期食品")
                await page.fill("#o-description", "县城北街某超市出售过期牛奶")
                await page.select_option("#o-category", "complaint")
                await page.select_option("#o-lead", "scjgj")
                await desk.shot("order-filled")
                await page.click("#o-dispatch")
                await expect(page.locator("#o-status")).to_have_text("已派单")
                await until(lambda: any(number in r.body.decode() for r in receiver.accepted()), limit=20)
                await desk.shot("dispatched")

                await page.keyboard.press("Alt+h")
                await expect(page.locator("#call-state")).to_have_attribute("data-state", "ended")
                await expect(row).to_have_attribute("data-state", "ready", timeout=20000)
                desk.check()
                board.check()
            finally:
                await browser.close()
                await caller.hangup_all()
    finally:
        pbx.stop()
