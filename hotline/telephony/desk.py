"""Calls become work: a draft order for the agent who answered, a call record when the
call ends, a callback task (回拨) for a citizen nobody reached.

Fed with the tracker's call notices, one at a time and in order, by the consumer's
writer task. Everything here is idempotent on the call's Linkedid, so the same call
seen twice (a take-over between two `serve` processes) changes nothing the second time.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hotline.contact import Contact, Identity
from hotline.domain import workorder as wo
from hotline.domain.vocabulary import OPEN, ActorKind, Channel
from hotline.storage.orders import load_for_update
from hotline.storage.queries import find_citizen
from hotline.telephony import queries
from hotline.telephony.calls import NOT_REACHED, Direction, Outcome
from hotline.telephony.models import OPEN_TASK
from hotline.workorders import state_of

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from hotline.clock import Clock
    from hotline.intake import Intake
    from hotline.live import LiveBus
    from hotline.settings import Settings
    from hotline.storage.engine import SessionFactory
    from hotline.telephony.config import TelephonySettings
    from hotline.telephony.recordings import Recordings
    from hotline.workorders import Change, WorkOrderService

log = logging.getLogger(__name__)
PHONE = re.compile(r"^\+?\d{5,20}$")


def _at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class CallDesk:
    def __init__(self, config: TelephonySettings, settings: Settings, *, sessions: SessionFactory, clock: Clock,
                 live: LiveBus, intake: Intake, recordings: Recordings | None = None,
                 orders: WorkOrderService | None = None) -> None:
        self.config = config
        self.orders = orders  # the IVR survey (HotlineSurvey) rates the call's order through it
        self.recordings = recordings
        self.settings = settings
        self.sessions, self.clock, self.live, self.intake = sessions, clock, live, intake
        self._agents: dict[str, int | None] = {}
        self._wrapups: dict[str, int] = {}  # 话后处理 that ended before its call did (the caller in the survey)

    async def handle(self, kind: str, call: dict[str, Any]) -> None:
        if kind == "queued" and call["direction"] == Direction.INBOUND and call["caller"]:
            await self.identify(call)
        elif kind == "connected":
            await self.open_draft(call)
        elif kind == "ended":
            await self.record(call)
        elif kind == "surveyed":
            await self.surveyed(call)
        elif kind == "wrapped_up":
            await self.wrapped_up(call)

    async def wrapped_up(self, call: dict[str, Any]) -> None:
        """The agent's wrap-up (话后处理) time of a call, onto its record (`data.wrapup_seconds`,
        the KPI `avg_wrapup_time`). The first one counts: a replay changes nothing."""
        seconds = int(call["wrapup_seconds"])
        async with self.sessions() as session, session.begin():
            record = await queries.call_by_linkedid(session, call["linkedid"])
            if record is None:
                if len(self._wrapups) < 10_000:
                    self._wrapups[call["linkedid"]] = seconds  # `record` puts it on
                return
            if record.data.get("wrapup_seconds") is None:
                record.data = {**record.data, "wrapup_seconds": seconds}

    async def surveyed(self, call: dict[str, Any]) -> None:
        """A survey keyed after the call was recorded: onto the record, and the order's rating."""
        async with self.sessions() as session, session.begin():
            record = await queries.call_by_linkedid(session, call["linkedid"])
            if record is None or record.rating is not None:
                return  # not ours (another node's call), or counted already (a replay)
            record.rating = call["rating"]
            rated = await self._survey(session, record.work_order_id, {"rating": call["rating"],
                                                                       "caller": record.caller}, self.clock()) \
                if record.work_order_id is not None else None
        if rated is not None and self.orders is not None:
            await self.orders.committed(rated)

    async def agent_id(self, extension: str | None) -> int | None:
        if not extension:
            return None
        if self._agents.get(extension) is None:  # only hits are kept: a new agent is found next time
            async with self.sessions() as session:
                self._agents[extension] = await queries.agent_of_extension(session, extension)
        return self._agents[extension]

    async def identify(self, call: dict[str, Any]) -> None:
        """A caller known from earlier contacts: show the agent who it is before answering."""
        async with self.sessions() as session:
            citizen = await find_citizen(session, [Identity("phone", call["caller"])])
            if citizen is None:
                return
            known = await queries.caller(session, citizen)
        rows = known.recent
        await self.live.publish("call", {"event": "identified", "linkedid": call["linkedid"],
                                         "caller": call["caller"], "citizen_id": citizen, "name": known.name,
                                         "open_orders": sum(1 for r in rows if r.status in OPEN),
                                         "recent_orders": [{"number": r.number, "status": r.status,
                                                            "title": r.title} for r in rows]})

    async def open_draft(self, call: dict[str, Any]) -> None:
        """An answered call opens a draft (通话中) order for the agent; the agent completes it."""
        if not call["caller"] or not PHONE.match(call["caller"]):
            return
        # No recording yet: MixMonitor closes the file when the call ends; `record` attaches
        # the hotline's own copy then, with its real size (never a 0-byte placeholder).
        legacy = call.get("legacy_line") if call.get("legacy_line") and \
            self.settings.legacy_line(call["legacy_line"]) else None
        line = self.settings.legacy_line(legacy) if legacy else None
        title = f"来电（{line.name}）" if line else "来电"
        contact = Contact(channel=Channel.PHONE, external_id=call["linkedid"], call_id=call["linkedid"],
                          received_at=_at(call["started_at"]) or self.clock(), draft=True,
                          sender=Identity("phone", call["caller"]), legacy_line=legacy, title=title,
                          raw={k: call.get(k) for k in ("linkedid", "line", "queue", "agent_extension",
                                                        "answered_at", "wait_seconds", "direction",
                                                        "callback_task")})
        result = await self.intake.receive(contact, agent_id=await self.agent_id(call.get("agent_extension")))
        await self.live.publish("call", {"event": "draft_opened", "linkedid": call["linkedid"],
                                           "number": result.number, "agent_extension": call.get("agent_extension"),
                                           "caller": call["caller"], "repeated": result.repeated})

    async def record(self, call: dict[str, Any]) -> None:
        outcome = Outcome(call["outcome"]) if call.get("outcome") else None
        if outcome is None:
            return
        now = self.clock()
        self._news: list[dict[str, Any]] = []  # published once committed, never before
        agent = await self.agent_id(call.get("agent_extension"))
        kept = await self.recordings.keep(call["recording"], call["linkedid"], now) \
            if call.get("recording") and self.recordings is not None else None
        task_id = int(call["callback_task"]) if str(call.get("callback_task") or "").isdigit() else None
        async with self.sessions() as session, session.begin():
            if await queries.call_recorded(session, call["linkedid"]):
                return  # replayed from the journal after its commit: the callback is counted once
            order_id = await queries.order_of_call(session, call["linkedid"])
            values = dict(
                linkedid=call["linkedid"], direction=call["direction"], outcome=outcome.value,
                caller=call["caller"] or "", line=call["line"] or "", legacy_line=call.get("legacy_line"),
                queue=call.get("queue"), agent_extension=call.get("agent_extension"), agent_id=agent,
                started_at=_at(call["started_at"]), answered_at=_at(call.get("answered_at")),
                ended_at=_at(call["ended_at"]), wait_seconds=call.get("wait_seconds"),
                talk_seconds=call.get("talk_seconds"), hangup_cause=call.get("hangup_cause"),
                recording=call.get("recording"), transferred_to=call.get("transferred_to"), rating=call.get("rating"),
                work_order_id=order_id,
                data={"missed_by": call.get("missed_by") or [], "end_reason": call.get("end_reason"),
                      "recording_file": {"location": kept.location, "size": kept.size, "sha256": kept.sha256}
                      if kept is not None else None,
                      "unseen_end": call.get("unseen_end", False), "hangup_cause_txt": call.get("hangup_cause_txt"),
                      "wrapup_seconds": self._wrapups.pop(call["linkedid"], None)})
            inbound = call["direction"] == Direction.INBOUND
            if inbound and outcome in NOT_REACHED:
                values["callback_task_id"] = await self._missed(session, call, outcome, now)
            elif inbound and outcome in (Outcome.ANSWERED, Outcome.TRANSFERRED) and call["caller"]:
                await self._reached(session, call["caller"], call["linkedid"], "called_again", agent, now)
            elif task_id is not None:
                values["callback_task_id"] = task_id
                await self._callback_done(session, task_id, call, outcome, agent, now)
            await queries.record_call(session, values)
            if kept is not None and order_id is not None:
                await queries.attach_recording(session, order_id, kept, now)
            rated = await self._survey(session, order_id, call, now) if order_id is not None else None
        if rated is not None and self.orders is not None:
            await self.orders.committed(rated)
        for news in self._news:
            await self.live.publish("callback", news)
        await self.live.publish("call", {"event": "recorded", "linkedid": call["linkedid"],
                                           "outcome": outcome.value, "work_order_id": order_id})

    async def _survey(self, session: AsyncSession, order_id: int, call: dict[str, Any], now: datetime) -> Change | None:
        """The caller's keypress after the call (`UserEvent HotlineSurvey`, Rating 1..5) rates
        the call's order when it can be rated (answered directly on the call, or replied and
        in follow-up), as the citizen, with the call record in the same transaction. An
        order still with a department keeps the rating on the call record only."""
        rating = call.get("rating")
        if self.orders is None or not isinstance(rating, int) or not 1 <= rating <= 5:
            return None
        number = await queries.order_number(session, order_id)
        order = await load_for_update(session, number)
        if not wo.allowed(state_of(order), wo.Rate):
            return None
        actor = wo.Actor(ActorKind.CITIZEN, call.get("caller") or None, None)
        return await self.orders.apply_loaded(session, order, wo.Rate(actor, rating, "", "ivr"), now)

    async def on_change(self, change: Change) -> None:
        """Effect: the agent answers a call's order directly after the caller hung up and
        pressed a key: the survey the call record kept rates it now (first of the round)."""
        order = change.order
        if change.event.kind != "resolved_directly" or not order.call_id or change.after.rating is not None:
            return
        record = await queries.call_by_linkedid(change.session, order.call_id)
        if record is None or record.rating is None:
            return
        actor = wo.Actor(ActorKind.CITIZEN, record.caller or None, None)
        level = record.rating

        async def rate(session: AsyncSession, order: Any, state: wo.OrderState) -> wo.Command:
            return wo.Rate(actor, level, "", "ivr")

        change.then.append(rate)

    async def _missed(self, session: Any, call: dict[str, Any], outcome: Outcome, now: datetime) -> int | None:
        policy = self.config.callback
        phone = call["caller"]
        if not policy.enabled or not phone or not PHONE.match(phone):
            return None
        if outcome is Outcome.ABANDONED and (call.get("wait_seconds") or 0) < policy.min_wait_seconds:
            return None
        citizen = await find_citizen(session, [Identity("phone", phone)])
        # One open task per number: a second missed call counts on it.
        task_id = await queries.missed_call(session, phone=phone, citizen_id=citizen, reason=outcome.value,
                                            linkedid=call["linkedid"], ended_at=_at(call["ended_at"]), now=now)
        self._news.append({"event": "missed_call", "task": task_id, "phone": phone, "reason": outcome.value})
        return int(task_id)

    async def _reached(self, session: Any, phone: str, linkedid: str, result: str, agent: int | None,
                       now: datetime) -> None:
        await queries.close_open_tasks(session, phone, result=result, linkedid=linkedid, agent_id=agent, now=now)

    async def _callback_done(self, session: Any, task_id: int, call: dict[str, Any], outcome: Outcome,
                             agent: int | None, now: datetime) -> None:
        task = await queries.task_for_update(session, task_id)
        if task is None or task.status not in OPEN_TASK:
            return
        task.attempts += 1
        task.agent_id, task.updated_at, task.result_call_id = agent, now, call["linkedid"]
        if outcome is Outcome.ANSWERED:
            task.status, task.result, task.done_at = "done", "reached", now
        elif task.attempts >= self.config.callback.max_attempts:
            task.status, task.result, task.done_at = "failed", "unreachable", now
        else:
            task.status, task.result = "open", "no_answer"
        self._news.append({"event": task.status, "task": task.id, "phone": task.phone, "attempts": task.attempts})
