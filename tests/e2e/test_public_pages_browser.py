"""The public pages (政务公开, 便民服务) in a real headless Chromium: the published cases, one
case and a comment through its form, the statistics, the service directory, the English
switch — with screenshots under var/screenshots/ for a look by eye."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.contact import Contact, Identity
from hotline.domain import workorder as wo
from hotline.domain.vocabulary import ActorKind, Channel
from hotline.public.config import public_config
from hotline.public.directory import DirectoryService
from hotline.public.service import Disclosure

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
AGENT = wo.Actor(ActorKind.AGENT, "1", "话务员")
SUPERVISOR = wo.Actor(ActorKind.SUPERVISOR, "2", "值班长")


async def closed(hotline, ref: str, text: str, answer: str) -> str:
    r = await hotline.intake.receive(Contact(channel=Channel.WEB, external_id=ref, received_at=hotline.clock(),
                                             text=text, title=text[:14], category="help",
                                             sender=Identity("phone", "13812345678"), sender_name="李四"))

    async def resolve(session, order, state):
        return wo.ResolveDirectly(AGENT, answer)

    async def close(session, order, state):
        return wo.Close(AGENT)

    await hotline.orders.execute(r.number, resolve)
    await hotline.orders.execute(r.number, close)
    return r.number


async def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"public-{name}.png"), full_page=True)


async def test_disclosure_pages_and_a_comment_in_a_browser(hotline, base_url, page):
    number = await closed(hotline, "e2e-1", "我是李四，电话13812345678，东门路路灯不亮",
                          "已通知路灯管理所，李四反映的路灯当晚修复")
    await hotline.module(Disclosure).publish(number, SUPERVISOR, None)

    await page.goto(base_url + "/public/")
    assert "政务公开" in await page.title()
    card = page.locator(f"#case-{number}")
    assert "李四" not in (await card.text_content() or "")
    await shot(page, "list")
    await card.locator("a").click()
    await page.wait_for_selector("#question")
    assert (await page.text_content("#question")) == "我是李某，电话[手机号]，东门路路灯不亮"
    assert "李某反映的路灯" in (await page.text_content("#answer") or "")
    await page.fill("#comment-text", "路灯修好了，谢谢！我的电话13900001111")
    await page.click("#send-comment")
    await page.wait_for_selector("#sent")
    assert "路灯修好了" not in (await page.text_content("#comments") or "")  # shown only after moderation
    await shot(page, "case")

    await page.goto(base_url + "/public/stats")
    assert "受理量：1" in (await page.text_content("#contacts") or "")
    await shot(page, "stats")

    await page.click("#lang")
    await page.wait_for_selector("text=Statistics")
    await page.goto(base_url + "/public/")
    assert "Published cases" in await page.content()  # the switch sticks (cookie)
    await shot(page, "list-en")


async def test_the_service_directory_page_in_a_browser(hotline, base_url, page):
    d = DirectoryService(public_config(hotline.settings).directory, hotline.settings, hotline.sessions,
                         hotline.clock, hotline.outbox.nudge)
    await d.upsert([{"code": "qx-plumb", "name": "青溪水电维修部", "service_types": ["plumbing"], "areas": ["qingxi"],
                     "hours": "08:00-20:00", "phone": "0791-88000001", "price_guidance": "上门费 30 元"},
                    {"code": "qx-locks", "name": "青溪开锁", "service_types": ["locks"], "areas": ["qingxi"]},
                    # ~5 km north of qingxi's reference point (28.68, 115.86): outside its 15 minutes
                    {"code": "far-plumb", "name": "北郊水电", "service_types": ["plumbing"], "latitude": 28.725,
                     "longitude": 115.86}])
    await page.goto(base_url + "/public/services")
    await page.select_option("#type", "plumbing")
    await page.select_option("#area", "qingxi")
    await page.click("#find")
    await page.wait_for_selector("#company-qx-plumb")
    assert await page.locator("#company-qx-locks").count() == 0
    assert "上门费 30 元" in (await page.text_content("#company-qx-plumb") or "")
    assert await page.locator("#company-far-plumb").count() == 0  # the town's 15-minute circle
    await shot(page, "services")
    # "My location": the browser's geolocation (the inline script runs under the page's CSP nonce).
    await page.context.grant_permissions(["geolocation"])
    await page.context.set_geolocation({"latitude": 28.725, "longitude": 115.86})
    await page.select_option("#area", "")
    await page.click("#my-location")
    await page.wait_for_selector("#company-far-plumb")
    assert "约 1 分钟" in (await page.text_content("#company-far-plumb") or "")
    assert await page.locator("#company-qx-plumb").count() == 0  # it has no coordinates
    await shot(page, "services-near-me")
