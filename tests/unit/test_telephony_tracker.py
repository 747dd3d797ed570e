"""The recorded Asterisk 22 sessions, replayed byte for byte through panoramisk's protocol
into the tracker: the outcomes the traces' README states."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.telephony import events as ev
from hotline.telephony.calls import AgentState, CallNotice
from hotline.telephony.tracker import Snapshot, Tracker
from tests.ami_traces import T0, replay


def run(name: str) -> tuple[Tracker, list[dict], object]:
    tracker = Tracker()
    ended: list[dict] = []

    def on(message, now):
        event = ev.parse(message)
        if event is not None:
            ended.extend(n.call for n in tracker.feed(event, now) if isinstance(n, CallNotice) and n.kind == "ended")

    proto, sink = replay(name, on)
    assert proto.skipped == 0
    return tracker, ended, sink


def only(ended: list[dict]) -> dict:
    assert len(ended) == 1, ended
    return ended[0]


def test_answered():
    tracker, ended, _ = run("answered")
    call = only(ended)
    assert (call["outcome"], call["caller"], call["line"], call["legacy_line"]) == ("answered", "13800138000", "12345", None)
    assert (call["wait_seconds"], call["talk_seconds"], call["agent_extension"]) == (2, 11, "8001")
    assert call["end_reason"] == "caller" and call["hangup_cause"] == 16
    assert call["recording"].endswith("hotline-1795695813.1.wav")
    assert call["linkedid"] == "1795695813.0" and not tracker.calls


def test_abandoned_while_agents_paused_for_lunch():
    tracker, ended, sink = run("abandoned")
    call = only(ended)
    assert (call["outcome"], call["wait_seconds"], call["caller"], call["agent_extension"]) == (
        "abandoned", 7, "13700137000", None)
    assert {a.extension: a.state(sink.now) for a in tracker.agents.values()} == {
        "8001": AgentState.READY, "8002": AgentState.READY}  # unpaused at the end


def test_legacy_line_is_kept_from_the_varset():
    _, ended, _ = run("legacy")
    call = only(ended)
    assert (call["legacy_line"], call["line"], call["agent_extension"], call["outcome"]) == ("12315", "12315", "8002", "answered")
    assert call["talk_seconds"] == 9


def test_ring_no_answer_then_the_next_agent():
    tracker, ended, sink = run("ringnoanswer")
    call = only(ended)
    assert (call["wait_seconds"], call["talk_seconds"], call["agent_extension"]) == (19, 11, "8002")
    assert call["missed_by"] == ["8001"]


def test_redirect_counts_as_a_transfer_to_the_department():
    _, ended, _ = run("transfer")
    call = only(ended)
    assert (call["outcome"], call["transferred_to"], call["talk_seconds"]) == ("transferred", "6001", 9)


def test_blind_transfer():
    _, ended, _ = run("blindtransfer")
    call = only(ended)
    assert (call["outcome"], call["transferred_to"], call["end_reason"], call["talk_seconds"]) == (
        "transferred", "6001", "transfer", 4)


def test_agent_operations_move_agent_states():
    tracker, ended, sink = run("agent-ops")
    call = only(ended)
    assert (call["agent_extension"], call["end_reason"], call["wait_seconds"]) == ("8003", "agent", 4)
    states = {a.extension: a.state(sink.now) for a in tracker.agents.values()}
    assert states == {"8001": AgentState.READY, "8002": AgentState.READY, "8003": AgentState.LOGGED_OUT}


def test_shutdown_leaves_no_call_behind():
    tracker, ended, sink = run("reconnect")
    assert only(ended)["outcome"] == "abandoned"
    assert sink.lost, "Event: Shutdown is a lost connection"
    assert not tracker.calls and all(not q.waiting for q in tracker.queues.values())
    assert {a.state(sink.now) for a in tracker.agents.values()} == {AgentState.PAUSED}


def test_login_failure_and_restart_need_no_call_state():
    for name in ("login-failed", "reconnect-after-restart"):
        tracker, ended, _ = run(name)
        assert not ended and not tracker.calls


def test_resync_ends_calls_that_vanished_and_adopts_new_ones():
    tracker = Tracker()
    for e in [ev.NewChannel("Local/12345@from-pstn-1;1", "1.0", "1.0", "13800138000", "", "from-pstn", "12345"),
              ev.QueueCallerJoin("Local/12345@from-pstn-1;2", "1.1", "1.0", "13800138000", "hotline-12345", 1)]:
        tracker.feed(e, T0)
    snap = Snapshot(since_seq=tracker.seq, channels=[
        ev.ChannelItem("Local/12345@from-pstn-2;2", "2.1", "2.0", "13900139000", "", "from-pstn", "12345",
                       "Queue", "", 3)],
        entries=[ev.QueueEntryItem("hotline-12345", "Local/12345@from-pstn-2;2", "2.1", "13900139000", 3)])
    notices = tracker.resync(snap, T0 + timedelta(seconds=30))
    ended = [n.call for n in notices if isinstance(n, CallNotice) and n.kind == "ended"]
    assert [c["linkedid"] for c in ended] == ["1.0"] and ended[0]["unseen_end"]
    assert list(tracker.calls) == ["2.0"] and tracker.calls["2.0"].caller == "13900139000"
    assert [w.linkedid for w in tracker.queues["hotline-12345"].waiting.values()] == ["2.0"]


def test_missing_header_is_malformed_not_a_crash():
    with pytest.raises(ev.MalformedEvent):
        ev.parse({"Event": "AgentConnect", "Channel": "x", "Uniqueid": "1", "Linkedid": "1"})
    with pytest.raises(ev.MalformedEvent):
        ev.parse({"Event": "QueueCallerAbandon", "Channel": "x", "Uniqueid": "1", "Linkedid": "1",
                  "Queue": "q", "HoldTime": "seven"})
    assert ev.parse({"Event": "Newexten"}) is None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=300), st.sampled_from([
    b"Event: AgentConnect\r\nUniqueid: 1\r\n\r\n", b"Event: Hangup\r\nChannel: a\r\nChannel: b\r\n\r\n",
    b"Event: Event: x\r\n\r\n", b"Response: Success\r\nActionID: 9\r\n\r\n", b"\r\n\r\n\r\n",
    "Event: Newchannel\r\nCallerIDName: 张三\r\nChannel: x\r\nUniqueid: 1\r\nLinkedid: 1\r\n\r\n".encode()[:-7],
    b"Event: QueueMemberStatus\r\nQueue: q\r\nInterface: PJSIP/8001\r\nStatus: zz\r\n\r\n"])), max_size=30))
def test_garbled_frames_never_break_the_connection(chunks):
    """Whatever arrives, the protocol keeps going and the tracker keeps its invariants."""
    from unittest import mock

    from hotline.telephony.protocol import AmiProtocol

    tracker = Tracker()
    fed = []

    class Factory:
        def dispatch(self, message):
            try:
                event = ev.parse(message)
            except ev.MalformedEvent:
                return
            if event is not None:
                fed.append(tracker.feed(event, T0))

        def connection_lost(self, exc):
            pass

    proto = AmiProtocol()
    proto.connection_made(mock.MagicMock())
    proto.factory = Factory()
    for c in chunks:
        proto.data_received(c)
    # A partial garbage frame swallows what follows up to the next blank line; after that, normal service.
    proto.data_received(b"\r\n\r\nEvent: Newchannel\r\nChannel: ok\r\nUniqueid: 9.9\r\nLinkedid: 9.9\r\nContext: from-pstn\r\n"
                        b"Exten: 12345\r\nCallerIDNum: 13800138000\r\n\r\n")
    assert "9.9" in tracker.calls  # still parsing after the garbage
    assert not proto.closed


def test_utf8_split_across_reads_and_oversized_frames():
    from unittest import mock

    from hotline.telephony.protocol import MAX_FRAME, AmiProtocol

    got = []

    class Factory:
        def dispatch(self, message):
            got.append(message)

        def connection_lost(self, exc):
            pass

    proto = AmiProtocol()
    proto.connection_made(mock.MagicMock())
    proto.factory = Factory()
    frame = "Event: UserEvent\r\nUserEvent: X\r\nName: 张三\r\n\r\n".encode()
    cut = frame.index("张".encode()) + 1
    proto.data_received(frame[:cut])
    proto.data_received(frame[cut:])
    proto.data_received(b"Event: Junk\r\nX: " + b"a" * (MAX_FRAME + 10))
    proto.data_received(b"aaa\r\n\r\nEvent: After\r\n\r\n")
    assert [m["Event"] for m in got] == ["UserEvent", "After"]
    assert got[0]["Name"] == "张三" and proto.skipped == 1


def test_wrap_up_after_a_call_ends_by_the_clock():
    tracker = Tracker()
    member = ev.Member("hotline-12345", "PJSIP/8001", "张敏", "dynamic", False, "", 1, False, 10)
    tracker.feed(ev.MemberChanged("added", member), T0)
    agent = tracker.agents["8001"]
    assert agent.state(T0) is AgentState.READY
    common = ("PJSIP/trunk-1", "1.1", "1.0", "hotline-12345", "PJSIP/8001", "张敏", "PJSIP/8001-0001")
    tracker.feed(ev.AgentCalled(*common), T0)
    assert agent.state(T0) is AgentState.RINGING
    tracker.feed(ev.AgentConnect(*common, 3, 3), T0 + timedelta(seconds=3))
    assert agent.state(T0) is AgentState.ON_CALL
    tracker.feed(ev.AgentComplete(*common, 3, 60, "caller", "from-pstn", "12345"), T0 + timedelta(seconds=63))
    assert agent.state(T0 + timedelta(seconds=64)) is AgentState.WRAP_UP
    assert tracker.tick(T0 + timedelta(seconds=70)) == []
    later = tracker.tick(T0 + timedelta(seconds=74))
    assert [n.agent["state"] for n in later if not isinstance(n, CallNotice)] == ["ready"]
    # 话后处理 of the call: its end (63 s) to the end of Asterisk's wrapuptime (73 s), seen at the tick.
    assert [(n.kind, n.call) for n in later if isinstance(n, CallNotice)] == [
        ("wrapped_up", {"linkedid": "1.0", "agent_extension": "8001", "wrapup_seconds": 11})]
    tracker.feed(ev.MemberChanged("pause", ev.Member("hotline-12345", "PJSIP/8001", "张敏", "dynamic", True,
                                                     "培训", 1, False, 10)), T0)
    assert (agent.state(T0), agent.pause_reason()) == (AgentState.PAUSED, "培训")


def test_a_survey_keyed_after_the_call_ended_is_still_told():
    """On Asterisk the agent's hang-up can end the call before the caller has keyed the
    survey (seen on the real Asterisk: Read runs after the call was recorded); the rating
    comes as its own notice, for the call desk to put on the record and the order."""
    tracker, ended, _ = run("answered")
    linkedid = only(ended)["linkedid"]
    now = T0 + timedelta(minutes=5)
    late = tracker.feed(ev.UserEvent("HotlineSurvey", linkedid, {"Rating": "4"}), now)
    assert [(n.kind, n.call) for n in late] == [("surveyed", {"linkedid": linkedid, "rating": 4})]
    assert tracker.feed(ev.UserEvent("HotlineSurvey", linkedid, {"Rating": "9"}), now) == []
    assert tracker.feed(ev.UserEvent("Other", linkedid, {"Rating": "4"}), now) == []


def test_the_desks_wrap_up_pause_is_the_calls_wrap_up_time():
    """The desk pauses the agent with the wrap-up reason after the call (desk.wrapup_reason)
    and unpauses when done: from the call's end to the unpause is its 话后处理. An agent who
    pauses for another reason, or takes the next call, without a wrap-up has none."""
    def member(paused: bool, reason: str = "") -> ev.MemberChanged:
        return ev.MemberChanged("pause", ev.Member("hotline-12345", "PJSIP/8001", "张敏", "dynamic", paused, reason,
                                                   1, False, 0))

    def call(n: int, at: int) -> list:
        common = ("PJSIP/trunk-1", f"{n}.1", f"{n}.0", "hotline-12345", "PJSIP/8001", "张敏", f"PJSIP/8001-{n}")
        out = tracker.feed(ev.AgentConnect(*common, 3, 3), T0 + timedelta(seconds=at))
        return out + tracker.feed(ev.AgentComplete(*common, 3, 30, "agent", "from-pstn", "12345"),
                                  T0 + timedelta(seconds=at + 30))

    def wrapped(notices: list) -> list:
        return [n.call for n in notices if isinstance(n, CallNotice) and n.kind == "wrapped_up"]

    tracker = Tracker()
    tracker.feed(member(False), T0)
    assert wrapped(call(1, 0)) == []  # ended at 30 s; ready until the desk's pause arrives
    assert wrapped(tracker.tick(T0 + timedelta(seconds=31))) == []
    assert wrapped(tracker.feed(member(True, "话后处理"), T0 + timedelta(seconds=31))) == []
    assert wrapped(tracker.feed(member(False), T0 + timedelta(seconds=75))) == [
        {"linkedid": "1.0", "agent_extension": "8001", "wrapup_seconds": 45}]
    assert wrapped(tracker.feed(member(True, "话后处理"), T0 + timedelta(seconds=80))) == []  # no call: none
    assert wrapped(tracker.feed(member(False), T0 + timedelta(seconds=85))) == []
    # Call 2: the agent goes to lunch straight away, no wrap-up; call 3: the next call comes first.
    call(2, 100)
    assert wrapped(tracker.feed(member(True, "午餐"), T0 + timedelta(seconds=131))) == []
    assert wrapped(tracker.feed(member(False), T0 + timedelta(seconds=200))) == []
    call(3, 300)
    assert wrapped(call(4, 340)) == []
    # Call 4 ended at 370 s, wrap-up pause, then the next call connects while still in it (forced).
    tracker.feed(member(True, "话后处理"), T0 + timedelta(seconds=371))
    common = ("PJSIP/trunk-1", "5.1", "5.0", "hotline-12345", "PJSIP/8001", "张敏", "PJSIP/8001-5")
    assert wrapped(tracker.feed(ev.AgentConnect(*common, 3, 3), T0 + timedelta(seconds=390))) == [
        {"linkedid": "4.0", "agent_extension": "8001", "wrapup_seconds": 20}]


def test_a_member_status_still_in_call_after_the_hang_up_is_no_end_of_wrap_up():
    """Seen on the real Asterisk: the member's InCall stays 1 for a moment after the agent's
    leg is gone; the desk's wrap-up pause that follows still counts for the call."""
    tracker = Tracker()

    def member(paused: bool, reason: str = "", in_call: bool = False) -> ev.MemberChanged:
        return ev.MemberChanged("status", ev.Member("hotline-12345", "PJSIP/8001", "张敏", "dynamic", paused, reason,
                                                    2 if in_call else 1, in_call, 0))

    common = ("PJSIP/trunk-1", "1.1", "1.0", "hotline-12345", "PJSIP/8001", "张敏", "PJSIP/8001-1")
    tracker.feed(member(False), T0)
    tracker.feed(ev.AgentConnect(*common, 3, 3), T0)
    tracker.feed(ev.AgentComplete(*common, 3, 30, "agent", "from-pstn", "12345"), T0 + timedelta(seconds=30))
    tracker.feed(member(False, in_call=True), T0 + timedelta(seconds=30))
    tracker.feed(member(True, "话后处理"), T0 + timedelta(seconds=31))
    done = tracker.feed(member(False), T0 + timedelta(seconds=50))
    assert [n.call for n in done if isinstance(n, CallNotice)] == [
        {"linkedid": "1.0", "agent_extension": "8001", "wrapup_seconds": 20}]
