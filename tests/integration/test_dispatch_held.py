"""`dispatch.auto` with what Open311 and app clients really send: a service code and no
category. The subject's default category lets the order go; one a rule matches that still
cannot go waits in the agents' inbox with the reason, and the operator is told."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pytest

from tests.channels_support import OPEN311_KEY, channel_env
from tests.conftest import login_as, make_settings

if TYPE_CHECKING:
    from pathlib import Path

    from hotline.settings import Settings


@pytest.fixture
def settings(db_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    schema = request.getfixturevalue("pg_schema") if db_kind == "pg" else None
    return make_settings(tmp_path, database=db_kind, schema=schema,
                         env={**channel_env(None), "HOTLINE_DISPATCH_AUTO": "true"})


@pytest.mark.parametrize("db_kind", ["sqlite"])  # reads the settings only
def test_every_subject_of_the_shipped_config_has_a_default_category(settings):
    codes = {c.code for c in settings.categories}
    assert all(settings.default_category(leaf.code) in codes for _, leaf in settings.leaf_subjects())
    assert settings.default_category("city-vendors") == "complaint"
    assert settings.default_category("no-such-subject") is None


async def test_open311_auto_dispatch_and_the_agents_inbox(hotline, client, caplog):
    agent = await login_as(hotline, client, "agent")
    form = {"api_key": OPEN311_KEY, "service_code": "city-vendors", "lat": "27.1", "long": "115.2",
            "description": "东门路流动摊贩占道经营", "phone": "13800138000"}
    async with client.post("/open311/v2/requests.json", data=urlencode(form),
                           headers={"Content-Type": "application/x-www-form-urlencoded"}) as r:
        assert r.status == 200, await r.text()  # GeoReport v2 answers 200 with the new request's id
        number = (await r.json())[0]["service_request_id"]
    status, order = await agent.get(f"/api/v1/workorders/{number}")
    assert (order["category"], order["status"], order["lead_department"]) == ("complaint", "dispatched", "cgj")

    # An app report with neither subject nor category: a keyword rule matches, but an order
    # without a category has no SLA to dispatch with.
    caplog.set_level(logging.INFO, "dispatch.autodispatch")
    async with client.post("/api/v1/app/requests", json={"text": "我们小区停电了，请尽快处理", "phone": "13900001111"},
                           headers={"X-App-Key": OPEN311_KEY, "Idempotency-Key": "held-1"}) as r:
        assert r.status == 201, await r.text()
        held = (await r.json())["number"]
    status, inbox = await agent.get("/api/v1/dispatch/held")
    assert status == 200 and [i["number"] for i in inbox["items"]] == [held]
    item = inbox["items"][0]
    assert (item["reason_code"], item["reason"]) == ("category_required", "派单前请先选择诉求类型")
    assert item["department"] == {"code": "gdgs", "name": "国网青山县供电公司"} and item["rule"] >= 1
    warned = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and held in warned[0].getMessage() and "category_required" in warned[0].getMessage()
    async with client.get("/metrics") as r:
        assert 'hotline_auto_dispatch_held_total{reason="category_required"} 1.0' in await r.text()

    # The agent completes and dispatches it: it leaves the inbox.
    status, out = await agent.post(f"/api/v1/workorders/{held}/update", json={"category": "help"})
    assert status == 200, out
    status, out = await agent.post(f"/api/v1/workorders/{held}/dispatch", json={"lead": "gdgs"})
    assert status == 200, out
    status, inbox = await agent.get("/api/v1/dispatch/held")
    assert inbox["items"] == [] and inbox["next_cursor"] is None
    status, problem = await agent.get("/api/v1/dispatch/held?limit=0")
    assert status == 422
