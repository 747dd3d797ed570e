"""The supervisor's and the agent's call controls against the real Asterisk 22 running the
project's `dialplans/`: listen in / whisper / barge (ChanSpy originated on the supervisor's
phone) and the three-way call (citizen and agent into a ConfBridge room, the department's
expert called in). Agents and the supervisor's phone are Local channels into
`hotline-test-agents`, the expert one into `hotline-test-experts` (tests/asterisk_support.py)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from sqlalchemy import select

from hotline.telephony.link import PbxError
from hotline.telephony.models import CallRecord
from hotline.telephony.service import Telephony
from tests.asterisk_support import AGENT_CONTEXT, EXPERT_CONTEXT, SECRET, Caller, until
from tests.conftest import login_as


@pytest.fixture
def db_kind() -> str:
    return "sqlite"  # the PBX is what is under test here


@contextlib.asynccontextmanager
async def telephony_on(hotline, pbx):
    tel = hotline.module(Telephony)
    # Phones are Local channels answering in the test context; experts answer in theirs.
    tel.switchboard.config = tel.config.model_copy(update={
        "agent_interface": f"Local/{{extension}}@{AGENT_CONTEXT}/n", "department_context": EXPERT_CONTEXT})
    task = asyncio.create_task(tel._serve("127.0.0.1", pbx.ami_port, "hotline", SECRET))
    try:
        await until(lambda: tel.leading and tel.consumer.resyncs > 0, limit=30)
        yield tel
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _agent_bridged(caller: Caller, agent: str) -> bool:
    return any(c.get("BridgeId") and c["Channel"].startswith(f"Local/{agent}@{AGENT_CONTEXT}-")
               and c["Channel"].endswith(";1") for c in await caller.channels())


async def test_supervisor_spies_on_a_bridged_call_with_chanspy(hotline, client, real_asterisk):
    pbx = real_asterisk(agents=("8001",))
    pbx.start()
    leader = await login_as(hotline, client, "supervisor", extension="8100")
    async with Caller(pbx) as caller, telephony_on(hotline, pbx):
        status, body = await leader.post("/api/v1/telephony/calls/spy", json={"agent": "8001"})
        assert status == 409 and body["code"] == "no_active_call", body
        await caller.call("13800138011")
        await until(lambda: _agent_bridged(caller, "8001"), limit=20)
        agent_channel = next(c["Channel"] for c in await caller.channels()
                             if c["Channel"].startswith(f"Local/8001@{AGENT_CONTEXT}-") and c["Channel"].endswith(";1"))

        status, body = await leader.post("/api/v1/telephony/calls/spy", json={"agent": "8001", "mode": "whisper"})
        assert status == 200, body

        async def spying() -> list[dict]:
            return [c for c in await caller.channels() if c.get("Application") == "ChanSpy"]
        await until(spying, limit=20)
        (spy,) = await spying()
        # On the supervisor's own phone (its ;1 half runs ChanSpy), on the agent's channel, whispering.
        assert spy["Channel"].startswith(f"Local/8100@{AGENT_CONTEXT}-") and spy["Channel"].endswith(";1")
        assert spy["ApplicationData"] == f"{agent_channel},qESw"
        # The agent's call is still bridged with the citizen.
        assert await _agent_bridged(caller, "8001")

        await caller.hangup_all()  # E: the spy leaves with the agent's call
        await until(lambda: _none(caller), limit=20)
    assert not [p for p in pbx.problems() if "chanspy" in p.lower()]


async def _none(caller: Caller) -> bool:
    return not await caller.channels()


async def test_three_way_call_puts_citizen_agent_and_expert_in_one_confbridge(hotline, client, real_asterisk):
    pbx = real_asterisk(agents=("8001",))
    pbx.start()
    agent = await login_as(hotline, client, "agent")  # extension 8001
    async with Caller(pbx) as caller, telephony_on(hotline, pbx) as tel:
        await caller.call("13800138012")
        await until(lambda: _agent_bridged(caller, "8001"), limit=20)
        status, body = await agent.post("/api/v1/telephony/calls/conference", json={"department": "sthj"})
        assert status == 200, body
        room = body["detail"]["room"]

        async def members() -> list[dict]:
            try:
                reply = await caller.link.send({"Action": "ConfbridgeList", "Conference": room}, as_list=True)
            except PbxError as exc:  # until the first joins; anything else (Permission denied) fails
                assert "No active conferences" in exc.extra.get("ami_message", ""), exc
                return []
            return [m for m in reply[1:] if m.get("Event") == "ConfbridgeList"]

        await until(lambda: _count(members, 3), limit=20)
        channels = sorted(m["Channel"] for m in await members())
        assert any(c.startswith("Local/12345@from-pstn-") for c in channels), channels  # the citizen
        assert any(c.startswith(f"Local/8001@{AGENT_CONTEXT}-") for c in channels), channels  # the agent
        assert any(c.startswith(f"Local/6103@{EXPERT_CONTEXT}-") for c in channels), channels  # 生态环境分局's expert
        await caller.hangup_all()
        await until(lambda: _none(caller), limit=20)
        await until(lambda: not tel.tracker.calls, limit=20)
        await tel.consumer.drained()
    async with hotline.sessions() as session:
        records = (await session.execute(select(CallRecord))).scalars().all()
    # The citizen's call is one answered call of agent 8001; the expert's leg is no citizen's call.
    assert [(r.caller, r.outcome, r.agent_extension) for r in records if r.direction == "inbound"] == [
        ("13800138012", "answered", "8001")], records


async def _count(members, n: int) -> bool:
    return len(await members()) >= n
