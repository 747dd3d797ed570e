"""The simulated PBX's state and plumbing: members, calls, channels, timers, and the
frames every change is written as (the flows are in `outbound`, `inbound`, `transfers`)."""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import time
import wave
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from hotline.telephony.sim import frames as f
from hotline.telephony.sim.frames import Chan

if TYPE_CHECKING:
    from collections.abc import Callable

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
    state: str = "ivr"  # ivr | queued | ringing | talking | transferred | survey | outbound | spy | ended
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
    spied: str = ""  # a supervisor's ChanSpy call: the agent's channel it listens to
    guests: list[SimCall] = field(default_factory=list)  # experts called into the room
    cdr_dest: str = ""
    timers: dict[str, asyncio.TimerHandle] = field(default_factory=dict)
    missed: list[str] = field(default_factory=list)  # member legs that rang out (one NO ANSWER Cdr each)
    recording: str = ""  # MIXMONITOR_FILENAME


def _silence(path: Path, seconds: float) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(b"\x00\x00" * int(8000 * seconds))
    except OSError:  # a demo without a writable folder: the call goes on, without a file
        pass


class PbxCore:
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
        self.globals: dict[str, str] = {"AGENT_RING": "2", "AGENT_TALK": "20",
                                        "RECORDINGS": "/var/spool/asterisk/monitor", "QUEUE_TIMEOUT": "120"}
        # Write each recording (a short silent WAV) where MIXMONITOR_FILENAME says, as
        # MixMonitor does when the call ends: set for the demo, so its orders can play one.
        self.write_recordings = False
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

    def distribute(self) -> None:
        """Offer waiting callers to free members: the queue's job (`inbound`)."""

    def _ended(self, call: SimCall) -> None:
        self.cancel(call)
        if self.write_recordings and call.recording and call.answered:
            _silence(Path(call.recording), 1.0)
        call.state = "ended"
        self.calls.pop(call.linkedid, None)
        for name in [n for n, (c, _) in self.channels.items() if c is call]:
            self.channels.pop(name, None)
        self.distribute()

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
