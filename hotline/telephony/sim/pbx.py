"""The simulated PBX: the lab dialplan of the recorded traces, as a model.

`from-pstn,12345` answers, sets `__HOTLINE_CHANNEL`/`__IVR_CHOICE`, starts MixMonitor and
queues the caller; a legacy line sets `__LEGACY_LINE` and goes to 12345. Queue members
ring (`AGENT_RING` s, or for ever when the global `NOANSWER_<ext>` is 1), answer, talk
(`AGENT_TALK` s) and hang up; a member that rings out (member timeout 15 s) is auto-
paused and the queue retries the next one 2 s later. Departments (6001 …) answer a
transfer, talk 5 s and hang up. Agents' click-to-call rings the agent first, then the
citizen.

Everything is driven by timers on the event loop (no task per call); every change is
written to the connected AMI sessions as the frames Asterisk 22 sends, in its order.
Durations are in simulated seconds; `speed` > 1 runs the clock faster (tests, training).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from hotline.telephony.sim import frames as f
from hotline.telephony.sim.frames import Chan

log = logging.getLogger(__name__)
QUEUE = "hotline-12345"


@dataclass
class SimMember:
    interface: str
    name: str
    state_interface: str
    membership: str = "static"
    penalty: int = 0
    calls_taken: int = 0
    last_call: int = 0
    last_pause: int = 0
    login_time: int = 0
    in_call: bool = False
    status: int = 1
    paused: bool = False
    reason: str = ""

    @property
    def extension(self) -> str:
        return self.interface.split("/", 1)[-1].split("@", 1)[0]


@dataclass
class SimCall:
    linkedid: str
    c1: Chan  # the caller's originate leg; its Uniqueid is the Linkedid
    c2: Chan | None  # the caller as the queue sees it (Local ;2)
    line: str
    state: str = "ivr"  # ivr | queued | ringing | talking | transferred | survey | outbound | ended
    queue: str = QUEUE
    joined: float = 0.0
    position: int = 0
    member: SimMember | None = None
    a1: Chan | None = None  # the member leg (Local ;1, or the phone's channel)
    a2: Chan | None = None
    ring_started: float = 0.0
    answered: float = 0.0
    bridge: str = ""
    talk: float | None = None  # the agent hangs up after this (None: AGENT_TALK)
    patience: float | None = None  # the caller abandons after waiting this long in the queue
    survey: int | None = None  # the rating the caller will key in after the agent hangs up
    rated: bool = False
    transfer_ctx: str = ""
    agent_leg: str = ""
    room: str = ""  # a ConfBridge room (三方通话)
    guests: list[SimCall] = field(default_factory=list)  # experts called into the room
    cdr_dest: str = ""
    timers: dict[str, asyncio.TimerHandle] = field(default_factory=dict)
    missed: list[str] = field(default_factory=list)  # member legs that rang out (one NO ANSWER Cdr each)


class Pbx:
    def __init__(self, *, speed: float = 1.0, members: list[tuple[str, str]] | None = None,
                 legacy_lines: tuple[str, ...] = ("12315",), departments: tuple[str, ...] = ("6001",),
                 member_timeout: float = 15.0, retry: float = 2.0, greeting: float = 0.5,
                 survey: bool = False, rng: random.Random | None = None, systemname: str = "",
                 answer_rate: float = 1.0, back_from_auto_pause: float | None = None) -> None:
        self.speed = speed
        self.rng = rng or random.Random()
        self.legacy_lines, self.departments = set(legacy_lines), set(departments)
        self.member_timeout, self.retry, self.greeting, self.survey = member_timeout, retry, greeting, survey
        # Simulated agents: how often one picks up an offered call, and after how long one
        # who was auto-paused for letting a call ring out comes back (None: stays paused).
        self.answer_rate, self.back_from_auto_pause = answer_rate, back_from_auto_pause
        self.globals: dict[str, str] = {"AGENT_RING": "2", "AGENT_TALK": "20"}
        self.members: list[SimMember] = []
        self.started = int(time.time())
        for interface, name in members if members is not None else [
                ("Local/8001@agents/n", "Agent 8001"), ("Local/8002@agents/n", "Agent 8002")]:
            self.members.append(self._member(interface, name, "static"))
        self.calls: dict[str, SimCall] = {}
        self.channels: dict[str, tuple[SimCall, Chan]] = {}  # by channel name
        self._uid = itertools.count()
        self.local_counter = itertools.count()
        self.rr_next = 0
        self.prefix = f"{systemname}-" if systemname else ""
        self.listeners: list[Callable[[bytes], None]] = []
        self.completed = 0
        self.abandoned = 0
        self._returns: set[asyncio.TimerHandle] = set()
        self.counts: Counter[str] = Counter()  # legacy calls, ring-outs, survey answers: for tests and training
        self.emitted = 0

    # ------------------------------------------------------------ plumbing
    def emit(self, data: bytes) -> None:
        self.emitted += 1
        for listener in list(self.listeners):
            listener(data)

    def later(self, call: SimCall, name: str, seconds: float, fn: Callable[[], None]) -> None:
        self.cancel(call, name)
        call.timers[name] = asyncio.get_running_loop().call_later(max(0.0, seconds) / self.speed, fn)

    @staticmethod
    def cancel(call: SimCall, *names: str) -> None:
        for n in names or tuple(call.timers):
            t = call.timers.pop(n, None)
            if t is not None:
                t.cancel()

    def now(self) -> float:
        return asyncio.get_running_loop().time() * self.speed

    def uniqueid(self) -> str:
        return f"{self.prefix}{int(time.time())}.{next(self._uid)}"

    def _member(self, interface: str, name: str, membership: str, penalty: int = 0) -> SimMember:
        state = interface[:-2] if interface.endswith("/n") else interface
        return SimMember(interface, name or interface, state, membership, penalty, login_time=int(time.time()))

    def member(self, interface: str) -> SimMember | None:
        return next((m for m in self.members if m.interface == interface), None)

    def member_by_ext(self, ext: str) -> SimMember | None:
        return next((m for m in self.members if m.extension == ext), None)

    def busy(self, m: SimMember) -> bool:
        return any(c.member is m and c.state in ("ringing", "talking", "outbound") for c in self.calls.values())

    def waiting(self) -> list[SimCall]:
        return sorted((c for c in self.calls.values() if c.state in ("queued", "ringing")), key=lambda c: c.joined)

    def _chan(self, name: str, linkedid: str | None, context: str, exten: str, state: int = 0) -> Chan:
        uid = self.uniqueid()
        return Chan(name, uid, linkedid or uid, context, exten, state=state, born=self.now())

    def _local_pair(self, exten: str, context: str, linkedid: str | None) -> tuple[Chan, Chan]:
        n = f"{next(self.local_counter):08x}"
        one = self._chan(f"Local/{exten}@{context}-{n};1", linkedid, context, exten, 0)
        two = self._chan(f"Local/{exten}@{context}-{n};2", one.linkedid, context, exten, 4)
        return one, two

    def _track(self, call: SimCall, *chans: Chan) -> None:
        for ch in chans:
            self.channels[ch.name] = (call, ch)

    def member_event(self, kind: str, m: SimMember) -> None:
        self.emit(f.event(kind, f.member_fields(QUEUE, m), privilege="agent"))

    # ------------------------------------------------------------ small event helpers
    def _ev(self, name: str, ch: Chan, *extra: tuple[str, object], privilege: str = "call") -> None:
        self.emit(f.event(name, ch.block(), list(extra), privilege=privilege))

    def _newexten(self, ch: Chan, app: str, data: str) -> None:
        ch.priority += 1
        self._ev("Newexten", ch, ("Extension", ch.exten), ("Application", app), ("AppData", data),
                 privilege="dialplan")

    def _varset(self, ch: Chan, name: str, value: str) -> None:
        ch.variables[name.lstrip("_")] = value
        self._ev("VarSet", ch, ("Variable", name), ("Value", value), privilege="dialplan")

    def _state(self, ch: Chan, state: int) -> None:
        ch.state = state
        self._ev("Newstate", ch)

    def _set_callerid(self, ch: Chan, num: str, connected: str) -> None:
        ch.caller_num = ch.caller_name = num
        self._ev("NewCallerid", ch, ("CID-CallingPres", "0 (Presentation Allowed, Not Screened)"))
        ch.connected_num = ch.connected_name = connected
        self._ev("NewConnectedLine", ch)

    def _local_bridge(self, one: Chan, two: Chan) -> None:
        self.emit(f.event("LocalBridge", one.block("LocalOne"), two.block("LocalTwo"),
                          [("Context", one.context), ("Exten", one.exten), ("LocalOptimization", "Yes")]))

    def _hangup(self, call: SimCall, ch: Chan | None, cause: int = 16) -> None:
        if ch is None or ch.name not in self.channels:
            return
        self.channels.pop(ch.name, None)
        self._ev("Hangup", ch, ("Cause", cause), ("Cause-txt", "Normal Clearing" if cause == 16 else "Unknown"))

    def _cdr(self, ch: Chan, dest: str, dest_ctx: str, dest_chan: str, app: str, data: str,
             disposition: str = "ANSWERED") -> None:
        start = datetime.fromtimestamp(self.started + ch.born / self.speed).strftime("%Y-%m-%d %H:%M:%S")
        dur = max(0, int(self.now() - ch.born))
        self.emit(f.event("Cdr", [
            ("AccountCode", ""), ("Source", ch.caller_num), ("Destination", dest), ("DestinationContext", dest_ctx),
            ("CallerID", f'"{ch.caller_name}" <{ch.caller_num}>'), ("Channel", ch.name),
            ("DestinationChannel", dest_chan), ("LastApplication", app), ("LastData", data), ("StartTime", start),
            ("AnswerTime", start), ("EndTime", start), ("Duration", dur), ("BillableSeconds", dur),
            ("Disposition", disposition), ("AMAFlags", "DOCUMENTATION"), ("UniqueID", ch.uniqueid),
            ("UserField", "")], privilege="cdr"))

    def _agent_event(self, name: str, call: SimCall, *extra: tuple[str, object], dest: bool = True) -> None:
        assert call.c2 is not None and call.member is not None
        parts = [call.c2.block()]
        if dest and call.a1 is not None:
            parts.append(call.a1.block("Dest"))
        parts.append([("Queue", call.queue), ("Interface", call.member.interface),
                      ("MemberName", call.member.name), *extra])
        self.emit(f.event(name, *parts, privilege="agent"))

    def _ended(self, call: SimCall) -> None:
        self.cancel(call)
        call.state = "ended"
        self.calls.pop(call.linkedid, None)
        for name in [n for n, (c, _) in self.channels.items() if c is call]:
            self.channels.pop(name, None)
        self.distribute()

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
        self._newexten(c2, "MixMonitor", "/var/spool/asterisk/monitor/hotline-${UNIQUEID}.wav")
        self._varset(c2, "MIXMONITOR_FILENAME", f"/var/spool/asterisk/monitor/hotline-{c2.uniqueid}.wav")
        self._ev("MixMonitorStart", c2)
        self._newexten(c2, "Queue", f"{QUEUE},t,,,120")
        call.position = len(self.waiting()) + 1
        self._varset(c2, "QUEUEPOSITION", str(call.position))
        call.state, call.joined = "queued", self.now()
        self._ev("QueueCallerJoin", c2, ("Queue", QUEUE), ("Position", call.position), ("Count", call.position),
                 privilege="agent")
        if call.patience is not None:
            self.later(call, "caller", call.patience, lambda: self.caller_hangs_up(call))
        self.distribute()

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
        self.cancel(call, "ring_timeout", "answer")
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
            if call.state == "ringing" and call.a1 is not None:
                self.emit(f.event("DialEnd", c2.block(), call.a1.block("Dest"), [("DialStatus", "CANCEL")]))
                self._drop_agent_legs(call, 0)
                if call.member is not None:
                    call.member.status = 1
                    self.member_event("QueueMemberStatus", call.member)
            self._cdr(c1, call.line, "from-pstn", "", "Wait", "0")
            self._hangup(call, c1, 0)
            hold = int(self.now() - call.joined)
            self._ev("QueueCallerAbandon", c2, ("Queue", QUEUE), ("Position", 1), ("OriginalPosition", call.position),
                     ("HoldTime", hold), privilege="agent")
            self._ev("QueueCallerLeave", c2, ("Queue", QUEUE), ("Position", 1),
                     ("Count", len([c for c in self.waiting() if c is not call])), privilege="agent")
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

    def redirect(self, name: str, context: str, exten: str) -> bool:
        """AMI Redirect of the caller's channel out of the queue bridge to a department."""
        found = self.channels.get(name)
        if found is None:
            return False
        call, ch = found
        if call.state != "talking" or ch is not call.c2 or call.a1 is None or call.member is None:
            self.hang_up(name)  # anything else: the channel leaves what it was doing
            return True
        self._to_department(call, context, exten)
        self.emit(f.event("BridgeLeave", f.bridge(call.bridge, 0), call.a1.block()))
        self._hangup(call, call.a1, 16)
        if call.a2 is not None:
            self._cdr(call.a2, call.member.extension, "agents", "", "Wait", "0")
            self._hangup(call, call.a2, 16)
        self._member_done(call.member)
        return True

    def conference(self, name: str, extra: str, room: str) -> bool:
        """AMI Redirect of the citizen and the agent (ExtraChannel) into a ConfBridge room."""
        found, other = self.channels.get(name), self.channels.get(extra)
        if found is None or other is None or found[0] is not other[0]:
            return False
        call = found[0]
        if call.state != "talking" or call.c2 is None or call.a1 is None:
            return False
        self.cancel(call, "agent")
        call.state, call.room = "conference", room
        for n, ch in enumerate((call.c2, call.a1)):
            self.emit(f.event("BridgeLeave", f.bridge(call.bridge, 1 - n), ch.block()))
        self.emit(f.event("BridgeDestroy", f.bridge(call.bridge, 0)))
        for ch in (call.c2, call.a1):
            ch.context, ch.exten, ch.priority = "hotline-conference", room, 1
            self._newexten(ch, "ConfBridge", f"{room},hotline_bridge,hotline_user")
            self.emit(f.event("ConfbridgeJoin", [("Conference", room)], ch.block()))
        return True

    def invite(self, phone: str, room: str, action_id: str | None) -> None:
        """A department expert called into a conference room (their own Linkedid)."""
        host = next((c for c in self.calls.values() if c.room == room), None)
        one, two = self._local_pair(phone, "hotline-departments", None)
        guest = SimCall(one.linkedid, one, two, phone, state="guest")
        self.calls[guest.linkedid] = guest
        self._track(guest, one, two)
        self._ev("Newchannel", one)
        self._ev("Newchannel", two)
        self._state(two, 6)
        self._state(one, 6)
        if action_id is not None:
            self.emit(f.event("OriginateResponse", [
                ("ActionID", action_id), ("Response", "Success"), ("Channel", one.name), ("Context", "hotline-conference"),
                ("Exten", room), ("Reason", 4), ("Uniqueid", one.uniqueid), ("CallerIDNum", "12345"),
                ("CallerIDName", "12345")]))
        self.emit(f.event("ConfbridgeJoin", [("Conference", room)], one.block()))
        if host is not None:
            host.guests.append(guest)

    def blind_transfer(self, name: str, context: str, exten: str) -> bool:
        """AMI BlindTransfer on the agent's channel: app_queue reports Reason=transfer at once."""
        found = self.channels.get(name)
        if found is None:
            return False
        call, ch = found
        if call.state != "talking" or ch is not call.a1 or call.c2 is None or call.member is None:
            return False
        self.emit(f.event("BlindTransfer", [("Result", "Success")], ch.block("Transferer"),
                          call.c2.block("Transferee"), f.bridge(call.bridge, 2),
                          [("IsExternal", "Yes"), ("Context", context), ("Extension", exten)]))
        self._ev("Unhold", ch)
        self._agent_event("AgentComplete", call, ("HoldTime", int(call.answered - call.joined)),
                          ("TalkTime", self._talk_seconds(call)), ("Reason", "transfer"))
        self._to_department(call, context, exten)
        if call.a2 is not None:
            self._cdr(call.a2, call.member.extension, "agents", "", "Wait", "0")
        self.emit(f.event("BridgeLeave", f.bridge(call.bridge, 0), ch.block()))
        self._hangup(call, ch, 16)
        if call.a2 is not None:
            self._hangup(call, call.a2, 16)
        self._member_done(call.member)
        call.member = None
        return True

    def _to_department(self, call: SimCall, context: str, exten: str) -> None:
        assert call.c2 is not None
        self.cancel(call, "agent")
        c2 = call.c2
        c2.context, c2.exten, c2.priority = context, exten, 1
        call.state, call.transfer_ctx, call.cdr_dest = "transferred", context, exten
        call.agent_leg = call.a1.name if call.a1 is not None else ""
        self._newexten(c2, "Answer", "")
        self.emit(f.event("BridgeLeave", f.bridge(call.bridge, 1), c2.block()))
        self._newexten(c2, "Wait", "5")
        # The department talks 5 s and hangs up; the caller's side then ends.
        self.later(call, "caller", 5.0, lambda: self.caller_hangs_up(call))

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

    # ------------------------------------------------------------ outbound (click-to-call, 回拨)
    def call_out(self, member: SimMember, number: str, caller_id: str, variables: dict[str, str],
                 action_id: str | None, *, citizen_answers: bool = True, talk: float = 30.0) -> SimCall:
        """Originate: the agent's phone rings first; when it answers, the citizen is dialled."""
        a = self._chan(f"{member.interface.removesuffix('/n')}-{next(self.local_counter):08x}", None,
                       "hotline-outbound", number, 0)
        a.caller_num = a.caller_name = caller_id
        call = SimCall(a.linkedid, a, None, number, state="outbound", member=member, a1=a, talk=talk)
        self.calls[call.linkedid] = call
        self._track(call, a)
        member.status, member.in_call = 2, True
        self._ev("Newchannel", a)
        self.member_event("QueueMemberStatus", member)

        def agent_answers() -> None:
            self._state(a, 6)
            if action_id is not None:
                self.emit(f.event("OriginateResponse", [
                    ("ActionID", action_id), ("Response", "Success"), ("Channel", a.name), ("Context", a.context),
                    ("Exten", number), ("Reason", 4), ("Uniqueid", a.uniqueid), ("CallerIDNum", caller_id),
                    ("CallerIDName", caller_id)]))
            self._newexten(a, "Set", "__HOTLINE_DIRECTION=outbound")
            for k, v in [("HOTLINE_DIRECTION", "outbound"), ("HOTLINE_AGENT", member.extension),
                         ("HOTLINE_CITIZEN", number), *variables.items()]:
                self._varset(a, f"__{k}", v)
            self._varset(a, "MIXMONITOR_FILENAME", f"/var/spool/asterisk/monitor/out-{a.uniqueid}.wav")
            self._ev("MixMonitorStart", a)
            c = self._chan(f"PJSIP/trunk-{next(self.local_counter):08x}", a.linkedid, "hotline-outbound", number, 0)
            c.caller_num = c.caller_name = number
            call.a2 = c
            self._track(call, c)
            self._ev("Newchannel", c)
            self.emit(f.event("DialBegin", a.block(), c.block("Dest"), [("DialString", f"trunk/{number}")]))
            if citizen_answers:
                self.later(call, "answer", self.rng.uniform(2, 6), lambda: citizen_picks_up(c))
            else:
                self.later(call, "answer", 30.0, lambda: no_answer(c))

        def citizen_picks_up(c: Chan) -> None:
            self._state(c, 6)
            self.emit(f.event("DialEnd", a.block(), c.block("Dest"), [("DialStatus", "ANSWER")]))
            call.bridge, call.answered = str(uuid.uuid4()), self.now()
            for n, ch in enumerate((a, c), 1):
                self.emit(f.event("BridgeEnter", f.bridge(call.bridge, n), ch.block()))
            self.later(call, "agent", talk, lambda: self._end_outbound(call))

        def no_answer(c: Chan) -> None:
            self.emit(f.event("DialEnd", a.block(), c.block("Dest"), [("DialStatus", "NOANSWER")]))
            self._end_outbound(call)

        self.later(call, "agent_ring", self.rng.uniform(1, 2), agent_answers)
        return call

    def _end_outbound(self, call: SimCall) -> None:
        if call.state == "ended":
            return
        if call.a2 is not None:
            self._hangup(call, call.a2, 16)
        self._hangup(call, call.a1, 16)
        if call.member is not None:
            call.member.status, call.member.in_call = 1, False
            self.member_event("QueueMemberStatus", call.member)
        self._ended(call)

    # ------------------------------------------------------------ shutdown
    def close(self) -> None:
        """Stop every timer: nothing happens any more (the process, or the test, is done)."""
        for call in list(self.calls.values()):
            self.cancel(call)
        for handle in self._returns:
            handle.cancel()
        self._returns.clear()
        self.calls.clear()
        self.channels.clear()

    def shutdown(self) -> None:
        """`core stop now`: every caller is hung up (queued ones count as abandoned), then Shutdown."""
        for call in list(self.calls.values()):
            if call.state == "outbound":
                self._end_outbound(call)
            else:
                self.caller_hangs_up(call)
        self.emit(f.event("Shutdown", [("Shutdown", "Cleanly"), ("Restart", "False")], privilege="system"))
