"""Shared by the channel tests: a local fake of the Twilio and WeChat APIs, and settings
that point the real clients at it. Import the fixtures into a test module to use them."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.conftest import make_settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from hotline.settings import Settings

PUBLIC_URL = "https://hotline.example.gov.cn"
TWILIO_SID = "AC" + "0" * 32
TWILIO_TOKEN = "twilio-test-auth-token"
TWILIO_FROM = "+8612345000000"
WECHAT_TOKEN = "wechat-test-token"
WECHAT_APPID = "wx0123456789abcdef"
WECHAT_SECRET = "wechat-test-secret"
WECHAT_AES = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat issues them
OPEN311_KEY = "open311-test-key"


@dataclass
class FakeVendors:
    """What the fake Twilio and WeChat APIs were asked, and how they should answer next."""

    url: str = ""
    sms: list[dict[str, str]] = field(default_factory=list)
    wechat: list[dict[str, Any]] = field(default_factory=list)
    token_fetches: int = 0
    twilio_fail: list[tuple[int, int]] = field(default_factory=list)  # (http status, twilio code) to answer next
    wechat_fail: list[int] = field(default_factory=list)  # errcodes to answer next
    templates: list[dict[str, Any]] = field(default_factory=list)  # template messages received
    template_fail: list[int] = field(default_factory=list)  # errcodes template/send answers next
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    wechat_media: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # MediaId -> file
    media_gets: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Authorization)
    media_fail: list[int] = field(default_factory=list)  # HTTP statuses Twilio's media URLs answer next


def _fake_app(f: FakeVendors) -> web.Application:
    async def twilio_messages(request: web.Request) -> web.Response:
        form = dict(await request.post())
        if f.twilio_fail:
            status, code = f.twilio_fail.pop(0)
            return web.json_response({"code": code, "message": "fake failure", "status": status}, status=status)
        assert request.headers.get("Authorization", "").startswith("Basic ")
        f.sms.append({k: str(v) for k, v in form.items()})
        sid = f"SM{len(f.sms):032d}"
        return web.json_response({"sid": sid, "status": "queued", "to": form.get("To"), "from": form.get("From"),
                                  "body": form.get("Body"), "account_sid": request.match_info["sid"]}, status=201)

    async def wechat_token(request: web.Request) -> web.Response:
        f.token_fetches += 1
        assert request.query["appid"] == WECHAT_APPID and request.query["secret"] == WECHAT_SECRET
        return web.json_response({"access_token": f"TOKEN{f.token_fetches}", "expires_in": 7200})

    async def wechat_send(request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        if f.wechat_fail:
            code = f.wechat_fail.pop(0)
            return web.json_response({"errcode": code, "errmsg": "fake failure"})
        f.wechat.append({"access_token": request.query.get("access_token"), **body})
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def wechat_template(request: web.Request) -> web.Response:  # 发送模板消息
        body = json.loads(await request.read())
        if f.template_fail:
            return web.json_response({"errcode": f.template_fail.pop(0), "errmsg": "fake failure"})
        f.templates.append({"access_token": request.query.get("access_token"), **body})
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": 200228332})

    async def media(request: web.Request) -> web.Response:
        f.media_gets.append((request.path, request.headers.get("Authorization")))
        data, ctype = f.media[request.match_info["name"]]
        return web.Response(body=data, content_type=ctype)

    async def wechat_media_get(request: web.Request) -> web.Response:  # 获取临时素材
        f.media_gets.append((request.path, request.query.get("access_token")))
        found = f.wechat_media.get(request.query.get("media_id", ""))
        if found is None:
            return web.json_response({"errcode": 40007, "errmsg": "invalid media_id"})
        return web.Response(body=found[0], content_type=found[1],
                            headers={"Content-Disposition": 'attachment; filename="voice.amr"'})

    async def twilio_media(request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization")
        f.media_gets.append((request.path, auth))
        if f.media_fail:
            return web.Response(status=f.media_fail.pop(0), text="fake outage")
        expected = "Basic " + base64.b64encode(f"{request.match_info['sid']}:{TWILIO_TOKEN}".encode()).decode()
        if auth != expected:  # "Enforce HTTP Auth on Media URLs"
            return web.json_response({"code": 20003, "message": "Authenticate", "status": 401}, status=401)
        data, ctype = f.media[request.match_info["media"]]
        return web.Response(body=data, content_type=ctype)

    app = web.Application()
    app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", twilio_messages)
    app.router.add_get("/cgi-bin/token", wechat_token)
    app.router.add_post("/cgi-bin/message/custom/send", wechat_send)
    app.router.add_post("/cgi-bin/message/template/send", wechat_template)
    app.router.add_get("/media/{name}", media)
    app.router.add_get("/cgi-bin/media/get", wechat_media_get)
    app.router.add_get("/2010-04-01/Accounts/{sid}/Messages/{message}/Media/{media}", twilio_media)
    return app


@pytest.fixture
async def vendors() -> AsyncIterator[FakeVendors]:
    f = FakeVendors()
    server = TestServer(_fake_app(f), host="127.0.0.1", port=0)
    await server.start_server()
    f.url = str(server.make_url("")).rstrip("/")
    try:
        yield f
    finally:
        await server.close()


def channel_env(vendors: FakeVendors | None) -> dict[str, str]:
    base = vendors.url if vendors else "http://127.0.0.1:9"
    return {
        "HOTLINE_PUBLIC_URL": PUBLIC_URL,
        "HOTLINE_TWILIO_ACCOUNT_SID": TWILIO_SID, "HOTLINE_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "HOTLINE_TWILIO_FROM": TWILIO_FROM, "HOTLINE_TWILIO_API_BASE": base,
        "HOTLINE_WECHAT_TOKEN": WECHAT_TOKEN, "HOTLINE_WECHAT_APPID": WECHAT_APPID,
        "HOTLINE_WECHAT_SECRET": WECHAT_SECRET, "HOTLINE_WECHAT_AES_KEY": WECHAT_AES,
        "HOTLINE_WECHAT_API_BASE": base + "/cgi-bin/",
        "HOTLINE_OPEN311_API_KEYS": OPEN311_KEY,
    }


@pytest.fixture
def settings(db_kind: str, tmp_path: Path, request: pytest.FixtureRequest, vendors: FakeVendors) -> Settings:
    """Overrides the core's `settings`: the same two databases, with every channel configured."""
    schema = request.getfixturevalue("pg_schema") if db_kind == "pg" else None
    # The fax gateway of the tests sits on a "trusted network": no X-Fax-Key needed.
    return make_settings(tmp_path, database=db_kind, schema=schema, env=channel_env(vendors),
                         extra_yaml="channels:\n  fax:\n    open_without_key: true\n")
