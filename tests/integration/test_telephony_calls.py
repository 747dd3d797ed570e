"""The hotline against the PBX simulator on loopback: calls become records, draft
orders and callback tasks; the link survives a PBX restart without phantom calls;
agents' buttons go through AMI; one consumer per Asterisk with a take-over."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from hotline.storage.models import WorkOrder
from hotline.telephony.link import PbxError
from hotline.telephony.models import CallbackTask, CallRecord
from hotline.telephony.service import Telephony
from hotline.telephony.sim import running_simulator
from hotline.telephony.sim.pbx import Pbx
from hotline.telephony.sim.server import AmiServer
from hotline.telephony.sim.traffic import Traffic
from tests.conftest import login_as
from tests.integration.telephony_support import SECRET, telephony_on

MEMBERS = [(f"Local/80{i:02d}@agents/n", f"Agent 80{i:02d}") for i in range(1, 7)]


async def until(check, limit=30.0, step=0.05):
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while loop.time() < end:
        if await check() if asyncio.iscoroutinefunction(check) else check():
            return
        await asyncio.sleep(step)
    raise AssertionError(f"condition at line {check.__code__.co_firstlineno} not met in {limit} s")



async def test_hundred_calls_become_records_drafts_and_callbacks(hotline):
    traffic = Traffic(calls_per_minute=400, limit=100, mean_talk=20, mean_patience=25, repeat_callers=0.2,
                      legacy_share=0.2, legacy_lines=("12315", "12369"))
    async with running_simulator(user="hotline", secret=SECRET, traffic=traffic, speed=25, members=MEMBERS,
                                 seed=7) as sim, telephony_on(hotline, sim.port) as tel:
        await until(lambda: sim.traffic.placed == 100 and not sim.pbx.calls, limit=60)
        await until(lambda: not tel.tracker.calls)
        await tel.consumer.drained()
        assert not any(q.waiting for q in tel.tracker.queues.values())
        assert hotline.metrics.ami_connected._value.get() == 1
        sim_counts = dict(sim.pbx.counts)

    async with hotline.sessions() as session:
        records = (await session.execute(select(CallRecord))).scalars().all()
        orders = {o.id: o for o in (await session.execute(select(WorkOrder))).scalars()}
        tasks = (await session.execute(select(CallbackTask))).scalars().all()
    assert len(records) == 100 and {r.direction for r in records} == {"inbound"}
    answered = [r for r in records if r.outcome in ("answered", "transferred")]
    missed = [r for r in records if r.outcome in ("abandoned", "overflowed")]
    assert answered and missed and len(answered) + len(missed) == 100
    for r in answered:
        order = orders[r.work_order_id]
        assert (order.status, order.call_id, order.channel, order.contact_phone) == ("draft", r.linkedid, "phone", r.caller)
        assert order.legacy_line == r.legacy_line
    # What the simulator did, the records say: legacy lines, survey answers, agents who let a call ring out.
    assert sum(1 for r in records if r.legacy_line) == sim_counts.get("legacy", 0) > 0
    assert sum(1 for r in records if r.rating) == sim_counts.get("surveyed", 0)
    assert sum(len(r.data["missed_by"]) for r in records) == sim_counts.get("rang_out", 0)
    assert all(r.callback_task_id is not None for r in missed)
    still_open = [t for t in tasks if t.status == "open"]
    assert len({t.phone for t in still_open}) == len(still_open)  # one open task per number
    # A citizen answered on a later call needs no callback any more.
    assert all(t.result == "called_again" for t in tasks if t.status == "done")
    assert sum(t.missed_calls for t in tasks) >= len({r.callback_task_id for r in missed})
    counted = sum(hotline.metrics.calls.labels(o)._value.get() for o in ("answered", "transferred", "abandoned",
                                                                         "overflowed"))
    assert counted == 100


async def test_pbx_restart_mid_call_reconnects_resyncs_and_clears_the_board(hotline):
    pbx = Pbx(speed=20, members=MEMBERS[:1])
    server = AmiServer(pbx, user="hotline", secret=SECRET)
    port = await server.start()
    async with telephony_on(hotline, port) as tel:
        pbx.call_in("12345", "13812345678", talk=600)
        pbx.call_in("12345", "13912345678", patience=600)
        await until(lambda: len(tel.tracker.calls) == 2 and any(c.answered_at for c in tel.tracker.calls.values()))
        sessions = tel.consumer.link.sessions
        await server.stop(graceful=False)  # killed: no hangups, no Shutdown
        await until(lambda: hotline.metrics.ami_connected._value.get() == 0)
        assert len(tel.tracker.calls) == 2  # the board cannot know yet
        server2 = AmiServer(Pbx(speed=20, members=MEMBERS[:1]), user="hotline", secret=SECRET, port=port)
        await server2.start()
        try:
            await until(lambda: tel.consumer.link.sessions > sessions and tel.consumer.resyncs >= 2)
            assert not tel.tracker.calls and not any(q.waiting for q in tel.tracker.queues.values())
            assert hotline.metrics.ami_connected._value.get() == 1
            await tel.consumer.drained()
        finally:
            await server2.stop(graceful=False)
    async with hotline.sessions() as session:
        records = {r.caller: r for r in (await session.execute(select(CallRecord))).scalars()}
    assert records["13812345678"].outcome == "answered" and records["13812345678"].data["unseen_end"]
    assert records["13912345678"].outcome == "abandoned"


async def test_agent_buttons_go_through_ami(hotline, client):
    agent = await login_as(hotline, client, "agent")  # extension 8001
    pbx = Pbx(speed=20, members=[])
    server = AmiServer(pbx, user="hotline", secret=SECRET)
    port = await server.start()
    tel = hotline.module(Telephony)
    tel.switchboard.config = tel.config = tel.config.model_copy(update={"agent_interface": "Local/{extension}@agents/n"})
    status, body = await agent.post("/api/v1/telephony/agent/login", json={})
    assert status == 503 and body["code"] == "pbx_unavailable"
    try:
        async with telephony_on(hotline, port):
            status, body = await agent.post("/api/v1/telephony/agent/login", json={})
            assert status == 200, body
            assert [m.interface for m in pbx.members] == ["Local/8001@agents/n"]
            assert (await agent.post("/api/v1/telephony/agent/login", json={}))[0] == 200  # already there: fine
            status, body = await agent.post("/api/v1/telephony/agent/pause", json={"reason": "培训"})
            assert status == 200 and pbx.members[0].paused and pbx.members[0].reason == "培训"
            status, body = await agent.post("/api/v1/telephony/agent/pause", json={"reason": "a\r\nAction: Hangup"})
            assert status == 422
            await agent.post("/api/v1/telephony/agent/unpause", json={})
            status, body = await agent.post("/api/v1/telephony/calls/hangup", json={})
            assert status == 409 and body["code"] == "no_active_call"

            pbx.call_in("12345", "13700001111", talk=600)
            await until(lambda: any(c.state == "talking" for c in pbx.calls.values()))
            status, body = await agent.post("/api/v1/telephony/calls/transfer", json={"department": "scjgj"})
            assert status == 200, body
            await until(lambda: any(c.state == "transferred" for c in pbx.calls.values()))

            pbx.call_in("12345", "13700003333", talk=600)
            await until(lambda: any(c.state == "talking" for c in pbx.calls.values()))
            status, body = await agent.post("/api/v1/telephony/calls/conference", json={"department": "sthj"})
            assert status == 200, body
            await until(lambda: any(c.state == "conference" and c.guests for c in pbx.calls.values()))
            room = body["detail"]["room"]
            citizen = next(c for c in pbx.calls.values() if c.state == "conference")
            assert citizen.room == room and citizen.guests[0].line == "6103"  # 生态环境分局's number
            pbx.caller_hangs_up(citizen)
            await until(lambda: not pbx.calls)

            tel.switchboard.config = tel.switchboard.config.model_copy(update={"transfer": "redirect"})
            pbx.call_in("12345", "13700004444", talk=600)
            await until(lambda: any(c.state == "talking" for c in pbx.calls.values()))
            status, body = await agent.post("/api/v1/telephony/calls/transfer", json={"department": "rsj"})
            assert status == 200, body
            await until(lambda: any(c.state == "transferred" and c.cdr_dest == "6102" for c in pbx.calls.values()))
            await until(lambda: not pbx.calls)

            status, body = await agent.post("/api/v1/telephony/calls/originate", json={"number": "13600002222"})
            assert status == 200, body
            await until(lambda: any(c.state == "outbound" for c in pbx.calls.values()))
            status, body = await agent.post("/api/v1/telephony/calls/hangup", json={})
            assert status == 200, body
            await until(lambda: not any(c.state == "outbound" for c in pbx.calls.values()))

            status, body = await agent.post("/api/v1/telephony/agent/logout", json={})
            assert status == 200 and pbx.members == []
            status, body = await agent.post("/api/v1/telephony/agent/pause", json={"reason": "x"})
            assert status == 502 and body["code"] == "pbx_refused"  # not a member any more
            status, body = await agent.get("/api/v1/telephony/board")
            assert status == 200 and "agents" in body
            with pytest.raises(PbxError) as refused:  # a refused list action ends at once, no timeout
                await tel.switchboard.link.send({"Action": "NoSuchList"}, as_list=True)
            assert refused.value.extra["ami_message"] == "Invalid/unknown command"
    finally:
        await server.stop(graceful=False)


async def test_callback_task_is_called_back_and_closed(hotline, client):
    agent = await login_as(hotline, client, "agent")
    pbx = Pbx(speed=20, members=[("Local/8001@agents/n", "Agent 8001")])
    pbx.members[0].paused = True  # nobody answers: the caller gives up
    server = AmiServer(pbx, user="hotline", secret=SECRET)
    port = await server.start()
    tel = hotline.module(Telephony)
    tel.switchboard.config = tel.config.model_copy(update={"agent_interface": "Local/{extension}@agents/n"})
    try:
        async with telephony_on(hotline, port):
            pbx.call_in("12345", "13511112222", patience=10)
            pbx.call_in("12345", "13511112222", patience=10)  # the same citizen again
            await until(lambda: not pbx.calls and not tel.tracker.calls)
            await tel.consumer.drained()
            status, tasks = await agent.get("/api/v1/telephony/callbacks")
            assert status == 200 and len(tasks) == 1 and tasks[0]["missed_calls"] == 2
            pbx.members[0].paused = False
            tel.switchboard.link, link = None, tel.switchboard.link  # the PBX away for a moment
            status, body = await agent.post(f"/api/v1/telephony/callbacks/{tasks[0]['id']}/call", json={})
            assert status == 503
            tel.switchboard.link = link
            status, again = await agent.get("/api/v1/telephony/callbacks")
            assert again[0]["status"] == "open"  # not left "calling" by a call that never started
            status, body = await agent.post(f"/api/v1/telephony/callbacks/{tasks[0]['id']}/call", json={})
            assert status == 200, body
            await until(lambda: any(c.state == "outbound" and c.answered for c in pbx.calls.values()), limit=20)
            pbx.hang_up(next(iter(pbx.calls.values())).c1.name)
            await until(lambda: not pbx.calls and not tel.tracker.calls)
            await tel.consumer.drained()
    finally:
        await server.stop(graceful=False)
    async with hotline.sessions() as session:
        task = (await session.execute(select(CallbackTask))).scalar_one()
        outbound = (await session.execute(select(CallRecord).where(CallRecord.direction == "outbound"))).scalar_one()
    assert (task.status, task.result, task.result_call_id) == ("done", "reached", outbound.linkedid)
    assert outbound.callback_task_id == task.id and outbound.outcome == "answered"


@pytest.mark.redis
async def test_one_consumer_per_asterisk_and_take_over(tmp_path, redis_url, clock):
    from tests.conftest import make_settings, migrated_hotline

    pbx = Pbx(speed=20)
    server = AmiServer(pbx, user="hotline", secret=SECRET)
    port = await server.start()
    s = make_settings(tmp_path, env={"HOTLINE_REDIS_URL": redis_url})
    cm1, h1 = await migrated_hotline(s, clock)
    cm2, h2 = await migrated_hotline(s.model_copy(), clock)
    t1 = asyncio.create_task(h1.module(Telephony)._serve("127.0.0.1", port, "hotline", SECRET))
    await until(lambda: h1.module(Telephony).leading)
    t2 = asyncio.create_task(h2.module(Telephony)._serve("127.0.0.1", port, "hotline", SECRET))
    try:
        await until(lambda: sum(1 for x in server.sessions if x.logged_in) == 2)  # leader + stand-by
        assert sum(1 for x in server.sessions if x.logged_in and x.events) == 1
        assert not h2.module(Telephony).leading
        # The stand-by node shows the consuming node's board, shared through Redis.
        await until(h2.module(Telephony).shared_board)
        assert {a["extension"] for a in (await h2.module(Telephony).shared_board())["agents"]} == {"8001", "8002"}
        t1.cancel()
        await asyncio.gather(t1, return_exceptions=True)
        await until(lambda: h2.module(Telephony).leading and h2.module(Telephony).consumer.resyncs > 0,
                    limit=30)
        assert sum(1 for x in server.sessions if x.logged_in and x.events) == 1
    finally:
        t2.cancel()
        await asyncio.gather(t2, return_exceptions=True)
        await server.stop(graceful=False)
        await cm1.__aexit__(None, None, None)
        await cm2.__aexit__(None, None, None)


async def test_wrong_secret_is_refused_and_said_so(hotline, caplog):
    pbx = Pbx(speed=20)
    server = AmiServer(pbx, user="hotline", secret="the-right-one", login_fail_delay=0.05)
    port = await server.start()
    tel = hotline.module(Telephony)
    task = asyncio.create_task(tel._serve("127.0.0.1", port, "hotline", SECRET))
    try:
        await until(lambda: "login refused (Authentication failed)" in caplog.text)
        assert hotline.metrics.ami_connected._value.get() == 0
        assert not any(s.logged_in for s in server.sessions)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await server.stop(graceful=False)


async def test_known_caller_survey_and_metrics(hotline, client):
    agent = await login_as(hotline, client, "agent")
    status, _ = await agent.post("/api/v1/workorders", json={"text": "路灯坏了", "category": "help",
                                                              "caller": {"phone": "13900001234", "name": "王女士"}})
    assert status == 201
    pbx = Pbx(speed=20, members=MEMBERS[:1], survey=True)
    pbx.globals["RECORDINGS"], pbx.write_recordings = str(hotline.settings.data_dir / "monitor"), True
    server = AmiServer(pbx, user="hotline", secret=SECRET)
    port = await server.start()
    try:
        async with hotline.live.subscribe() as events, telephony_on(hotline, port) as tel:
            pbx.call_in("12345", "13900001234", talk=3, survey=4)
            await until(lambda: not pbx.calls and not tel.tracker.calls)
            await tel.consumer.drained()
            seen = []
            while not events.empty():
                seen.append(events.get_nowait())
            async with client.get("/metrics") as resp:
                text = await resp.text()
    finally:
        await server.stop(graceful=False)
    known = next(e for e in seen if e.get("event") == "identified")
    assert known["name"] == "王女士" and known["open_orders"] == 1
    assert any(e["topic"] == "call" and e.get("event") == "draft_opened" for e in seen)
    assert any(e["topic"] == "agent" for e in seen) and any(e["topic"] == "queue" for e in seen)
    async with hotline.sessions() as session:
        record = (await session.execute(select(CallRecord))).scalar_one()
        order = await session.get(WorkOrder, record.work_order_id)
    assert record.rating == 4 and record.outcome == "answered" and record.data["end_reason"] == "agent"
    assert order.citizen_id is not None and order.status == "draft"
    # The agent completes the draft with the work-order API.
    status, out = await agent.post(f"/api/v1/workorders/{order.number}/update",
                                   json={"description": "市民反映路灯仍未修好", "category": "complaint"})
    assert status == 200, out
    status, out = await agent.post(f"/api/v1/workorders/{order.number}/register", json={})
    assert (status, out["status"]) == (200, "registered")
    status, detail = await agent.get(f"/api/v1/workorders/{order.number}")
    assert detail["call_id"] == record.linkedid and [a["kind"] for a in detail["attachments"]] == ["recording"]
    assert detail["attachments"][0]["size"] == 8000 * 2 + 44  # the simulator's one second of silence
    assert 'hotline_ami_connected 1.0' in text
    assert 'hotline_calls_total{outcome="answered"} 1.0' in text
    assert 'hotline_agents{state="ready"} 1.0' in text


@pytest.mark.pg
async def test_postgresql_advisory_lock_take_over(tmp_path, pg_schema, clock):
    from tests.conftest import make_settings, migrated_hotline

    pbx = Pbx(speed=20)
    server = AmiServer(pbx, user="hotline", secret=SECRET)
    port = await server.start()
    s = make_settings(tmp_path, database="pg", schema=pg_schema)
    cm1, h1 = await migrated_hotline(s, clock)
    cm2, h2 = await migrated_hotline(s, clock)
    t1 = asyncio.create_task(h1.module(Telephony)._serve("127.0.0.1", port, "hotline", SECRET))
    await until(lambda: h1.module(Telephony).leading)
    t2 = asyncio.create_task(h2.module(Telephony)._serve("127.0.0.1", port, "hotline", SECRET))
    try:
        await until(lambda: sum(1 for x in server.sessions if x.logged_in) == 2)
        assert sum(1 for x in server.sessions if x.logged_in and x.events) == 1
        assert not h2.module(Telephony).leading
        t1.cancel()  # the holder goes away: its session, and the lock with it
        await asyncio.gather(t1, return_exceptions=True)
        await until(lambda: h2.module(Telephony).leading and h2.module(Telephony).consumer.resyncs > 0)
        assert sum(1 for x in server.sessions if x.logged_in and x.events) == 1
    finally:
        t2.cancel()
        await asyncio.gather(t2, return_exceptions=True)
        await server.stop(graceful=False)
        await cm1.__aexit__(None, None, None)
        await cm2.__aexit__(None, None, None)


async def test_simulated_queue_timeout_is_an_overflow_like_asterisk_22(hotline):
    """The simulator times a queue out as the real Asterisk 22 does (QueueCallerAbandon, then
    HOTLINE_OVERFLOW=TIMEOUT): the call is overflowed, not abandoned."""
    pbx = Pbx(speed=20, members=MEMBERS[:1])
    pbx.globals["QUEUE_TIMEOUT"] = "3"
    pbx.members[0].paused = True
    server = AmiServer(pbx, user="hotline", secret=SECRET)
    port = await server.start()
    try:
        async with telephony_on(hotline, port) as tel:
            pbx.call_in("12345", "13900005678")
            await until(lambda: not pbx.calls and not tel.tracker.calls)
            await tel.consumer.drained()
    finally:
        await server.stop(graceful=False)
        pbx.close()
    async with hotline.sessions() as session:
        record = (await session.execute(select(CallRecord))).scalar_one()
        task = (await session.execute(select(CallbackTask))).scalar_one()
    assert (record.outcome, task.reason, pbx.counts["overflowed"]) == ("overflowed", "overflowed", 1)


async def test_the_ivr_survey_rates_the_order_of_that_call(hotline, client):
    """HotlineSurvey (Rating 4) after the call, on the simulator's AMI: the agent answers the
    call's order directly afterwards and the survey is its rating, the citizen's, round 0."""
    agent = await login_as(hotline, client, "agent")
    pbx = Pbx(speed=20, members=MEMBERS[:1], survey=True)
    server = AmiServer(pbx, user="hotline", secret=SECRET)
    port = await server.start()
    try:
        async with telephony_on(hotline, port) as tel:
            pbx.call_in("12345", "13900005678", talk=3, survey=2)
            await until(lambda: not pbx.calls and not tel.tracker.calls)
            await tel.consumer.drained()
    finally:
        await server.stop(graceful=False)
    async with hotline.sessions() as session:
        record = (await session.execute(select(CallRecord))).scalar_one()
        order = await session.get(WorkOrder, record.work_order_id)
    assert record.rating == 2 and order.status == "draft" and order.rating is None
    status, out = await agent.post(f"/api/v1/workorders/{order.number}/update", json={"category": "inquiry"})
    assert status == 200, out
    status, out = await agent.post(f"/api/v1/workorders/{order.number}/resolve", json={"answer": "已告知办理地点"})
    assert status == 200, out
    status, detail = await agent.get(f"/api/v1/workorders/{order.number}")
    rated = [e for e in detail["events"] if e["kind"] == "rated"]
    assert [(e["data"]["level"], e["data"]["source"], e["actor_kind"]) for e in rated] == [(2, "ivr", "citizen")]
    # Rated 不满意 on a direct answer: no department to send it back to, a supervisor decides;
    # the new round has no rating yet.
    assert (detail["status"], detail["reopen_count"], detail["rating"]) == ("reopened", 1, None)


async def test_a_survey_after_the_record_rates_the_record_and_the_order(hotline, client):
    """The tracker's late `surveyed` notice (the real Asterisk ends the call at the agent's
    hang-up, before the keypress): the call desk puts it on the record and rates the order."""
    from datetime import timedelta

    agent = await login_as(hotline, client, "agent")
    status, out = await agent.post("/api/v1/workorders", json={"text": "社保卡怎么补办", "category": "inquiry",
                                                                "caller": {"phone": "13900004321"}})
    assert status == 201, out
    number = out["number"]
    assert (await agent.post(f"/api/v1/workorders/{number}/resolve", json={"answer": "到社保窗口办理"}))[0] == 200
    now = hotline.clock()
    async with hotline.sessions() as s, s.begin():
        order = (await s.execute(select(WorkOrder).where(WorkOrder.number == number))).scalar_one()
        s.add(CallRecord(linkedid="late-1", direction="inbound", outcome="answered", caller="13900004321", line="12345",
                         started_at=now - timedelta(minutes=3), ended_at=now, work_order_id=order.id, data={}))
    desk = hotline.module(Telephony).desk
    await desk.handle("surveyed", {"linkedid": "late-1", "rating": 5})
    await desk.handle("surveyed", {"linkedid": "late-1", "rating": 1})  # a replay of the journal: counted once
    await desk.handle("surveyed", {"linkedid": "not-ours", "rating": 3})
    async with hotline.sessions() as s:
        record = (await s.execute(select(CallRecord).where(CallRecord.linkedid == "late-1"))).scalar_one()
        order = (await s.execute(select(WorkOrder).where(WorkOrder.number == number))).scalar_one()
    assert (record.rating, order.rating, order.status) == (5, 5, "follow_up")


async def test_the_wrap_up_time_goes_on_the_call_record(hotline):
    """The tracker's `wrapped_up` notice (话后处理 over): onto the call's record, once; one that
    comes before the record (the caller still in the survey) goes on it when it is written."""
    from datetime import timedelta

    now = hotline.clock()
    desk = hotline.module(Telephony).desk
    async with hotline.sessions() as s, s.begin():
        s.add(CallRecord(linkedid="wrap-1", direction="inbound", outcome="answered", caller="13900004321",
                         line="12345", started_at=now - timedelta(minutes=3), ended_at=now, data={}))
    await desk.handle("wrapped_up", {"linkedid": "wrap-1", "agent_extension": "8001", "wrapup_seconds": 42})
    await desk.handle("wrapped_up", {"linkedid": "wrap-1", "agent_extension": "8001", "wrapup_seconds": 99})
    await desk.handle("wrapped_up", {"linkedid": "wrap-2", "agent_extension": "8001", "wrapup_seconds": 17})
    await desk.handle("ended", {"linkedid": "wrap-2", "direction": "inbound", "outcome": "answered",
                                "caller": "13900004321", "line": "12345", "started_at": now.isoformat(),
                                "answered_at": now.isoformat(), "ended_at": (now + timedelta(seconds=30)).isoformat(),
                                "wait_seconds": 2, "talk_seconds": 28})
    async with hotline.sessions() as s:
        got = dict((await s.execute(select(CallRecord.linkedid, CallRecord.data))).all())
    assert (got["wrap-1"]["wrapup_seconds"], got["wrap-2"]["wrapup_seconds"]) == (42, 17)
