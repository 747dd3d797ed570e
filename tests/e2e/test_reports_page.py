"""Issue 12 part 5 in the browser: the supervisors' report page `/reports` — a login first,
the KPI table row for row what the API says, a chart per day and per department drawn,
the CSV and XLSX downloads the API's own, the English switch; an agent may not open it."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import aiohttp
import pytest

from hotline.telephony.models import CallRecord
from tests.e2e.desk_support import Watched, login, running_desk

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.e2e


def shown(value: float | None, kind: str) -> str:
    """What the page writes in a cell (reports.js `shown`)."""
    if value is None:
        return "—"
    if kind == "rate":
        return f"{value * 100:.2f}%"
    if kind == "seconds":
        return f"{value:.1f}"
    return str(value)


async def api_rows(base: str, cookies: list[dict[str, Any]], query: str) -> dict[str, Any]:
    jar = {c["name"]: c["value"] for c in cookies}
    async with aiohttp.ClientSession(cookies=jar) as http, http.get(f"{base}/api/v1/reports/kpis?{query}") as r:
        assert r.status == 200, await r.text()
        return await r.json()


async def table(page: Any) -> list[list[str]]:
    return await page.eval_on_selector_all(
        "#kpi-table tbody tr", "rows => rows.map(r => [...r.children].map(c => c.textContent))")


async def test_the_reports_page(tmp_path: Path, browser: Any) -> None:
    from openpyxl import load_workbook
    from playwright.async_api import expect

    async with running_desk(tmp_path, extra={}) as (h, base, _receiver):
        now = h.clock()
        async with h.sessions() as s, s.begin():  # calls today, so the day chart has a line to draw
            for i, (outcome, wait) in enumerate([("answered", 4), ("answered", 30), ("abandoned", 12)]):
                s.add(CallRecord(linkedid=f"page-{i}", direction="inbound", outcome=outcome, caller="13800138000",
                                 line="12345", started_at=now - timedelta(seconds=i),
                                 answered_at=now if outcome == "answered" else None,
                                 ended_at=now + timedelta(minutes=1), wait_seconds=wait,
                                 talk_seconds=60 if outcome == "answered" else None, data={"wrapup_seconds": 15}))
        async with aiohttp.ClientSession() as http:  # two orders with departments, for the department chart
            async with http.post(f"{base}/api/v1/auth/login", json={"username": "agent1",
                                                                    "password": "demo-agent-1"}) as r:
                auth = {"Authorization": f"Bearer {(await r.json())['token']}"}
            for text, lead in (("路灯不亮", "qingxi"), ("频繁停电", "gdgs")):
                async with http.post(f"{base}/api/v1/workorders", headers=auth, json={
                        "channel": "web", "text": text, "category": "help", "caller": {"phone": "13800138000"}}) as r:
                    number = (await r.json())["number"]
                async with http.post(f"{base}/api/v1/workorders/{number}/dispatch", headers=auth,
                                     json={"lead": lead}) as r:
                    assert r.status == 200, await r.text()
        context = await browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900},
                                            accept_downloads=True)
        sup = Watched(await context.new_page(), "reports")
        page = sup.page
        await login(page, base, "/reports", "leader", "demo-leader")
        await expect(page.locator("body")).to_have_attribute("data-ready", "true")
        today = (now.astimezone(h.settings.tz)).date()
        first = today.replace(day=1)
        assert await page.input_value("#from") == first.isoformat()
        assert await page.input_value("#to") == today.isoformat()

        # The table is the API's, row for row and cell for cell.
        report = await api_rows(base, await context.cookies(), f"from={first}&to={today}")
        kinds = [k["kind"] for k in report["kpis"]]
        want = [[r["group_name"], *(shown(r["values"][k["code"]], k["kind"]) for k in report["kpis"])]
                for r in report["rows"]]
        assert await table(page) == want
        assert want[0][0] == "全部" and want[0][1] == "3"  # three calls offered today
        heads = await page.eval_on_selector_all("#kpi-table thead th", "hs => hs.map(h => h.textContent)")
        assert heads[:3] == ["范围", "呼入量", "接通量"] and "一次解决率" in heads and len(heads) == len(kinds) + 1
        await expect(page.locator("#day-chart canvas")).to_have_count(1)
        await expect(page.locator("#dept-chart canvas")).to_have_count(1)
        await sup.shot("all")

        # Per department: the same check, and the department chart names them.
        await page.select_option("#by", "department")
        await page.click("#run")
        report = await api_rows(base, await context.cookies(), f"from={first}&to={today}&by=department")
        want = [[r["group_name"], *(shown(r["values"][k["code"]], k["kind"]) for k in report["kpis"])]
                for r in report["rows"]]
        await expect(page.locator("#kpi-table thead th").first).to_have_text("部门")
        assert await table(page) == want and len(want) >= 1
        await expect(page.locator("#dept-names li")).to_have_count(len([r for r in report["rows"] if r["group"]]))
        await expect(page.locator("#dept-chart canvas")).to_have_count(1)

        # The downloads are the API's CSV and XLSX of what is shown.
        async with page.expect_download() as got:
            await page.click("#export-csv")
        download = await got.value
        assert download.suggested_filename == f"kpi-{first}-{today}-department.csv"
        text = (tmp_path / "k.csv")
        await download.save_as(text)
        lines = text.read_text(encoding="utf-8-sig").splitlines()
        assert lines[0].split(",")[:2] == ["部门", "呼入量"] and len(lines) == len(want) + 1
        async with page.expect_download() as got:
            await page.click("#export-xlsx")
        download = await got.value
        xlsx = tmp_path / "k.xlsx"
        await download.save_as(xlsx)
        ws = load_workbook(io.BytesIO(xlsx.read_bytes())).active
        assert ws.cell(1, 1).value == "部门" and ws.max_row == len(want) + 1
        await sup.shot("department")

        # English: headers and the page's own words.
        await page.click("#lang-switch")
        await expect(page.locator("#run")).to_have_text("Show")
        await expect(page.locator("body")).to_have_attribute("data-ready", "true")
        heads = await page.eval_on_selector_all("#kpi-table thead th", "hs => hs.map(h => h.textContent)")
        assert heads[:3] == ["Scope", "Calls offered", "Calls answered"] and "First-contact resolution" in heads
        assert await page.get_attribute("#export-csv", "href") is not None
        assert "lang=en" in (await page.get_attribute("#export-csv", "href") or "")
        # A period the wrong way round is said, not sent.
        await page.fill("#from", today.isoformat())
        await page.fill("#to", (today - timedelta(days=1)).isoformat())
        await page.click("#run")
        await expect(page.locator("#message")).to_have_text("`To` is before `From`")
        sup.check()
        await context.close()

        # An agent gets the 403 page; nobody logged in gets the login page.
        agent_ctx = await browser.new_context(locale="zh-CN")
        agent = await agent_ctx.new_page()
        await login(agent, base, "/reports", "agent1", "demo-agent-1")
        await expect(agent.locator("body")).to_contain_text("无权访问")
        response = await agent.goto(f"{base}/reports")
        assert response is not None and response.status == 403
        await agent_ctx.close()
        async with aiohttp.ClientSession() as http, http.get(f"{base}/reports", allow_redirects=False) as r:
            assert r.status == 302 and unquote(r.headers["Location"]) == "/login?next=/reports"
