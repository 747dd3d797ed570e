"""Click-to-call and callbacks (回拨): the agent's phone rings first, then the citizen."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from hotline.telephony.sim import frames as f
from hotline.telephony.sim.core import PbxCore, SimCall, SimMember

if TYPE_CHECKING:
    from hotline.telephony.sim.frames import Chan


class Outbound(PbxCore):
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
            call.recording = f"{self.globals['RECORDINGS']}/out-{a.uniqueid}.wav"
            self._varset(a, "MIXMONITOR_FILENAME", call.recording)
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
