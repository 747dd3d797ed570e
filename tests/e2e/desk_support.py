"""What the desk's browser tests share: a hotline whose background loops run (the live bus,
the telephony consumer, the outbox), served on 127.0.0.1, a department webhook receiver,
and pages that record console errors and screenshots under var/."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp.test_utils import TestServer

from hotline.clock import utc_now
from hotline.root import open_hotline
from tests.conftest import make_settings
from tests.integration.dispatch_support import FAST, Receiver, overlay_yaml

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "var" / "e2e-desk"
# Fake microphone and no prompt for it; host ICE candidates as addresses (not mDNS names,
# which Asterisk cannot resolve).
MEDIA_ARGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
              "--disable-features=WebRtcHideLocalIpsWithMdns", "--autoplay-policy=no-user-gesture-required"]


@contextlib.asynccontextmanager
async def running_desk(tmp_path: Path, *, extra: dict[str, Any], env: dict[str, str] | None = None,
                       demo: bool = False) -> AsyncIterator[tuple[Any, str, Receiver]]:
    """(hotline, base URL, webhook receiver): `scjgj` and `jtj` post their webhooks to it."""
    from hotline.demo import seed
    from hotline.storage.directory import sync_departments
    from hotline.web.app import create_app

    receiver = Receiver()
    receiver.bind()
    settings = make_settings(tmp_path, env=env, extra_yaml=overlay_yaml(
        {"scjgj": receiver.url("scjgj"), "jtj": receiver.url("jtj")}, {**FAST, **extra}))
    await receiver.start()
    try:
        async with open_hotline(settings, clock=utc_now, demo=demo) as h:
            await h.schema.upgrade(h.engine)
            async with h.sessions() as session, session.begin():
                await sync_departments(session, settings)
            await seed(h)
            server = TestServer(create_app(h), host="127.0.0.1", port=0)
            await server.start_server()
            try:
                yield h, str(server.make_url("")).rstrip("/"), receiver
            finally:
                await server.close()
    finally:
        await receiver.stop()


class Watched:
    """A page whose JavaScript errors and console errors fail the test at the end."""

    def __init__(self, page: Any, name: str) -> None:
        self.page, self.name, self.errors, self.step = page, name, [], 0
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)

    async def shot(self, what: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.step += 1
        await self.page.screenshot(path=str(SHOTS / f"{self.name}-{self.step:02d}-{what}.png"), full_page=True)

    def check(self) -> None:
        assert self.errors == [], self.errors


async def login(page: Any, base_url: str, path: str, username: str, password: str) -> None:
    await page.goto(f"{base_url}{path}")
    await page.wait_for_url(re.compile(r"/login\?next="))
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.press("#password", "Enter")
    await page.wait_for_url(re.compile(f"{re.escape(path)}$"))
