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

from hotline.telephony.sim.core import QUEUE, SimCall, SimMember
from hotline.telephony.sim.spy import Spying

__all__ = ["QUEUE", "Pbx", "SimCall", "SimMember"]


class Pbx(Spying):
    """The whole simulated PBX: state (`core`), calls out (`outbound`), calls in (`inbound`),
    transfers and three-way calls (`transfers`), supervisors' ChanSpy (`spy`)."""
