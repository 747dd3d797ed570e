"""Issue 11 part 5: the admin screens on /api/v1/admin/… — add a user with an extension,
change the extension, reset the password, disable; issue a department key (shown once),
rotate it, revoke it. An agent may not open the page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aiohttp
import pytest

from tests.e2e.desk_support import Watched, login, running_desk

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.e2e


async def test_admin_screens(tmp_path: Path, browser: Any) -> None:
    from playwright.async_api import expect

    async with running_desk(tmp_path, extra={}) as (h, base, _receiver):
        admin = Watched(await (await browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900}))
                        .new_page(), "admin")
        page = admin.page
        await login(page, base, "/admin", "admin", "demo-admin")
        await page.fill("#u-username", "agent9")
        await page.fill("#u-name", "话务员 周洁")
        await page.select_option("#u-role", "agent")
        await page.fill("#u-extension", "8009")
        await page.fill("#u-password", "first-password-9")
        await page.press("#u-password", "Enter")
        row = page.locator("#users tr[data-username='agent9']")
        await expect(row).to_contain_text("话务员 周洁")
        await expect(row.locator("input.ext")).to_have_value("8009")
        await row.locator("input.ext").fill("8010")
        await row.locator("button.save-ext").click()
        await expect(page.locator("#message")).to_have_text("已完成：保存分机")
        await row.locator("input.pw").fill("second-password-9")
        await row.locator("button.reset").click()
        await expect(page.locator("#message")).to_have_text("已完成：重置")
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{base}/api/v1/auth/login", json={"username": "agent9",
                                                                    "password": "second-password-9"}) as r:
                assert r.status == 200
                assert (await r.json())["user"]["extension"] == "8010"
            await row.locator("button.disable").click()
            await expect(row).to_have_attribute("data-active", "false")
            async with http.post(f"{base}/api/v1/auth/login", json={"username": "agent9",
                                                                    "password": "second-password-9"}) as r:
                assert r.status == 401
        await admin.shot("users")

        await page.select_option("#k-department", "jtj")
        await page.fill("#k-label", "交通局工单系统")
        await page.click("#add-key button[type=submit]")
        await expect(page.locator("#new-key")).to_contain_text("hk_")
        first = (await page.inner_text("#new-key")).rsplit("：", 1)[-1].strip()
        key_row = page.locator("#keys tr[data-revoked='false']")
        await expect(key_row).to_have_count(1)
        await key_row.locator("button.rotate").click()
        await expect(page.locator("#keys tr[data-revoked='true']")).to_have_count(1)
        second = (await page.inner_text("#new-key")).rsplit("：", 1)[-1].strip()
        assert second != first and second.startswith("hk_")
        async with aiohttp.ClientSession() as http:
            for key, status in ((first, 401), (second, 200)):
                async with http.get(f"{base}/api/v1/department/orders", headers={"X-Api-Key": key}) as r:
                    assert r.status == status, (key[:8], await r.text())
        await page.locator("#keys tr[data-revoked='false'] button.revoke").click()
        await expect(page.locator("#keys tr[data-revoked='true']")).to_have_count(2)
        await admin.shot("keys")

        await page.click("#lang-switch")
        await expect(page.locator("#users-h")).to_have_text("Users")
        admin.check()
        await page.context.close()
