"""Listen in, whisper and barge (监听/耳语/强插) against the PBX simulator: the supervisor's
phone is originated into ChanSpy on the agent's live channel; the roles and the 4xx of the
endpoint; the spy leaves with the agent's call (ChanSpy option E)."""

from __future__ import annotations

from hotline.telephony.sim.pbx import Pbx
from hotline.telephony.sim.server import AmiServer
from tests.asterisk_support import until
from tests.conftest import login_as
from tests.integration.telephony_support import SECRET, telephony_on


def spies(pbx: Pbx) -> list[tuple[str, str]]:
    return [(ch.name, ch.app_data) for call, ch in pbx.channels.values() if call.state == "spy"]


async def test_supervisor_listens_whispers_and_barges_through_chanspy(hotline, client):
    agent = await login_as(hotline, client, "agent")  # extension 8001
    leader = await login_as(hotline, client, "supervisor", extension="8100")
    no_phone = await login_as(hotline, client, "supervisor", extension=None)
    pbx = Pbx(speed=20, members=[("Local/8001@agents/n", "Agent 8001")])
    server = AmiServer(pbx, user="hotline", secret=SECRET)
    port = await server.start()
    seen: list[bytes] = []
    pbx.listeners.append(seen.append)
    try:
        async with telephony_on(hotline, port):
            status, body = await agent.post("/api/v1/telephony/calls/spy", json={"agent": "8001"})
            assert status == 403 and body["code"] == "role_required"
            status, body = await no_phone.post("/api/v1/telephony/calls/spy", json={"agent": "8001"})
            assert status == 422 and body["code"] == "no_extension"
            status, body = await leader.post("/api/v1/telephony/calls/spy", json={"agent": "8001"})
            assert status == 409 and body["code"] == "no_active_call"  # not on a call
            status, body = await leader.post("/api/v1/telephony/calls/spy", json={"agent": "8001", "mode": "shout"})
            assert status == 422
            status, body = await leader.post("/api/v1/telephony/calls/spy", json={"agent": "8100"})
            assert status == 422 and body["code"] == "spy_self"

            call = pbx.call_in("12345", "13700001111", talk=600)
            await until(lambda: call.state == "talking")
            agent_channel = call.a1.name
            for mode, options in (("listen", "qES"), ("whisper", "qESw"), ("barge", "qESB")):
                status, body = await leader.post("/api/v1/telephony/calls/spy", json={"agent": "8001", "mode": mode})
                assert status == 200, body
                assert body["extension"] == "8100" and body["detail"]["mode"] == mode
                await until(lambda o=options: (f"{agent_channel},{o}" in [d for _, d in spies(pbx)]))
            assert all(name.startswith("PJSIP/8100-") for name, _ in spies(pbx))
            await until(lambda: sum(b.count(b"Event: ChanSpyStart") for b in seen) == 3)
            # The agent's call is not disturbed by being listened to, and the board stays the agent's.
            assert call.state == "talking"
            status, board = await leader.get("/api/v1/telephony/board")
            assert status == 200 and {a["extension"] for a in board["agents"]} == {"8001"}

            pbx.caller_hangs_up(call)  # E: the spies leave with the agent's channel
            await until(lambda: not spies(pbx) and not pbx.calls)
            assert sum(b.count(b"Event: ChanSpyStop") for b in seen) == 3
            status, body = await leader.post("/api/v1/telephony/calls/spy", json={"agent": "8001"})
            assert status == 409 and body["code"] == "no_active_call"
    finally:
        await server.stop(graceful=False)
