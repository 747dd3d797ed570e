"""The supervisor's listen-in, whisper and barge (监听/耳语/强插): AMI Originate of the
supervisor's phone into `ChanSpy(<agent's channel>,<options>)`.

As Asterisk does: the supervisor's phone rings and answers, `OriginateResponse`, the
`ChanSpy` application starts (`ChanSpyStart` names spyer and spyee), and the spy leaves
with `ChanSpyStop` and a hangup when the agent's channel hangs up (option E), or when the
supervisor hangs up. A spy is a call of its own (its own Linkedid), never a queue call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hotline.telephony.sim import frames as f
from hotline.telephony.sim.core import SimCall
from hotline.telephony.sim.transfers import Transfers

if TYPE_CHECKING:
    from hotline.telephony.sim.frames import Chan


class Spying(Transfers):
    def spy(self, interface: str, data: str, action_id: str | None) -> None:
        """Originate `interface` with Application=ChanSpy, Data=`<channel>,<options>`."""
        target, _, options = data.partition(",")
        name = (f"{interface.removesuffix('/n')}-{next(self.local_counter):08x};1" if interface.startswith("Local/")
                else f"{interface}-{next(self.local_counter):08x}")
        ch = self._chan(name, None, "", "", 0)
        ch.app, ch.app_data = "ChanSpy", data
        spy = SimCall(ch.linkedid, ch, None, interface, state="spy", spied=target)
        self._track(spy, ch)
        self._ev("Newchannel", ch)
        self._state(ch, 5)  # the supervisor's phone rings

        def answered() -> None:
            if ch.name not in self.channels:
                return
            self._state(ch, 6)
            if action_id is not None:
                self.emit(f.event("OriginateResponse", [
                    ("ActionID", action_id), ("Response", "Success"), ("Channel", ch.name),
                    ("Application", "ChanSpy"), ("Data", data), ("Reason", 4), ("Uniqueid", ch.uniqueid),
                    ("CallerIDNum", "<unknown>"), ("CallerIDName", "<unknown>")]))
            self._ev("Newexten", ch, ("Extension", ""), ("Application", "ChanSpy"), ("AppData", data),
                     privilege="dialplan")
            spied = self.channels.get(target)
            if spied is None or spied[0].state != "talking":
                self.end_spy(ch)  # S: nothing (left) to spy on
                return
            self.emit(f.event("ChanSpyStart", ch.block("Spyer"), spied[1].block("Spyee")))

        self.later(spy, "answer", 1.0, answered)

    def spies_on(self, target: str) -> list[Chan]:
        return [ch for call, ch in self.channels.values() if call.state == "spy" and call.spied == target]

    def end_spy(self, ch: Chan) -> None:
        found = self.channels.get(ch.name)
        if found is None:
            return
        spy = found[0]
        self.cancel(spy)
        spied = self.channels.get(spy.spied)
        if ch.state == 6 and spied is not None:
            self.emit(f.event("ChanSpyStop", ch.block("Spyer"), spied[1].block("Spyee")))
        self._hangup(spy, ch, 16)

    # ------------------------------------------------------------ spies follow the spied channel
    def _hangup(self, call: SimCall, ch: Chan | None, cause: int = 16) -> None:
        spies = self.spies_on(ch.name) if ch is not None and call.state != "spy" else []
        for spy in spies:  # E: ChanSpyStop while the spyee is still there, then both go
            self.end_spy(spy)
        super()._hangup(call, ch, cause)

    def hang_up(self, name: str) -> bool:
        found = self.channels.get(name)
        if found is not None and found[0].state == "spy":
            self.end_spy(found[1])
            return True
        return super().hang_up(name)

    def shutdown(self) -> None:
        for call, ch in list(self.channels.values()):
            if call.state == "spy":
                self.end_spy(ch)
        super().shutdown()
