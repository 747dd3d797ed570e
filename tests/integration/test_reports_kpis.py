"""The KPIs of October 2026 on a hand-made month, on SQLite and PostgreSQL.

October 2026 has the National Day holiday (1–7 October) and a 调休 working Saturday
(10 October). The orders go through the real API with a hand-moved clock, so the
deadlines (and so the on-time figures) come from the working-day calendar; the calls
are written as the call desk writes them. Every expected figure is worked out by hand
in the comments: a wrong calendar (holiday or 调休 missed) changes them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hotline.reports.service import Reports
from hotline.telephony.models import CallbackTask, CallRecord
from tests.conftest import department_api, login_as


def bj(day: int, hour: int, minute: int = 0, month: int = 10) -> datetime:
    """Beijing time in October 2026, as the clock's UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


async def at(clock, when: datetime) -> None:
    clock.now = when


async def new_order(agent, text: str, *, lead: str | None, phone: str = "13800138000", category: str = "help",
                    area: str | None = None) -> str:
    status, out = await agent.post("/api/v1/workorders", json={
        "channel": "web", "text": text, "category": category, "caller": {"phone": phone},
        **({"area": area} if area else {})})
    assert status == 201, out
    if lead:
        status, out2 = await agent.post(f"/api/v1/workorders/{out['number']}/dispatch", json={"lead": lead})
        assert status == 200, out2
    return str(out["number"])


async def ok(api, path: str, body: dict | None = None) -> dict:
    status, out = await api.post(path, json=body or {})
    assert status == 200, (path, out)
    return out


async def month(hotline, client, clock) -> None:
    agent = await login_as(hotline, client, "agent")
    sup = await login_as(hotline, client, "supervisor")
    qingxi = await department_api(hotline, client, "qingxi")
    gdgs = await department_api(hotline, client, "gdgs")
    d = "/api/v1/department/orders"
    # help: sign for within 2 working hours, reply within 3 working days (config/hotline.yaml).

    # O2, on a holiday (Sat 3 Oct): the clock starts on Thu 8 Oct 08:30 → sign by 10:30, reply by Sat 10 (调休) 17:30.
    await at(clock, bj(3, 10))
    o2 = await new_order(agent, "国庆期间路灯不亮", lead="qingxi")
    await at(clock, bj(8, 10))
    await ok(qingxi, f"{d}/{o2}/sign")  # on time (a calendar without the holiday: late)
    await at(clock, bj(10, 15))
    await ok(qingxi, f"{d}/{o2}/reply", {"result": "已修复"})  # on time

    # O1, Fri 9 Oct 16:00: sign by Sat 10 (调休) 09:00; reply by 3 working days: Sat 10, Mon 12, Tue 13 17:30.
    await at(clock, bj(9, 16))
    o1 = await new_order(agent, "小区门口积水", lead="qingxi")
    await at(clock, bj(10, 8, 45))
    await ok(qingxi, f"{d}/{o1}/sign")  # on time
    await at(clock, bj(14, 10))
    await ok(qingxi, f"{d}/{o1}/reply", {"result": "已疏通"})  # late: without the 调休 day it would be on time
    await ok(agent, f"/api/v1/workorders/{o1}/rate", {"level": 2, "comment": "还是积水"})  # → 重办, back to qingxi

    # O3, Mon 12 Oct: answered directly, rated 5.
    await at(clock, bj(12, 9))
    o3 = await new_order(agent, "公积金怎么提取", lead=None)
    await ok(agent, f"/api/v1/workorders/{o3}/resolve", {"answer": "携带身份证到公积金中心办理"})
    await ok(agent, f"/api/v1/workorders/{o3}/rate", {"level": 5})

    # O4, Mon 12 Oct 10:00 to gdgs: sign by 12:00, signed 13:40 (late); replied 15:00 (on time);
    # followed up: reached, resolved, rating 4.
    await at(clock, bj(12, 10))
    o4 = await new_order(agent, "频繁停电", lead="gdgs")
    await at(clock, bj(12, 13, 40))
    await ok(gdgs, f"{d}/{o4}/sign")
    await at(clock, bj(12, 15))
    await ok(gdgs, f"{d}/{o4}/reply", {"result": "已更换变压器"})
    await at(clock, bj(13, 9, 30))
    await ok(agent, f"/api/v1/workorders/{o4}/follow-up", {"reached": True, "resolved": True, "rating": 4})

    # O5, Tue 13 Oct 09:00 to qingxi, returned 10:00 (wrong department), accepted, to gdgs 10:05:
    # signed 10:30 (on time), replied Wed 14 09:00 (on time).
    await at(clock, bj(13, 9))
    o5 = await new_order(agent, "电线杆倾斜", lead="qingxi")
    await at(clock, bj(13, 10))
    await ok(qingxi, f"{d}/{o5}/return", {"reason": "属供电公司职责"})
    await at(clock, bj(13, 10, 5))
    await ok(sup, f"/api/v1/workorders/{o5}/review-return", {"accept": True, "note": "同意"})
    await ok(agent, f"/api/v1/workorders/{o5}/dispatch", {"lead": "gdgs"})
    await at(clock, bj(13, 10, 30))
    await ok(gdgs, f"{d}/{o5}/sign")
    await at(clock, bj(14, 9))
    await ok(gdgs, f"{d}/{o5}/reply", {"result": "已扶正"})

    # Calls: (outcome, wait s, talk s, legacy line, started)
    calls = [("answered", 10, 100, None, bj(12, 9)), ("answered", 20, 200, None, bj(12, 10)),
             ("abandoned", 3, None, None, bj(12, 11)),  # a short abandon (< 5 s): not counted
             ("abandoned", 30, None, None, bj(13, 9)), ("overflowed", 60, None, None, bj(13, 10)),
             ("answered", 5, 60, "12315", bj(13, 11)), ("fax", 0, 40, None, bj(13, 12)),  # a fax: not a call
             ("answered", 1, 30, None, bj(30, 9, month=9))]  # September: outside the period
    async with hotline.sessions() as s, s.begin():
        for i, (outcome, wait, talk, legacy, started) in enumerate(calls):
            s.add(CallRecord(linkedid=f"kpi-{i}", direction="inbound", outcome=outcome, caller="13800138000",
                             line="12345", legacy_line=legacy, started_at=started,
                             answered_at=started + timedelta(seconds=wait) if talk else None,
                             ended_at=started + timedelta(seconds=wait + (talk or 0)), wait_seconds=wait,
                             talk_seconds=talk, data={}))
        # 漏接回拨: the two missed calls got tasks; one reached after 30 min, one not reached.
        for i, (missed, result, done) in enumerate([(bj(13, 9), "reached", bj(13, 9, 30)),
                                                    (bj(13, 10), "unreachable", bj(13, 12))]):
            s.add(CallbackTask(phone="13800138000", reason="abandoned", status="done", first_call_id=f"m{i}",
                               last_call_id=f"m{i}", last_call_at=missed, result=result, created_at=missed,
                               updated_at=done, done_at=done))


async def test_every_kpi_of_a_hand_made_month(hotline, client, clock):
    await month(hotline, client, clock)
    reports = hotline.module(Reports)
    (total,) = await reports.kpis(date(2026, 10, 1), date(2026, 10, 31))
    v = total.values
    # Calls: offered 6 (no fax, not September); short abandons 1 → counted 5; answered 3, within 15 s 2.
    assert (v["calls_offered"], v["calls_answered"], v["calls_abandoned"], v["calls_short_abandoned"],
            v["calls_overflowed"]) == (6, 3, 2, 1, 1)
    assert (v["answer_rate"], v["answered_15s_rate"]) == (0.6, 0.4)
    assert (v["avg_speed_of_answer"], v["avg_handle_time"]) == (11.7, 120.0)  # (10+20+5)/3, (100+200+60)/3
    assert (v["callback_rate"], v["callback_delay"]) == (0.5, 1800.0)
    # Orders: 5 received, 1 answered directly.
    assert (v["orders_received"], v["direct_answer_rate"]) == (5, 0.2)
    # Sign-fors O1 O2 O4 O5: O4 late → 3/4. Replies O1 (late) O2 O4 O5 → 3/4, all lead replies.
    assert (v["on_time_sign_rate"], v["on_time_reply_rate"], v["on_time_completion_rate"]) == (0.75, 0.75, 0.75)
    # Dispatched orders O1 O2 O4 O5: O5 returned → 1/4; no extension.
    assert (v["return_rate"], v["extension_rate"]) == (0.25, 0.0)
    # Completed (a department's reply or a direct answer): O1..O5 = 5. Reopened O1 → 1/5.
    # Followed up or rated: O1 O3 O4 → 3/5. Resolved: O4 of 1 asked → 1. Ratings 2, 5, 4 → 2/3.
    assert (v["reopen_rate"], v["follow_up_rate"], v["resolution_rate"], v["satisfaction_rate"]) == \
        (0.2, 0.6, 1.0, 0.6667)

    by_dept = {r.group: r.values for r in await reports.kpis(date(2026, 10, 1), date(2026, 10, 31), "department")}
    # qingxi signed O1 O2 on time, replied O2 on time and O1 late, was sent O1 O2 O5, returned O5.
    q, g = by_dept["qingxi"], by_dept["gdgs"]
    assert (q["on_time_sign_rate"], q["on_time_reply_rate"], q["return_rate"]) == (1.0, 0.5, 0.3333)
    # gdgs signed O4 late and O5 on time, replied both on time, was sent O4 O5, returned nothing.
    assert (g["on_time_sign_rate"], g["on_time_reply_rate"], g["return_rate"]) == (0.5, 1.0, 0.0)
    assert q["calls_offered"] is None  # calls have no department

    by_line = {r.group: r.values for r in await reports.kpis(date(2026, 10, 1), date(2026, 10, 31), "legacy_line")}
    assert (by_line["12315"]["calls_offered"], by_line["12315"]["answer_rate"]) == (1, 1.0)
    # A period with nothing in it: rates are None, not 0.
    (empty,) = await reports.kpis(date(2026, 8, 1), date(2026, 8, 31)) or [None]
    assert empty is None


async def test_the_report_through_the_api_and_the_command(hotline, client, clock, db_kind, tmp_path):
    await month(hotline, client, clock)
    sup = await login_as(hotline, client, "supervisor")
    status, out = await sup.get("/api/v1/reports/kpis?from=2026-10-01&to=2026-10-31&by=department")
    assert status == 200, out
    rows = {r["group"]: r for r in out["rows"]}
    assert out["date_from"] == "2026-10-01" and rows["qingxi"]["group_name"] == "青山县青溪镇"
    assert rows["gdgs"]["values"]["on_time_reply_rate"] == 1.0
    # Every group has its reader's name: channels and legacy lines too, not their codes.
    for by, key, zh, en in (("channel", "web", "网站", "Web portal"),
                            ("legacy_line", "12315", "12315 市场监管投诉举报热线", "12315 ")):
        names = {}
        for lang in ("zh", "en"):
            status, out = await sup.get(f"/api/v1/reports/kpis?from=2026-10-01&to=2026-10-31&by={by}&lang={lang}")
            assert status == 200, out
            names[lang] = {r["group"]: r["group_name"] for r in out["rows"]}[key]
        assert names["zh"] == zh and names["en"].startswith(en) and names["en"] != names["zh"], names
    assert {k["code"] for k in out["kpis"]} >= {"satisfaction_rate", "answered_15s_rate", "on_time_completion_rate"}
    async with client.get("/api/v1/reports/kpis?from=2026-10-01&to=2026-10-31&format=csv",
                          headers=sup.headers) as r:
        text = (await r.read()).decode("utf-8-sig")
    head, total = text.splitlines()[:2]
    assert head.split(",")[:3] == ["范围", "呼入量", "接通量"] and "满意率" in head and "15秒接通率" in head
    assert total.startswith("全部,6,3,60.00%,40.00%")
    status, problem = await sup.get("/api/v1/reports/kpis?from=2026-10-31&to=2026-10-01")
    assert status == 422
    status, problem = await sup.get("/api/v1/reports/kpis?from=yesterday&to=2026-10-01")
    assert status == 422
    agent = await login_as(hotline, client, "agent")
    assert (await agent.get("/api/v1/reports/kpis?from=2026-10-01&to=2026-10-31"))[0] == 403

    if db_kind != "sqlite":
        return  # the command reads the same query; once is enough
    import os
    import subprocess
    import sys

    from openpyxl import load_workbook

    env = {**os.environ, "HOTLINE_DATA_DIR": str(hotline.settings.data_dir), "HOTLINE_LOG_FORMAT": "text",
           "HOTLINE_SECRET_KEY": "test-secret-key-0123456789"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "hotline", "report", *args], env=env, capture_output=True,
                              text=True, timeout=120)

    en = run("--from", "2026-10-01", "--to", "2026-10-31", "--by", "legacy_line", "--lang", "en")
    assert en.returncode == 0, en.stderr
    assert en.stdout.splitlines()[0].startswith("Legacy line,Calls offered,Calls answered,Answer rate")
    xlsx = tmp_path / "kpi.xlsx"
    made = run("--from", "2026-09-01", "--to", "2026-10-31", "--by", "department", "--format", "xlsx",
               "--out", str(xlsx))
    assert made.returncode == 0, made.stderr
    assert "/" in made.stderr.splitlines()[-1]  # the progress bar of a two-month range, on stderr
    ws = load_workbook(xlsx).active
    header = [c.value for c in ws[1]]
    assert header[0] == "部门" and "按时办结率" in header
    qingxi = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] == "青山县青溪镇")
    assert qingxi[header.index("按时签收率")] == 1.0
    bad = run("--from", "2026-10-32", "--to", "2026-10-31")
    assert bad.returncode == 1 and "不是日期" in bad.stderr and "Traceback" not in bad.stderr


async def test_the_monthly_department_assessment_ranked_per_tier_with_notes(hotline, client, clock):
    await month(hotline, client, clock)
    sup = await login_as(hotline, client, "supervisor")
    status, out = await sup.get("/api/v1/reports/assessment?month=2026-10")
    assert status == 200, out
    got = {i["department"]: i for i in out["items"]}
    assert set(got) == {"qingxi", "gdgs"}
    # Default weights (config/hotline.yaml): sign 15, completion 25, return 10, reopen 10, resolution 15,
    # satisfaction 25; return and reopen scored as 1 − rate; a KPI without a value leaves its weight out.
    # gdgs: sign 0.5, completion 1, return 0 → 1, reopen 0 → 1, resolution 1, satisfaction 1:
    #   (7.5 + 25 + 10 + 10 + 15 + 25) / 100 = 92.5; no deduction.
    g = got["gdgs"]
    assert (g["tier"], g["rank"], g["kpi_points"], g["deducted"], g["score"]) == ("county", 1, 92.5, 0.0, 92.5)
    # qingxi: sign 1, completion 0.5, return 0.3333 → 0.6667, reopen 0.5 → 0.5, no follow-up call, satisfaction 0:
    #   (15 + 12.5 + 6.667 + 5 + 0) / 85 = 46.08; one reopen: −1 → 45.08.
    q = got["qingxi"]
    assert (q["tier"], q["rank"], q["kpi_points"], q["deducted"], q["score"]) == ("town", 1, 46.08, 1.0, 45.08)

    status, note = await sup.post("/api/v1/reports/assessment/2026-10/qingxi/notes",
                                  json={"note": "重办1件，已约谈分管领导"})
    assert status == 201 and note["note"] == "重办1件，已约谈分管领导"
    status, out = await sup.get("/api/v1/reports/assessment?month=2026-10")
    assert [n["note"] for n in next(i for i in out["items"] if i["department"] == "qingxi")["notes"]] == \
        ["重办1件，已约谈分管领导"]
    assert (await sup.post("/api/v1/reports/assessment/2026-13/qingxi/notes", json={"note": "x"}))[0] == 422
    assert (await sup.post("/api/v1/reports/assessment/2026-10/nope/notes", json={"note": "x"}))[0] == 404
    assert (await sup.post("/api/v1/reports/assessment/2026-10/qingxi/notes", json={"note": ""}))[0] == 422
    assert (await sup.get("/api/v1/reports/assessment?month=2026-1"))[0] == 422
    agent = await login_as(hotline, client, "agent")
    assert (await agent.get("/api/v1/reports/assessment?month=2026-10"))[0] == 403


async def test_wrapup_written_contacts_first_contact_resolution_and_calls_by_area(hotline, client, clock):
    """The month above, and: wrap-up times on its answered calls, two written contacts taken up
    late and on the 3-minute mark, citizens coming back (or not) on answered orders, calls with
    orders in an area and category."""
    from sqlalchemy import select

    from hotline.storage.models import WorkOrder

    await month(hotline, client, clock)
    # Written contacts: O6 dispatched 5 min after it came in (late), O7 at exactly 3 min (in time).
    await at(clock, bj(15, 9))
    agent = await login_as(hotline, client, "agent")
    o6 = await new_order(agent, "噪音扰民", lead=None, phone="13900000006", category="complaint", area="qingxi")
    await at(clock, bj(15, 9, 5))
    await ok(agent, f"/api/v1/workorders/{o6}/dispatch", {"lead": "qingxi"})
    await at(clock, bj(15, 10))
    o7 = await new_order(agent, "路面坑洼", lead=None, phone="13900000007", category="complaint", area="qingxi")
    await at(clock, bj(15, 10, 3))
    await ok(agent, f"/api/v1/workorders/{o7}/dispatch", {"lead": "qingxi"})
    # 一次解决: O8 answered directly, nobody came back → yes. O9 answered directly, the same citizen
    # on the same matter (help) 4 days later (O10, answered directly too) → O9 no, O10 yes.
    # O11 answered directly; the same citizen 9 days later (outside the 7 days) → yes; O12, the
    # same citizen 2 days later on another matter (inquiry, dispatched) → O11 yes all the same.
    resolved = []
    for day, phone, category, lead in [(16, "13900000008", "help", None), (16, "13900000009", "help", None),
                                       (20, "13900000009", "help", None), (16, "13900000011", "help", None),
                                       (18, "13900000011", "inquiry", "gdgs"), (25, "13900000011", "help", None)]:
        await at(clock, bj(day, 9))
        agent = await login_as(hotline, client, "agent")  # a session does not last days
        number = await new_order(agent, f"咨询{day}{phone}", lead=lead, phone=phone, category=category)
        if lead is None:
            await ok(agent, f"/api/v1/workorders/{number}/resolve", {"answer": "已解答"})
            resolved.append(number)
    # Calls: wrap-up 20 s and 40 s after two answered calls (the third has none), 90 s after the
    # abandoned one (not an answered call: not counted); kpi-0 was about O6 (qingxi, complaint).
    from hotline.telephony.models import CallRecord

    async with hotline.sessions() as s, s.begin():
        o6_id = (await s.execute(select(WorkOrder.id).where(WorkOrder.number == o6))).scalar_one()
        for linkedid, extra in [("kpi-0", {"wrapup_seconds": 20}), ("kpi-1", {"wrapup_seconds": 40}),
                                ("kpi-3", {"wrapup_seconds": 90})]:
            call = (await s.execute(select(CallRecord).where(CallRecord.linkedid == linkedid))).scalar_one()
            call.data = {**call.data, **extra}
            if linkedid == "kpi-0":
                call.work_order_id = o6_id

    reports = hotline.module(Reports)
    (total,) = await reports.kpis(date(2026, 10, 1), date(2026, 10, 31))
    v = total.values
    assert v["avg_wrapup_time"] == 30.0  # (20 + 40) / 2
    # Received: O1..O5, O6, O7, O8..O12 and the 25th = 13, every one on the web (written).
    # Taken out of 登记 within 3 min: all but O6 → 12/13.
    assert (v["orders_received"], v["written_3min_rate"]) == (13, round(12 / 13, 4))
    # Answered directly: O3 (the same citizen's O4 an hour later: no), O8 (yes), O9 (no), O10 (yes),
    # O11 (yes), the 25th (yes) → 4 / 13.
    assert v["first_contact_resolution_rate"] == round(4 / 13, 4)
    assert v["direct_answer_rate"] == round(6 / 13, 4)

    by_area = {r.group: r.values for r in await reports.kpis(date(2026, 10, 1), date(2026, 10, 31), "area")}
    # kpi-0 (answered, 10 s wait, 20 s wrap-up) has O6 in qingxi; the other five calls no order: "".
    assert (by_area["qingxi"]["calls_offered"], by_area["qingxi"]["answer_rate"],
            by_area["qingxi"]["avg_wrapup_time"]) == (1, 1.0, 20.0)
    assert (by_area[""]["calls_offered"], by_area[""]["calls_answered"]) == (5, 2)
    # O6 and O7 are qingxi's written contacts: O7 in time, O6 not.
    assert by_area["qingxi"]["written_3min_rate"] == 0.5
    by_category = {r.group: r.values
                   for r in await reports.kpis(date(2026, 10, 1), date(2026, 10, 31), "category")}
    assert (by_category["complaint"]["calls_offered"], by_category["complaint"]["avg_speed_of_answer"]) == (1, 10.0)
    assert by_category["help"]["calls_offered"] is None  # no call had a help order
    assert by_category["help"]["first_contact_resolution_rate"] == round(4 / 10, 4)  # O1..O5, O8..O10, O11, 25th

    # Per day, in Beijing time: a call at 07:30 on the 20th is 23:30 on the 19th in UTC.
    async with hotline.sessions() as s, s.begin():
        s.add(CallRecord(linkedid="kpi-early", direction="inbound", outcome="answered", caller="13900000009",
                         line="12345", started_at=bj(20, 7, 30), answered_at=bj(20, 7, 30, ) + timedelta(seconds=4),
                         ended_at=bj(20, 7, 32), wait_seconds=4, talk_seconds=116, data={}))
    by_day = {r.group: r.values for r in await reports.kpis(date(2026, 10, 1), date(2026, 10, 31), "day")}
    assert "2026-10-19" not in by_day
    assert (by_day["2026-10-20"]["calls_offered"], by_day["2026-10-20"]["orders_received"]) == (1, 1)  # O10
    # The 12th: kpi-0..2 (the short abandon is offered, not counted), O3 and O4.
    d12 = by_day["2026-10-12"]
    assert (d12["calls_offered"], d12["answer_rate"], d12["orders_received"], d12["callback_rate"]) == (3, 1.0, 2, None)
    assert (by_day["2026-10-13"]["callback_rate"], by_day["2026-10-13"]["calls_offered"]) == (0.5, 3)
    assert sum(v["orders_received"] or 0 for v in by_day.values()) == 13
