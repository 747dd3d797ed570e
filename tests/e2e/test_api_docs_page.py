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
    spec = await (await page.request.get(base_url + "/api/v1/openapi.json")).json()
    in_spec = sum(1 for ops in spec["paths"].values() for m in ops if m in {"get", "post", "put", "patch", "delete"})
    assert in_spec > 40
    # Swagger UI 5.35 virtualises long lists: only operations near the viewport are in the DOM,
    # so the count comes from its store, and the last one is shown by scrolling to it.
    loaded = await page.evaluate("window.ui.specSelectors.operations().size")
    assert loaded == in_spec
    last_path = list(spec["paths"])[-1]
    last = page.locator(f".opblock-summary-path[data-path='{last_path}']").first
    for _ in range(200):
        if await last.count():
            break
        await page.mouse.wheel(0, 1500)
        await page.wait_for_timeout(50)
    await last.scroll_into_view_if_needed()
    assert await last.is_visible()
    assert all(url.startswith(base_url) for url in requests), "a page loaded something from outside"
