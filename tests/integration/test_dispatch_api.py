"""Dispatch through HTTP: routing suggestions and the agent's override, auto-dispatch,
并单 candidates, the supervisors' desk, the department's files and notices."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from aiohttp import FormData
from sqlalchemy import select

from dispatch.models import Timer
from hotline.contact import Contact, Identity
from hotline.domain.vocabulary import Channel
from hotline.storage.models import Attachment, OrderEvent, WorkOrder
from tests.conftest import department_api, login_as, make_settings

if TYPE_CHECKING:
    from pathlib import Path

    from hotline.settings import Settings

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def settings(db_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    schema = request.getfixturevalue("pg_schema") if db_kind == "pg" else None
    return make_settings(tmp_path, database=db_kind, schema=schema, env={"HOTLINE_DISPATCH_AUTO": "true"},
                         extra_yaml="http: {max_body_bytes: 65536}\n")


async def new_order(agent, **fields) -> str:
    body = {"text": "反映问题", "category": "complaint", "caller": {"phone": "13800138000"}, **fields}
    status, out = await agent.post("/api/v1/workorders", json=body)
    assert status == 201, out
    return out["number"]


async def test_routing_suggestion_and_the_agents_override(hotline, client):
    agent = await login_as(hotline, client, "agent")
    number = await new_order(agent, text="青溪镇桃源村村务不公开", subject="agri-village-affairs", area="taoyuan")
    status, out = await agent.get(f"/api/v1/workorders/{number}/routing")
    assert status == 200
    assert out["suggestion"]["department"] == {"code": "qingxi", "name": "青山县青溪镇"}
    assert out["reason"].startswith("派单规则第") and "区域「青山县青溪镇」" in out["reason"]
    assert [a["department"]["code"] for a in out["alternatives"]] == ["nyncj"]
    status, out = await agent.get(f"/api/v1/workorders/{number}/routing?lang=en")
    assert "area 'Qingxi Town" in out["reason"]
    # the agent overrides: the dispatched event keeps the agent's reason
    status, out = await agent.post(f"/api/v1/workorders/{number}/dispatch",
                                   json={"lead": "nyncj", "reason": "人工指定：涉及集体资金，由农业农村局主办"})
    assert status == 200 and out["event"]["data"]["reason"].startswith("人工指定")

    status, out = await agent.post("/api/v1/routing/suggest", json={"text": "小区停电了", "category": "help"})
    assert status == 200 and out["suggestion"]["department"]["code"] == "gdgs"
    status, out = await agent.post("/api/v1/routing/suggest", json={"text": "随便问问"})
    assert out["suggestion"] is None and out["reason"] == "没有匹配的派单规则，请人工选择承办部门"
    status, problem = await agent.post("/api/v1/routing/suggest", json={"text": "x", "colour": "red"})
    assert status == 422 and problem["code"] == "validation_failed"
    status, problem = await agent.get("/api/v1/workorders/20990101000001/routing")
    assert status == 404
    dept = await department_api(hotline, client, "scjgj")
    client.session.cookie_jar.clear()  # the agent's login cookie, shared by this test client
    status, problem = await dept.get(f"/api/v1/workorders/{number}/routing")
    assert (status, problem["code"]) == (401, "login_required")  # departments do not use the agents' API


async def test_auto_dispatch_of_written_contacts_never_phone(hotline, client):
    now = hotline.clock()
    sms = await hotline.intake.receive(Contact(
        channel=Channel.SMS, external_id="SM-auto-1", received_at=now, text="我们小区停电了，请尽快处理",
        sender=Identity("phone", "13900001111"), category="help"))
    async with hotline.sessions() as session:
        order = (await session.execute(select(WorkOrder).where(WorkOrder.number == sms.number))).scalar_one()
        events = list((await session.execute(select(OrderEvent).where(OrderEvent.work_order_id == order.id)
                                             .order_by(OrderEvent.seq))).scalars())
        timers = list((await session.execute(select(Timer).where(Timer.work_order_id == order.id))).scalars())
    assert (order.status, order.lead_department) == ("dispatched", "gdgs")
    assert [e.kind for e in events] == ["created", "dispatched"]
    assert events[1].actor_id == "auto-dispatch" and events[1].data["reason"].startswith("自动派单 · 派单规则第")
    assert {t.kind for t in timers} >= {"sign_overdue", "reply_overdue"}
    # the same SMS again: the first result, nothing dispatched twice
    again = await hotline.intake.receive(Contact(
        channel=Channel.SMS, external_id="SM-auto-1", received_at=now, text="我们小区停电了，请尽快处理",
        sender=Identity("phone", "13900001111"), category="help"))
    assert again.repeated and again.number == sms.number

    phone = await hotline.intake.receive(Contact(
        channel=Channel.PHONE, external_id="call-1", received_at=now, text="停电了", category="help",
        sender=Identity("phone", "13900002222")))
    no_category = await hotline.intake.receive(Contact(
        channel=Channel.WECHAT, external_id="wx-1", received_at=now, text="停电了",
        sender=Identity("wechat_openid", "oX1")))
    async with hotline.sessions() as session:
        statuses = dict((await session.execute(select(WorkOrder.number, WorkOrder.status).where(
            WorkOrder.number.in_([phone.number, no_category.number])))).all())
    assert statuses == {phone.number: "registered", no_category.number: "registered"}  # an agent decides


async def test_merge_candidates(hotline, client):
    agent = await login_as(hotline, client, "agent")
    first = await new_order(agent, text="幸福路路灯坏了", subject="city-streetlights", area="chengnan",
                            category="help")
    other_citizen = await new_order(agent, text="幸福路路灯不亮", subject="city-streetlights", area="chengnan",
                                    category="help", caller={"phone": "13700000000"})
    unrelated = await new_order(agent, text="医保报销问题", subject="health-insurance", category="inquiry",
                                caller={"phone": "13600000000"})
    status, out = await agent.get(f"/api/v1/workorders/{other_citizen}/merge-candidates")
    assert status == 200
    assert [(c["number"], c["why"]) for c in out] == [(first, ["same_subject_area"])]
    status, out = await agent.get(f"/api/v1/workorders/{first}/merge-candidates")
    assert {c["number"] for c in out} == {other_citizen}
    assert unrelated not in {c["number"] for c in out}
    status, out = await agent.post(f"/api/v1/workorders/{other_citizen}/merge", json={"into": first})
    assert (status, out["status"]) == (200, "merged")
    status, out = await agent.get(f"/api/v1/workorders/{first}/merge-candidates")
    assert out == []  # merged orders are closed matters


async def test_returns_awaiting_review_and_redispatch_in_one_step(hotline, client, clock):
    agent = await login_as(hotline, client, "agent")
    supervisor = await login_as(hotline, client, "supervisor")
    number = await new_order(agent, text="邻里纠纷，楼上漏水", subject="other-dispute", area="qingxi")
    await agent.post(f"/api/v1/workorders/{number}/dispatch", json={"lead": "qingxi"})
    town = await department_api(hotline, client, "qingxi")
    status, out = await town.post(f"/api/v1/department/orders/{number}/return", json={"reason": "属于司法调解事项"})
    assert (status, out["status"]) == (200, "returned")
    status, page = await supervisor.get("/api/v1/supervisor/returns")
    (item,) = page["items"]
    assert (item["number"], item["department"], item["reason"]) == (number, "qingxi", "属于司法调解事项")
    assert item["routing"]["suggestion"]["department"]["code"] == "sfj"  # the returning town excluded
    status, problem = await agent.post(f"/api/v1/supervisor/returns/{number}/redispatch", json={"lead": "sfj"})
    assert status == 403
    status, problem = await supervisor.post(f"/api/v1/supervisor/returns/{number}/redispatch",
                                            json={"lead": "sfj", "expected_version": 1})
    assert (status, problem["code"]) == (409, "stale_version")
    status, out = await supervisor.post(f"/api/v1/supervisor/returns/{number}/redispatch",
                                        json={"lead": "nowhere", "expected_version": item["version"]})
    assert (status, out["code"]) == (422, "unknown_department")
    status, out = await supervisor.get(f"/api/v1/workorders/{number}")
    assert out["status"] == "returned"  # nothing half-done: the review rolled back with the dispatch
    status, out = await supervisor.post(f"/api/v1/supervisor/returns/{number}/redispatch",
                                        json={"lead": "sfj", "note": "同意退单", "expected_version": item["version"]})
    assert status == 200
    assert (out["review"]["event"]["kind"], out["dispatch"]["status"]) == ("return_accepted", "dispatched")
    status, page = await supervisor.get("/api/v1/supervisor/returns")
    assert page["items"] == []


async def test_due_soon_and_overdue_lists(hotline, client, clock):
    agent = await login_as(hotline, client, "agent")
    supervisor = await login_as(hotline, client, "supervisor")
    urgent = await new_order(agent, text="燃气泄漏", urgency="urgent")
    normal = await new_order(agent, text="路灯坏了", category="help")
    await agent.post(f"/api/v1/workorders/{urgent}/dispatch", json={"lead": "rqgs"})
    await agent.post(f"/api/v1/workorders/{normal}/dispatch", json={"lead": "cgj"})
    status, page = await supervisor.get("/api/v1/supervisor/due-soon?within_hours=2")
    assert [(i["number"], i["deadline_kind"]) for i in page["items"]] == [(urgent, "sign")]
    clock.advance(hours=2)
    status, page = await supervisor.get("/api/v1/supervisor/overdue")
    assert [i["number"] for i in page["items"]] == [urgent]
    assert page["items"][0]["hours_late"] > 0
    status, page = await supervisor.get("/api/v1/supervisor/overdue?department=cgj")
    assert page["items"] == []
    status, problem = await supervisor.get("/api/v1/supervisor/due-soon?within_hours=-1")
    assert status == 422


async def test_department_files_reply_and_boundaries(hotline, client, settings):
    agent = await login_as(hotline, client, "agent")
    number = await new_order(agent, text="菜市场卖过期食品", confidential=True, category="report")
    other = await new_order(agent, text="别的事情")
    await agent.post(f"/api/v1/workorders/{number}/dispatch", json={"lead": "scjgj"})
    await agent.post(f"/api/v1/workorders/{other}/dispatch", json={"lead": "jtj"})
    dept = await department_api(hotline, client, "scjgj")
    status, me = await dept.get("/api/v1/department/me")
    assert (status, me["code"], me["children"]) == (200, "scjgj", [])
    town = await department_api(hotline, client, "qingxi")
    status, me = await town.get("/api/v1/department/me?lang=en")
    assert {c["code"] for c in me["children"]} == {"taoyuan", "xikou", "shiqiao"}

    async def upload(api, order, name, data, ctype="application/octet-stream"):
        form = FormData()
        form.add_field("file", data, filename=name, content_type=ctype)
        async with client.post(f"/api/v1/department/orders/{order}/attachments", data=form,
                               headers=api.headers) as r:
            return r.status, await r.json(content_type=None)

    await dept.post(f"/api/v1/department/orders/{number}/sign", json={})
    status, att = await upload(dept, number, "检测报告.pdf", PDF, "application/pdf")
    assert status == 201 and att["filename"] == "检测报告.pdf" and att["size"] == len(PDF)
    status, problem = await upload(dept, number, "报告.pdf", b"MZ\x90\x00not a pdf")
    assert (status, problem["code"]) == (415, "unsupported_media_type")
    status, problem = await upload(dept, number, "run.exe", b"MZ")
    assert status == 415
    status, problem = await upload(dept, number, "big.pdf", b"%PDF-" + b"0" * 70000)
    assert (status, problem["code"]) == (413, "payload_too_large")
    status, problem = await upload(dept, other, "x.pdf", PDF)
    assert (status, problem["code"]) == (404, "workorder_not_found")  # another department's order
    async with client.post(f"/api/v1/department/orders/{number}/attachments", data=b"{}",
                           headers={**dept.headers, "Content-Type": "application/json"}) as r:
        assert r.status == 415
    stored = sorted(p.name for p in (settings.data_dir / "attachments" / number).iterdir())
    assert len(stored) == 1 and stored[0].startswith("scjgj-")  # refused uploads leave no file behind

    status, problem = await dept.post(f"/api/v1/department/orders/{number}/reply",
                                      json={"result": "已查处", "attachments": [att["id"] + 999]})
    assert (status, problem["code"]) == (422, "bad_attachment")
    status, out = await dept.post(f"/api/v1/department/orders/{number}/reply",
                                  json={"result": "已责令下架并立案", "attachments": [att["id"]]})
    assert (status, out["status"]) == (200, "replied")
    assert out["event"]["data"]["attachments"] == [att["id"]]
    async with client.get(f"/api/v1/department/orders/{number}/attachments/{att['id']}", headers=dept.headers) as r:
        assert r.status == 200 and await r.read() == PDF
        assert "attachment; filename*=UTF-8''" in r.headers["Content-Disposition"]
    status, _ = await (await department_api(hotline, client, "jtj")).get(
        f"/api/v1/department/orders/{number}/attachments/{att['id']}")
    assert status == 404

    # a confidential report's call recording stays with the hotline
    async with hotline.sessions() as session, session.begin():
        order_id = (await session.execute(select(WorkOrder.id).where(WorkOrder.number == number))).scalar_one()
        rec = Attachment(work_order_id=order_id, kind="recording", filename="call.wav", content_type="audio/wav",
                         size=4, location="recordings/call.wav", created_at=hotline.clock())
        session.add(rec)
        await session.flush()
        rec_id = rec.id
    status, problem = await dept.get(f"/api/v1/department/orders/{number}/attachments/{rec_id}")
    assert (status, problem["code"]) == (403, "confidential_recording")


async def test_openapi_lists_the_dispatch_endpoints(client):
    async with client.get("/api/v1/openapi.json") as r:
        doc = await r.json()
    paths = doc["paths"]
    for path in ("/api/v1/workorders/{number}/routing", "/api/v1/routing/suggest", "/api/v1/supervisor/overdue",
                 "/api/v1/supervisor/returns/{number}/redispatch", "/api/v1/supervisor/dead-letters",
                 "/api/v1/department/notices", "/api/v1/department/orders/{number}/attachments"):
        assert path in paths, path
    assert paths["/api/v1/department/notices"]["get"]["security"] == [{"apiKey": []}]


async def test_ids_in_paths_that_do_not_fit_are_404_not_500(hotline, client):
    supervisor = await login_as(hotline, client, "supervisor")
    for raw in ("99999999999999999999999", "abc", "-1"):
        status, problem = await supervisor.post(f"/api/v1/supervisor/dead-letters/{raw}/retry")
        assert status == 404, (raw, problem)
    agent = await login_as(hotline, client, "agent")
    number = await new_order(agent)
    await agent.post(f"/api/v1/workorders/{number}/dispatch", json={"lead": "scjgj"})
    dept = await department_api(hotline, client, "scjgj")
    status, problem = await dept.get(f"/api/v1/department/orders/{number}/attachments/99999999999999999999999")
    assert status == 404


@pytest.mark.parametrize("db_kind", ["sqlite"])  # files, not storage
async def test_a_citizens_photo_reaches_the_department_clean_and_under_a_neutral_name(hotline, client, settings):
    """Issue 9 item 2: photos went to the department byte for byte (EXIF GPS, Artist) under
    the citizen's own file name (`IMG_李举报.jpg`)."""
    from channels import files
    from tests.unit.test_channels_files import camera_jpeg

    photo = camera_jpeg()
    now = hotline.clock()
    att = await files.store(settings.data_dir, photo, kind="photo", content_type="image/jpeg",
                            filename="IMG_李举报.jpg", now=now)
    result = await hotline.intake.receive(Contact(
        channel=Channel.PHONE, external_id="photo-1", received_at=now, text="河边有人倾倒垃圾", category="complaint",
        sender=Identity("phone", "13800138000"), attachments=(att,)))
    agent = await login_as(hotline, client, "agent")
    status, out = await agent.post(f"/api/v1/workorders/{result.number}/dispatch", json={"lead": "scjgj"})
    assert status == 200, out
    dept = await department_api(hotline, client, "scjgj")
    status, detail = await dept.get(f"/api/v1/department/orders/{result.number}")
    (shown,) = detail["attachments"]
    assert shown["filename"] == f"附件-{shown['id']}.jpg" and "李举报" not in str(detail)
    async with client.get(f"/api/v1/department/orders/{result.number}/attachments/{shown['id']}",
                          headers=dept.headers) as r:
        got = await r.read()
        assert r.status == 200 and "%E6%9D%8E" not in r.headers["Content-Disposition"]  # 李, percent-encoded
    assert got != photo and b"LiJubao" not in got and b"Exif" not in got
    status, full = await agent.get(f"/api/v1/workorders/{result.number}")
    assert full["attachments"][0]["filename"] == "IMG_李举报.jpg"  # staff keep the citizen's name
    assert (settings.data_dir / files.original_of(att.location)).read_bytes() == photo
