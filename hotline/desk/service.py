"""The desk's use cases: who each agent is and since when (for the running time of each
state), the calls on the board, and the screen pop of a ringing call.

Every web node keeps its own copy, fed from the live bus it subscribes to: with Redis every
node sees every event, so any node serves any agent. A state seen first after a restart
runs from that moment (the PBX does not say since when an agent is paused).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from hotline.contact import Identity
from hotline.desk import queries
from hotline.domain.vocabulary import OPEN, ActorKind, Status
from hotline.errors import Conflict, NotFound
from hotline.storage.queries import find_citizen

if TYPE_CHECKING:
    from hotline.clock import Clock
    from hotline.desk.config import DeskConfig
    from hotline.live import LiveBus
    from hotline.settings import Settings
    from hotline.storage.engine import SessionFactory
    from hotline.workorders import Change

log = logging.getLogger(__name__)
_CALLS_KEPT = 500  # ended calls are dropped; this bounds a board that never hears an end


@dataclass
class AgentSeen:
    extension: str
    name: str
    state: str
    reason: str | None
    since: datetime
    queues: list[str]

    def out(self) -> dict[str, Any]:
        return {"extension": self.extension, "name": self.name, "state": self.state, "reason": self.reason,
                "since": self.since.isoformat(), "queues": self.queues}


class Desk:
    def __init__(self, config: DeskConfig, settings: Settings, *, sessions: SessionFactory, clock: Clock,
                 live: LiveBus) -> None:
        self.config, self.settings = config, settings
        self.sessions, self.clock, self.live = sessions, clock, live
        self.agents: dict[str, AgentSeen] = {}
        self.calls: dict[str, dict[str, Any]] = {}  # by Linkedid, until the call ends

    # ------------------------------------------------------------ the live feed
    def see(self, message: dict[str, Any]) -> None:
        topic = message.get("topic")
        if topic == "agent" and message.get("extension"):
            self._agent(message)
        elif topic == "call" and message.get("linkedid") and "phase" in message:  # a tracker snapshot
            if message.get("ended_at"):
                self.calls.pop(message["linkedid"], None)
            else:
                self.calls[message["linkedid"]] = message
                while len(self.calls) > _CALLS_KEPT:
                    self.calls.pop(next(iter(self.calls)))

    def _agent(self, m: dict[str, Any]) -> None:
        ext, now = str(m["extension"]), self.clock()
        seen = self.agents.get(ext)
        state, reason = str(m.get("state") or "unknown"), m.get("reason")
        if seen is None or (seen.state, seen.reason) != (state, reason):
            name = str(m.get("name") or (seen.name if seen else ""))
            self.agents[ext] = AgentSeen(ext, name, state, reason, now, list(m.get("queues") or []))
        else:
            seen.name, seen.queues = str(m.get("name") or seen.name), list(m.get("queues") or seen.queues)

    async def run(self) -> None:
        """Follow the live bus until cancelled (a supervised task of the web process)."""
        async with self.live.subscribe() as queue:
            while True:
                self.see(await queue.get())

    def agent_list(self) -> list[dict[str, Any]]:
        return [a.out() for a in sorted(self.agents.values(), key=lambda a: a.extension)]

    # ------------------------------------------------------------ the screen pop
    def line_of(self, call: dict[str, Any]) -> dict[str, Any]:
        """The line dialled: 12345, or a legacy line with the bureau it used to belong to."""
        number = call.get("legacy_line") or None
        line = self.settings.legacy_line(number) if number else None
        if line is None:
            return {"number": call.get("line") or "12345", "legacy": False}
        dept = self.settings.department(line.department)
        return {"number": line.number, "legacy": True, "name": line.name, "name_en": line.name_en,
                "department": line.department, "bureau": dept.name if dept else line.department,
                "category": line.category}

    async def pop(self, caller: str, linkedid: str | None) -> dict[str, Any]:
        call = self.calls.get(linkedid or "") or {}
        caller = str(call.get("caller") or caller or "")
        out: dict[str, Any] = {"linkedid": linkedid, "caller": caller, "line": self.line_of(call),
                               "wait_seconds": call.get("wait_seconds"), "joined_at": call.get("joined_at"),
                               "known": False, "frequent": False, "confidential": False, "name": None,
                               "orders": [], "open_orders": [], "contacts": {}}
        if not caller:
            return out
        now = self.clock()
        async with self.sessions() as session:
            citizen = await find_citizen(session, [Identity("phone", caller)])
            if citizen is None:
                return out
            h = await queries.history(session, citizen, limit=self.config.history_orders,
                                      since=now - timedelta(days=self.config.frequent_caller.days))
        orders = [{"number": o.number, "status": o.status, "channel": o.channel, "category": o.category,
                   "rating": o.rating, "department": o.lead_department, "created_at": o.created_at.isoformat(),
                   "confidential": o.confidential,
                   # A confidential report (保密举报) shows only that it exists: not what it said.
                   "title": "" if o.confidential else o.title} for o in h.orders]
        out.update(known=True, citizen_id=citizen, frequent=h.recent_orders >= self.config.frequent_caller.orders,
                   recent_orders=h.recent_orders, confidential=h.confidential,
                   # A confidential reporter is shown as such, never by name.
                   name=None if h.confidential else h.name, orders=orders,
                   open_orders=[o for o in orders if o["status"] in OPEN], contacts=h.contacts_by_channel)
        return out

    # ------------------------------------------------------------ the inbox: one agent per contact
    async def claim(self, number: str, user_id: int, name: str) -> dict[str, Any]:
        now = self.clock()
        until = now + timedelta(minutes=self.config.claim_minutes)
        async with self.sessions() as session, session.begin():
            order = await queries.inbox_order(session, number)
            if order is None or order[1] not in queries.WRITTEN:
                raise NotFound(f"书面诉求 {number} 不存在", code="contact_not_found")
            if order[2] != Status.REGISTERED.value:
                raise Conflict(f"工单 {number} 已不在待处理中", code="contact_not_waiting")
            other = await queries.claim(session, order[0], user_id, name, now, until)
        if other is not None:
            raise Conflict(f"该诉求正由 {other[1]} 处理", code="claimed_by_another",
                           claimed_by=other[1])
        await self.live.publish("desk", {"event": "claimed", "number": number, "user_id": user_id, "name": name})
        return {"number": number, "claimed_by": user_id, "name": name, "expires_at": until.isoformat()}

    async def release(self, number: str, user_id: int) -> None:
        async with self.sessions() as session, session.begin():
            order = await queries.inbox_order(session, number)
            if order is None:
                raise NotFound(f"书面诉求 {number} 不存在", code="contact_not_found")
            await queries.release(session, order[0], user_id)
        await self.live.publish("desk", {"event": "released", "number": number, "user_id": user_id})

    async def guard(self, change: Change) -> None:
        """An effect of every order change: an agent may not act on a written contact
        another agent has claimed; a claim ends when the order leaves 登记."""
        if change.before.status is not Status.REGISTERED or change.order.channel not in queries.WRITTEN:
            return
        actor = change.event.actor
        if actor.kind is ActorKind.AGENT and actor.id is not None:
            other = await queries.holder(change.session, change.order.id, change.now)
            if other is not None and str(other[0]) != actor.id:
                raise Conflict(f"该诉求正由 {other[1]} 处理，请勿重复办理", code="claimed_by_another",
                               claimed_by=other[1])
        if change.after.status is not Status.REGISTERED:
            await queries.release(change.session, change.order.id)


DESK: web.AppKey[Desk] = web.AppKey("desk", Desk)
