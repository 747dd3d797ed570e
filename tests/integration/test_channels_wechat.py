"""WeChat: messages signed and encrypted by the real wechatpy (`WeChatCrypto`), notices
arriving at a local fake of the WeChat API, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pytest
import xmltodict
from sqlalchemy import func, select
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from hotline.storage.models import Attachment, Contact, OutboxMessage, WorkOrder
from tests import channels_support as support
from tests.channels_support import WECHAT_AES, WECHAT_APPID, WECHAT_TOKEN, channel_env
from tests.conftest import department_api, make_settings

if TYPE_CHECKING:
    from pathlib import Path

    from hotline.settings import Settings

vendors = support.vendors
OPENID = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"
# The tests here post plain XML as an account in 兼容模式 does (plain_mode on); the safe
# default (AES key set: plain refused) and replays: test_channels_wechat_replay.py.
PLAIN_MODE = "channels: {wechat: {plain_mode: true}, fax: {open_without_key: true}}\n"


@pytest.fixture
def settings(db_kind: str, tmp_path: Path, request: pytest.FixtureRequest, vendors: support.FakeVendors) -> Settings:
    schema = request.getfixturevalue("pg_schema") if db_kind == "pg" else None
    return make_settings(tmp_path, database=db_kind, schema=schema, env=channel_env(vendors), extra_yaml=PLAIN_MODE)


def sign(*parts: str) -> str:
    s = WeChatSigner()
    s.add_data(*parts)
    return s.signature


def query(clock, nonce: str | None = None) -> dict[str, str]:
    """WeChat's signed query; a fresh nonce each time, as WeChat sends them."""
    nonce = nonce or uuid.uuid4().hex[:10]
    ts = str(int(clock().timestamp()))
    return {"signature": sign(WECHAT_TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce, "openid": OPENID}


def message(body: str, msg_id: int | None, msg_type: str = "text", sender: str = OPENID, clock=None) -> str:
    ts = int(clock().timestamp()) if clock else 1795490400
    tail = f"<MsgId>{msg_id}</MsgId>" if msg_id else ""
    return (f"<xml><ToUserName><![CDATA[gh_12345]]></ToUserName><FromUserName><![CDATA[{sender}]]></FromUserName>"
            f"<CreateTime>{ts}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{body}{tail}</xml>")


def text(content: str, msg_id: int, **kw) -> str:
    return message(f"<Content><![CDATA[{content}]]></Content>", msg_id, **kw)


async def post_plain(client, clock, xml: str, **q):
    params = {**query(clock), **q}
    async with client.post("/channels/wechat?" + urlencode(params), data=xml.encode(),
                           headers={"Content-Type": "text/xml"}) as r:
        return r.status, await r.text()


async def post_aes(client, clock, xml: str, *, msg_signature: str | None = None):
    crypto = WeChatCrypto(WECHAT_TOKEN, WECHAT_AES, WECHAT_APPID)
    q = query(clock)
    envelope = xmltodict.parse(crypto.encrypt_message(xml, q["nonce"], q["timestamp"]))["xml"]
    body = f"<xml><ToUserName><![CDATA[gh_12345]]></ToUserName><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
    params = {**q, "encrypt_type": "aes", "msg_signature": msg_signature or envelope["MsgSignature"]}
    async with client.post("/channels/wechat?" + urlencode(params), data=body.encode(),
                           headers={"Content-Type": "text/xml"}) as r:
        return r.status, await r.text(), crypto, params


def reply_content(xml: str) -> str:
    return xmltodict.parse(xml)["xml"]["Content"]


def number_in(s: str) -> str:
    m = re.search(r"\d{14}", s)
    assert m, s
    return m.group(0)


async def orders(h) -> int:
    async with h.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(WorkOrder))).scalar_one())


async def test_server_check(client, clock):
    params = {**query(clock), "echostr": "5837397520665436492"}
    async with client.get("/channels/wechat", params=params) as r:
        assert (r.status, await r.text()) == (200, "5837397520665436492")
    async with client.get("/channels/wechat", params={**params, "signature": "0" * 40}) as r:
        assert r.status == 403


async def test_plain_text_gets_the_number_and_retries_are_one_order(hotline, client, clock):
    status, xml = await post_plain(client, clock, text("小区门口垃圾三天没人清运", 24518000000000001, clock=clock))
    assert status == 200
    reply = xmltodict.parse(xml)["xml"]
    assert reply["ToUserName"] == OPENID and reply["MsgType"] == "text"
    number = number_in(reply["Content"])
    for _ in range(3):  # WeChat's three retries
        status, xml = await post_plain(client, clock, text("小区门口垃圾三天没人清运", 24518000000000001, clock=clock))
        assert number_in(reply_content(xml)) == number
    assert await orders(hotline) == 1
    async with hotline.sessions() as s:
        order = (await s.execute(select(WorkOrder))).scalar_one()
        assert (order.channel, order.description) == ("wechat", "小区门口垃圾三天没人清运")


async def test_safe_mode_reply_is_encrypted(hotline, client, clock):
    status, xml, crypto, params = await post_aes(client, clock, text("路灯坏了一个星期", 24518000000000002, clock=clock))
    assert status == 200, xml
    envelope = xmltodict.parse(xml)["xml"]
    assert "Content" not in envelope and envelope["Encrypt"]
    plain = crypto.decrypt_message(xml, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"])
    assert "已受理" in reply_content(plain)
    number = number_in(reply_content(plain))
    _, again, _, _ = await post_aes(client, clock, text("路灯坏了一个星期", 24518000000000002, clock=clock))
    env2 = xmltodict.parse(again)["xml"]
    assert number in reply_content(crypto.decrypt_message(again, env2["MsgSignature"], env2["TimeStamp"],
                                                          env2["Nonce"]))
    assert await orders(hotline) == 1


async def test_forgeries_and_garbage_are_refused_and_nothing_is_stored(hotline, client, clock):
    good = text("伪造的消息", 24518000000000003, clock=clock)
    status, _, _, _ = await post_aes(client, clock, good, msg_signature="f" * 40)
    assert status == 403
    status, _ = await post_plain(client, clock, good, signature="0" * 40)
    assert status == 403
    old = query(clock)
    clock.advance(minutes=10)  # a captured request replayed later
    async with client.post("/channels/wechat?" + urlencode(old), data=good.encode(),
                           headers={"Content-Type": "text/xml"}) as r:
        assert r.status == 403
    bomb = ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
            '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>' + text("&c;", 24518000000000004))
    status, body = await post_plain(client, clock, bomb)
    assert status == 400 and "DTD" in body
    status, _ = await post_plain(client, clock, "<xml><Content>unclosed")
    assert status == 400
    status, _ = await post_plain(client, clock, "<xml><MsgType>text</MsgType></xml>")  # no sender
    assert status == 400
    status, _ = await post_plain(client, clock, text("长" * 70000, 24518000000000005, clock=clock))
    assert status == 413
    async with client.post("/channels/wechat?" + urlencode(query(clock)), json={"a": 1}) as r:
        assert r.status == 415
    assert await orders(hotline) == 0
    async with hotline.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(Contact))).scalar_one() == 0


async def test_a_captured_signature_works_for_its_own_message_only(hotline, client, clock):
    """Issue 9 item 8: the signed query of one genuine message (from a proxy log) with another
    body — another openid's 查询, a new order — is refused; WeChat's retries still pass."""
    genuine = text("路灯不亮", 24518000000000201, clock=clock)
    captured = query(clock)

    async def post(xml: str) -> tuple[int, str]:
        async with client.post("/channels/wechat?" + urlencode(captured), data=xml.encode(),
                               headers={"Content-Type": "text/xml"}) as r:
            return r.status, await r.text()

    status, first = await post(genuine)
    assert status == 200
    status, again = await post(genuine)  # WeChat's retry: the same message
    assert status == 200 and number_in(reply_content(again)) == number_in(reply_content(first))
    for forged in (text("查询", 24518000000000202, sender="o_victim", clock=clock),
                   text("伪造的诉求", 24518000000000203, clock=clock)):
        status, body = await post(forged)
        assert status == 403 and "replayed_nonce" in body  # was 200 for 5 minutes
    assert await orders(hotline) == 1


async def test_media_location_events_query_and_rating(hotline, client, clock, agent):
    image = message("<PicUrl><![CDATA[http://mmbiz.qpic.cn/abc]]></PicUrl><MediaId><![CDATA[m1]]></MediaId>",
                    24518000000000010, "image", clock=clock)
    status, xml = await post_plain(client, clock, image)
    number = number_in(reply_content(xml))
    clock.advance(minutes=1)  # within the window: the same matter
    voice = message("<MediaId><![CDATA[m2]]></MediaId><Format><![CDATA[amr]]></Format>"
                    "<Recognition><![CDATA[垃圾堆在小区东门]]></Recognition>", 24518000000000011, "voice", clock=clock)
    _, xml = await post_plain(client, clock, voice)
    assert number_in(reply_content(xml)) == number
    location = message("<Location_X>27.1</Location_X><Location_Y>115.2</Location_Y><Scale>15</Scale>"
                       "<Label><![CDATA[青山县城关街道东门路]]></Label>", 24518000000000012, "location", clock=clock)
    _, xml = await post_plain(client, clock, location)
    assert number_in(reply_content(xml)) == number
    async with hotline.sessions() as s:
        atts = list((await s.execute(select(Attachment).order_by(Attachment.id))).scalars())
        assert [a.kind for a in atts] == ["photo", "voice"]
        assert [c.text for c in (await s.execute(select(Contact).order_by(Contact.id))).scalars()] == [
            "[图片]", "垃圾堆在小区东门", "[位置] 青山县城关街道东门路"]

    sub = message("<Event><![CDATA[subscribe]]></Event>", None, "event", sender="o_new_follower", clock=clock)
    _, xml = await post_plain(client, clock, sub)
    assert "欢迎关注" in reply_content(xml)
    click = message("<Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[QUERY]]></EventKey>", None, "event",
                    clock=clock)
    _, xml = await post_plain(client, clock, click)
    assert number in reply_content(xml)
    unsub = message("<Event><![CDATA[unsubscribe]]></Event>", None, "event", clock=clock)
    assert await post_plain(client, clock, unsub) == (200, "success")

    # Rating: nothing to rate yet, then after the department's reply.
    _, xml = await post_plain(client, clock, text("评价 5", 24518000000000013, clock=clock))
    assert "没有待评价" in reply_content(xml)
    assert (await agent.post(f"/api/v1/workorders/{number}/update", json={"category": "help"}))[0] == 200
    assert (await agent.post(f"/api/v1/workorders/{number}/resolve", json={"answer": "已安排清运"}))[0] == 200
    _, xml = await post_plain(client, clock, text(f"评价 {number} 4", 24518000000000014, clock=clock))
    assert "满意" in reply_content(xml)
    _, xml = await post_plain(client, clock, text(f"查询 {number}", 24518000000000015, clock=clock))
    assert "回访" in reply_content(xml)
    async with hotline.sessions() as s:
        assert (await s.execute(select(WorkOrder.rating))).scalar_one() == 4


async def test_notices_by_customer_service_message(hotline, client, clock, agent, vendors):
    _, xml = await post_plain(client, clock, text("青溪镇菜市场有商户卖过期食品", 24518000000000020, clock=clock))
    number = number_in(reply_content(xml))
    assert (await agent.post(f"/api/v1/workorders/{number}/update", json={"category": "complaint"}))[0] == 200
    assert (await agent.post(f"/api/v1/workorders/{number}/dispatch", json={"lead": "scjgj"}))[0] == 200
    await hotline.outbox.deliver_due()
    (sent,) = vendors.wechat
    assert sent["touser"] == OPENID and sent["msgtype"] == "text" and number in sent["text"]["content"]
    assert sent["access_token"] == "TOKEN1" and vendors.token_fetches == 1

    # The token expires early on WeChat's side (40001): fetched again, the notice still goes.
    dept = await department_api(hotline, client, "scjgj")
    assert (await dept.post(f"/api/v1/department/orders/{number}/sign", json={}))[0] == 200
    assert (await dept.post(f"/api/v1/department/orders/{number}/reply", json={"result": "已查处"}))[0] == 200
    vendors.wechat_fail.append(40001)
    await hotline.outbox.deliver_due()
    assert vendors.token_fetches == 2 and vendors.wechat[-1]["access_token"] == "TOKEN2"
    assert "已办结" in vendors.wechat[-1]["text"]["content"]

    # Past the 48-hour window (45015): no retry can help, so a dead letter for a supervisor.
    vendors.wechat_fail.append(45015)
    await hotline.outbox.deliver_due()
    async with hotline.sessions() as s:
        statuses = [m.status for m in (await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars()]
    assert statuses == ["delivered", "delivered", "dead"]
