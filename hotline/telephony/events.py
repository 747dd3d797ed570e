"""Typed AMI events: the headers the tracker needs, checked once at the edge.

`parse(message)` turns one AMI message (a panoramisk `Message`, or any mapping with
case-insensitive `get`) into one of the dataclasses below, or `None` for the many
events the hotline ignores (Newexten, DeviceStateChange, most VarSets ...). A message
that claims to be an event we use but lacks a header we need raises `MalformedEvent`;
the connection logs it and skips the frame.

The field names follow Asterisk 22 as recorded in `tests/fixtures/ami-traces/`, e.g.
an `AgentConnect` frame (abridged)::

    Event: AgentConnect
    Channel: Local/12345@from-pstn-00000000;2      <- the caller, as the queue sees it
    Uniqueid: 1795695813.1
    Linkedid: 1795695813.0                         <- the call
    DestChannel: Local/8001@agents-00000001;1      <- the member (agent) leg
    Queue: hotline-12345
    Interface: Local/8001@agents/n
    MemberName: Agent 8001
    HoldTime: 2                                    <- seconds
    RingTime: 2                                    <- seconds (AgentRingNoAnswer: ms!)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

# Dialplan variables that carry hotline facts. VarSet keeps the `__` inheritance prefix.
HOTLINE_VARIABLES = frozenset({
    "LEGACY_LINE", "HOTLINE_CHANNEL", "IVR_CHOICE", "HOTLINE_DIRECTION", "HOTLINE_CITIZEN",
    "HOTLINE_CALLBACK", "HOTLINE_AGENT", "HOTLINE_OVERFLOW", "HOTLINE_AFTER_HOURS", "HOTLINE_QUEUE",
    "HOTLINE_DIALECT", "MIXMONITOR_FILENAME", "SURVEY_RESULT",
})
_EXTENSION = re.compile(r"^[A-Za-z0-9_]+/([^@/;\-]+)")


class Headers(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...


class MalformedEvent(ValueError):
    """An event we rely on came without a header it must have, or with a bad value."""


def extension_of(interface_or_channel: str) -> str | None:
    """`PJSIP/8001`, `PJSIP/8001-0000001a`, `Local/8001@agents/n` → `8001`."""
    m = _EXTENSION.match(interface_or_channel or "")
    return m.group(1) if m else None


# ---------------------------------------------------------------- the events

@dataclass(frozen=True, slots=True)
class ChannelEvent:
    channel: str
    uniqueid: str
    linkedid: str


@dataclass(frozen=True, slots=True)
class NewChannel(ChannelEvent):
    caller_num: str
    caller_name: str
    context: str
    exten: str


@dataclass(frozen=True, slots=True)
class CallerId(ChannelEvent):
    """NewCallerid: an originated call learns its caller id after Newchannel."""

    caller_num: str
    caller_name: str


@dataclass(frozen=True, slots=True)
class VarSet(ChannelEvent):
    variable: str  # without the `__`/`_` inheritance prefix
    value: str


@dataclass(frozen=True, slots=True)
class Hangup(ChannelEvent):
    cause: int
    cause_txt: str


@dataclass(frozen=True, slots=True)
class MixMonitorStart(ChannelEvent):
    pass


@dataclass(frozen=True, slots=True)
class DialEnd(ChannelEvent):
    """Only the dialling side's Linkedid matters; `channel` may be empty (originate)."""

    dest_channel: str
    dial_status: str


@dataclass(frozen=True, slots=True)
class QueueCallerJoin(ChannelEvent):
    caller_num: str
    queue: str
    position: int


@dataclass(frozen=True, slots=True)
class QueueCallerLeave(ChannelEvent):
    queue: str


@dataclass(frozen=True, slots=True)
class QueueCallerAbandon(ChannelEvent):
    queue: str
    hold_time: int


@dataclass(frozen=True, slots=True)
class AgentEvent(ChannelEvent):
    """Agent*: the caller is `channel`; the member is `interface` (+ `dest_channel`)."""

    queue: str
    interface: str
    member_name: str
    dest_channel: str


@dataclass(frozen=True, slots=True)
class AgentCalled(AgentEvent):
    pass


@dataclass(frozen=True, slots=True)
class AgentConnect(AgentEvent):
    hold_time: int
    ring_time: int


@dataclass(frozen=True, slots=True)
class AgentComplete(AgentEvent):
    hold_time: int
    talk_time: int
    reason: str  # caller | agent | transfer
    context: str  # where the caller was when it ended: a department's context after a Redirect
    exten: str


@dataclass(frozen=True, slots=True)
class AgentRingNoAnswer(AgentEvent):
    ring_ms: int


@dataclass(frozen=True, slots=True)
class BlindTransfer:
    transferee_channel: str
    linkedid: str
    context: str
    extension: str
    result: str


@dataclass(frozen=True, slots=True)
class Member:
    """A queue member as QueueMember* events and the QueueStatus list describe it."""

    queue: str
    interface: str
    name: str
    membership: str
    paused: bool
    paused_reason: str
    status: int  # device state: 1 not in use, 2 in use, 4 invalid, 5 unavailable, 6 ringing ...
    in_call: bool
    wrapup_seconds: int


@dataclass(frozen=True, slots=True)
class MemberChanged:
    kind: str  # status | pause | added | removed | penalty
    member: Member


@dataclass(frozen=True, slots=True)
class UserEvent:
    name: str
    linkedid: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Shutdown:
    restart: bool


@dataclass(frozen=True, slots=True)
class FullyBooted:
    uptime: int


# List items (answers to CoreShowChannels, QueueStatus, QueueSummary during a resync).

@dataclass(frozen=True, slots=True)
class ChannelItem:
    channel: str
    uniqueid: str
    linkedid: str
    caller_num: str
    caller_name: str
    context: str
    exten: str
    application: str
    bridge_id: str
    duration_s: int
    application_data: str = ""


@dataclass(frozen=True, slots=True)
class QueueEntryItem:
    queue: str
    channel: str
    uniqueid: str
    caller_num: str
    wait: int


@dataclass(frozen=True, slots=True)
class QueueSummaryItem:
    queue: str
    logged_in: int
    available: int
    callers: int
    longest_hold: int


AmiEvent = (NewChannel | CallerId | VarSet | Hangup | MixMonitorStart | DialEnd | QueueCallerJoin | QueueCallerLeave
            | QueueCallerAbandon | AgentCalled | AgentConnect | AgentComplete | AgentRingNoAnswer | BlindTransfer
            | MemberChanged | Member | UserEvent | Shutdown | FullyBooted | ChannelItem | QueueEntryItem
            | QueueSummaryItem)


# ---------------------------------------------------------------- parsing

def _need(m: Headers, key: str) -> str:
    v = m.get(key)
    if v is None:
        raise MalformedEvent(f"{m.get('Event')}: missing {key}")
    if isinstance(v, list):  # a repeated header: panoramisk makes a list of it
        raise MalformedEvent(f"{m.get('Event')}: {key} given {len(v)} times")
    return str(v)


def _opt(m: Headers, key: str) -> str:
    v = m.get(key)
    return v if isinstance(v, str) else ""


def _int(m: Headers, key: str, default: int | None = None) -> int:
    v = m.get(key)
    if v is None and default is not None:
        return default
    try:
        return int(str(v).strip())
    except (TypeError, ValueError):
        raise MalformedEvent(f"{m.get('Event')}: {key}={v!r} is not a number") from None


def _chan(m: Headers) -> tuple[str, str, str]:
    return _need(m, "Channel"), _need(m, "Uniqueid"), _need(m, "Linkedid")


def _agent(m: Headers) -> tuple[str, str, str, str, str, str, str]:
    return (*_chan(m), _need(m, "Queue"), _need(m, "Interface"), _opt(m, "MemberName"), _opt(m, "DestChannel"))


def _new_channel(m: Headers) -> NewChannel:
    return NewChannel(*_chan(m), _opt(m, "CallerIDNum"), _opt(m, "CallerIDName"), _opt(m, "Context"),
                      _opt(m, "Exten"))


def _var_set(m: Headers) -> VarSet | None:
    name = _need(m, "Variable").lstrip("_")
    if name not in HOTLINE_VARIABLES:
        return None
    # Global variables (AMI Setvar) come with `Channel: none` and no Linkedid.
    linkedid = m.get("Linkedid")
    if not isinstance(linkedid, str):
        return None
    return VarSet(_need(m, "Channel"), _need(m, "Uniqueid"), linkedid, name, _opt(m, "Value"))


def _member(m: Headers, interface_key: str, name_key: str) -> Member:
    return Member(_need(m, "Queue"), _need(m, interface_key), _opt(m, name_key), _opt(m, "Membership"),
                  _opt(m, "Paused") == "1", _opt(m, "PausedReason"), _int(m, "Status", 0),
                  _opt(m, "InCall") == "1", _int(m, "Wrapuptime", 0))


def _member_changed(kind: str) -> Callable[[Headers], MemberChanged]:
    return lambda m: MemberChanged(kind, _member(m, "Interface", "MemberName"))


def _duration(m: Headers) -> int:
    h, _, rest = _opt(m, "Duration").partition(":")
    mi, _, s = rest.partition(":")
    try:
        return int(h) * 3600 + int(mi) * 60 + int(s)
    except ValueError:
        return 0


def _user_event(m: Headers) -> UserEvent:
    linkedid = _opt(m, "Linkedid") or _opt(m, "HotlineCall")
    headers = {k: v for k, v in m.items() if isinstance(v, str)} if hasattr(m, "items") else {}
    return UserEvent(_need(m, "UserEvent"), linkedid, headers)


PARSERS: dict[str, Callable[[Headers], AmiEvent | None]] = {
    "Newchannel": _new_channel,
    "NewCallerid": lambda m: CallerId(*_chan(m), _opt(m, "CallerIDNum"), _opt(m, "CallerIDName")),
    "VarSet": _var_set,
    "Hangup": lambda m: Hangup(*_chan(m), _int(m, "Cause", 0), _opt(m, "Cause-txt")),
    "MixMonitorStart": lambda m: MixMonitorStart(*_chan(m)),
    "DialEnd": lambda m: DialEnd(_opt(m, "Channel"), _opt(m, "Uniqueid"),
                                 _opt(m, "Linkedid") or _need(m, "DestLinkedid"), _need(m, "DestChannel"),
                                 _need(m, "DialStatus")),
    "QueueCallerJoin": lambda m: QueueCallerJoin(*_chan(m), _opt(m, "CallerIDNum"), _need(m, "Queue"),
                                                 _int(m, "Position", 0)),
    "QueueCallerLeave": lambda m: QueueCallerLeave(*_chan(m), _need(m, "Queue")),
    "QueueCallerAbandon": lambda m: QueueCallerAbandon(*_chan(m), _need(m, "Queue"), _int(m, "HoldTime", 0)),
    "AgentCalled": lambda m: AgentCalled(*_agent(m)),
    "AgentConnect": lambda m: AgentConnect(*_agent(m), _int(m, "HoldTime", 0), _int(m, "RingTime", 0)),
    "AgentComplete": lambda m: AgentComplete(*_agent(m), _int(m, "HoldTime", 0), _int(m, "TalkTime", 0),
                                             _opt(m, "Reason"), _opt(m, "Context"), _opt(m, "Exten")),
    "AgentRingNoAnswer": lambda m: AgentRingNoAnswer(*_agent(m), _int(m, "RingTime", 0)),
    "BlindTransfer": lambda m: BlindTransfer(_need(m, "TransfereeChannel"), _need(m, "TransfereeLinkedid"),
                                             _opt(m, "Context"), _opt(m, "Extension"), _opt(m, "Result")),
    "QueueMemberStatus": _member_changed("status"),
    "QueueMemberPause": _member_changed("pause"),
    "QueueMemberAdded": _member_changed("added"),
    "QueueMemberRemoved": _member_changed("removed"),
    "QueueMemberPenalty": _member_changed("penalty"),
    "QueueMember": lambda m: _member(m, "Location", "Name"),
    "UserEvent": _user_event,
    "Shutdown": lambda m: Shutdown(_opt(m, "Restart").lower() == "true"),
    "FullyBooted": lambda m: FullyBooted(_int(m, "Uptime", 0)),
    "CoreShowChannel": lambda m: ChannelItem(*_chan(m), _opt(m, "CallerIDNum"), _opt(m, "CallerIDName"),
                                             _opt(m, "Context"), _opt(m, "Exten"), _opt(m, "Application"),
                                             _opt(m, "BridgeId"), _duration(m), _opt(m, "ApplicationData")),
    "QueueEntry": lambda m: QueueEntryItem(_need(m, "Queue"), _need(m, "Channel"), _need(m, "Uniqueid"),
                                           _opt(m, "CallerIDNum"), _int(m, "Wait", 0)),
    "QueueSummary": lambda m: QueueSummaryItem(_need(m, "Queue"), _int(m, "LoggedIn", 0), _int(m, "Available", 0),
                                               _int(m, "Callers", 0), _int(m, "LongestHoldTime", 0)),
}


def parse(message: Headers) -> AmiEvent | None:
    """The typed event, `None` for an event the hotline does not use.

    Raises `MalformedEvent` when a used event lacks what it needs.
    """
    # panoramisk's Message keeps {lower: (Key, value)}: private, hence the version bound in
    # pyproject.toml and the replays in tests/unit/test_telephony_panoramisk.py.
    store = getattr(message, "_store", None)
    name = store.get("event", (None, None))[1] if isinstance(store, dict) else message.get("Event")
    if not isinstance(name, str):
        if name is None:
            return None
        raise MalformedEvent(f"Event header given {len(name)} times")
    parser = PARSERS.get(name)
    if parser is None:
        return None
    if name == "VarSet":  # the commonest event by far; most of them are app_queue's own variables
        var = store.get("variable", (None, ""))[1] if isinstance(store, dict) else message.get("Variable")
        if isinstance(var, str) and var.lstrip("_") not in HOTLINE_VARIABLES:
            return None
    if isinstance(store, dict):
        # One C-level copy into a plain dict (Asterisk's own header case) instead of a
        # case-folding lookup per header: this runs for every event the hotline uses.
        message = dict(store.values())
    return parser(message)
