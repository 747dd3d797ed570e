"""热点预警: a generated burst (200 contacts about a water cut in one community within an
hour, among a week of normal traffic and the hour's own) raises exactly one alert, told to
the supervision office by webhook and SMS through the outbox; one action merges the burst."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from hotline.knowledge.history import generate
from hotline.knowledge.service import KnowledgeBase
from hotline.storage.models import OutboxMessage, WorkOrder
from tests.channels_support import channel_env
from tests.conftest import make_settings

pytestmark = pytest.mark.parametrize("db_kind", ["sqlite"])  # the detector's SQL is two range scans
ROOT = Path(__file__).resolve().parents[2]
WATER = ("城南社区停水了，什么时候来水", "我们城南社区从早上开始没水了", "城关街道城南社区建设路一带突然停水",
         "城南社区水停了，家里老人做不了饭", "城南社区自来水断水两个小时了", "城南社区没有水，物业说是管道爆了")


@pytest.fixture
def settings(db_kind, tmp_path):
    # The supervision office with a webhook (the sample directory has none), and SMS configured.
    departments = yaml.safe_load((ROOT / "config" / "hotline.yaml").read_text(encoding="utf-8"))["departments"]
    for d in departments:
        if d["code"] == "dcs":
            d["webhook"] = {"url": "http://127.0.0.1:9/dcs-hook", "secret": "dcs-test-secret"}
    return make_settings(tmp_path, database=db_kind, env=channel_env(None),
                         extra_yaml=yaml.safe_dump({"departments": departments}, allow_unicode=True))


async def _insert(h, rows) -> None:
    async with h.sessions() as session, session.begin():
        session.add_all(rows)


def _order(i: int, at, text: str, area: str | None, subject: str | None = None, category: str = "complaint"):
    return WorkOrder(number=f"2026{i:010d}", status="registered", version=1, channel="phone", title="",
                     description=text, category=category, subject=subject, area=area, urgency="normal",
                     confidential=False, reopen_count=0, created_at=at, updated_at=at)


async def test_a_water_cut_burst_raises_one_alert_and_merges(hotline, client, supervisor, clock):
    rng = random.Random(3)
    now = clock()
    normal = generate(hotline.settings, hotline.rule_routers[0], 900, seed=11)
    rows = [_order(i, now - timedelta(minutes=rng.uniform(61, 7 * 24 * 60)), s.text, s.area, s.subject, s.category)
            for i, s in enumerate(normal[:800])]
    # The community's usual water complaints: a few a week.
    rows += [_order(900 + i, now - timedelta(days=1 + i), "城南社区水压低", "chengnan", "util-water") for i in range(3)]
    # The hour: its normal traffic, and the burst (mostly without a subject, some only naming the place in the text).
    rows += [_order(1000 + i, now - timedelta(minutes=rng.uniform(0, 59)), s.text, s.area, s.subject, s.category)
             for i, s in enumerate(normal[800:])]
    burst = [_order(2000 + i, now - timedelta(minutes=59) + timedelta(seconds=17 * i), WATER[i % len(WATER)],
                    rng.choice(["chengnan", "chengnan", None, "chengguan"]), "util-water" if i % 5 == 0 else None,
                    rng.choice(["help", "complaint"]))
             for i in range(200)]
    await _insert(hotline, rows + burst)

    watch = hotline.module(KnowledgeBase).hotspots
    raised = await watch.tick()
    assert len(raised) == 1, [(a.key, a.count) for a in raised]
    alert = raised[0]
    assert (alert.place, alert.matter, alert.count) == ("chengnan", "util-water", 200)
    assert alert.usual < 1
    assert await watch.tick() == []  # nothing new: no second alert
    clock.advance(minutes=2)
    await _insert(hotline, [_order(3000 + i, clock(), "城南社区还是没水", "chengnan") for i in range(5)])
    (again,) = await watch.tick()
    assert (again.id, again.count) == (alert.id, 205)  # the same alert, updated

    async with hotline.sessions() as session:
        told = list((await session.execute(select(OutboxMessage).where(OutboxMessage.event == "hotspot_alert")))
                    .scalars())
    # Told once, when raised: the office's webhook and SMS to its two contacts.
    assert sorted((m.kind, m.target) for m in told) == [("sms", "13307902649"), ("sms", "15807906036"),
                                                         ("webhook", "dcs")]
    webhook = next(m for m in told if m.kind == "webhook")
    assert webhook.payload["hotspot"]["count"] == 200 and webhook.payload["hotspot"]["place_name"] == "城关街道城南社区"
    assert "热点预警" in next(m for m in told if m.kind == "sms").payload["text"]

    status, open_alerts = await supervisor.get("/api/v1/hotspots")
    assert status == 200 and [a["id"] for a in open_alerts] == [alert.id]
    status, merged = await supervisor.post(f"/api/v1/hotspots/{alert.id}/merge")
    assert status == 201, merged
    assert merged["parent"] == "20260000002000" and len(merged["merged"]) == 204
    status, again_merge = await supervisor.post(f"/api/v1/hotspots/{alert.id}/merge")
    assert status == 409
    status, open_alerts = await supervisor.get("/api/v1/hotspots")
    assert open_alerts == []
    async with hotline.sessions() as session:
        statuses = {o.status for o in (await session.execute(select(WorkOrder).where(
            WorkOrder.number.in_(merged["merged"])))).scalars()}
    assert statuses == {"merged"}
    assert await watch.tick() == []  # the merged burst is not a burst any more


SMELL = ("闻到一股很浓的刺鼻化学气味，像是工业园那边飘过来的", "工业园化工厂那边有刺鼻的气味，熏得人头疼",
         "家里窗户关着都能闻到刺鼻的化学味，是不是工业园泄漏了", "空气里一股刺鼻的化学气味，孩子一直咳嗽",
         "工业园方向飘来刺鼻气味，请查一下是哪家厂", "刺鼻的化学气味太大了，出门都要戴口罩")


async def test_a_burst_of_one_complaint_under_many_subjects_and_places_is_caught_by_its_text(hotline, client,
                                                                                           supervisor, clock):
    rng = random.Random(5)
    now = clock()
    normal = generate(hotline.settings, hotline.rule_routers[0], 900, seed=11)
    rows = [_order(i, now - timedelta(minutes=rng.uniform(61, 7 * 24 * 60)), s.text, s.area, s.subject, s.category)
            for i, s in enumerate(normal[:800])]
    rows += [_order(1000 + i, now - timedelta(minutes=rng.uniform(0, 59)), s.text, s.area, s.subject, s.category)
             for i, s in enumerate(normal[800:])]
    # A smell over the north of the county: callers from three towns and their communities, filed
    # by the agents under five subjects and three categories, so no place × subject gets near 20.
    areas = ["xincheng", "gongyeyuan", "xingguang", "huayuan", "fenghuang", "jinxiu", "chengbei", None]
    subjects = ["env-air", "util-gas", "other-safety-hazard", "health-public-health", "env-solid-waste", None]
    burst = [_order(2000 + i, now - timedelta(minutes=58) + timedelta(seconds=28 * i), SMELL[i % len(SMELL)],
                    areas[i % len(areas)], subjects[(i // len(areas)) % len(subjects)],
                    rng.choice(["complaint", "help", "report"]))
             for i in range(120)]
    await _insert(hotline, rows + burst)

    watch = hotline.module(KnowledgeBase).hotspots
    by_key_only = watch.cfg
    watch.cfg = by_key_only.model_copy(update={"text": by_key_only.text.model_copy(update={"enabled": False})})
    assert await watch.tick() == []  # place × subject alone sees nothing
    watch.cfg = by_key_only
    (alert,) = await watch.tick()
    assert alert.matter.startswith("text:") and "刺鼻" in alert.matter
    assert {o.number for o in burst} <= set(alert.numbers)
    assert alert.count - len(burst) <= 5, alert.count  # hardly any of the hour's other traffic
    assert alert.usual < 1
    assert await watch.tick() == []  # nothing new: no second alert
    clock.advance(minutes=3)
    await _insert(hotline, [_order(3000 + i, clock(), "还是有刺鼻的化学气味", "huayuan", "env-air") for i in range(6)])
    (again,) = await watch.tick()
    assert (again.id, again.count) == (alert.id, alert.count + 6)  # the same alert, updated

    status, open_alerts = await supervisor.get("/api/v1/hotspots")
    assert status == 200 and [(a["id"], a["by"]) for a in open_alerts] == [(alert.id, "text")]
    assert open_alerts[0]["matter_name"].startswith("相似诉求：")
    status, merged = await supervisor.post(f"/api/v1/hotspots/{alert.id}/merge")
    assert status == 201, merged
    assert await watch.tick() == []
