"""Transfers out of the queue bridge: AMI Redirect and BlindTransfer to a department, and
the three-way call (a dual Redirect into ConfBridge, the expert originated into the room)."""

from __future__ import annotations

from hotline.telephony.sim import frames as f
from hotline.telephony.sim.core import SimCall
from hotline.telephony.sim.inbound import Inbound


class Transfers(Inbound):
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
