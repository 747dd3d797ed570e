"""SMS through Twilio: requests signed by the real `RequestValidator`, notices arriving at a
local fake of the Twilio REST API, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from channels.models import SmsMessage, SmsOptOut
from hotline.storage.models import Attachment, Contact, OutboxMessage, WorkOrder
from tests import channels_support as support
from tests.channels_support import PUBLIC_URL, TWILIO_TOKEN, channel_env
from tests.conftest import department_api

PATH = "/channels/sms/twilio"
settings, vendors = support.settings, support.vendors  # fixtures: every channel configured


def signed(params: dict[str, str], path: str = PATH, token: str = TWILIO_TOKEN) -> dict[str, str]:
    sig = RequestValidator(token).compute_signature(PUBLIC_URL + path, params)
    return {"X-Twilio-Signature": sig, "Content-Type": "application/x-www-form-urlencoded"}


async def text_in(client, body: str, sid: str, sender: str = "+8613800138000", **extra: str):
    params = {"MessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": sender, "To": "+8612345000000",
              "Body": body, "NumMedia": "0", **extra}
    async with client.post(PATH, data=urlencode(params), headers=signed(params)) as r:
        return r.status, await r.text()


def number_in(twiml: str) -> str:
    m = re.search(r"\d{14}", twiml)
    assert m, twiml
    return m.group(0)


async def count(h, model) -> int:
    async with h.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def test_signed_text_becomes_an_order_and_a_repeat_changes_nothing(hotline, client):
    status, twiml = await text_in(client, "小区门口垃圾三天没人清运", "SM" + "1" * 32)
    assert status == 200 and twiml.startswith("<?xml") and "<Response><Message>" in twiml
    number = number_in(twiml)
    assert "已受理" in twiml
    status, again = await text_in(client, "小区门口垃圾三天没人清运", "SM" + "1" * 32)
    assert status == 200 and number_in(again) == number
    async with hotline.sessions() as s:
        order = (await s.execute(select(WorkOrder))).scalar_one()
        assert (order.number, order.channel, order.contact_phone) == (number, "sms", "13800138000")
        contact = (await s.execute(select(Contact))).scalar_one()
        assert contact.external_id == "SM" + "1" * 32 and contact.sender == "13800138000"


async def test_forged_signature_is_refused_and_nothing_is_stored(hotline, client):
    params = {"MessageSid": "SM" + "2" * 32, "From": "+8613800138000", "Body": "伪造"}
    for headers in (signed(params, token="not-the-token"),
                    {"Content-Type": "application/x-www-form-urlencoded"},
                    signed({**params, "Body": "别的内容"})):  # signed, but for other content
        async with client.post(PATH, data=urlencode(params), headers=headers) as r:
            assert r.status == 403
            assert (await r.json())["code"] == "bad_signature"
    assert await count(hotline, Contact) == 0 and await count(hotline, WorkOrder) == 0


async def test_malformed_requests_are_4xx(hotline, client):
    async with client.post(PATH, json={"MessageSid": "x"}) as r:
        assert r.status == 415
    big = {"MessageSid": "SM" + "3" * 32, "From": "+8613800138000", "Body": "长" * 30000}
    async with client.post(PATH, data=urlencode(big), headers=signed(big)) as r:
        assert r.status == 413
    no_sid = {"From": "+8613800138000", "Body": "没有编号"}
    async with client.post(PATH, data=urlencode(no_sid), headers=signed(no_sid)) as r:
        assert r.status == 400
    assert await count(hotline, Contact) == 0


async def test_follow_up_query_and_media(hotline, client, clock, vendors):
    _, twiml = await text_in(client, "青溪镇菜市场门口占道经营", "SM" + "4" * 32, NumMedia="1",
                             MediaUrl0=vendors.url + "/media/a.jpg", MediaContentType0="image/jpeg")
    number = number_in(twiml)
    clock.advance(minutes=5)  # within the window: the same matter
    _, twiml = await text_in(client, "今天早上又来了", "SM" + "5" * 32)
    assert number_in(twiml) == number and "补充" in twiml
    clock.advance(hours=3)  # past the window, but said so explicitly
    _, twiml = await text_in(client, "补充：下午五点最严重", "SM" + "6" * 32)
    assert number_in(twiml) == number
    _, twiml = await text_in(client, "查询", "SM" + "7" * 32)
    assert number in twiml and "已受理" in twiml
    _, twiml = await text_in(client, "查询", "SM" + "7" * 32)  # Twilio retrying: same answer
    assert number in twiml
    _, other = await text_in(client, "查询", "SM" + "8" * 32, sender="+8613900139000")
    assert number not in other  # another citizen sees nothing of it
    async with hotline.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(WorkOrder))).scalar_one() == 1
        texts = [c.text for c in (await s.execute(select(Contact).order_by(Contact.id))).scalars()]
        assert texts[:3] == ["青溪镇菜市场门口占道经营", "今天早上又来了", "下午五点最严重"]
        media = (await s.execute(select(Attachment))).scalar_one()
        assert media.location.endswith("/media/a.jpg") and media.content_type == "image/jpeg"


async def test_notices_reach_twilio_and_stop_is_honoured(hotline, client, agent, vendors, clock):
    _, twiml = await text_in(client, "青溪镇菜市场有商户卖过期食品", "SM" + "a" * 32)
    number = number_in(twiml)
    status, out = await agent.post(f"/api/v1/workorders/{number}/update", json={"category": "complaint"})
    assert status == 200, out
    status, out = await agent.post(f"/api/v1/workorders/{number}/dispatch", json={"lead": "scjgj"})
    assert status == 200, out
    assert await hotline.outbox.deliver_due() == 1
    (sent,) = vendors.sms
    assert sent["To"] == "+8613800138000" and sent["From"] == "+8612345000000"
    assert number in sent["Body"] and "市场监督管理局" in sent["Body"]
    assert sent["StatusCallback"] == PUBLIC_URL + "/channels/sms/twilio/status"

    # Twilio reports delivery on the status callback (signed like every webhook).
    cb = {"MessageSid": "SM" + "0" * 31 + "1", "MessageStatus": "delivered"}
    async with client.post("/channels/sms/twilio/status", data=urlencode(cb),
                           headers=signed(cb, "/channels/sms/twilio/status")) as r:
        assert r.status == 204
    async with hotline.sessions() as s:
        row = (await s.execute(select(SmsMessage))).scalar_one()
        assert (row.status, row.to) == ("delivered", "13800138000")

    # The department replies: "replied" and "please rate" go out, in order; a Twilio
    # outage on the first attempt is retried, not lost.
    dept = await department_api(hotline, client, "scjgj")
    assert (await dept.post(f"/api/v1/department/orders/{number}/sign", json={}))[0] == 200
    assert (await dept.post(f"/api/v1/department/orders/{number}/reply", json={"result": "已查处"}))[0] == 200
    vendors.twilio_fail.append((503, 20500))
    await hotline.outbox.deliver_due()
    assert len(vendors.sms) == 1
    clock.advance(hours=1)
    await hotline.outbox.deliver_due()
    clock.advance(hours=1)
    await hotline.outbox.deliver_due()
    assert ["已办结" in m["Body"] for m in vendors.sms[1:]] == [True, False]
    assert "评价" in vendors.sms[2]["Body"]

    # The citizen rates by answering "5".
    _, twiml = await text_in(client, "5", "SM" + "b" * 32)
    assert "非常满意" in twiml
    async with hotline.sessions() as s:
        order = (await s.execute(select(WorkOrder))).scalar_one()
        assert (order.rating, order.status) == (5, "follow_up")

    # STOP: recorded, and later notices are skipped rather than texted.
    _, twiml = await text_in(client, "退订", "SM" + "c" * 32)
    assert "退订" in twiml
    status, out = await agent.post(f"/api/v1/workorders/{number}/close", json={})
    assert status == 200
    status, out = await (await department_api(hotline, client, "scjgj")).get("/api/v1/department/orders")
    async with hotline.sessions() as s:
        assert (await s.get(SmsOptOut, "13800138000")) is not None


async def test_unsubscribed_number_goes_to_the_dead_letters(hotline, client, agent, vendors):
    status, out = await agent.post("/api/v1/workorders", json={
        "channel": "web", "text": "路灯不亮", "category": "help", "caller": {"phone": "13700137000"}})
    assert status == 201
    vendors.twilio_fail.append((400, 21610))
    await hotline.outbox.deliver_due()
    async with hotline.sessions() as s:
        msg = (await s.execute(select(OutboxMessage))).scalar_one()
        assert msg.status == "dead" and "21610" in (msg.last_error or "")
        assert (await s.get(SmsOptOut, "13700137000")) is not None
    assert vendors.sms == []


def test_channel_env_is_complete():
    assert {"HOTLINE_TWILIO_API_BASE", "HOTLINE_WECHAT_API_BASE"} <= set(channel_env(None))
