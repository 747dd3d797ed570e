"""WeChat photos and voice messages and Twilio MMS are copied into the hotline's own storage
through the outbox: the real wechatpy client asks a local fake of WeChat's media API
(`media/get`), Twilio's media URLs answer only with the account's basic auth."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image
from sqlalchemy import select

from hotline.storage.models import Attachment, OutboxMessage
from tests import channels_support as support
from tests.channels_support import TWILIO_SID
from tests.integration import test_channels_wechat as wechat
from tests.integration.test_channels_sms import text_in
from tests.integration.test_channels_wechat import message, post_plain

settings, vendors = wechat.settings, support.vendors  # plain WeChat posts: plain mode on


def jpeg(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, "JPEG")
    return out.getvalue()


async def attachments(hotline) -> list[Attachment]:
    async with hotline.sessions() as s:
        return list((await s.execute(select(Attachment).order_by(Attachment.id))).scalars())


async def media_jobs(hotline) -> dict[str, str]:
    async with hotline.sessions() as s:
        rows = (await s.execute(select(OutboxMessage).where(OutboxMessage.kind == "media"))).scalars()
        return {m.target: m.status for m in rows}


async def test_vendor_media_are_downloaded_into_our_storage(hotline, client, clock, vendors):
    photo, voice, mms = jpeg("red"), b"#!AMR\n" + bytes(range(200)), jpeg("blue")
    vendors.media["photo.jpg"] = (photo, "image/jpeg")
    vendors.media["ME0001"] = (mms, "image/jpeg")
    vendors.media["elsewhere.jpg"] = (jpeg("green"), "image/jpeg")
    vendors.wechat_media["voice-1"] = (voice, "audio/amr")

    image = message(f"<PicUrl><![CDATA[{vendors.url}/media/photo.jpg]]></PicUrl><MediaId><![CDATA[img-1]]></MediaId>",
                    24518000000000101, "image", clock=clock)
    assert (await post_plain(client, clock, image))[0] == 200
    clock.advance(minutes=1)
    for msg_id, media_id in ((24518000000000102, "voice-1"), (24518000000000103, "expired-1")):
        v = message(f"<MediaId><![CDATA[{media_id}]]></MediaId><Format><![CDATA[amr]]></Format>", msg_id, "voice",
                    clock=clock)
        assert (await post_plain(client, clock, v))[0] == 200
    twilio_url = f"{vendors.url}/2010-04-01/Accounts/{TWILIO_SID}/Messages/MM{'1' * 32}/Media/ME0001"
    status, _ = await text_in(client, "东门路占道经营，见图", "SM" + "c" * 32, NumMedia="2",
                              MediaUrl0=twilio_url, MediaContentType0="image/jpeg",
                              MediaUrl1=f"{vendors.url}/media/elsewhere.jpg", MediaContentType1="image/jpeg")
    assert status == 200
    before = await attachments(hotline)
    assert [a.location.startswith(("http", "wechat-media:")) for a in before] == [True] * 5  # stored, then fetched
    assert set((await media_jobs(hotline)).values()) == {"pending"}

    await hotline.outbox.deliver_due(limit=50)
    after = {a.id: a for a in await attachments(hotline)}
    jobs = await media_jobs(hotline)
    ids = [a.id for a in before]
    # The photo, the voice message and the MMS are ours now, the bytes as the vendor had them.
    for att_id, data in ((ids[0], photo), (ids[1], voice), (ids[3], mms)):
        a = after[att_id]
        assert jobs[str(att_id)] == "delivered"
        assert a.location.startswith("attachments/"), a.location
        kept = (hotline.settings.data_dir / a.location).read_bytes()
        assert (a.size, a.sha256) == (len(kept), hashlib.sha256(kept).hexdigest())
        if a.kind == "photo":
            with Image.open(io.BytesIO(kept)) as img:
                assert (img.format, img.size) == ("JPEG", (40, 30))  # metadata may be stripped, the picture stays
            assert a.content_type == "image/jpeg"
        else:
            assert kept == data and a.content_type == "audio/amr"
    # An expired MediaId and a URL that is not the Twilio account's: dead letters, nothing sent.
    assert jobs[str(ids[2])] == "dead" and after[ids[2]].location == "wechat-media:expired-1"
    assert jobs[str(ids[4])] == "dead" and after[ids[4]].location == f"{vendors.url}/media/elsewhere.jpg"
    gets = dict(vendors.media_gets)
    assert gets[f"/2010-04-01/Accounts/{TWILIO_SID}/Messages/MM{'1' * 32}/Media/ME0001"].startswith("Basic ")
    assert gets["/media/photo.jpg"] is None  # WeChat's PicUrl needs no credentials, and gets none
    assert "/media/elsewhere.jpg" not in gets  # the account's credentials never go to another host

    # Idempotent: the same message delivered again fetches nothing and changes nothing.
    fetcher = hotline.outbox.senders["media"]
    async with hotline.sessions() as s:
        again = (await s.execute(select(OutboxMessage).where(OutboxMessage.target == str(ids[0])))).scalar_one()
    calls = len(vendors.media_gets)
    await fetcher.send(again)
    assert len(vendors.media_gets) == calls and (await attachments(hotline))[0].location == after[ids[0]].location


@pytest.mark.parametrize("db_kind", ["sqlite"])  # the outbox's retry is the same on both; the claim is tested above
async def test_a_vendor_outage_is_retried(hotline, client, clock, vendors):
    twilio_url = f"{vendors.url}/2010-04-01/Accounts/{TWILIO_SID}/Messages/MM{'2' * 32}/Media/ME0002"
    status, _ = await text_in(client, "路灯不亮", "SM" + "d" * 32, NumMedia="1", MediaUrl0=twilio_url,
                              MediaContentType0="image/png")
    assert status == 200
    vendors.media_fail.append(503)
    assert await hotline.outbox.deliver_due(limit=10) == 1
    (att,) = await attachments(hotline)
    async with hotline.sessions() as s:
        job = (await s.execute(select(OutboxMessage).where(OutboxMessage.kind == "media"))).scalar_one()
    assert job.status == "pending" and job.attempts == 1 and "HTTP 503" in (job.last_error or "")
    assert att.location == twilio_url

    png = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(png, "PNG")
    vendors.media["ME0002"] = (png.getvalue(), "image/png")
    clock.advance(hours=1)  # past the back-off
    assert await hotline.outbox.deliver_due(limit=10) == 1
    (att,) = await attachments(hotline)
    assert att.location.startswith("attachments/") and att.content_type == "image/png"
