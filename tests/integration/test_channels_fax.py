"""Fax: a real multi-page TIFF and PDF through the gateway endpoint and the spool folder,
corrupt files quarantined with their reason — on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json

from aiohttp import FormData
from PIL import Image, ImageDraw
from sqlalchemy import select

from channels.module import Channels
from hotline.storage.models import Attachment, OutboxMessage, WorkOrder
from tests import channels_support as support

settings, vendors = support.settings, support.vendors


def fax_pages(n: int) -> list[Image.Image]:
    pages = []
    for i in range(n):
        page = Image.new("1", (1728, 2200), 1)  # fine-mode fax width
        ImageDraw.Draw(page).text((200, 200), f"QINGSHAN 12345 page {i + 1}", fill=0)
        pages.append(page)
    return pages


def tiff(n: int) -> bytes:
    out = io.BytesIO()
    first, *rest = fax_pages(n)
    first.save(out, "TIFF", save_all=True, append_images=rest, compression="group4")
    return out.getvalue()


def pdf(n: int) -> bytes:
    out = io.BytesIO()
    first, *rest = (p.convert("L") for p in fax_pages(n))
    first.save(out, "PDF", save_all=True, append_images=list(rest))
    return out.getvalue()


async def upload(client, data: bytes, filename: str, **fields: str):
    form = FormData()
    form.add_field("file", data, filename=filename, content_type="application/octet-stream")
    for k, v in fields.items():
        form.add_field(k, v)
    async with client.post("/channels/fax", data=form) as r:
        return r.status, await r.json()


async def test_gateway_tiff_and_pdf_become_orders_with_a_preview(hotline, client):
    status, out = await upload(client, tiff(3), "fax.tif", **{"from": "13800138000", "pages": "3",
                                                                "fax_id": "1700000000.12"})
    assert status == 201, out
    assert out["pages"] == 3 and out["number"] in out["receipt"]
    status, again = await upload(client, tiff(3), "fax.tif", **{"from": "13800138000", "fax_id": "1700000000.12"})
    assert (status, again["number"]) == (200, out["number"])
    status, other = await upload(client, pdf(2), "scan.pdf", **{"from": "0790-8254607"})
    assert status == 201 and other["pages"] == 2
    async with hotline.sessions() as s:
        orders = list((await s.execute(select(WorkOrder).order_by(WorkOrder.id))).scalars())
        assert [(o.channel, o.title) for o in orders] == [("fax", "传真来件（3 页）"), ("fax", "传真来件（2 页）")]
        atts = list((await s.execute(select(Attachment).order_by(Attachment.id))).scalars())
        assert [(a.kind, a.content_type) for a in atts] == [
            ("fax", "image/tiff"), ("fax_preview", "image/png"), ("fax", "application/pdf"),
            ("fax_preview", "image/png")]
        preview = hotline.settings.data_dir / atts[1].location
        with Image.open(preview) as img:
            assert img.format == "PNG" and img.width == 1200
        # A mobile number hears back by SMS; a landline (the second fax) does not.
        sms = list((await s.execute(select(OutboxMessage))).scalars())
        assert [(m.kind, m.target, m.event) for m in sms] == [("sms", "13800138000", "accepted")]


async def test_unreadable_fax_is_422_and_quarantined(hotline, client):
    for data, name in ((b"%PDF-1.4\n1 0 obj garbage", "broken.pdf"), (tiff(2)[:300], "cut.tif"),
                       (b"GIF89a not a fax", "x.gif")):
        status, problem = await upload(client, data, name, **{"from": "13800138000"})
        assert status == 422 and problem["code"] == "fax_unreadable", problem
    quarantine = hotline.settings.data_dir / "fax-quarantine"
    reasons = [json.loads(p.read_text()) for p in sorted(quarantine.glob("*.json"))]
    assert sorted(r["filename"] for r in reasons) == ["broken.pdf", "cut.tif", "x.gif"]
    assert all(r["reason"] and r["from"] == "13800138000" for r in reasons)
    assert len(list(quarantine.glob("*.bin"))) == 3
    async with hotline.sessions() as s:
        assert (await s.execute(select(WorkOrder))).first() is None


async def test_limits_and_bad_requests(hotline, client):
    cfg = hotline.module(Channels).fax.cfg
    status, problem = await upload(client, tiff(cfg.max_pages + 1), "long.tif")
    assert status == 422 and "超过上限" in problem["detail"]
    async with client.post("/channels/fax", json={"file": "x"}) as r:
        assert r.status == 415
    form = FormData(default_to_multipart=True)
    form.add_field("from", "13800138000")
    async with client.post("/channels/fax", data=form) as r:
        assert r.status == 422


async def test_spool_folder_from_receivefax(hotline):
    channel = hotline.module(Channels).fax
    spool = channel.spool
    spool.mkdir(parents=True)
    (spool / "1700000001.5.tif").write_bytes(tiff(4))
    (spool / "1700000001.5.json").write_text(json.dumps({"from": "13900139000", "pages": "4",
                                                         "fax_id": "1700000001.5"}))
    (spool / "1700000002.7.tif").write_bytes(b"II*\x00broken")
    (spool / "1700000002.7.meta").write_text("from=13900139000\npages=1\n")
    (spool / "1700000003.1.tif").write_bytes(tiff(1))  # no sidecar yet: ReceiveFAX still writing
    assert await channel.scan_spool() == 2
    assert sorted(p.name for p in spool.iterdir()) == ["1700000003.1.tif"]
    async with hotline.sessions() as s:
        order = (await s.execute(select(WorkOrder))).scalar_one()
        assert (order.channel, order.contact_phone, order.title) == ("fax", "13900139000", "传真来件（4 页）")
    assert len(list((hotline.settings.data_dir / "fax-quarantine").glob("*.json"))) == 1


async def test_a_fax_still_on_the_line_is_never_an_orphan(hotline):
    """The dialplan's NAME.receiving marker: no sidecar yet, the call is on the line; only a
    marker older than two hours (Asterisk died mid-fax) makes the file an orphan."""
    import os

    from channels.fax import RECEIVING_STALE_SECONDS

    channel = hotline.module(Channels).fax
    channel.cfg = channel.cfg.model_copy(update={"orphan_after_seconds": 1})
    spool = channel.spool
    spool.mkdir(parents=True)
    (spool / "f1.tif").write_bytes(b"II*\x00\x08\x00\x00\x00")  # spandsp's header, pages to come
    (spool / "f1.receiving").write_text("1796125905.1")
    now = hotline.clock().timestamp()
    for p in spool.iterdir():
        os.utime(p, (now - 60, now - 60))
    assert await channel.scan_spool() == 0
    assert sorted(p.name for p in spool.iterdir()) == ["f1.receiving", "f1.tif"]
    stale = now - RECEIVING_STALE_SECONDS - 1
    os.utime(spool / "f1.receiving", (stale, stale))
    assert await channel.scan_spool() == 1  # quarantined (a header only), never dropped
    assert not list(spool.iterdir())


async def test_without_a_gateway_key_uploads_are_refused_unless_opened(tmp_path, clock):
    """issue 9, item 9: `gateway_keys: []` no longer means open to anyone."""
    from aiohttp.test_utils import TestClient, TestServer

    from hotline.web.app import create_app
    from tests.conftest import make_settings, migrated_hotline

    cm, h = await migrated_hotline(make_settings(tmp_path), clock)
    try:
        async with TestClient(TestServer(create_app(h, run_background=False), host="127.0.0.1")) as c:
            status, body = await upload(c, tiff(1), "a.tif", **{"from": "13800138000"})
    finally:
        await cm.__aexit__(None, None, None)
    assert (status, body["code"]) == (403, "fax_key_required")
    assert not (h.settings.data_dir / "attachments").exists()


async def test_quarantine_is_capped_in_size_and_age(hotline, client, clock):
    import os

    quarantine = hotline.settings.data_dir / "fax-quarantine"
    quarantine.mkdir(parents=True)
    old = quarantine / "old.bin"
    old.write_bytes(b"x" * 1000)
    os.utime(old, (clock().timestamp() - 31 * 86400,) * 2)
    fax = hotline.module(Channels).fax
    fax.cfg = fax.cfg.model_copy(update={"quarantine_max_bytes": 1024 * 1024})
    junk = b"\x00junk" * 60_000  # 300 KB, unreadable
    statuses = [(await upload(client, junk + bytes([i]), f"j{i}.tif"))[0] for i in range(5)]
    assert not old.exists()  # past the age: removed
    assert statuses[:3] == [422, 422, 422] and statuses[3:] == [507, 507]  # 1 MiB holds three
    assert sum(p.stat().st_size for p in quarantine.iterdir()) <= 1024 * 1024
