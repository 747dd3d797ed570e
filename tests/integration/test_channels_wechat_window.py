"""A WeChat notice after the 48-hour customer-service window: the account's template message,
else an SMS when the order has a phone number — through the real wechatpy and Twilio clients
against local fakes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from hotline.contact import Contact, Identity
from hotline.domain.vocabulary import Channel
from hotline.storage.models import OutboxMessage
from tests.channels_support import channel_env, vendors
from tests.conftest import department_api, make_settings

if TYPE_CHECKING:
    from pathlib import Path

    from hotline.settings import Settings

__all__ = ["vendors"]
OPENID = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"


@pytest.fixture
def settings(db_kind: str, tmp_path: Path, request: pytest.FixtureRequest, vendors) -> Settings:
    schema = request.getfixturevalue("pg_schema") if db_kind == "pg" else None
    return make_settings(tmp_path, database=db_kind, schema=schema, env=channel_env(vendors),
                         extra_yaml="channels: {wechat: {template: {id: TPL-notice-1}}}\n")


async def outbox(hotline) -> list[OutboxMessage]:
    async with hotline.sessions() as s:
        return list((await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


@pytest.mark.parametrize("db_kind", ["sqlite"])  # senders and the outbox rows: nothing specific to PostgreSQL
async def test_template_then_sms_after_the_window(hotline, client, agent, vendors, clock):
    contact = Contact(channel=Channel.WECHAT, external_id="wx-window-1", received_at=clock(),
                      text="青溪镇菜市场有商户卖过期食品", sender=Identity("wechat_openid", OPENID),
                      other_identities=(Identity("phone", "13800138000"),), category="complaint")
    number = (await hotline.intake.receive(contact)).number
    status, out = await agent.post(f"/api/v1/workorders/{number}/dispatch", json={"lead": "scjgj"})
    assert status == 200, out
    (notice,) = [m for m in await outbox(hotline) if m.kind == "wechat"]
    assert notice.payload["fallback_phone"] == "13800138000"

    # 45015: the citizen wrote more than 48 hours ago. The template message goes instead.
    vendors.wechat_fail.append(45015)
    await hotline.outbox.deliver_due()
    (tpl,) = vendors.templates
    assert (tpl["touser"], tpl["template_id"]) == (OPENID, "TPL-notice-1")
    assert tpl["data"]["keyword1"] == {"value": number} and "已转交" in tpl["data"]["keyword2"]["value"]
    assert [m.status for m in await outbox(hotline) if m.kind == "wechat"] == ["delivered"]

    # The template is refused too (40037: template withdrawn): an SMS to the order's phone.
    dept = await department_api(hotline, client, "scjgj")
    assert (await dept.post(f"/api/v1/department/orders/{number}/sign", json={}))[0] == 200
    clock.advance(days=3)
    status, out = await dept.post(f"/api/v1/department/orders/{number}/reply", json={"result": "已责令下架"})
    assert status == 200, out  # 办结 and 请评价: two WeChat notices, both past the window
    vendors.wechat_fail.extend([45015, 45015])
    vendors.template_fail.extend([40037, 40037])
    for _ in range(6):  # one message of an order at a time: WeChat, its SMS, WeChat, its SMS
        if not await hotline.outbox.deliver_due():
            break
    rows = await outbox(hotline)
    handed = [m for m in rows if m.kind == "sms" and m.delivery_id.endswith(":sms")]
    assert handed and all(m.status == "delivered" and m.target == "13800138000" for m in handed)
    assert any("已责令下架" in m["Body"] for m in vendors.sms if m["To"] == "+8613800138000")

    # Delivered again (a lost acknowledgement): the hand-over is not repeated.
    sender = hotline.outbox.senders["wechat"]
    original = next(m for m in rows if m.delivery_id + ":sms" == handed[0].delivery_id)
    vendors.wechat_fail.append(45015)
    vendors.template_fail.append(40037)
    await sender.send(original)
    assert len([m for m in await outbox(hotline) if m.kind == "sms" and m.delivery_id.endswith(":sms")]) == len(handed)
