"""Issue 13 in the browser: the knowledge page `/knowledge` — a supervisor creates an entry,
edits it (version 2 in the history, with its approver), finds it by search, imports a CSV
(and a CSV with a bad row: the row's error shown, nothing written), downloads the exports,
retires it with a reason; an agent reads only; nobody logged in is sent to the login page."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import aiohttp
import pytest

from tests.e2e.desk_support import Watched, login, running_desk

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.e2e

GOOD = "编号,问题,答案,政策依据,部门,公开\nKB-IMP-1,居住证怎么办理,携带身份证到派出所办理,居住证暂行条例,,是\n"
BAD = ("编号,问题,答案,公开\nKB-IMP-2,新生儿落户,带出生证明到派出所,否\n"
       "KB-IMP-3,没有答案的问题,,是\n")


async def api_json(base: str, cookies: list[dict[str, Any]], path: str) -> Any:
    jar = {c["name"]: c["value"] for c in cookies}
    async with aiohttp.ClientSession(cookies=jar) as http, http.get(f"{base}{path}") as r:
        assert r.status == 200, await r.text()
        return await r.json()


async def keys_listed(page: Any) -> list[str]:
    return await page.eval_on_selector_all("#entries tbody tr[data-id]", "rs => rs.map(r => r.dataset.key)")


async def test_the_knowledge_page(tmp_path: Path, browser: Any) -> None:
    from openpyxl import load_workbook
    from playwright.async_api import expect

    async with running_desk(tmp_path, extra={}) as (_h, base, _receiver):
        context = await browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000},
                                            accept_downloads=True)
        sup = Watched(await context.new_page(), "knowledge")
        page = sup.page
        await login(page, base, "/knowledge", "leader", "demo-leader")
        await expect(page.locator("body")).to_have_attribute("data-ready", "true")
        await expect(page.locator("#entry-h")).to_have_text("新建知识条目")

        # Create: typed with the keyboard, the department from the directory's picker.
        await page.click("#new")
        await page.keyboard.type("路灯不亮找哪个部门")
        await page.fill("#f-answer", "城区路灯由清溪镇负责维修，可拨打 12345 报修。")
        await page.fill("#f-policy", "县城市照明管理办法第八条")
        await page.select_option("#f-department", "qingxi")
        await page.fill("#f-from", "2026-01-01")
        await page.fill("#f-tags", "路灯，照明")
        await page.check("#f-public")
        await page.press("#f-policy", "Enter")  # Enter in the form saves it
        await expect(page.locator("#message")).to_contain_text("第 1 版，审核人 leader")
        key = await page.locator("#entry-meta dd").first.text_content()
        assert key
        entry = next(e for e in (await api_json(base, await context.cookies(), "/api/v1/knowledge/entries"))["items"]
                     if e["key"] == key)
        assert (entry["department"], entry["tags"], entry["public"], entry["valid_from"]) == (
            "qingxi", ["路灯", "照明"], True, "2026-01-01")
        assert key in await keys_listed(page)

        # Edit: version 2, in the history with its approver.
        await page.fill("#f-answer", "城区路灯由清溪镇负责维修；夜间可拨打 12345 报修。")
        await page.click("#save")
        await expect(page.locator("#message")).to_contain_text("第 2 版，审核人 leader")
        await expect(page.locator("#versions tbody tr")).to_have_count(2)
        first = page.locator("#versions tbody tr").first
        await expect(first.locator("td").nth(0)).to_have_text("2")
        await expect(first.locator("td").nth(1)).to_have_text("修改")
        await expect(first.locator("td").nth(2)).to_have_text("leader")
        versions = await api_json(base, await context.cookies(), f"/api/v1/knowledge/entries/{entry['id']}/versions")
        assert [v["version"] for v in versions] == [1, 2] and "夜间" in versions[1]["data"]["answer"]
        await sup.shot("edited")

        # Someone else saves meanwhile: this save is refused with a clear message, nothing lost.
        jar = {c["name"]: c["value"] for c in await context.cookies()}
        async with aiohttp.ClientSession(cookies=jar) as http:
            async with http.get(f"{base}/api/v1/auth/me") as r:
                csrf = (await r.json())["csrf_token"]
            async with http.put(f"{base}/api/v1/knowledge/entries/{entry['id']}", headers={"X-CSRF-Token": csrf},
                                json={**{k: versions[1]["data"][k] for k in ("question", "answer", "policy_source",
                                                                             "department", "tags", "public")},
                                      "valid_from": "2026-01-01", "valid_to": "2026-12-31",
                                      "expected_version": 2}) as r:
                assert r.status == 200 and (await r.json())["version"] == 3
        await page.fill("#f-policy", "县城市照明管理办法第九条")
        await page.click("#save")
        await expect(page.locator("#message")).to_have_text("条目已被修改（当前第 3 版），请刷新后再改")
        await expect(page.locator("#message")).to_have_class("error")
        await page.click(f"#entries tbody tr[data-key='{key}'] button")  # reopened: version 3, its dates
        await expect(page.locator("#f-to")).to_have_value("2026-12-31")
        await expect(page.locator("#versions tbody tr")).to_have_count(3)

        # Search finds it (and not the demo entries that do not match).
        await page.fill("#q", "路灯")
        await page.press("#q", "Enter")
        await expect(page.locator("#list-note")).to_contain_text("检索“路灯”")
        assert key in await keys_listed(page)

        # Import: a good file...
        good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
        good.write_text(GOOD, encoding="utf-8")
        bad.write_text(BAD, encoding="utf-8")
        await page.set_input_files("#import-file", str(good))
        await page.click("#import-run")
        await expect(page.locator("#import-result")).to_have_text("导入完成：新建 1 条，更新 0 条，未变 0 条。")
        await page.click("#show-all")
        await expect(page.locator("#entries tbody tr[data-key='KB-IMP-1']")).to_have_count(1)
        # ...and one with a bad row: the row's error is said, nothing is written.
        await page.set_input_files("#import-file", str(bad))
        await page.click("#import-run")
        result = page.locator("#import-result")
        await expect(result).to_have_class("error")
        await expect(result).to_contain_text("导入失败，未写入任何条目")
        await expect(result.locator("li")).to_have_text(["第 3 行：答案：至少 1 个字符"])
        await sup.shot("import-error")
        all_keys = [e["key"] for e in (await api_json(base, await context.cookies(),
                                                      "/api/v1/knowledge/entries?limit=500"))["items"]]
        assert "KB-IMP-1" in all_keys and "KB-IMP-2" not in all_keys and "KB-IMP-3" not in all_keys

        # Export: the API's files, with the entries in them.
        async with page.expect_download() as got:
            await page.click("#export-csv")
        saved = tmp_path / "kb.csv"
        await (await got.value).save_as(saved)
        rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
        assert rows[0][:3] == ["编号", "问题", "答案"] and {key, "KB-IMP-1"} <= {r[0] for r in rows[1:]}
        async with page.expect_download() as got:
            await page.click("#export-xlsx")
        saved = tmp_path / "kb.xlsx"
        await (await got.value).save_as(saved)
        ws = load_workbook(io.BytesIO(saved.read_bytes())).active
        assert ws.cell(1, 1).value == "编号" and key in {ws.cell(r, 1).value for r in range(2, ws.max_row + 1)}

        # Retire: a reason is asked for, then kept in the history.
        await page.click(f"#entries tbody tr[data-key='{key}'] button")
        await expect(page.locator("#retire-form")).to_be_visible()
        await page.click("#retire")
        await expect(page.locator("#message")).to_have_text("请填写下线原因")
        await page.fill("#retire-reason", "政策调整，改由新条目答复")
        await page.press("#retire-reason", "Enter")
        await expect(page.locator("#message")).to_have_text(f"已下线：{key}")
        first = page.locator("#versions tbody tr").first
        await expect(first.locator("td").nth(1)).to_have_text("已下线")
        await expect(first.locator("td").nth(4)).to_have_text("政策调整，改由新条目答复")
        await expect(page.locator("#retire-form")).to_be_hidden()
        assert key not in await keys_listed(page)  # the list shows the active ones
        await page.select_option("#status", "retired")
        await expect(page.locator(f"#entries tbody tr[data-key='{key}']")).to_have_count(1)
        assert (await api_json(base, await context.cookies(), f"/api/v1/knowledge/entries/{entry['id']}"))[
            "status"] == "retired"
        await sup.shot("retired")

        # English: the page's own words.
        await page.click("#lang-switch")
        await expect(page.locator("#search")).to_have_text("Search")
        await expect(page.locator("#new")).to_have_text("New entry")
        await expect(page.locator("body")).to_have_attribute("data-ready", "true")
        # Chromium logs the refused save's 409 and import's 422 as console errors: those, nothing else.
        for status in ("409 (Conflict)", "422 (Unprocessable Entity)"):
            refused = f"console: Failed to load resource: the server responded with a status of {status}"
            assert sup.errors.count(refused) == 1, sup.errors
            sup.errors.remove(refused)
        sup.check()
        await context.close()

        # An agent reads (the API lets agents read) but sees no write controls.
        agent_ctx = await browser.new_context(locale="zh-CN")
        agent = Watched(await agent_ctx.new_page(), "knowledge-agent")
        await login(agent.page, base, "/knowledge", "agent1", "demo-agent-1")
        await expect(agent.page.locator("body")).to_have_attribute("data-ready", "true")
        await expect(agent.page.locator("#entries tbody tr[data-key='KB-IMP-1']")).to_have_count(1)
        for control in ("#new", "#save", "#import-run", "#retire"):
            await expect(agent.page.locator(control)).to_be_hidden()
        await agent.page.click("#entries tbody tr[data-key='KB-IMP-1'] button")
        await expect(agent.page.locator("#f-question")).to_have_value("居住证怎么办理")
        await expect(agent.page.locator("#f-question")).to_be_disabled()
        await agent.shot("agent")
        agent.check()
        await agent_ctx.close()

        # Nobody logged in gets the login page, for both spellings.
        async with aiohttp.ClientSession() as http:
            for path in ("/knowledge", "/knowledge/"):
                async with http.get(f"{base}{path}", allow_redirects=False) as r:
                    assert r.status == 302 and unquote(r.headers["Location"]) == f"/login?next={path}"
