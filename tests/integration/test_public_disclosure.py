"""Disclosure (政务公开) through HTTP: preview → publish → the public list, page, JSON and
RSS; the audit; the category rule; comments (rate-limited, moderated); the statistics."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hotline.errors import ConfigError
from hotline.web.app import create_app
from tests.conftest import department_api, login_as, make_settings, migrated_hotline

SECRETS = ("李四", "13812345678", "13900001111", "3栋501")


async def closed_order(agent, *, text="我是李四，电话13812345678，青溪镇菜市场门口路灯不亮，住幸福小区3栋501",
                       answer="已联系李四先生（13812345678），路灯已于11月26日修复。", **fields):
    body = {"text": text, "title": "菜市场门口路灯不亮", "category": "complaint",
            "caller": {"phone": "13900001111", "name": "李四"}, "address": "青山县青溪镇幸福小区3栋501室", **fields}
    status, out = await agent.post("/api/v1/workorders", json=body)
    assert status == 201, out
    number = out["number"]
    assert (await agent.post(f"/api/v1/workorders/{number}/resolve", json={"answer": answer}))[0] == 200
    assert (await agent.post(f"/api/v1/workorders/{number}/close", json={}))[0] == 200
    return number


def no_secret(text: str) -> None:
    for s in SECRETS:
        assert s not in text, s


async def test_preview_publish_audit_and_every_public_output_masked(hotline, client, agent, supervisor):
    number = await closed_order(agent)
    secret = await closed_order(agent, confidential=True, category="report", text="举报某厂夜间偷排，我是李四")
    status, open_one = await agent.post("/api/v1/workorders", json={"text": "未办结", "category": "help"})

    assert (await agent.get(f"/api/v1/disclosure/orders/{number}/preview"))[0] == 403  # supervisors only
    status, preview = await supervisor.get(f"/api/v1/disclosure/orders/{number}/preview")
    assert status == 200, preview
    assert preview["question"] == "我是李某，电话[手机号]，青溪镇菜市场门口路灯不亮，住幸福小区[门牌号]"
    assert preview["answer"] == "已联系李某先生（[手机号]），路灯已于11月26日修复。"
    assert preview["location"] == "青山县青溪镇幸福小区" and preview["published"] is False

    for n, code in ((secret, "not_publishable_confidential"), (open_one["number"], "not_publishable_not_closed")):
        status, problem = await supervisor.post(f"/api/v1/disclosure/orders/{n}/publish", json={})
        assert (status, problem["code"]) == (409, code)
    status, problem = await supervisor.post(f"/api/v1/disclosure/orders/{number}/publish",
                                            json={"digest": "0" * 16})
    assert (status, problem["code"]) == (409, "preview_changed")

    status, case = await supervisor.post(f"/api/v1/disclosure/orders/{number}/publish",
                                         json={"digest": preview["digest"]})
    assert status == 201, case
    assert case["answer"] == preview["answer"] and case["department_name"] is None
    assert (await supervisor.post(f"/api/v1/disclosure/orders/{number}/publish", json={}))[1]["code"] == \
        "already_published"

    status, audit = await supervisor.get("/api/v1/disclosure/audit", params={"number": number})
    assert [(a["action"], a["actor_kind"]) for a in audit["items"]] == [("publish", "supervisor")]
    assert audit["items"][0]["data"]["answer"] == preview["answer"]

    # The public: no login, only the published one, masked everywhere.
    async with client.get("/api/v1/public/cases") as r:
        body = await r.text()
        assert r.status == 200
    assert re.findall(r'"number":\s*"(\d+)"', body) == [number]
    no_secret(body)
    async with client.get(f"/api/v1/public/cases/{secret}") as r:
        assert r.status == 404
    for path in ("/public/", f"/public/cases/{number}", "/public/feed.rss", "/public/?lang=en"):
        async with client.get(path) as r:
            text = await r.text()
            assert r.status == 200, path
        no_secret(text)
        assert secret not in text
    async with client.get("/public/feed.rss") as r:
        assert r.content_type == "application/rss+xml"
        doc = ET.fromstring(await r.read())
    items = doc.findall("channel/item")
    assert [i.findtext("link", "").rsplit("/", 1)[-1] for i in items] == [number]

    # Withdrawn: gone from every public output, audited.
    assert (await supervisor.post(f"/api/v1/disclosure/orders/{number}/withdraw", json={"reason": "误发"}))[0] == 200
    assert (await client.get(f"/api/v1/public/cases/{number}")).status == 404
    status, audit = await supervisor.get("/api/v1/disclosure/audit", params={"number": number})
    assert [a["action"] for a in audit["items"]] == ["withdraw", "publish"]


@pytest.mark.parametrize("db_kind", ["sqlite"])  # no SQL of its own that differs by engine
async def test_comments_are_masked_moderated_and_rate_limited(hotline, client, agent, supervisor):
    number = await closed_order(agent)
    assert (await supervisor.post(f"/api/v1/disclosure/orders/{number}/publish", json={}))[0] == 201
    async with client.post(f"/api/v1/public/cases/{number}/comments",
                           json={"text": "办得好！有事打我电话13812345678"}) as r:
        assert r.status == 202
        cid = (await r.json())["id"]
    async with client.get(f"/api/v1/public/cases/{number}") as r:
        assert (await r.json())["comments"] == []  # not before moderation
    status, pending = await supervisor.get("/api/v1/disclosure/comments")
    assert [(c["id"], c["text"]) for c in pending["items"]] == [(cid, "办得好！有事打我电话[手机号]")]
    assert (await agent.post(f"/api/v1/disclosure/comments/{cid}/moderate", json={"decision": "approve"}))[0] == 403
    status, out = await supervisor.post(f"/api/v1/disclosure/comments/{cid}/moderate", json={"decision": "approve"})
    assert (status, out["status"], out["number"]) == (200, "approved", number)
    assert (await supervisor.post(f"/api/v1/disclosure/comments/{cid}/moderate",
                                  json={"decision": "reject"}))[1]["code"] == "already_moderated"
    async with client.get(f"/api/v1/public/cases/{number}") as r:
        assert [c["text"] for c in (await r.json())["comments"]] == ["办得好！有事打我电话[手机号]"]

    # The page's form: refused without its token, accepted with it (then shown only after approval).
    async with client.post(f"/public/cases/{number}/comment", data={"text": "x", "csrf": "forged"}) as r:
        assert r.status == 403
    async with client.get(f"/public/cases/{number}") as r:
        token = re.search(r'name="csrf" value="([^"]+)"', await r.text()).group(1)
    async with client.post(f"/public/cases/{number}/comment", data={"text": "路灯亮了，谢谢", "csrf": token},
                           allow_redirects=False) as r:
        assert r.status == 303 and r.headers["Location"].endswith("?sent=1")
    async with client.get(f"/public/cases/{number}?sent=1") as r:
        page = await r.text()
    assert "路灯亮了" not in page and "办得好" in page

    # Five per client per window (two used above), then 429; nothing half-written.
    codes = []
    for _ in range(4):
        async with client.post(f"/api/v1/public/cases/{number}/comments", json={"text": "再评一次"}) as r:
            codes.append(r.status)
    assert codes == [202, 202, 202, 429]
    status, pending = await supervisor.get("/api/v1/disclosure/comments")
    assert len(pending["items"]) == 4
    async with client.post("/api/v1/public/cases/99999999999999/comments", json={"text": "x"}) as r:
        assert r.status in (404, 429)


@pytest.mark.parametrize("db_kind", ["sqlite"])
async def test_the_category_rule_publishes_on_close_never_a_confidential_one(tmp_path, clock, db_kind):
    settings = make_settings(tmp_path, extra_yaml="public:\n  publish_categories: [inquiry, report]\n")
    cm, h = await migrated_hotline(settings, clock)
    try:
        async with TestClient(TestServer(create_app(h, run_background=False), host="127.0.0.1")) as client:
            agent = await login_as(h, client, "agent")
            ruled = await closed_order(agent, category="inquiry")
            await closed_order(agent, category="report", confidential=True)
            manual = await closed_order(agent, category="complaint")
            async with client.get("/api/v1/public/cases") as r:
                assert [c["number"] for c in (await r.json())["items"]] == [ruled]
            sup = await login_as(h, client, "supervisor")
            status, audit = await sup.get("/api/v1/disclosure/audit")
            assert [(a["number"], a["actor_kind"], a["data"]["rule"]) for a in audit["items"]] == \
                [(ruled, "system", "category")]
            assert manual not in str(audit)
            # Reopened: it leaves the public pages by itself.
            assert (await sup.post(f"/api/v1/workorders/{ruled}/reopen", json={"reason": "市民不满意"}))[0] == 200
            async with client.get("/api/v1/public/cases") as r:
                assert (await r.json())["items"] == []
    finally:
        await cm.__aexit__(None, None, None)


def test_an_unknown_category_in_the_rule_is_a_worded_config_error(tmp_path):
    from hotline.root import check

    settings = make_settings(tmp_path, extra_yaml="public:\n  publish_categories: [nosuch]\n")
    with pytest.raises(ConfigError) as e:
        check(settings)
    assert "public.publish_categories" in str(e.value) and "nosuch" in str(e.value)


async def test_statistics_by_channel_subject_and_department(hotline, client, agent, clock):
    clock.now = datetime(2026, 11, 2, 2, tzinfo=UTC)  # a month's start: a late reply stays inside it
    dept = await department_api(hotline, client, "scjgj")
    numbers = []
    for channel, rating, late in (("phone", 5, False), ("web", 2, True)):
        status, out = await agent.post("/api/v1/workorders", json={"text": "商户卖过期食品", "category": "complaint",
                                                                   "channel": channel, "caller": {"phone": "13800138000"}})
        n = out["number"]
        numbers.append(n)
        assert (await agent.post(f"/api/v1/workorders/{n}/dispatch", json={"lead": "scjgj"}))[0] == 200
        assert (await dept.post(f"/api/v1/department/orders/{n}/sign", json={}))[0] == 200
        if late:
            clock.advance(days=12)
        assert (await dept.post(f"/api/v1/department/orders/{n}/reply", json={"result": "已查处"}))[0] == 200
        assert (await agent.post(f"/api/v1/workorders/{n}/follow-up", json={"note": "回访", "rating": rating}))[0] == 200
    status, out = await agent.post("/api/v1/workorders", json={"text": "路灯不亮", "subject": "city-streetlights",
                                                               "channel": "phone"})
    assert status == 201
    async with client.get("/api/v1/public/stats", params={"period": "month", "date": "2026-11-26"}) as r:
        stats = await r.json()
        assert r.status == 200, stats
    assert stats["start"] == "2026-11-01" and stats["end"] == "2026-12-01"
    assert stats["contacts_by_channel"] == {"phone": 2, "web": 1} and stats["contacts"] == 3
    assert stats["top_subjects"][0]["subject"] == "city-streetlights"
    (scjgj,) = [d for d in stats["departments"] if d["department"] == "scjgj"]
    assert (scjgj["replies"], scjgj["on_time"], scjgj["ratings"], scjgj["satisfied"]) == (2, 1, 2, 1)
    assert scjgj["on_time_rate"] == 0.5 and scjgj["satisfaction_rate"] == 0.5
    async with client.get("/api/v1/public/stats", params={"period": "day", "date": "2026-10-01"}) as r:
        assert (await r.json())["contacts"] == 0
    async with client.get("/public/stats") as r:
        assert r.status == 200 and "按时办结率" in await r.text()
