"""One citizen across channels: the same number by SMS, app and fax is one person with one
timeline; a WeChat openid is linked by an agent — on SQLite and PostgreSQL."""

from __future__ import annotations

from aiohttp import FormData

from tests import channels_support as support
from tests.channels_support import OPEN311_KEY
from tests.integration import test_channels_wechat as wechat
from tests.integration.test_channels_fax import tiff
from tests.integration.test_channels_sms import text_in
from tests.integration.test_channels_wechat import post_plain, text

settings, vendors = wechat.settings, support.vendors  # the WeChat tests' settings: plain mode on


async def test_one_timeline_across_channels(hotline, client, agent, clock):
    await text_in(client, "东门路路灯不亮", "SM" + "d" * 32, sender="+8613800138000")
    async with client.post("/api/v1/app/requests", json={"text": "小区电梯困人", "phone": "138 0013 8000"},
                           headers={"X-App-Key": OPEN311_KEY, "Idempotency-Key": "c-1"}) as r:
        assert r.status == 201
    form = FormData()
    form.add_field("file", tiff(1), filename="f.tif")
    form.add_field("from", "008613800138000")
    async with client.post("/channels/fax", data=form) as r:
        assert r.status == 201
    await post_plain(client, clock, text("垃圾没人清运", 24518000000000099, clock=clock))

    status, person = await agent.get("/api/v1/citizens", params={"phone": "+86 13800138000"})
    assert status == 200, person
    assert [i["kind"] for i in person["identities"]] == ["phone"]
    assert sorted(o["channel"] for o in person["orders"]) == ["app", "fax", "sms"]
    assert {t["channel"] for t in person["timeline"]} == {"app", "fax", "sms"}

    status, wechat_person = await agent.get("/api/v1/citizens", params={"wechat_openid": "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"})
    assert status == 200 and wechat_person["id"] != person["id"]
    # Linked to the phone citizen it would be taken: a supervisor's merge, not an agent's link.
    status, problem = await agent.post(f"/api/v1/citizens/{person['id']}/identities",
                                       json={"kind": "wechat_openid", "value": "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"})
    assert (status, problem["code"]) == (409, "identity_taken")
    status, linked = await agent.post(f"/api/v1/citizens/{wechat_person['id']}/identities",
                                      json={"kind": "phone", "value": "13900139000"})
    assert status == 200 and {i["kind"] for i in linked["identities"]} == {"wechat_openid", "phone"}
    await text_in(client, "补充：还有一处", "SM" + "e" * 32, sender="+8613900139000")
    status, linked = await agent.get(f"/api/v1/citizens/{wechat_person['id']}")
    assert [t["channel"] for t in linked["timeline"]] == ["sms", "wechat"]  # newest first, one person
    status, _ = await agent.get("/api/v1/citizens/999999")
    assert status == 404
