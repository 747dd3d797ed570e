"""The call tracker: typed AMI events in, calls / queues / agents and notices out.

Pure: no socket, no database, no clock; `now` comes with every event. Calls are keyed by
Linkedid, which every channel of a call shares (agent legs and transferred legs too).
A call ends when its last channel hangs up, whatever order Asterisk sends the end-of-
call events in (AgentComplete, Cdr, BridgeLeave and Hangup come from different internal
topics and their order varies between identical runs).

After every (re)connect the connection hands in a `Snapshot` (CoreShowChannels,
QueueStatus, QueueSummary); `resync` ends the calls that vanished while the link was
down, so the board never shows a phantom call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from hotline.telephony import events as ev
from hotline.telephony.calls import (
    Agent,
    AgentNotice,
    AgentState,
    Call,
    CallNotice,
    Direction,
    Membership,
    Notice,
    Queue,
    QueueNotice,
    Waiting,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True)
class TrackerConfig:
    inbound_contexts: frozenset[str] = frozenset({"from-pstn"})
    transfer_contexts: frozenset[str] = frozenset({"departments", "hotline-departments"})
    recording_template: str = ""  # e.g. "/var/spool/asterisk/monitor/hotline-{uniqueid}.wav"
    survey_event: str = "HotlineSurvey"
    wrapup_reason: str = "话后处理"  # the pause reason of the desk's wrap-up (desk.wrapup_reason)


@dataclass
class Snapshot:
    """A resync's answers, and the tracker sequence at the moment it was asked for."""

    since_seq: int
    channels: list[ev.ChannelItem] = field(default_factory=list)
    members: list[ev.Member] = field(default_factory=list)
    entries: list[ev.QueueEntryItem] = field(default_factory=list)
    summaries: list[ev.QueueSummaryItem] = field(default_factory=list)
    variables: dict[str, dict[str, str]] = field(default_factory=dict)  # Linkedid → Getvar answers


class Tracker:
    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self.calls: dict[str, Call] = {}
        self.queues: dict[str, Queue] = {}
        self.agents: dict[str, Agent] = {}  # by extension
        self.seq = 0
        self._handlers: dict[type, Callable[[Any, datetime], list[Notice]]] = {
            ev.NewChannel: self._new_channel, ev.CallerId: self._caller_id, ev.VarSet: self._var_set,
            ev.Hangup: self._hangup, ev.MixMonitorStart: self._mixmonitor, ev.DialEnd: self._dial_end,
            ev.QueueCallerJoin: self._join, ev.QueueCallerLeave: self._leave,
            ev.QueueCallerAbandon: self._abandon, ev.AgentCalled: self._agent_called,
            ev.AgentConnect: self._agent_connect, ev.AgentComplete: self._agent_complete,
            ev.AgentRingNoAnswer: self._ring_no_answer, ev.BlindTransfer: self._blind_transfer,
            ev.MemberChanged: self._member_changed, ev.UserEvent: self._user_event,
            ev.Shutdown: self._shutdown,
        }

    # ------------------------------------------------------------ entry points
    def feed(self, event: object, now: datetime) -> list[Notice]:
        handler = self._handlers.get(type(event))
        return handler(event, now) if handler else []

    def board(self, now: datetime) -> dict[str, Any]:
        return {"calls": [c.snapshot(now) for c in self.calls.values() if c.direction is not Direction.OTHER],
                "queues": [q.snapshot(now) for q in self.queues.values()],
                "agents": [a.snapshot(now) for a in sorted(self.agents.values(), key=lambda a: a.extension)]}

    def tick(self, now: datetime) -> list[Notice]:
        """Wrap-up ends by the clock, not by an event."""
        out: list[Notice] = []
        for a in self.agents.values():
            if a.wrap_until is not None and now >= a.wrap_until:
                a.wrap_until = None
                out += self._wrapped(a, now)
                out.append(AgentNotice(a.snapshot(now)))
        return out

    def _wrapped(self, agent: Agent, now: datetime) -> list[Notice]:
        """话后处理 time of the agent's last call: the call's end until the agent is out of
        wrap-up (Asterisk's wrapuptime over, or the desk's wrap-up pause lifted or changed
        to another reason, or the next call). An agent who never went into wrap-up after the
        call (ready at once) has none to count, so nothing is said."""
        if agent.wrap_call is None or agent.wrap_from is None:
            return []
        state = agent.state(now)
        if state is AgentState.WRAP_UP or (state is AgentState.PAUSED
                                           and agent.pause_reason() == self.config.wrapup_reason):
            agent.wrap_seen = True
            return []
        if not agent.wrap_seen and not agent.call and state not in (AgentState.PAUSED, AgentState.LOGGED_OUT):
            # The desk's wrap-up pause may still be on its way (ready, ringing, or "in call" by a
            # member status Asterisk has not updated yet): only another call, another pause
            # reason or a logout says there is no wrap-up.
            return []
        linkedid, since, seen = agent.wrap_call, agent.wrap_from, agent.wrap_seen
        agent.wrap_call, agent.wrap_from, agent.wrap_seen = None, None, False
        if not seen:
            return []
        return [CallNotice("wrapped_up", {"linkedid": linkedid, "agent_extension": agent.extension,
                                          "wrapup_seconds": max(0, int((now - since).total_seconds()))})]

    # ------------------------------------------------------------ helpers
    def _call(self, e: ev.ChannelEvent, now: datetime) -> Call:
        call = self.calls.get(e.linkedid)
        if call is None:
            self.seq += 1
            call = self.calls[e.linkedid] = Call(e.linkedid, now, seq=self.seq)
        call.channels.add(e.uniqueid)
        return call

    def _agent(self, interface: str, name: str = "") -> Agent:
        ext = ev.extension_of(interface) or interface
        agent = self.agents.get(ext)
        if agent is None:
            agent = self.agents[ext] = Agent(ext)
        if interface and "/" in interface and not agent.interface:
            agent.interface = interface
        if name:
            agent.name = name
        return agent

    def _queue(self, name: str) -> Queue:
        q = self.queues.get(name)
        if q is None:
            q = self.queues[name] = Queue(name)
        return q

    @staticmethod
    def _says(kind: str, call: Call, now: datetime) -> list[Notice]:
        return [CallNotice(kind, call.snapshot(now))] if call.direction is not Direction.OTHER else []

    # ------------------------------------------------------------ channels
    def _new_channel(self, e: ev.NewChannel, now: datetime) -> list[Notice]:
        fresh = e.linkedid not in self.calls
        call = self._call(e, now)
        if not fresh:
            return []
        if e.context in self.config.inbound_contexts:
            call.direction = Direction.INBOUND
            call.line = e.exten
        if e.caller_num and e.caller_num != "<unknown>":
            call.caller, call.caller_name = e.caller_num, e.caller_name
        return self._says("started", call, now)

    def _caller_id(self, e: ev.CallerId, now: datetime) -> list[Notice]:
        call = self.calls.get(e.linkedid)
        if call is not None and not call.caller and e.caller_num and e.caller_num != "<unknown>":
            call.caller, call.caller_name = e.caller_num, e.caller_name
        return []

    def _var_set(self, e: ev.VarSet, now: datetime) -> list[Notice]:
        call = self._call(e, now)
        name, value = e.variable, e.value
        if name == "LEGACY_LINE":
            call.legacy_line = value or None
        elif name == "HOTLINE_CHANNEL":
            call.fax = call.fax or value == "fax"
            if call.direction is Direction.OTHER:
                call.direction = Direction.INBOUND
                return self._says("started", call, now)
        elif name == "IVR_CHOICE":
            call.ivr_choice = value
        elif name == "HOTLINE_DIRECTION" and value == "outbound":
            call.direction = Direction.OUTBOUND
            return self._says("started", call, now)
        elif name == "HOTLINE_CITIZEN":
            call.caller = value
        elif name == "HOTLINE_AGENT" and value:
            call.agent_extension = value
            agent = self.agents.get(value) or self._agent(value)
            agent.call = call.linkedid
            call.agent_name = call.agent_name or agent.name
            return [AgentNotice(agent.snapshot(now))]
        elif name == "HOTLINE_CALLBACK":
            call.callback_task = value or None
        elif name == "HOTLINE_OVERFLOW":
            call.overflow = value or None
        elif name == "HOTLINE_AFTER_HOURS":
            call.after_hours = value not in ("", "0")
        elif name == "MIXMONITOR_FILENAME":
            call.recording = value or None
        elif name == "SURVEY_RESULT":
            return self._rate(call, value, now)
        return []

    def _mixmonitor(self, e: ev.MixMonitorStart, now: datetime) -> list[Notice]:
        call = self._call(e, now)
        if call.recording is None and self.config.recording_template:
            call.recording = self.config.recording_template.format(uniqueid=e.uniqueid, linkedid=e.linkedid)
        return []

    def _dial_end(self, e: ev.DialEnd, now: datetime) -> list[Notice]:
        call = self.calls.get(e.linkedid)
        if call is None or call.direction is not Direction.OUTBOUND or e.dial_status != "ANSWER":
            return []
        if call.agent_extension and ev.extension_of(e.dest_channel) == call.agent_extension:
            return []  # the agent's own phone answering the originate
        call.dial_answered = True
        call.answered_at = call.answered_at or now
        return self._says("connected", call, now)

    def _hangup(self, e: ev.Hangup, now: datetime) -> list[Notice]:
        call = self.calls.get(e.linkedid)
        if call is None:
            return []
        call.channels.discard(e.uniqueid)
        out: list[Notice] = []
        if e.channel == call.caller_channel or call.hangup_cause is None:
            call.hangup_cause, call.hangup_cause_txt = e.cause, e.cause_txt
        if call.agent_channel and e.channel == call.agent_channel:
            # The agent's leg is gone (also after a Redirect, long before AgentComplete).
            out += self._free_agent(call, now)
        if not call.channels:
            out += self._end(call, now)
        return out

    def _end(self, call: Call, now: datetime, *, unseen: bool = False) -> list[Notice]:
        call.ended_at = now
        call.unseen_end = unseen
        out: list[Notice] = []
        if call.talk_seconds is None and call.answered_at is not None:
            call.talk_seconds = max(0, int((now - call.answered_at).total_seconds()))
        for q in self.queues.values():
            gone = [u for u, w in q.waiting.items() if w.linkedid == call.linkedid]
            for u in gone:
                del q.waiting[u]
            if gone:
                out.append(QueueNotice(q.snapshot(now)))
        for a in self.agents.values():
            if call.linkedid in (a.ringing_for, a.call):
                ended = a.call == call.linkedid
                if ended:
                    a.wrap_up(now, call.linkedid)
                a.ringing_for = None if a.ringing_for == call.linkedid else a.ringing_for
                a.call = None if a.call == call.linkedid else a.call
                out += self._wrapped(a, now) if ended else []
                out.append(AgentNotice(a.snapshot(now)))
        del self.calls[call.linkedid]
        return self._says("ended", call, now) + out

    def _free_agent(self, call: Call, now: datetime) -> list[Notice]:
        agent = self.agents.get(call.agent_extension or "")
        if agent is None or agent.call != call.linkedid:
            return []
        agent.call = None
        agent.wrap_up(now, call.linkedid)
        return [*self._wrapped(agent, now), AgentNotice(agent.snapshot(now))]

    # ------------------------------------------------------------ the queue
    def _join(self, e: ev.QueueCallerJoin, now: datetime) -> list[Notice]:
        call = self._call(e, now)
        if call.direction is Direction.OTHER:
            call.direction = Direction.INBOUND
        if not call.caller and e.caller_num and e.caller_num != "<unknown>":
            call.caller = e.caller_num
        call.queue, call.joined_at, call.caller_channel, call.left_queue = e.queue, now, e.channel, False
        q = self._queue(e.queue)
        q.waiting[e.uniqueid] = Waiting(e.linkedid, call.caller, now)
        return self._says("queued", call, now) + [QueueNotice(q.snapshot(now))]

    def _leave(self, e: ev.QueueCallerLeave, now: datetime) -> list[Notice]:
        q = self._queue(e.queue)
        q.waiting.pop(e.uniqueid, None)
        out: list[Notice] = [QueueNotice(q.snapshot(now))]
        call = self.calls.get(e.linkedid)
        if call is not None:
            call.left_queue = True
            call.ringing.clear()
            for a in self.agents.values():  # ringall: the others stop ringing with no event of their own
                if a.ringing_for == call.linkedid:
                    a.ringing_for = None
                    out.append(AgentNotice(a.snapshot(now)))
        return out

    def _abandon(self, e: ev.QueueCallerAbandon, now: datetime) -> list[Notice]:
        call = self._call(e, now)
        call.abandoned, call.hold_seconds = True, e.hold_time
        q = self._queue(e.queue)
        q.waiting.pop(e.uniqueid, None)
        return self._says("abandoned", call, now) + [QueueNotice(q.snapshot(now))]

    # ------------------------------------------------------------ agents
    def _agent_called(self, e: ev.AgentCalled, now: datetime) -> list[Notice]:
        call = self._call(e, now)
        agent = self._agent(e.interface, e.member_name)
        agent.ringing_for = e.linkedid
        call.ringing.add(agent.extension)
        return self._says("ringing", call, now) + [AgentNotice(agent.snapshot(now))]

    def _ring_no_answer(self, e: ev.AgentRingNoAnswer, now: datetime) -> list[Notice]:
        call = self._call(e, now)
        agent = self._agent(e.interface, e.member_name)
        if agent.ringing_for == e.linkedid:
            agent.ringing_for = None
        call.ringing.discard(agent.extension)
        call.missed_by.append(agent.extension)
        return self._says("missed", call, now) + [AgentNotice(agent.snapshot(now))]

    def _agent_connect(self, e: ev.AgentConnect, now: datetime) -> list[Notice]:
        call = self._call(e, now)
        agent = self._agent(e.interface, e.member_name)
        call.answered_at, call.hold_seconds, call.ring_seconds = now, e.hold_time, e.ring_time
        call.agent_interface, call.agent_extension, call.agent_name = e.interface, agent.extension, agent.name
        call.agent_channel, call.caller_channel = e.dest_channel, e.channel
        call.ringing.clear()
        agent.ringing_for, agent.call, agent.wrap_until = None, e.linkedid, None
        wrapped = self._wrapped(agent, now) if agent.wrap_call != e.linkedid else []  # the next call ends it
        return self._says("connected", call, now) + wrapped + [AgentNotice(agent.snapshot(now))]

    def _agent_complete(self, e: ev.AgentComplete, now: datetime) -> list[Notice]:
        call = self.calls.get(e.linkedid)
        out: list[Notice] = []
        if call is not None:
            call.talk_seconds, call.hold_seconds, call.end_reason = e.talk_time, e.hold_time, e.reason
            if e.context in self.config.transfer_contexts:  # a Redirect: app_queue still says "caller"
                call.transferred_to = call.transferred_to or e.exten
            elif e.reason == "transfer" and not call.transferred_to:
                call.transferred_to = "transfer"
            out += self._free_agent(call, now) if call.agent_extension else []
            out += self._says("completed", call, now)
        else:
            agent = self.agents.get(ev.extension_of(e.interface) or e.interface)
            if agent is not None and agent.call == e.linkedid:
                agent.call = None
                agent.wrap_up(now, e.linkedid)
                out += self._wrapped(agent, now)
                out.append(AgentNotice(agent.snapshot(now)))
        return out

    def _blind_transfer(self, e: ev.BlindTransfer, now: datetime) -> list[Notice]:
        call = self.calls.get(e.linkedid)
        if call is None or e.result != "Success":
            return []
        call.transferred_to = e.extension
        return self._says("transferred", call, now)

    def _member_changed(self, e: ev.MemberChanged, now: datetime) -> list[Notice]:
        m = e.member
        agent = self._agent(m.interface, m.name)
        if e.kind == "removed":
            agent.memberships.pop(m.queue, None)
        else:
            agent.memberships[m.queue] = Membership(m.paused, m.paused_reason, m.status, m.in_call,
                                                    m.wrapup_seconds)
        return [*self._wrapped(agent, now), AgentNotice(agent.snapshot(now))]

    def _user_event(self, e: ev.UserEvent, now: datetime) -> list[Notice]:
        if e.name != self.config.survey_event:
            return []
        call = self.calls.get(e.linkedid)
        if call is None:
            # On Asterisk the agent's hang-up can end the call here while the caller is still
            # keying the survey (the Local channels' order): the rating comes after "ended".
            value = e.headers.get("Rating", "").strip()
            return [CallNotice("surveyed", {"linkedid": e.linkedid, "rating": int(value)})] \
                if value in ("1", "2", "3", "4", "5") else []
        return self._rate(call, e.headers.get("Rating", ""), now)

    def _rate(self, call: Call, value: str, now: datetime) -> list[Notice]:
        if value.strip() in ("1", "2", "3", "4", "5"):
            call.rating = int(value)
            return self._says("rated", call, now)
        return []

    def _shutdown(self, e: ev.Shutdown, now: datetime) -> list[Notice]:
        """Asterisk stops: every channel is gone with it."""
        out: list[Notice] = []
        for call in list(self.calls.values()):
            out += self._end(call, now)
        return out

    def restore(self, calls: Iterable[dict[str, Any]], now: datetime) -> None:
        """Calls a previous run was following (their last snapshots, from the desk's journal).

        They count as seen before any resync: the first one ends those Asterisk no longer
        has (`unseen_end`) and keeps following the others.
        """
        for c in calls:
            if c["linkedid"] in self.calls:
                continue
            call = Call(c["linkedid"], _when(c.get("started_at")) or now, seq=0,
                        direction=Direction(c.get("direction") or Direction.OTHER.value))
            for key in ("caller", "caller_name", "line", "legacy_line", "ivr_choice", "queue", "agent_extension",
                        "agent_name", "agent_interface", "recording", "callback_task", "rating", "transferred_to",
                        "hangup_cause", "end_reason", "ring_seconds", "talk_seconds", "overflow"):
                if c.get(key) is not None:
                    setattr(call, key, c[key])
            call.missed_by = list(c.get("missed_by") or [])
            call.fax, call.after_hours = bool(c.get("fax")), bool(c.get("after_hours"))
            call.joined_at, call.answered_at = _when(c.get("joined_at")), _when(c.get("answered_at"))
            call.left_queue = c.get("phase") not in ("waiting", "ivr", "dialling")
            self.calls[call.linkedid] = call

    # ------------------------------------------------------------ resync
    def resync(self, snap: Snapshot, now: datetime) -> list[Notice]:
        out: list[Notice] = []
        by_call: dict[str, list[ev.ChannelItem]] = {}
        for item in snap.channels:
            by_call.setdefault(item.linkedid, []).append(item)
        for call in list(self.calls.values()):
            if call.linkedid not in by_call and call.seq <= snap.since_seq:
                out += self._end(call, now, unseen=True)
        for linkedid, items in by_call.items():
            known = self.calls.get(linkedid)
            if known is None:
                out += self._adopt(linkedid, items, snap.variables.get(linkedid, {}), now)
            elif known.seq <= snap.since_seq:
                known.channels = {i.uniqueid for i in items}
        out += self._resync_queues(snap, now)
        out += self._resync_agents(snap.members, now)
        return out

    def strangers(self, snap: Snapshot) -> list[tuple[str, str]]:
        """(Linkedid, channel to ask) of the calls in `snap` this tracker has never seen: the
        channel running the hotline's dialplan (in the queue, else in an inbound context)."""
        by_call: dict[str, list[ev.ChannelItem]] = {}
        for item in snap.channels:
            if item.linkedid not in self.calls:
                by_call.setdefault(item.linkedid, []).append(item)
        return [(linkedid, self._dialplan_channel(items).channel) for linkedid, items in by_call.items()]

    def _dialplan_channel(self, items: list[ev.ChannelItem]) -> ev.ChannelItem:
        return (next((i for i in items if i.application == "Queue"), None)
                or next((i for i in items if i.context in self.config.inbound_contexts
                         and i.application not in ("", "AppDial", "Wait")), None)
                or next((i for i in items if i.uniqueid == i.linkedid), items[0]))

    def _adopt(self, linkedid: str, items: list[ev.ChannelItem], variables: dict[str, str],
               now: datetime) -> list[Notice]:
        """A call that started while we were away: learn what the channel list and the
        channel's variables tell, and, when it is already connected to an agent, say so:
        the desk opens its draft as if the AgentConnect had been seen."""
        first = next((i for i in items if i.uniqueid == linkedid), items[0])
        self.seq += 1
        started = now - timedelta(seconds=max(i.duration_s for i in items))
        call = self.calls[linkedid] = Call(linkedid, started, seq=self.seq, channels={i.uniqueid for i in items})
        if first.context in self.config.inbound_contexts:
            call.direction, call.line = Direction.INBOUND, first.exten
        call.caller = first.caller_num if first.caller_num not in ("", "<unknown>") else ""
        call.caller_name = first.caller_name if first.caller_name not in ("", "<unknown>") else ""
        out: list[Notice] = []
        for name, value in variables.items():  # as if their VarSets had been seen
            out += self._var_set(ev.VarSet(first.channel, first.uniqueid, linkedid, name, value), now)
        if variables.get("HOTLINE_CHANNEL") and call.direction is Direction.OTHER:
            call.direction = Direction.INBOUND
        in_queue = next((i for i in items if i.application == "Queue"), None)
        if in_queue is not None:
            call.direction = Direction.INBOUND
            call.caller_channel = in_queue.channel
            call.queue = in_queue.application_data.split(",", 1)[0] or None
            call.joined_at = started
            if in_queue.bridge_id:
                call.answered_at = now  # talking already; the exact moment was missed
                peer = next((i for i in items if i.bridge_id == in_queue.bridge_id and i is not in_queue), None)
                if peer is not None:
                    call.agent_channel = peer.channel
                    call.agent_extension = ev.extension_of(peer.channel)
                    agent = self.agents.get(call.agent_extension or "")
                    if agent is not None:
                        agent.call, agent.ringing_for, agent.wrap_until = linkedid, None, None
                        call.agent_name = agent.name
                        call.agent_interface = agent.interface or None
        out = [n for n in out if not isinstance(n, CallNotice)]  # one "started", below
        out += self._says("started", call, now)
        if call.answered_at is not None and call.direction is Direction.INBOUND:
            out += self._says("connected", call, now)
        return out

    def _resync_queues(self, snap: Snapshot, now: datetime) -> list[Notice]:
        names = {s.queue for s in snap.summaries} | {m.queue for m in snap.members} | {e.queue for e in snap.entries}
        for name in names:
            self._queue(name).waiting.clear()
        for e in snap.entries:
            call: Call | None = next((c for c in self.calls.values() if e.uniqueid in c.channels), None)
            linkedid = call.linkedid if call else e.uniqueid
            if call is not None:
                call.queue, call.caller_channel = e.queue, e.channel
                call.joined_at = call.joined_at or now - timedelta(seconds=e.wait)
            self._queue(e.queue).waiting[e.uniqueid] = Waiting(linkedid, e.caller_num, now - timedelta(seconds=e.wait))
        return [QueueNotice(q.snapshot(now)) for q in self.queues.values()]

    def _resync_agents(self, members: Iterable[ev.Member], now: datetime) -> list[Notice]:
        seen: dict[str, dict[str, Membership]] = {}
        for m in members:
            agent = self._agent(m.interface, m.name)
            seen.setdefault(agent.extension, {})[m.queue] = Membership(
                m.paused, m.paused_reason, m.status, m.in_call, m.wrapup_seconds)
        for call in self.calls.values():  # agents on a call the resync found connected
            if call.agent_extension and call.answered_at is not None:
                agent = self._agent(call.agent_extension)
                agent.call = agent.call or call.linkedid
        out: list[Notice] = []
        for agent in self.agents.values():
            agent.memberships = seen.get(agent.extension, {})
            if agent.ringing_for not in self.calls:
                agent.ringing_for = None
            if agent.call not in self.calls:
                agent.call = None
            out.append(AgentNotice(agent.snapshot(now)))
        return out
