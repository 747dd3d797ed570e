"""AMI frames as Asterisk 22 writes them: the same headers in the same order.

Every layout here was copied from the recorded traces (tests/fixtures/ami-traces/); a
test compares them header by header. Most call events are one "channel block"
(`Channel` … `Linkedid`, 14 headers), optionally preceded or followed by a second block
with a prefix (`Dest…`, `Transferer…`, `LocalOne…`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

CRLF = "\r\n"
STATE_DESC = {0: "Down", 4: "Ring", 5: "Ringing", 6: "Up"}
PRIVILEGE = {
    "agent": "agent,all", "call": "call,all", "cdr": "cdr,all", "dialplan": "dialplan,all",
    "system": "system,all", "security": "security,all",
}
AGENT_EVENTS = {"AgentCalled", "AgentComplete", "AgentConnect", "AgentRingNoAnswer", "QueueCallerAbandon",
                "QueueCallerJoin", "QueueCallerLeave", "QueueMemberAdded", "QueueMemberPause",
                "QueueMemberPenalty", "QueueMemberRemoved", "QueueMemberStatus"}

Fields = list[tuple[str, object]]


@dataclass
class Chan:
    """A channel as the simulator keeps it."""

    name: str
    uniqueid: str
    linkedid: str
    context: str
    exten: str
    caller_num: str = "<unknown>"
    caller_name: str = "<unknown>"
    connected_num: str = "<unknown>"
    connected_name: str = "<unknown>"
    state: int = 0
    priority: int = 1
    language: str = "en"
    app: str = ""
    app_data: str = ""
    bridge: str = ""
    born: float = 0.0  # loop time
    answered: float | None = None
    variables: dict[str, str] = field(default_factory=dict)

    def block(self, prefix: str = "") -> Fields:
        return [(f"{prefix}Channel", self.name), (f"{prefix}ChannelState", self.state),
                (f"{prefix}ChannelStateDesc", STATE_DESC.get(self.state, "Unknown")),
                (f"{prefix}CallerIDNum", self.caller_num), (f"{prefix}CallerIDName", self.caller_name),
                (f"{prefix}ConnectedLineNum", self.connected_num),
                (f"{prefix}ConnectedLineName", self.connected_name), (f"{prefix}Language", self.language),
                (f"{prefix}AccountCode", ""), (f"{prefix}Context", self.context), (f"{prefix}Exten", self.exten),
                (f"{prefix}Priority", self.priority), (f"{prefix}Uniqueid", self.uniqueid),
                (f"{prefix}Linkedid", self.linkedid)]


def frame(items: Iterable[tuple[str, object]]) -> bytes:
    return ("".join(f"{k}: {v}{CRLF}" for k, v in items) + CRLF).encode("utf-8")


def event(name: str, *parts: Fields, privilege: str | None = "call") -> bytes:
    head: Fields = [("Event", name)]
    if privilege is not None:
        head.append(("Privilege", PRIVILEGE.get(privilege, privilege)))
    return frame([*head, *(kv for part in parts for kv in part)])


def response(action_id: str | None, *fields: tuple[str, object], ok: bool = True) -> bytes:
    items: Fields = [("Response", "Success" if ok else "Error")]
    if action_id is not None:
        items.append(("ActionID", action_id))
    return frame([*items, *fields])


def error(action_id: str | None, message: str) -> bytes:
    return response(action_id, ("Message", message), ok=False)


def list_start(action_id: str | None, message: str) -> bytes:
    return response(action_id, ("EventList", "start"), ("Message", message))


def list_complete(name: str, action_id: str | None, count: int) -> bytes:
    items: Fields = [("Event", name)]
    if action_id is not None:
        items.append(("ActionID", action_id))
    return frame([*items, ("EventList", "Complete"), ("ListItems", count)])


def bridge(uid: str, count: int) -> Fields:
    return [("BridgeUniqueid", uid), ("BridgeType", "basic"), ("BridgeTechnology", "simple_bridge"),
            ("BridgeCreator", "<unknown>"), ("BridgeName", "<unknown>"), ("BridgeNumChannels", count),
            ("BridgeVideoSourceMode", "none")]


def member_fields(queue: str, m: object, *, listing: bool = False) -> Fields:
    """QueueMember* events (MemberName/Interface) or a QueueStatus item (Name/Location)."""
    g = m.__dict__
    if listing:
        return [("Queue", queue), ("Name", g["name"]), ("Location", g["interface"]),
                ("StateInterface", g["state_interface"]), ("Membership", g["membership"]),
                ("Penalty", g["penalty"]), ("CallsTaken", g["calls_taken"]), ("LastCall", g["last_call"]),
                ("LastPause", g["last_pause"]), ("LoginTime", g["login_time"]), ("InCall", int(g["in_call"])),
                ("Status", g["status"]), ("Paused", int(g["paused"])), ("PausedReason", g["reason"]),
                ("Wrapuptime", 0)]
    return [("Queue", queue), ("MemberName", g["name"]), ("Interface", g["interface"]),
            ("StateInterface", g["state_interface"]), ("Membership", g["membership"]), ("Penalty", g["penalty"]),
            ("CallsTaken", g["calls_taken"]), ("LastCall", g["last_call"]), ("LastPause", g["last_pause"]),
            ("LoginTime", g["login_time"]), ("InCall", int(g["in_call"])), ("Status", g["status"]),
            ("Paused", int(g["paused"])), ("PausedReason", g["reason"]), ("Ringinuse", 0), ("Wrapuptime", 0)]
