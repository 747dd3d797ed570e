"""`dispatch.auto`: written contacts a routing rule matches are dispatched at once.

An intake hook, so the dispatch, its timers and its webhooks are written in the same
transaction as the new order. Phone orders never: the agent is on the line and decides.
An order no rule matches waits for an agent as any other. One a rule matches that still
cannot be sent (no category, a department missing from the directory, no SLA policy) is
held: a `dispatch_holds` row with the reason puts it in the agents' inbox
(`GET /api/v1/dispatch/held`), and the operator sees it in the log and in
`hotline_auto_dispatch_held_total{reason}` — a rule that matches and never dispatches is
a configuration to fix.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from dispatch import commands
from dispatch.models import DispatchHold
from dispatch.routing import Router, facts_of
from hotline.domain import workorder as wo
from hotline.domain.vocabulary import Channel, Status
from hotline.errors import HotlineError

if TYPE_CHECKING:
    from prometheus_client import Counter

    from dispatch.sla import SlaRules
    from dispatch.workcalendar import WorkCalendar
    from hotline.contact import Contact
    from hotline.settings import Settings
    from hotline.workorders import Change, WorkOrderService

log = logging.getLogger(__name__)

WRITTEN = frozenset({Channel.SMS, Channel.WECHAT, Channel.WEB, Channel.APP, Channel.FAX})
AUTO = wo.Actor(wo.SYSTEM.kind, "auto-dispatch", "自动派单")


class AutoDispatch:
    def __init__(self, settings: Settings, calendar: WorkCalendar, sla: SlaRules, router: Router,
                 orders: WorkOrderService, held: Counter) -> None:
        self.settings = settings
        self.calendar = calendar
        self.sla = sla
        self.router = router
        self.orders = orders
        self.held = held

    def may_dispatch(self, contact: Contact) -> bool:
        """Whether this contact can be dispatched at intake (cheap, conservative)."""
        return self.settings.dispatch.auto and not contact.draft and contact.channel in WRITTEN

    async def __call__(self, change: Change) -> None:
        order = change.order
        if not self.settings.dispatch.auto or order.status != Status.REGISTERED.value:
            return
        if order.channel not in WRITTEN:
            return
        match = self.router.route(facts_of(order))
        if match is None:
            return
        ctx = commands.Context(self.settings, self.calendar, self.sla, change.now)
        try:
            command = commands.dispatch(ctx, order, AUTO, match.department, match.assisting,
                                        reason=f"自动派单 · {match.reason}")
        except (HotlineError, LookupError) as exc:  # e.g. no category yet: an agent completes it
            code = exc.code if isinstance(exc, HotlineError) else "no_sla_policy"
            reason = exc.detail if isinstance(exc, HotlineError) and exc.detail else str(exc)
            change.session.add(DispatchHold(work_order_id=order.id, reason_code=code, reason=reason[:500],
                                            department=match.department, rule=match.rule, created_at=change.now))
            change.after_commit.append(lambda: self._told(order.number, code, reason, match.rule))
            return
        dispatched = await self.orders.apply_loaded(change.session, order, command, change.now)
        change.after_commit.append(lambda: self.orders.committed(dispatched))

    async def _told(self, number: str, code: str, reason: str, rule: int) -> None:
        """After the commit, so a rolled-back intake is neither logged nor counted."""
        self.held.labels(code).inc()
        log.warning("auto-dispatch: routing rule %d matched order %s but it cannot be dispatched (%s: %s); "
                    "it waits in the agents' inbox", rule, number, code, reason,
                    extra={"number": number, "reason": code, "rule": rule})
