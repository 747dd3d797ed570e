"""Plugs dispatch into the composition root: effects, the webhook sender, routes, loops.

Without Redis the web process delivers the outbox and ticks the timers itself. With
`HOTLINE_REDIS_URL` it does neither: `hotline worker` processes do, and the web process
only wakes them when it commits new messages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dispatch import api, dead_letters, department_api, department_page, supervisor
from dispatch.autodispatch import AutoDispatch
from dispatch.config import dispatch_config
from dispatch.delivery import redis_nudger
from dispatch.escalation import Escalation
from dispatch.notices import NoticeWriter, department_notices
from dispatch.routing import Router
from dispatch.service import KEY, DispatchService
from dispatch.webhooks import KIND, WebhookSender
from hotline.outbox import RetryPolicy
from hotline.storage.models import OutboxMessage
from hotline.workorders import Change

if TYPE_CHECKING:
    from hotline.root import Hotline


def install(h: Hotline) -> None:
    cfg = dispatch_config(h.settings)
    d = cfg.delivery
    h.outbox.policy = RetryPolicy(lease_seconds=d.lease_seconds, max_attempts=d.max_attempts,
                                  base_delay_seconds=d.base_delay_seconds, max_delay_seconds=d.max_delay_seconds,
                                  send_timeout_seconds=d.timeout_seconds)
    webhooks = WebhookSender(lambda: h.settings, h.clock, timeout=d.timeout_seconds)
    h.outbox.register(KIND, webhooks)

    def count(message: OutboxMessage, result: str) -> None:
        if message.kind == KIND:
            h.metrics.webhook_deliveries.labels(result).inc()

    h.outbox.on_result.append(count)
    writer = NoticeWriter(h.settings)
    escalation = Escalation(h.sessions, h.clock, h.calendar, h.sla, cfg.escalation, writer, h.metrics,
                            h.live.publish, h.outbox.nudge)
    router = Router.from_settings(h.settings)
    h.services[KEY] = DispatchService(cfg, router, escalation, writer, webhooks)

    async def announce(change: Change) -> None:
        rows = list(change.order.assignments)
        wrote = False
        for n in department_notices(change.before, change.after, change.event):
            row = rows[n.assignment] if n.assignment is not None and n.assignment < len(rows) else None
            wrote |= writer.write(change.session, change.order, row, n.department, n.event, n.data,
                                  change.now) is not None
        if wrote:
            change.after_commit.append(h.outbox.nudge)

    h.add_effect(escalation.sync_timers)
    h.add_effect(announce)
    auto = AutoDispatch(h.settings, h.calendar, h.sla, router, h.orders)
    h.add_on_created(auto, when=auto.may_dispatch)

    h.api_tables.extend([api.routes, supervisor.routes, dead_letters.routes, department_api.routes])
    h.routes.append(department_page.install)

    h.closers.append(webhooks.close)

    if h.redis is not None:
        # `hotline worker` delivers and ticks; this process only wakes the workers.
        h.background.pop("outbox", None)
        h.outbox.notifiers.append(redis_nudger(h.redis))
    else:
        h.background["outbox"] = lambda: h.outbox.run(d.poll_seconds)
        h.background["timers"] = escalation.run
