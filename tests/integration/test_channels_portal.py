"""The portal's guards over plain HTTP: CSRF, rate limits, photo checks, idempotent
submission, lookups that cannot probe — on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
import uuid

from aiohttp import FormData
from PIL import Image
from sqlalchemy import func, select

from channels.module import Channels
from hotline.storage.models import WorkOrder
from tests import channels_support as support

settings, vendors = support.settings, support.vendors


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 120, 200)).save(buf, "JPEG")
    return buf.getvalue()


async def csrf(client) -> str:
    async with client.get("/portal/") as r:
        assert r.status == 200 and r.content_type == "text/html"
        html = await r.text()
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def form(token: str, submission: str, *, photos: list[tuple[str, bytes]] = (), **fields: str) -> FormData:
    f = FormData(default_to_multipart=True)
    for k, v in {"csrf": token, "submission_id": submission, "text": "小区路灯不亮", "phone": "13800138000",
                 **fields}.items():
        f.add_field(k, v)
    for name, data in photos:
        f.add_field("photos", data, filename=name, content_type="image/jpeg")
    return f


async def orders(h) -> int:
    async with h.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(WorkOrder))).scalar_one())


async def test_csrf_photo_checks_and_double_submit(hotline, client):
    sub = str(uuid.uuid4())
    client.session.cookie_jar.clear()
    async with client.post("/portal/submit", data=form("forged.token", sub)) as r:
        assert r.status == 403 and "页面已过期" in await r.text()
    token = await csrf(client)
    async with client.post("/portal/submit", data=form(token, sub, photos=[("x.jpg", b"<?php evil")])) as r:
        assert r.status == 422 and "不是支持的图片格式" in await r.text()
    async with client.post("/portal/submit", data=form(token, sub, category="nope", phone="123")) as r:
        body = await r.text()
        assert r.status == 422 and "手机号格式不正确" in body and "诉求类型的选项无效" in body
        assert "小区路灯不亮" in body  # what the citizen typed is kept
    assert await orders(hotline) == 0
    async with client.post("/portal/submit", data=form(token, sub, photos=[("a.jpg", jpeg())]),
                           allow_redirects=False) as r:
        assert r.status == 303
        first = r.headers["Location"]
    async with client.post("/portal/submit", data=form(token, sub, photos=[("a.jpg", jpeg())]),
                           allow_redirects=False) as r:
        assert r.headers["Location"] == first  # a double click: the same order
    assert await orders(hotline) == 1
    number = re.search(r"\d{14}", first).group(0)  # type: ignore[union-attr]
    async with client.get(first) as r:
        assert r.status == 200 and number in await r.text()
    async with client.get(f"/portal/done/{number}?sig=forged") as r:
        assert r.status == 404


async def test_rate_limits_and_lookup(hotline, client):
    token = await csrf(client)
    portal = hotline.module(Channels).portal
    for i in range(portal.cfg.submissions_per_client):
        async with client.post("/portal/submit", data=form(token, str(uuid.uuid4())), allow_redirects=False) as r:
            assert r.status == 303, i
    async with client.post("/portal/submit", data=form(token, str(uuid.uuid4()))) as r:
        assert r.status == 429
    async with hotline.sessions() as s:
        number = (await s.execute(select(WorkOrder.number).limit(1))).scalar_one()
    async with client.post("/portal/status", data={"csrf": token, "number": number, "last4": "1234"}) as r:
        assert r.status == 404
    async with client.post("/portal/status", data={"csrf": token, "number": "20990101000001", "last4": "8000"}) as r:
        assert r.status == 404
    async with client.post("/portal/status", data={"csrf": token, "number": number, "last4": "8000"}) as r:
        assert r.status == 200 and "已受理" in await r.text()
    async with client.post("/portal/status", data={"number": number, "last4": "8000"}) as r:
        assert r.status == 403
    async with client.get("/portal/static/portal.css") as r:
        assert r.status == 200
