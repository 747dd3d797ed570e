"""Browser tests: a real headless Chromium (Debian's, `/usr/bin/chromium`) driven by
Playwright, against the app served on 127.0.0.1. They fail, never skip, without it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp.test_utils import TestServer

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling Google's hosts, which this
# network refuses; --no-sandbox because CI runs as root.
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update"]


@pytest.fixture
def db_kind() -> str:
    return "sqlite"  # the pages are the subject here; both databases run in the integration tests


@pytest.fixture
async def base_url(hotline: Any) -> AsyncIterator[str]:
    from hotline.web.app import create_app

    server = TestServer(create_app(hotline, run_background=False), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


@pytest.fixture
def chromium() -> str:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=chromium, args=ARGS)
        try:
            yield b
        finally:
            await b.close()


@pytest.fixture
async def page(browser: Any) -> AsyncIterator[Any]:
    """A phone-sized page in Chinese; JavaScript errors on it fail the test."""
    context = await browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    p = await context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    yield p
    await context.close()
    assert errors == [], errors
