"""The citizens' portal in a real headless Chromium: submit with a photo, get the number,
look it up, rate it after the reply — in Chinese, and the English switch."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pytest
from PIL import Image
from sqlalchemy import select

from hotline.domain import workorder as wo
from hotline.domain.vocabulary import ActorKind
from hotline.storage.models import Attachment, WorkOrder
from tests import channels_support as support

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.e2e
settings, vendors = support.settings, support.vendors


def photo(tmp_path: Path) -> Path:
    path = tmp_path / "路灯.jpg"
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 180, 40)).save(buf, "JPEG")
    path.write_bytes(buf.getvalue())
    return path


async def test_submit_lookup_and_rate_in_a_browser(hotline, base_url, page, tmp_path):
    await page.goto(base_url + "/portal/")
    assert "12345" in await page.title()
    await page.select_option("#category", "help")
    await page.select_option("#subject", "city-streetlights")
    await page.select_option("#area", "chengguan")
    await page.fill("#address", "城关街道东门路 12 号")
    await page.fill("#text", "东门路路灯连续一周不亮，晚上行人不安全")
    await page.set_input_files("#photos", str(photo(tmp_path)))
    await page.fill("#phone", "138 0013 8000")
    await page.click("#send")
    await page.wait_for_selector("#number")
    number = (await page.text_content("#number") or "").strip()
    assert len(number) == 14
    assert "提交成功" in await page.content()

    async with hotline.sessions() as s:
        order = (await s.execute(select(WorkOrder))).scalar_one()
        assert (order.number, order.channel, order.contact_phone, order.area) == (
            number, "web", "13800138000", "chengguan")
        att = (await s.execute(select(Attachment))).scalar_one()
        assert (att.kind, att.content_type, att.filename) == ("photo", "image/jpeg", "路灯.jpg")
        assert (hotline.settings.data_dir / att.location).read_bytes()[:2] == b"\xff\xd8"

    # The agent answers it directly; the citizen looks it up and rates it.
    agent = wo.Actor(ActorKind.AGENT, "1", "话务员")

    async def resolve(session, order, state):
        return wo.ResolveDirectly(agent, "已通知路灯管理所，今晚修复")
    await hotline.orders.execute(number, resolve)

    await page.goto(base_url + f"/portal/status?number={number}")
    await page.fill("#last4", "0000")
    await page.click("#lookup")
    await page.wait_for_selector("#not-found")
    await page.fill("#last4", "8000")
    await page.click("#lookup")
    await page.wait_for_selector("#order")
    assert (await page.text_content("#status")) == "直接办结"
    assert "已通知路灯管理所" in (await page.text_content("#order") or "")
    await page.check("input[name=level][value='5']")
    await page.click("#rate")
    await page.wait_for_selector("#thanks")
    assert "非常满意" in (await page.text_content("#rating") or "")
    async with hotline.sessions() as s:
        assert (await s.execute(select(WorkOrder.rating))).scalar_one() == 5

    # The English switch sticks (cookie) across pages.
    await page.click("#lang")
    await page.wait_for_selector("text=Track a request")
    await page.goto(base_url + "/portal/")
    assert await page.text_content("#send") == "Submit"
