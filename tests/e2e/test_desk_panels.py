"""The desk's panels (issues 11, 12, 13) in a real Chromium against the PBX simulator
(`serve --demo`): knowledge suggestions as the agent types and one click to answer and
resolve with the entry cited; the routing assist's top 3 with confidence setting the lead;
duplicate candidates with why they match, merged under a parent; the follow-up queue with
click-to-call and the follow-up form; a fax in the inbox with its page preview."""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from PIL import Image, ImageDraw
from sqlalchemy import select

from hotline.storage.models import Attachment, OrderEvent, WorkOrder
from tests.asterisk_support import until
from tests.e2e.desk_support import Watched, login, running_desk

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.e2e
EXTRA = {"desk": {"softphone": {"enabled": False}},
         "telephony": {"simulator": {"calls_per_minute": 0, "survey": False, "answer_rate": 1.0}}}
LAMP = {"subject": "city-streetlights", "area": "chengnan"}


def _tiff() -> bytes:
    page = Image.new("1", (1728, 2200), 1)
    ImageDraw.Draw(page).text((200, 200), "QINGSHAN 12345 fax page 1", fill=0)
    out = io.BytesIO()
    page.save(out, "TIFF", compression="group4")
    return out.getvalue()


async def _sms(h: Any, key: str, phone: str, text: str, **fields: Any) -> str:
    from hotline.contact import Contact, Identity
    from hotline.domain.vocabulary import Channel

    r = await h.intake.receive(Contact(channel=Channel.SMS, external_id=key, received_at=h.clock(), text=text,
                                       sender=Identity("phone", phone), category="complaint", **fields))
    return r.number


async def _setup(h: Any) -> dict[str, str]:
    """The sample knowledge base, a routing model trained on a generated history, and the orders."""
    from channels.fax import FaxIn
    from channels.module import Channels
    from hotline.knowledge.history import generate
    from hotline.knowledge.service import KnowledgeBase
    from hotline.knowledge.tabular import parse_rows, read_table
    from tests.e2e.desk_support import REPO

    kb = h.module(KnowledgeBase)
    sample = (REPO / "config" / "knowledge" / "qingshan.csv").read_bytes()
    await kb.import_entries(parse_rows(read_table(sample, "csv"), kb.department_code), "test")
    await kb.assist.train(generate(h.settings, h.rule_routers[0], 300), source="generated")
    orders = {
        "kb": await _sms(h, "sms-kb", "13811110001", "我在外地住院了，没有办备案"),
        "lamp1": await _sms(h, "sms-lamp1", "13811110002", "城南社区建设路12号门口的路灯不亮好几天了", **LAMP),
        "lamp2": await _sms(h, "sms-lamp2", "13811110003", "建设路那边路灯坏了晚上不亮", **LAMP),
    }
    fax, _ = await h.module(Channels).fax.take(FaxIn(_tiff(), "13811110004", 1, "fax-e2e-1"))
    orders["fax"] = fax.number
    return orders


async def _replied(http: aiohttp.ClientSession, base: str, auth: dict[str, str]) -> str:
    """An order the department has answered: it waits for the follow-up call (回访)."""
    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with http.post(f"{base}{path}", json=body, headers=auth) as r:
            assert r.status in (200, 201), await r.text()
            return dict(await r.json())
    number = str((await post("/api/v1/workorders", {"text": "小区门口的下水道井盖丢了", "category": "complaint",
                                                    "caller": {"phone": "13811110005", "name": "钱先生"}}))["number"])
    await post(f"/api/v1/workorders/{number}/dispatch", {"lead": "cgj"})
    await post(f"/api/v1/workorders/{number}/sign", {"department": "cgj"})
    await post(f"/api/v1/workorders/{number}/reply", {"department": "cgj", "result": "已补装井盖"})
    return number


async def _events(h: Any, number: str, kind: str) -> list[OrderEvent]:
    async with h.sessions() as session:
        order = (await session.execute(select(WorkOrder).where(WorkOrder.number == number))).scalar_one()
        rows = await session.execute(select(OrderEvent).where(OrderEvent.work_order_id == order.id,
                                                              OrderEvent.kind == kind))
        return list(rows.scalars())


async def _order(h: Any, number: str) -> WorkOrder:
    async with h.sessions() as session:
        return (await session.execute(select(WorkOrder).where(WorkOrder.number == number))).scalar_one()


async def _knowledge_and_assist(page: Any, desk: Watched, h: Any, number: str) -> None:
    from playwright.async_api import expect

    await page.locator(f"#inbox-list tr[data-number='{number}'] button.claim").click()
    await expect(page.locator("#o-number")).to_have_text(number)
    hits = page.locator("#panel-knowledge li.kb-hit")
    await expect(hits.first).to_be_visible()
    # As the agent types, the suggestions follow the words (debounced).
    await page.locator("#o-description").press_sequentially("，在外地看病回来怎么报销", delay=20)
    first = hits.first
    await expect(first).to_have_attribute("data-key", "QS-YB-002")
    await expect(first.locator(".kb-q")).to_have_text("在外地看病没有备案，回来怎么报销？")
    await expect(first.locator(".kb-src")).to_contain_text("政策依据")
    await desk.shot("knowledge-suggestions")

    # The routing assist: three departments with the model's confidence, beside the rule's suggestion.
    assist = page.locator("#assist button.assist")
    await expect(assist).to_have_count(3)
    await expect(page.locator("#assist")).to_have_attribute("data-source", "model")
    await expect(assist.first).to_have_text(re.compile(r"\d+%$"))
    await expect(page.locator("#routing")).not_to_be_empty()
    third = assist.nth(2)
    code = await third.get_attribute("data-department")
    await third.click()
    await expect(page.locator("#o-lead")).to_have_value(str(code))
    await expect(third).to_have_attribute("aria-pressed", "true")
    await desk.shot("routing-assist")

    # The keyboard alone: Alt+K to the first suggestion, Enter answers and resolves citing it.
    await page.keyboard.press("Alt+k")
    await expect(first.locator("button.kb-use")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("#o-status")).to_have_text("直接办结")
    await expect(page.locator("#panel-knowledge button.kb-use").first).to_be_disabled()
    answer = (await _events(h, number, "resolved_directly"))[0].data["answer"]
    assert "知识库 QS-YB-002 第1版" in answer, answer  # the entry cited in the order's history
    from hotline.knowledge.models import KnowledgeCitation
    async with h.sessions() as session:
        cited = (await session.execute(select(KnowledgeCitation))).scalars().all()
    assert [(c.work_order_id, c.version) for c in cited] == [((await _order(h, number)).id, 1)]


async def _duplicates(page: Any, desk: Watched, h: Any, parent: str, child: str) -> None:
    from playwright.async_api import expect

    await page.locator(f"#inbox-list tr[data-number='{child}'] button.claim").click()
    await expect(page.locator("#o-number")).to_have_text(child)
    cand = page.locator(f"#duplicates li[data-number='{parent}']")
    await expect(cand).to_be_visible()
    await expect(cand.locator(".why")).to_contain_text("同一村（社区）")  # place
    await expect(cand.locator(".why")).to_contain_text("city-streetlights")  # matter
    await expect(cand.locator(".why")).to_contain_text("相隔")  # time
    await desk.shot("duplicates")
    await cand.locator("button.merge-into").click()
    await expect(page.locator("#o-status")).to_have_text("已并单")
    assert (await _order(h, child)).merged_into == parent


async def _fax(page: Any, desk: Watched, h: Any, base: str, number: str, auth: dict[str, str]) -> None:
    from playwright.async_api import expect

    row = page.locator(f"#inbox-list tr[data-number='{number}']")
    thumb = row.locator("figure.fax-thumb img")
    await expect(thumb).to_be_visible()
    await until(lambda: thumb.evaluate("i => i.complete && i.naturalWidth > 0"))
    assert await thumb.evaluate("i => i.naturalWidth") == 1200  # the PNG made at intake, not a broken image
    await row.locator("button.claim").click()
    await expect(page.locator("#o-fax figure.fax-page img")).to_be_visible()
    original = await page.locator("#o-fax a").get_attribute("href")
    r = await page.request.get(f"{base}{original}")  # the agent's session cookie
    assert (r.status, r.headers["content-type"]) == (200, "image/tiff")
    assert (await r.body()).startswith(b"II*\x00")
    await desk.shot("fax-preview")
    # Agents only, this order's files only, nothing outside the data directory.
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}{original}") as anon:
            assert anon.status == 401
        other = (await _order(h, number)).id
        async with h.sessions() as session, session.begin():
            outside = Attachment(work_order_id=other, kind="fax", filename="x.tif", content_type="image/tiff",
                                 size=1, location="../../../../etc/passwd", created_at=h.clock())
            session.add(outside)
        async with http.get(f"{base}/api/v1/workorders/{number}/attachments/{outside.id}", headers=auth) as r2:
            assert (r2.status, (await r2.json())["code"]) == (404, "attachment_not_stored")
        fax_id = original.rsplit("/", 1)[1]
        async with http.get(f"{base}/api/v1/workorders/20000101000001/attachments/{fax_id}", headers=auth) as r3:
            assert r3.status == 404


async def _followup(page: Any, desk: Watched, h: Any, number: str) -> None:
    from playwright.async_api import expect

    row = page.locator(f"#followup-list tr[data-number='{number}']")
    await expect(row).to_be_visible()
    await expect(row).to_contain_text("钱先生 13811110005")
    due = await row.get_attribute("data-due")
    await expect(row.locator(".mark")).to_have_text("已到期" if due == "true" else "未到期")
    await row.locator("button.fu-call").click()  # click-to-call through the PBX
    await expect(page.locator("#message")).to_have_text("正在外呼 13811110005")
    # Not reached: an attempt, the task stays.
    await row.locator("button.fu-record").click()
    await page.check("#fu-form input[name=fu-reached][value=no]")
    await page.click("#fu-submit")
    await expect(row.locator("td").nth(4)).to_have_text("1")
    assert len(await _events(h, number, "follow_up_attempted")) == 1
    # Reached: resolved, 5 非常满意, the citizen's words; the task leaves the queue.
    await row.locator("button.fu-record").click()
    await page.check("#fu-form input[name=fu-reached][value=yes]")
    await page.select_option("#fu-resolved", "yes")
    await page.select_option("#fu-rating", "5")
    await page.fill("#fu-words", "井盖当天就补上了，谢谢")
    await desk.shot("followup-form")
    await page.click("#fu-submit")
    await expect(row).to_have_count(0)
    await expect(page.locator("#message")).to_contain_text(number)
    done = (await _events(h, number, "followed_up"))[0].data
    assert (done["reached"], done["resolved"], done["rating"], done["words"]) == (True, True, 5, "井盖当天就补上了，谢谢")
    assert (await _order(h, number)).status == "follow_up"


async def test_desk_panels(tmp_path: Path, browser: Any) -> None:
    from playwright.async_api import expect

    from hotline.telephony.service import Telephony

    extra = {**EXTRA, "channels": {"fax": {"open_without_key": True}}}
    async with running_desk(tmp_path, extra=extra, demo=True) as (h, base, _receiver):
        tel = h.module(Telephony)
        await until(lambda: tel.simulator is not None and tel.consumer is not None and tel.consumer.link.up)
        orders = await _setup(h)
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{base}/api/v1/auth/login", json={"username": "leader", "password": "demo-leader"}) as r:
                auth = {"Authorization": f"Bearer {(await r.json())['token']}"}
            replied = await _replied(http, base, auth)

        desk = Watched(await (await browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000}))
                       .new_page(), "desk-panels")
        page = desk.page
        await login(page, base, "/agent", "agent1", "demo-agent-1")
        await expect(page.locator("#live-status")).to_have_attribute("data-state", "on")
        await expect(page.locator("#panel-knowledge .panel-body")).to_contain_text("输入诉求内容后")

        await _followup(page, desk, h, replied)
        await _knowledge_and_assist(page, desk, h, orders["kb"])
        await _duplicates(page, desk, h, orders["lamp1"], orders["lamp2"])
        await _fax(page, desk, h, base, orders["fax"], auth)

        await page.click("#lang-switch")
        await expect(page.locator("#fu-h")).to_have_text("Follow-up tasks")
        await expect(page.locator("#followup-list th").first).to_have_text("Number")
        await expect(page.locator("#panel-knowledge .panel-body")).to_contain_text("knowledge base")
        await desk.shot("english")
        desk.check()
        await page.context.close()
