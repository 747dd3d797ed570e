"""Citizens' calls: the greeting, the queue, members ringing, answering or ringing out, and
how a call ends (the caller or the agent hanging up first, a PBX shutdown)."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import TYPE_CHECKING

from hotline.telephony.sim import frames as f
from hotline.telephony.sim.core import QUEUE, SimCall, SimMember
from hotline.telephony.sim.outbound import Outbound

if TYPE_CHECKING:
    from hotline.telephony.sim.frames import Chan


class Inbound(Outbound):
    # ------------------------------------------------------------ inbound calls
    def call_in(self, line: str, caller: str, *, lifetime: float | None = None, patience: float | None = None,
                talk: float | None = None, survey: int | None = None, action_id: str | None = None) -> SimCall:
        """A citizen dials `line`. `lifetime`: the caller hangs up that long after the
        start, whatever happens (the lab's `Wait(N)`); `patience`: only while queued."""
        c1, c2 = self._local_pair(line, "from-pstn", None)
        call = SimCall(c1.linkedid, c1, c2, line, talk=talk, patience=patience, survey=survey)
        self.calls[call.linkedid] = call
        self._track(call, c1, c2)
        self._ev("Newchannel", c1)
        self._ev("Newchannel", c2)
        self._ev("Newexten", c1, ("Extension", line), ("Application", "AppDial2"), ("AppData", "(Outgoing Line)"),
                 privilege="dialplan")
        self._set_callerid(c1, caller, "<unknown>")
        c1.connected_num = c1.connected_name = caller
        self._set_callerid(c2, caller, caller)
        self._local_bridge(c1, c2)
        self.emit(f.event("DialBegin", c1.block("Dest"), [("DialString", f"{line}@from-pstn")]))
        if line in self.legacy_lines:
            self.counts["legacy"] += 1
            self._newexten(c2, "NoOp", f"Legacy line {line} -> hotline 12345")
            self._varset(c2, "__LEGACY_LINE", line)
            self._newexten(c2, "Goto", "from-pstn,12345,1")
            c2.exten, c2.priority = "12345", 0
        self._newexten(c2, "NoOp", f"Hotline call from {caller}")
        self._newexten(c2, "Set", "CHANNEL(language)=zh")
        c2.language = "zh"
        self._newexten(c2, "Set", "__HOTLINE_CHANNEL=phone")
        self._varset(c2, "__HOTLINE_CHANNEL", "phone")
        self._newexten(c2, "Answer", "")
        self._state(c2, 6)
        self._state(c1, 6)
        self.emit(f.event("DialEnd", c1.block("Dest"), [("DialStatus", "ANSWER")]))
        if action_id is not None:
            self.emit(f.event("OriginateResponse", [
                ("ActionID", action_id), ("Response", "Success"), ("Channel", c1.name), ("Application", "Wait"),
                ("Data", int(lifetime or 0)), ("Reason", 4), ("Uniqueid", c1.uniqueid), ("CallerIDNum", caller),
                ("CallerIDName", caller)]))
        self._newexten(c1, "Wait", str(int(lifetime or 0)))
        if lifetime is not None:
            self.later(call, "caller", lifetime, lambda: self.caller_hangs_up(call))
        self.later(call, "queue", self.greeting, lambda: self._enqueue(call))
        return call

    def _enqueue(self, call: SimCall) -> None:
        c2 = call.c2
        assert c2 is not None
        self._newexten(c2, "Set", "__IVR_CHOICE=2")
        self._varset(c2, "__IVR_CHOICE", "2")
        self._newexten(c2, "MixMonitor", "${RECORDINGS}/hotline-${UNIQUEID}.wav")
        call.recording = f"{self.globals['RECORDINGS']}/hotline-{c2.uniqueid}.wav"
        self._varset(c2, "MIXMONITOR_FILENAME", call.recording)
        self._ev("MixMonitorStart", c2)
        self._newexten(c2, "Queue", f"{QUEUE},ct,,,{self.globals['QUEUE_TIMEOUT']}")
        call.position = len(self.waiting()) + 1
        self._varset(c2, "QUEUEPOSITION", str(call.position))
        call.state, call.joined = "queued", self.now()
        self._ev("QueueCallerJoin", c2, ("Queue", QUEUE), ("Position", call.position), ("Count", call.position),
                 privilege="agent")
        if call.patience is not None:
            self.later(call, "caller", call.patience, lambda: self.caller_hangs_up(call))
        self.later(call, "queue_timeout", float(self.globals["QUEUE_TIMEOUT"]), lambda: self._queue_timeout(call))
        self.distribute()

    def _stop_ringing(self, call: SimCall, c2: Chan) -> None:
        if call.state == "ringing" and call.a1 is not None:
            self.emit(f.event("DialEnd", c2.block(), call.a1.block("Dest"), [("DialStatus", "CANCEL")]))
            self._drop_agent_legs(call, 0)
            if call.member is not None:
                call.member.status = 1
                self.member_event("QueueMemberStatus", call.member)

    def _abandon(self, call: SimCall, c2: Chan) -> None:
        """app_queue's QueueCallerAbandon + QueueCallerLeave: a hang-up and, on Asterisk 22, a timeout."""
        self._ev("QueueCallerAbandon", c2, ("Queue", QUEUE), ("Position", 1), ("OriginalPosition", call.position),
                 ("HoldTime", int(self.now() - call.joined)), privilege="agent")
        self._ev("QueueCallerLeave", c2, ("Queue", QUEUE), ("Position", 1),
                 ("Count", len([c for c in self.waiting() if c is not call])), privilege="agent")

    def _queue_timeout(self, call: SimCall) -> None:
        """The queue gives up (QUEUE_TIMEOUT): as Asterisk 22 does, QueueCallerAbandon first,
        then the dialplan's HOTLINE_OVERFLOW=TIMEOUT; the overflow queue (no members here)
        says "we will call you back" and the call ends."""
        c1, c2 = call.c1, call.c2
        if call.state not in ("queued", "ringing") or c2 is None:
            return
        self._stop_ringing(call, c2)
        self.cancel(call)
        self._abandon(call, c2)
        self._varset(c2, "QUEUESTATUS", "TIMEOUT")
        self._newexten(c2, "Set", "HOTLINE_OVERFLOW=TIMEOUT")
        self._varset(c2, "HOTLINE_OVERFLOW", "TIMEOUT")
        self._newexten(c2, "Playback", "hotline/we-will-call-back")
        self._cdr(c1, call.line, "from-pstn", "", "Wait", "0")
        self._cdr(c2, "12345", "from-pstn", "", "Playback", "hotline/we-will-call-back")
        self._hangup(call, c2, 16)
        self._hangup(call, c1, 16)
        self.counts["overflowed"] += 1
        self._ended(call)

    def distribute(self) -> None:
        """rrmemory: offer each waiting caller (oldest first) to the next free member."""
        for call in self.waiting():
            if call.state != "queued" or "retry" in call.timers:
                continue
            free = [m for m in self.members if not m.paused and not self.busy(m) and m.status not in (4, 5)]
            if not free:
                return
            order = self.members[self.rr_next:] + self.members[:self.rr_next]
            m = next(x for x in order if x in free)
            self.rr_next = (self.members.index(m) + 1) % len(self.members)
            self._ring(call, m)

    def _ring(self, call: SimCall, m: SimMember) -> None:
        assert call.c2 is not None
        call.state, call.member, call.ring_started = "ringing", m, self.now()
        if m.interface.startswith("Local/"):
            ctx = m.interface.split("@", 1)[1].split("/", 1)[0]
            a1, a2 = self._local_pair(m.extension, ctx, call.linkedid)
        else:
            a1 = self._chan(f"{m.interface}-{next(self.local_counter):08x}", call.linkedid, "agents", m.extension, 0)
            a2 = None
        for a in (a1, a2):
            if a is not None:
                a.caller_num = a.caller_name = call.c2.caller_num
        a1.exten = call.c2.exten  # the member leg shows the caller's exten (trace surprise 7)
        call.a1, call.a2 = a1, a2
        self._track(call, *(a for a in (a1, a2) if a is not None))
        self._ev("Newchannel", a1)
        if a2 is not None:
            self._ev("Newchannel", a2)
        for a in (a1, a2):
            if a is None:
                continue
            for var in ("IVR_CHOICE", "HOTLINE_CHANNEL", "LEGACY_LINE"):
                if var in call.c2.variables:
                    self._varset(a, f"__{var}", call.c2.variables[var])
        if a2 is not None:
            self._local_bridge(a1, a2)
        self._agent_event("AgentCalled", call)
        self.emit(f.event("DialBegin", call.c2.block(), a1.block("Dest"), [("DialString", m.interface[6:] if
                                                                             m.interface.startswith("Local/") else m.interface)]))
        m.status = 2
        self.member_event("QueueMemberStatus", m)
        ring = float(self.globals.get("AGENT_RING", "2"))
        if self.globals.get(f"NOANSWER_{m.extension}") == "1" or self.rng.random() >= self.answer_rate:
            ring = 60.0
        if ring < self.member_timeout:
            self.later(call, "answer", ring, lambda: self._answer(call))
        self.later(call, "ring_timeout", self.member_timeout, lambda: self._ring_no_answer(call))

    def _drop_agent_legs(self, call: SimCall, cause: int) -> None:
        if call.a1 is not None:
            self._hangup(call, call.a1, cause)
        if call.a2 is not None:
            self._hangup(call, call.a2, cause)

    def _ring_no_answer(self, call: SimCall) -> None:
        m, c2 = call.member, call.c2
        assert m is not None and c2 is not None and call.a1 is not None
        self.cancel(call, "answer")
        self._agent_event("AgentRingNoAnswer", call, ("RingTime", int((self.now() - call.ring_started) * 1000)))
        self.counts["rang_out"] += 1
        m.paused, m.reason, m.last_pause = True, "Auto-Pause", int(time.time())
        self.member_event("QueueMemberPause", m)  # autopause, before the dial is even torn down
        for status in ("NOANSWER", "CANCEL"):
            self.emit(f.event("DialEnd", c2.block(), call.a1.block("Dest"), [("DialStatus", status)]))
        call.missed.append(call.a1.name)
        self._drop_agent_legs(call, 0)
        m.status = 1
        self.member_event("QueueMemberStatus", m)
        if self.back_from_auto_pause is not None:
            self._returns.add(asyncio.get_running_loop().call_later(self.back_from_auto_pause / self.speed,
                                                                    self._back, m))
        call.state, call.member, call.a1, call.a2 = "queued", None, None, None
        self.later(call, "retry", self.retry, lambda: self._retry(call))

    def _retry(self, call: SimCall) -> None:
        self.cancel(call, "retry")
        self.distribute()

    def _back(self, m: SimMember) -> None:
        if m in self.members and m.paused and m.reason == "Auto-Pause":
            m.paused, m.reason = False, ""
            self.member_event("QueueMemberPause", m)
            self.distribute()

    def _answer(self, call: SimCall) -> None:
        m, c2, a1 = call.member, call.c2, call.a1
        assert m is not None and c2 is not None and a1 is not None
        self.cancel(call, "ring_timeout", "answer", "queue_timeout")
        if call.patience is not None:
            self.cancel(call, "caller")
        if call.a2 is not None:
            self._newexten(call.a2, "Answer", "")
            self._state(call.a2, 6)
        self._state(a1, 6)
        self.emit(f.event("DialEnd", c2.block(), a1.block("Dest"), [("DialStatus", "ANSWER")]))
        call.state, call.answered = "talking", self.now()
        waiting = [c for c in self.waiting() if c is not call]
        self._ev("QueueCallerLeave", c2, ("Queue", QUEUE), ("Position", 1), ("Count", len(waiting)),
                 privilege="agent")
        hold = int(call.answered - call.joined)
        self._agent_event("AgentConnect", call, ("HoldTime", hold), ("RingTime", int(call.answered - call.ring_started)))
        call.bridge = str(uuid.uuid4())
        self.emit(f.event("BridgeCreate", f.bridge(call.bridge, 0)))
        for n, ch in enumerate((a1, c2), 1):
            ch.bridge = call.bridge
            self.emit(f.event("BridgeEnter", f.bridge(call.bridge, n), ch.block()))
        m.in_call = True
        talk = call.talk if call.talk is not None else float(self.globals.get("AGENT_TALK", "20"))
        self.later(call, "agent", talk, lambda: self.agent_hangs_up(call))
        self.distribute()

    def _member_done(self, m: SimMember) -> None:
        m.in_call, m.status = False, 1
        m.calls_taken += 1
        m.last_call = int(time.time())
        self.member_event("QueueMemberStatus", m)
        self.completed += 1

    def _talk_seconds(self, call: SimCall) -> int:
        return int(self.now() - call.answered)

    # ------------------------------------------------------------ endings
    def caller_hangs_up(self, call: SimCall) -> None:
        if call.state == "ended":
            return
        c1, c2 = call.c1, call.c2
        assert c2 is not None
        if call.state in ("queued", "ringing"):
            self._stop_ringing(call, c2)
            self._cdr(c1, call.line, "from-pstn", "", "Wait", "0")
            self._hangup(call, c1, 0)
            self._abandon(call, c2)
            self._cdr(c2, "12345", "from-pstn", "", "Queue", f"{QUEUE},t,,,120")
            self._hangup(call, c2, 0)
            self.abandoned += 1
        elif call.state == "talking":
            assert call.member is not None and call.a1 is not None
            self._cdr(c1, call.line, "from-pstn", "", "Wait", "0")
            self._agent_event("AgentComplete", call, ("HoldTime", int(call.answered - call.joined)),
                              ("TalkTime", self._talk_seconds(call)), ("Reason", "caller"))
            self._hangup(call, c1, 0)
            for leg in call.missed:
                self._cdr(c2, "12345", "from-pstn", leg, "Queue", f"{QUEUE},t,,,120", "NO ANSWER")
            self._cdr(c2, "12345", "from-pstn", call.a1.name, "Queue", f"{QUEUE},t,,,120")
            self.emit(f.event("BridgeLeave", f.bridge(call.bridge, 1), c2.block()))
            self._hangup(call, c2, 16)
            self.emit(f.event("BridgeLeave", f.bridge(call.bridge, 0), call.a1.block()))
            self.emit(f.event("BridgeDestroy", f.bridge(call.bridge, 0)))
            self._hangup(call, call.a1, 16)
            if call.a2 is not None:
                self._cdr(call.a2, call.member.extension, "agents", "", "Wait", "0")
                self._hangup(call, call.a2, 16)
            self._member_done(call.member)
        elif call.state == "conference":
            # The citizen leaves the room: app_queue reports the call complete, everyone hangs up.
            assert call.member is not None
            self._agent_event("AgentComplete", call, ("HoldTime", int(call.answered - call.joined)),
                              ("TalkTime", self._talk_seconds(call)), ("Reason", "caller"), dest=False)
            for ch in (c1, c2, call.a1, call.a2):
                self._hangup(call, ch, 16)
            self._member_done(call.member)
            for guest in call.guests:
                self._hangup(guest, guest.c1, 16)
                self._hangup(guest, guest.c2, 16)
                self._ended(guest)
        elif call.state in ("transferred", "survey", "ivr", "guest"):
            self._cdr(c1, call.line, "from-pstn", "", "Wait", "0")
            self._hangup(call, c1, 16 if call.state != "ivr" else 0)
            if call.state == "transferred":
                self._cdr(c2, call.cdr_dest, call.transfer_ctx, call.agent_leg, "Queue", f"{QUEUE},t,,,120")
                self._cdr(c2, call.cdr_dest, call.transfer_ctx, "", "Hangup", "")
            if call.state == "transferred" and call.member is not None:
                self._agent_event("AgentComplete", call, ("HoldTime", int(call.answered - call.joined)),
                                  ("TalkTime", self._talk_seconds(call)), ("Reason", "caller"), dest=False)
            self._hangup(call, c2, 16)
            for _, ch in [v for v in self.channels.values() if v[0] is call]:
                self._hangup(call, ch, 16)
        self._ended(call)

    def agent_hangs_up(self, call: SimCall) -> None:
        if call.state == "outbound":
            self._end_outbound(call)
            return
        if call.state != "talking" or call.member is None or call.a1 is None or call.c2 is None:
            return
        m, c2 = call.member, call.c2
        self.cancel(call, "agent")
        if call.a2 is not None:
            self._cdr(call.a2, m.extension, "agents", "", "Hangup", "")
        self._agent_event("AgentComplete", call, ("HoldTime", int(call.answered - call.joined)),
                          ("TalkTime", self._talk_seconds(call)), ("Reason", "agent"))
        if call.a2 is not None:
            self._hangup(call, call.a2, 16)
        self.emit(f.event("BridgeLeave", f.bridge(call.bridge, 1), call.a1.block()))
        self._hangup(call, call.a1, 16)
        self.emit(f.event("BridgeLeave", f.bridge(call.bridge, 0), c2.block()))
        self.emit(f.event("BridgeDestroy", f.bridge(call.bridge, 0)))
        self._member_done(m)
        if self.survey and call.survey is not None:
            call.state = "survey"
            self._newexten(c2, "Read", "SURVEY_RESULT,hotline/survey,1,,1,5")
            self._varset(c2, "SURVEY_RESULT", str(call.survey))
            self.counts["surveyed"] += 1
            self.emit(f.event("UserEvent", c2.block(), [("UserEvent", "HotlineSurvey"),
                                                        ("HotlineCall", call.linkedid), ("Rating", call.survey)],
                              privilege="user"))
            self.later(call, "caller", 1.0, lambda: self.caller_hangs_up(call))
            return
        self._cdr(c2, "12345", "from-pstn", call.a1.name, "Queue", f"{QUEUE},t,,,120")
        self._cdr(call.c1, call.line, "from-pstn", "", "Wait", "0")
        self._hangup(call, c2, 16)
        self._hangup(call, call.c1, 16)
        self._ended(call)

    def hang_up(self, name: str) -> bool:
        found = self.channels.get(name)
        if found is None:
            return False
        call, ch = found
        if call.state == "outbound":
            self._end_outbound(call)
        elif ch is call.a1 or ch is call.a2:
            if call.state == "talking":
                self.agent_hangs_up(call)
            else:
                self.caller_hangs_up(call)
        else:
            self.caller_hangs_up(call)
        return True

    def shutdown(self) -> None:
        """`core stop now`: every caller is hung up (queued ones count as abandoned), then Shutdown."""
        for call in list(self.calls.values()):
            if call.state == "outbound":
                self._end_outbound(call)
            else:
                self.caller_hangs_up(call)
        self.emit(f.event("Shutdown", [("Shutdown", "Cleanly"), ("Restart", "False")], privilege="system"))
