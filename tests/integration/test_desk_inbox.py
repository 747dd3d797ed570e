"""One inbox for every written channel (issue 11 part 4): a written contact is claimed by one
agent at a time — two agents claiming at once get one claim between them, the other cannot act
on it, a lapsed claim may be taken over — and is answered on the citizen's own channel."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest

from hotline.contact import Contact, Identity
from hotline.domain.vocabulary import Channel
from tests.conftest import login_as, make_settings

if TYPE_CHECKING:
    from pathlib import Path

    from aiohttp.test_utils import TestClient

TWILIO = {"HOTLINE_TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "HOTLINE_TWILIO_AUTH_TOKEN": "t" * 32,
          "HOTLINE_TWILIO_FROM": "+8610000000"}


@pytest.fixture
def settings(db_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    """SMS configured, so that a texted contact's answer goes back by text."""
    schema = request.getfixturevalue("pg_schema") if db_kind == "pg" else None
    return make_settings(tmp_path, database=db_kind, schema=schema, env=TWILIO)


async def _written(h: Any, ext: str, channel: Channel, sender: Identity) -> str:
    r = await h.intake.receive(Contact(channel=channel, external_id=ext, received_at=h.clock(), text=f"诉求 {ext}",
                                       sender=sender, category="help"))
    return str(r.number)


async def test_two_agents_never_work_the_same_contact(client: TestClient, hotline: Any, clock: Any) -> None:
    sms = await _written(hotline, "s1", Channel.SMS, Identity("phone", "13800000001"))
    web = await _written(hotline, "w1", Channel.WEB, Identity("phone", "13800000002"))
    phone = await _written(hotline, "p1", Channel.PHONE, Identity("phone", "13800000003"))
    a = await login_as(hotline, client, "agent", "agent-a")
    b = await login_as(hotline, client, "agent", "agent-b")

    status, box = await a.get("/api/v1/desk/inbox")
    assert status == 200
    assert [i["number"] for i in box["items"]] == [sms, web]  # written channels only, oldest first
    assert phone not in {i["number"] for i in box["items"]}

    (sa, ra), (sb, rb) = await asyncio.gather(a.post(f"/api/v1/desk/inbox/{sms}/claim"),
                                              b.post(f"/api/v1/desk/inbox/{sms}/claim"))
    assert sorted((sa, sb)) == [200, 409]  # one claim between them
    winner, loser = (a, b) if sa == 200 else (b, a)
    lost = rb if sa == 200 else ra
    assert lost["code"] == "claimed_by_another"
    status, again = await winner.post(f"/api/v1/desk/inbox/{sms}/claim")
    assert status == 200  # renewing one's own claim

    status, box = await loser.get("/api/v1/desk/inbox")
    item = next(i for i in box["items"] if i["number"] == sms)
    assert item["claimed_by"] and not item["mine"]
    # The other agent cannot act on it through the order API either.
    status, err = await loser.post(f"/api/v1/workorders/{sms}/resolve", json={"answer": "已答复"})
    assert status == 409 and err["code"] == "claimed_by_another"

    # Answered on the citizen's own channel: resolving a text answers by text (the outbox).
    status, done = await winner.post(f"/api/v1/workorders/{sms}/resolve", json={"answer": "已为您登记并转交社区处理"})
    assert status == 200, done
    from sqlalchemy import select

    from hotline.storage.models import OutboxMessage
    async with hotline.sessions() as session:
        kinds = (await session.execute(select(OutboxMessage.kind, OutboxMessage.event))).all()
    assert ("sms", "replied") in kinds
    status, box = await winner.get("/api/v1/desk/inbox")
    assert sms not in {i["number"] for i in box["items"]}  # gone with its claim
    status, err = await winner.post(f"/api/v1/desk/inbox/{sms}/claim")
    assert status == 409 and err["code"] == "contact_not_waiting"

    # A claim lapses: an agent who walked away does not block the contact.
    assert (await a.post(f"/api/v1/desk/inbox/{web}/claim"))[0] == 200
    assert (await b.post(f"/api/v1/desk/inbox/{web}/claim"))[0] == 409
    clock.advance(minutes=16)
    assert (await b.post(f"/api/v1/desk/inbox/{web}/claim"))[0] == 200
    status, _ = await b.post(f"/api/v1/desk/inbox/{web}/release")
    assert status == 204
    assert (await a.post(f"/api/v1/desk/inbox/{web}/claim"))[0] == 200

    assert (await a.post(f"/api/v1/desk/inbox/{phone}/claim"))[0] == 404  # not a written contact
    assert (await a.post("/api/v1/desk/inbox/nope/claim"))[0] == 404
