"""Media linkage (媒体联动) through HTTP: partners' keys and feed, orders entered on the
`media` channel, and the masked result delivered to the outlet's webhook, signed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import yaml
from sqlalchemy import select

from hotline.storage.models import OutboxMessage
from tests.conftest import login_as, make_settings
from tests.integration import dispatch_support
from tests.integration.dispatch_support import Receiver, secret_of

if TYPE_CHECKING:
    from pathlib import Path

    from hotline.settings import Settings


receiver = dispatch_support.receiver  # the shared local webhook receiver


@pytest.fixture
def settings(db_kind: str, tmp_path: Path, request: pytest.FixtureRequest, receiver: Receiver) -> Settings:
    schema = request.getfixturevalue("pg_schema") if db_kind == "pg" else None
    partners = [{"code": "qsdaily", "name": "青山日报", "name_en": "Qingshan Daily", "outlet": "newspaper",
                 "webhook": {"url": receiver.url("qsdaily"), "secret": secret_of("qsdaily")}},
                {"code": "qstv", "name": "青山电视台", "outlet": "tv"}]
    return make_settings(tmp_path, database=db_kind, schema=schema,
                         extra_yaml=yaml.safe_dump({"public": {"media_partners": partners}}, allow_unicode=True))


@pytest.mark.parametrize("db_kind", ["sqlite"])  # plain lookups by prefix; the delivery test runs on both
async def test_a_partner_key_reads_the_feed_until_revoked(hotline, client, supervisor):
    admin = await login_as(hotline, client, "admin")
    assert (await supervisor.post("/api/v1/media/partners/qsdaily/keys", json={}))[0] == 403
    status, problem = await admin.post("/api/v1/media/partners/nosuch/keys", json={})
    assert (status, problem["code"]) == (422, "unknown_partner")
    status, issued = await admin.post("/api/v1/media/partners/qsdaily/keys", json={"label": "编辑部"})
    assert status == 201 and issued["key"].startswith("hlm_")
    for key in (None, "hlm_x_y", issued["key"] + "x"):
        async with client.get("/api/v1/media/feed/cases", headers={"X-Media-Key": key} if key else {}) as r:
            assert r.status == 401, key
    headers = {"X-Media-Key": issued["key"]}
    async with client.get("/api/v1/media/feed/cases", headers=headers) as r:
        assert r.status == 200 and (await r.json())["items"] == []
    async with client.get("/api/v1/media/feed/stats", headers=headers, params={"period": "day"}) as r:
        assert r.status == 200 and (await r.json())["period"] == "day"
    assert (await admin.post(f"/api/v1/media/keys/{issued['id']}/revoke", json={}))[0] == 200
    async with client.get("/api/v1/media/feed/cases", headers=headers) as r:
        assert r.status == 401  # at once


async def test_an_outlets_issue_becomes_a_media_order_and_its_result_goes_back_signed(hotline, client, agent,
                                                                                      receiver):
    status, partners = await agent.get("/api/v1/media/partners")
    assert [(p["code"], p["outlet"], p["has_webhook"]) for p in partners] == [("qsdaily", "newspaper", True),
                                                                              ("qstv", "tv", False)]
    body = {"partner": "qsdaily", "reference": "2026-11-30-A3", "programme": "《青山日报》民生版",
            "text": "本报读者来信：我是王小明，电话13812345678，青溪镇菜市场门口路灯不亮", "category": "complaint"}
    status, out = await agent.post("/api/v1/media/orders", json=body)
    assert status == 201 and out["created"], out
    number = out["number"]
    status, again = await agent.post("/api/v1/media/orders", json=body)
    assert (status, again["number"], again["repeated"]) == (200, number, True)  # idempotent on the reference
    status, problem = await agent.post("/api/v1/media/orders", json={**body, "partner": "nosuch"})
    assert (status, problem["code"]) == (422, "unknown_partner")

    status, detail = await agent.get(f"/api/v1/workorders/{number}")
    assert detail["channel"] == "media"
    async with client.get("/metrics") as r:
        assert 'hotline_contacts_total{channel="media"} 2.0' in await r.text()

    assert (await agent.post(f"/api/v1/workorders/{number}/resolve",
                             json={"answer": "已告知王小明，路灯已修复。"}))[0] == 200
    assert await hotline.outbox.deliver_due() == 0  # nothing before it closes
    assert (await agent.post(f"/api/v1/workorders/{number}/close", json={}))[0] == 200
    assert await hotline.outbox.deliver_due() == 1
    (got,) = receiver.accepted()
    assert got.valid and got.department == "qsdaily" and got.event == "media.result"
    doc = got.doc
    assert doc["partner"] == "qsdaily" and doc["programme"] == "《青山日报》民生版"
    assert doc["case"]["number"] == number and doc["case"]["answer"] == "已告知王某，路灯已修复。"
    assert "13812345678" not in got.body.decode()

    # A partner without a webhook: its order closes, nothing is sent.
    status, out = await agent.post("/api/v1/media/orders", json={**body, "partner": "qstv", "reference": "tv-1"})
    assert status == 201
    other = out["number"]
    assert (await agent.post(f"/api/v1/workorders/{other}/resolve", json={"answer": "已处理"}))[0] == 200
    assert (await agent.post(f"/api/v1/workorders/{other}/close", json={}))[0] == 200
    async with hotline.sessions() as session:
        targets = list((await session.execute(select(OutboxMessage.target).where(OutboxMessage.kind == "press")))
                       .scalars())
    assert targets == ["qsdaily"]
