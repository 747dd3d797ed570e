"""The front door and the API documentation render in a real browser, from vendored files."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


async def test_api_docs_render_the_openapi_document(base_url, page):
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    await page.goto(base_url + "/")
    await page.click("a[href='/api/docs']")
    await page.wait_for_selector(".opblock-summary-path[data-path='/api/v1/workorders']", timeout=15000)
    assert await page.locator(".opblock").count() > 40  # every operation of the JSON API
    assert all(url.startswith(base_url) for url in requests), "a page loaded something from outside"
