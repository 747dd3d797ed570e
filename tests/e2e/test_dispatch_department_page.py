"""The department page in a real headless Chromium: sign in with the API key, see only
our orders, sign for, reply with a file, switch to English; no reporter for a report."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from hotline.storage.models import Attachment, OrderEvent, WorkOrder

if TYPE_CHECKING:
    from pathlib import Path

    from hotline.module import Running as Hotline

pytestmark = pytest.mark.e2e


async def _order(h: Hotline, text: str, lead: str, *, confidential: bool = False) -> str:
    from dispatch import commands
    from dispatch.service import DispatchService
    from hotline.contact import Contact, Identity
    from hotline.domain import workorder as wo
    from hotline.domain.vocabulary import Channel

    r = await h.intake.receive(Contact(channel=Channel.PHONE, external_id=f"call-{text}", received_at=h.clock(),
                                       text=text, category="report" if confidential else "complaint",
                                       sender=Identity("phone", "13800138000"), sender_name="王先生",
                                       confidential=confidential))

    async def build(session, order, state):  # type: ignore[no-untyped-def]
        return commands.dispatch(h.module(DispatchService).context(h.clock()), order, wo.SYSTEM, lead)

    await h.orders.execute(r.number, build)
    return r.number


async def test_department_page(hotline: Hotline, base_url: str, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from playwright.async_api import expect

    ours = await _order(hotline, "举报某厂夜间偷排废水", "sthj", confidential=True)
    theirs = await _order(hotline, "公交车不按站停靠", "jtj")
    async with hotline.sessions() as session, session.begin():
        key = await hotline.auth.issue_api_key(session, "sthj", hotline.clock())
    report = tmp_path / "监测报告.pdf"
    report.write_bytes(b"%PDF-1.4\n%%EOF\n")

    page = await (await browser.new_context(locale="zh-CN")).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(f"{base_url}/department")
    assert await page.title() == "承办单位工作台 · 青山县12345政务服务便民热线"
    await page.fill("#api-key", "hk_wrong_key")
    await page.click("#login-form button[type=submit]")
    await page.wait_for_selector("#message.error")
    assert "API" in await page.inner_text("#message")

    await page.fill("#api-key", key)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_selector(f"#orders tbody tr[data-number='{ours}']")
    assert await page.inner_text("#who") == "云州市生态环境局青山分局"
    assert await page.locator(f"#orders tbody tr[data-number='{theirs}']").count() == 0
    await page.click(f"#orders tbody tr[data-number='{ours}']")
    await page.wait_for_selector("#detail-pane:not([hidden])")
    facts = await page.inner_text("#d-facts")
    assert "保密" in facts and "13800138000" not in await page.content()

    await page.click("#f-sign button")
    await page.wait_for_selector("#f-reply:not([hidden])")
    await page.fill("#reply-result", "已现场检查，责令停产整改并立案查处")
    await page.set_input_files("#reply-files", str(report))
    await page.click("#f-reply button[type=submit]")
    await expect(page.locator("#d-facts")).to_contain_text("已回复")
    assert "监测报告.pdf" in await page.inner_text("#d-attachments")

    await page.click("#lang-switch")
    await expect(page.locator("#who")).to_have_text("Yunzhou Municipal Ecology and Environment Bureau, Qingshan Branch")
    await expect(page.locator("#tabs [data-tab=todo]")).to_have_text("To sign for")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    assert await page.title() == "承办单位工作台 · Qingshan County 12345 Government Service Hotline"
    assert errors == []

    async with hotline.sessions() as session:
        order = (await session.execute(select(WorkOrder).where(WorkOrder.number == ours))).scalar_one()
        kinds = list((await session.execute(select(OrderEvent.kind).where(OrderEvent.work_order_id == order.id)
                                            .order_by(OrderEvent.seq))).scalars())
        files = list((await session.execute(select(Attachment).where(Attachment.work_order_id == order.id))).scalars())
    assert order.status == "replied" and kinds[-2:] == ["signed", "replied"]
    assert [f.filename for f in files] == ["监测报告.pdf"]
