"""What the tracker knows: calls (keyed by Linkedid), queues and agents, and the
notices it hands to the I/O side. Plain data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class Direction(StrEnum):
    INBOUND = "inbound"  # a citizen called 12345 or a legacy line
    OUTBOUND = "outbound"  # an agent called out: click-to-call, callback (回拨)
    OTHER = "other"  # internal legs, conference invitations: tracked, not counted


class Outcome(StrEnum):
    """The `outcome` label of `hotline_calls_total`."""

    ANSWERED = "answered"  # an agent took it (inbound), or the citizen picked up (outbound)
    ABANDONED = "abandoned"  # 放弃: the caller hung up before an agent answered
    OVERFLOWED = "overflowed"  # 溢出: left the queue unanswered (timeout → overflow destination)
    TRANSFERRED = "transferred"  # 转接: answered, then sent to a department
    AFTER_HOURS = "after_hours"  # 非工作时间: never queued
    UNANSWERED = "unanswered"  # outbound: the citizen did not pick up
    FAX = "fax"  # 传真: the fax line took a fax (the fax channel makes its order), never a missed call


NOT_REACHED = frozenset({Outcome.ABANDONED, Outcome.OVERFLOWED, Outcome.AFTER_HOURS})  # → 回拨


class AgentState(StrEnum):
    """The `state` label of `hotline_agents`."""

    LOGGED_OUT = "logged_out"
    READY = "ready"
    RINGING = "ringing"
    ON_CALL = "on_call"
    PAUSED = "paused"
    WRAP_UP = "wrap_up"
    UNAVAILABLE = "unavailable"  # member, but the phone is not registered


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None


@dataclass(slots=True)
class Call:
    linkedid: str
    started_at: datetime
    direction: Direction = Direction.OTHER
    caller: str = ""  # the citizen's number, inbound or outbound
    caller_name: str = ""
    line: str = ""  # the number dialled (12345, or a legacy line before the Goto)
    legacy_line: str | None = None
    ivr_choice: str | None = None
    queue: str | None = None
    caller_channel: str = ""  # the channel app_queue calls the caller
    joined_at: datetime | None = None
    left_queue: bool = False
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    hold_seconds: int | None = None
    ring_seconds: int | None = None
    talk_seconds: int | None = None
    agent_interface: str | None = None
    agent_extension: str | None = None
    agent_name: str | None = None
    agent_channel: str = ""
    ringing: set[str] = field(default_factory=set)  # member interfaces being offered the call
    missed_by: list[str] = field(default_factory=list)  # extensions that let it ring out
    recording: str | None = None
    hangup_cause: int | None = None
    hangup_cause_txt: str = ""
    end_reason: str | None = None  # AgentComplete Reason: caller | agent | transfer
    transferred_to: str | None = None
    abandoned: bool = False
    overflow: str | None = None  # QUEUESTATUS when the queue gave up (TIMEOUT, FULL ...)
    after_hours: bool = False
    fax: bool = False  # the fax line (HOTLINE_CHANNEL=fax)
    dial_answered: bool = False  # outbound: the citizen's leg answered
    callback_task: str | None = None
    rating: int | None = None  # post-call survey, 5 非常满意 … 1 非常不满意
    channels: set[str] = field(default_factory=set)  # live Uniqueids of this call
    seq: int = 0  # tracker sequence when created: a resync spares calls newer than its request
    unseen_end: bool = False  # ended while the AMI link was down (found out by a resync)

    @property
    def outcome(self) -> Outcome | None:
        if self.direction is Direction.OUTBOUND:
            return Outcome.ANSWERED if self.dial_answered or self.answered_at else Outcome.UNANSWERED
        if self.direction is not Direction.INBOUND:
            return None
        if self.fax:
            return Outcome.FAX
        if self.answered_at is not None:
            return Outcome.TRANSFERRED if self.transferred_to else Outcome.ANSWERED
        # Asterisk 22 sends QueueCallerAbandon when the queue times out too: the dialplan's
        # HOTLINE_OVERFLOW (the QUEUESTATUS it gave up with) says the caller did not hang up.
        if self.overflow:
            return Outcome.OVERFLOWED
        if self.abandoned:
            return Outcome.ABANDONED
        if self.joined_at is not None and self.left_queue:
            return Outcome.OVERFLOWED  # the queue let go of a caller who had not hung up
        if self.after_hours:
            return Outcome.AFTER_HOURS
        return Outcome.ABANDONED  # hung up during the greeting, before the queue

    @property
    def phase(self) -> str:
        """Where the call is now, for the board."""
        if self.ended_at:
            return "ended"
        if self.answered_at:
            return "talking"
        if self.ringing:
            return "ringing"
        if self.joined_at and not self.left_queue:
            return "waiting"
        return "ivr" if self.direction is Direction.INBOUND else "dialling"

    def wait_seconds(self, now: datetime) -> int | None:
        if self.hold_seconds is not None:
            return self.hold_seconds
        if self.joined_at is None:
            return None
        return max(0, int(((self.answered_at or self.ended_at or now) - self.joined_at).total_seconds()))

    def snapshot(self, now: datetime) -> dict[str, Any]:
        outcome = self.outcome if self.ended_at else None
        return {
            "linkedid": self.linkedid, "direction": self.direction.value, "phase": self.phase,
            "caller": self.caller, "caller_name": self.caller_name, "line": self.line,
            "legacy_line": self.legacy_line, "ivr_choice": self.ivr_choice, "queue": self.queue,
            "started_at": _iso(self.started_at), "joined_at": _iso(self.joined_at),
            "answered_at": _iso(self.answered_at), "ended_at": _iso(self.ended_at),
            "wait_seconds": self.wait_seconds(now), "ring_seconds": self.ring_seconds,
            "talk_seconds": self.talk_seconds, "agent_extension": self.agent_extension,
            "agent_name": self.agent_name, "agent_interface": self.agent_interface,
            "missed_by": list(self.missed_by), "recording": self.recording, "hangup_cause": self.hangup_cause,
            "hangup_cause_txt": self.hangup_cause_txt, "end_reason": self.end_reason,
            "transferred_to": self.transferred_to, "rating": self.rating, "callback_task": self.callback_task,
            "outcome": outcome.value if outcome else None, "unseen_end": self.unseen_end,
            "fax": self.fax, "overflow": self.overflow, "after_hours": self.after_hours,
        }


@dataclass(slots=True)
class Membership:
    paused: bool = False
    reason: str = ""
    status: int = 1
    in_call: bool = False
    wrapup_seconds: int = 0


@dataclass(slots=True)
class Agent:
    extension: str
    interface: str = ""
    name: str = ""
    memberships: dict[str, Membership] = field(default_factory=dict)  # by queue
    ringing_for: str | None = None  # Linkedid
    call: str | None = None  # Linkedid of the call the agent is on
    wrap_until: datetime | None = None
    # 话后处理 of the agent's last call: from its end until the agent takes calls again.
    wrap_call: str | None = None
    wrap_from: datetime | None = None
    wrap_seen: bool = False  # in wrap-up (Asterisk's wrapuptime or the desk's pause) since that call

    def state(self, now: datetime) -> AgentState:
        if self.call:
            return AgentState.ON_CALL
        if self.ringing_for:
            return AgentState.RINGING
        if not self.memberships:
            return AgentState.LOGGED_OUT
        if self.wrap_until and now < self.wrap_until:
            return AgentState.WRAP_UP
        ms = self.memberships.values()
        if all(m.paused for m in ms):
            return AgentState.PAUSED
        if all(m.status in (4, 5) for m in ms):
            return AgentState.UNAVAILABLE
        if any(m.in_call for m in ms):
            return AgentState.ON_CALL
        return AgentState.READY

    def pause_reason(self) -> str | None:
        reasons = {m.reason for m in self.memberships.values() if m.paused}
        return next(iter(reasons)) if len(reasons) == 1 else (", ".join(sorted(reasons)) or None)

    def wrap_up(self, now: datetime, linkedid: str | None = None) -> None:
        wrap = max((m.wrapup_seconds for m in self.memberships.values()), default=0)
        self.wrap_until = now + timedelta(seconds=wrap) if wrap else None
        if linkedid is not None:
            self.wrap_call, self.wrap_from, self.wrap_seen = linkedid, now, False

    def snapshot(self, now: datetime) -> dict[str, Any]:
        state = self.state(now)
        return {"extension": self.extension, "interface": self.interface, "name": self.name,
                "state": state.value, "reason": self.pause_reason() if state is AgentState.PAUSED else None,
                "queues": sorted(self.memberships), "call": self.call,
                "wrap_until": _iso(self.wrap_until) if state is AgentState.WRAP_UP else None}


@dataclass(slots=True)
class Waiting:
    linkedid: str
    caller: str
    since: datetime


@dataclass(slots=True)
class Queue:
    name: str
    waiting: dict[str, Waiting] = field(default_factory=dict)  # by the caller's Uniqueid

    def longest_wait(self, now: datetime) -> int:
        if not self.waiting:
            return 0
        return max(0, int((now - min(w.since for w in self.waiting.values())).total_seconds()))

    def snapshot(self, now: datetime) -> dict[str, Any]:
        return {"queue": self.name, "waiting": len(self.waiting), "longest_wait": self.longest_wait(now),
                "callers": [{"linkedid": w.linkedid, "caller": w.caller, "since": _iso(w.since)}
                            for w in sorted(self.waiting.values(), key=lambda w: w.since)]}


# ---------------------------------------------------------------- notices

@dataclass(frozen=True, slots=True)
class CallNotice:
    """Something happened to a call. `call` is a snapshot taken when it happened."""

    kind: str  # started | queued | ringing | missed | connected | transferred | rated | left_queue | ended | surveyed
    # | wrapped_up
    call: dict[str, Any]


@dataclass(frozen=True, slots=True)
class QueueNotice:
    queue: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AgentNotice:
    agent: dict[str, Any]


Notice = CallNotice | QueueNotice | AgentNotice
