"""The AMI consumer: events → tracker → metrics, live events and the call desk.

Frames arrive in panoramisk's protocol callback; they are parsed and fed to the pure
tracker right there (no task per event). What the tracker says goes two ways, each
through one owned task so neither can hold up the socket: live events to the dashboards,
and the call desk's database work (drafts, call records, callbacks), in order.
After each login the consumer resyncs from CoreShowChannels, QueueStatus, QueueSummary.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from hotline.telephony import events as ev
from hotline.telephony.calls import AgentNotice, AgentState, CallNotice, Notice, QueueNotice
from hotline.telephony.link import AmiLink, PbxError, PbxUnavailable
from hotline.telephony.tracker import Snapshot, Tracker

if TYPE_CHECKING:
    from hotline.clock import Clock
    from hotline.live import LiveBus
    from hotline.metrics import Metrics
    from hotline.telephony.journal import DeskJournal

log = logging.getLogger(__name__)
DeskHandler = Callable[[str, dict[str, Any]], Awaitable[None]]
DESK_KINDS = frozenset({"queued", "connected", "ended", "surveyed", "wrapped_up"})
TRANSIENT = (OperationalError, InterfaceError, PoolTimeout, OSError, ConnectionError)
# Read with Getvar from a call the resync finds but never saw start (the tracker's VarSet names).
RESYNC_VARIABLES = ("LEGACY_LINE", "HOTLINE_CHANNEL", "IVR_CHOICE", "MIXMONITOR_FILENAME", "HOTLINE_DIRECTION",
                    "HOTLINE_AGENT", "HOTLINE_CITIZEN", "HOTLINE_CALLBACK")


class AmiConsumer:
    def __init__(self, link_args: dict[str, Any], tracker: Tracker, *, clock: Clock, metrics: Metrics,
                 live: LiveBus, desk: DeskHandler | None = None, tick_every: float = 1.0,
                 share_board: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
                 journal: DeskJournal | None = None) -> None:
        self.tracker, self.clock, self.metrics, self.live, self.desk = tracker, clock, metrics, live, desk
        self.journal = journal  # desk items on disk before they are queued (kill -9 loses none)
        self.share_board = share_board  # the other nodes' copy of the board (Redis)
        self.link = AmiLink(**link_args, events=True, on_message=self.on_message, on_up=self.resync,
                            on_down=self._down, name="ami-consumer")
        self.tick_every = tick_every
        self.boot_wait = 30.0  # seconds to wait for FullyBooted after a login
        self._live_q: asyncio.Queue[Notice] = asyncio.Queue()
        self._desk_q: asyncio.Queue[tuple[str, dict[str, Any], int]] = asyncio.Queue()
        self._agent_states: dict[str, str] = {}  # extension → state last counted in the gauge
        for state in AgentState:  # every state from the start, at 0, so dashboards see them all
            metrics.agents.labels(state.value).set(0)
        self._outcomes: dict[str, Any] = {}
        self._waiting: dict[str, Any] = {}
        self.malformed = 0
        self.fed = 0
        self.resyncs = 0

    # ------------------------------------------------------------ the hot path
    def on_message(self, message: Any) -> None:
        try:
            event = ev.parse(message)
        except ev.MalformedEvent as exc:
            self.malformed += 1
            if self.malformed <= 20 or self.malformed % 1000 == 0:
                log.warning("AMI: skipped a malformed event (%d so far): %s", self.malformed, exc)
            return
        if event is None:
            return
        self.fed += 1
        self.notify(self.tracker.feed(event, self.clock()))

    def notify(self, notices: list[Notice]) -> None:
        m = self.metrics
        for n in notices:
            if isinstance(n, CallNotice):
                outcome = n.call.get("outcome")  # a wrapped_up notice has none
                if n.kind == "ended" and outcome:
                    counter = self._outcomes.get(outcome) or self._outcomes.setdefault(outcome, m.calls.labels(outcome))
                    counter.inc()
                if self.desk is not None and n.kind in DESK_KINDS:
                    seq = self.journal.add(n.kind, n.call) if self.journal is not None else 0
                    self._desk_q.put_nowait((n.kind, n.call, seq))
            elif isinstance(n, QueueNotice):
                q = n.queue["queue"]
                gauge = self._waiting.get(q) or self._waiting.setdefault(q, m.queue_waiting.labels(q))
                gauge.set(n.queue["waiting"])
            elif isinstance(n, AgentNotice):
                # Counted as states change, not by walking every agent on each notice.
                ext, state = n.agent["extension"], n.agent["state"]
                old = self._agent_states.get(ext)
                if old != state:
                    if old is not None:
                        m.agents.labels(old).dec()
                    m.agents.labels(state).inc()
                    self._agent_states[ext] = state
            self._live_q.put_nowait(n)

    # ------------------------------------------------------------ session hooks
    async def resync(self) -> None:
        """After every login: what is really up now, so no phantom call stays on the board.

        Asterisk accepts the login while it is still loading modules; until FullyBooted its
        answer to QueueStatus is "Invalid/unknown command". So: wait for FullyBooted (a
        running Asterisk sends it right after the login), then ask, and ask again with a
        growing pause while it refuses. The link counts as up only once the board is true.
        """
        try:
            async with asyncio.timeout(self.boot_wait):
                await self.link.booted.wait()
        except TimeoutError:
            log.warning("AMI: no FullyBooted within %.0f s of the login; resyncing anyway", self.boot_wait)
        delay = 0.25
        while True:
            try:
                snap = await self._snapshot()
                break
            except PbxUnavailable:
                return  # the link went down; the next login resyncs again
            except (PbxError, ConnectionError) as exc:
                if not self.link.up:
                    return
                log.warning("AMI resync incomplete: %s; asking again in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        self.notify(self.tracker.resync(snap, self.clock()))
        self.resyncs += 1
        self.metrics.ami_connected.set(1)  # up, and the board tells the truth again
        log.info("AMI resync: %d channels, %d members, %d waiting; %d calls on the board",
                 len(snap.channels), len(snap.members), len(snap.entries), len(self.tracker.calls))

    async def _snapshot(self) -> Snapshot:
        snap = Snapshot(since_seq=self.tracker.seq)
        answers = await asyncio.gather(
            self.link.send({"Action": "CoreShowChannels"}, as_list=True),
            self.link.send({"Action": "QueueStatus"}, as_list=True),
            self.link.send({"Action": "QueueSummary"}, as_list=True), return_exceptions=True)
        for answer in answers:
            if isinstance(answer, BaseException):
                raise answer
            for message in answer[1:]:
                try:
                    item = ev.parse(message)
                except ev.MalformedEvent as exc:
                    log.warning("AMI resync: skipped %s", exc)
                    continue
                if isinstance(item, ev.ChannelItem):
                    snap.channels.append(item)
                elif isinstance(item, ev.Member):
                    snap.members.append(item)
                elif isinstance(item, ev.QueueEntryItem):
                    snap.entries.append(item)
                elif isinstance(item, ev.QueueSummaryItem):
                    snap.summaries.append(item)
        await self._strangers_variables(snap)
        return snap

    async def _strangers_variables(self, snap: Snapshot) -> None:
        """Calls that started while we were away: what their channels' variables say (the
        legacy line, the recording, a fax), which CoreShowChannels does not list."""
        for linkedid, channel in self.tracker.strangers(snap):
            for name in RESYNC_VARIABLES:
                try:
                    reply = await self.link.send({"Action": "Getvar", "Channel": channel, "Variable": name})
                except PbxUnavailable:
                    raise
                except PbxError:  # the channel hung up meanwhile: the events will say so
                    break
                value = reply.get("Value")
                if isinstance(value, str) and value and value != "(null)":
                    snap.variables.setdefault(linkedid, {})[name] = value

    def _down(self) -> None:
        self.metrics.ami_connected.set(0)

    # ------------------------------------------------------------ owned tasks
    async def run(self) -> None:
        if self.journal is not None and self.desk is not None:
            self._recover(self.journal)
        desk = asyncio.create_task(self._desk_writer(), name="ami:desk")
        tasks = [asyncio.create_task(self.link.run(), name="ami:link"),
                 asyncio.create_task(self._publisher(), name="ami:live"),
                 asyncio.create_task(self._ticker(), name="ami:tick")]
        try:
            done, _ = await asyncio.wait([*tasks, desk], return_when=asyncio.FIRST_EXCEPTION)
            for t in done:
                t.result()  # a crash: let the supervisor log it and start us again
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.metrics.ami_connected.set(0)
            await self.link.close()
            # Calls already ended are written before we go (a shutdown, a lost lock), within reason.
            if not desk.done():
                try:
                    async with asyncio.timeout(5):
                        await self._desk_q.join()
                except TimeoutError:
                    log.warning("call desk: %d call(s) not written at shutdown", self._desk_q.qsize())
            desk.cancel()
            await asyncio.gather(desk, return_exceptions=True)
            if self.journal is not None:
                self.journal.close()

    def _recover(self, journal: DeskJournal) -> None:
        """What the last run was told but had not written, and the calls it was following."""
        pending, live = journal.recover()
        self.tracker.restore(live, self.clock())
        journal.open(live)
        for kind, call in pending:
            self._desk_q.put_nowait((kind, call, journal.add(kind, call)))

    async def _publisher(self) -> None:
        while True:
            n = await self._live_q.get()
            try:
                if isinstance(n, CallNotice):
                    await self.live.publish("call", {"event": n.kind, **n.call})
                elif isinstance(n, QueueNotice):
                    await self.live.publish("queue", n.queue)
                else:
                    await self.live.publish("agent", n.agent)
            except Exception:  # a dashboard hiccup must not stop the phones
                log.exception("live: could not publish a telephony event")
            finally:
                self._live_q.task_done()

    async def _desk_writer(self) -> None:
        delay = 0.5
        while True:
            kind, call, seq = await self._desk_q.get()
            while self.desk is not None:
                try:
                    await self.desk(kind, call)
                    delay = 0.5
                    break
                except asyncio.CancelledError:
                    raise
                except TRANSIENT as exc:  # the database is away: keep the item, wait, try again
                    log.warning("call desk: %s of call %s failed (%s); retrying in %.1f s", kind,
                                call.get("linkedid"), type(exc).__name__, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 30.0)
                except Exception:  # a bug: retrying would stall every later call behind this one
                    log.exception("call desk: %s of call %s failed; skipped", kind, call.get("linkedid"))
                    break
            if self.journal is not None:
                self.journal.done(seq)
                if self._desk_q.empty():
                    now = self.clock()
                    self.journal.compact(c.snapshot(now) for c in self.tracker.calls.values())
            self._desk_q.task_done()

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(self.tick_every)
            notices = self.tracker.tick(self.clock())
            if notices:
                self.notify(notices)
            if self.share_board is not None and self.link.up:
                try:
                    await self.share_board(self.tracker.board(self.clock()))
                except Exception as exc:  # the other nodes' board is a nicety; the phones go on
                    log.warning("could not share the board: %s", type(exc).__name__)

    async def drained(self) -> None:
        """Wait until every notice so far is published and written (tests, benchmarks)."""
        await self._live_q.join()
        await self._desk_q.join()
