"""Dispatch as one module: routing, SLA timers and escalation, department webhooks, the
department API and page, supervisors' desk. `install` plugs it in: effects, the webhook
sender, the API tables and the page, the loops.

Without Redis the web process delivers the outbox and ticks the timers itself. With
`HOTLINE_REDIS_URL` it does neither: `hotline worker` processes do, and the web process
only wakes them when it commits new messages. `install` imports the module's parts when a
hotline opens, so that the `hotline` command starts without them.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from dispatch.cli import add_commands
from dispatch.config import dispatch_config
from hotline.module import Module, Summary
from hotline.ports import Hotline, Link, RoutingFacts, RuleRouter, RuleSuggestion

if TYPE_CHECKING:
    from dispatch.escalation import Escalation
    from dispatch.routing import Router
    from dispatch.service import DispatchService
    from hotline.settings import Settings
    from hotline.storage.models import OutboxMessage
    from hotline.workorders import Change


def install(h: Hotline) -> DispatchService:
    from dispatch import actions, api, dead_letters, supervisor
    from dispatch.autodispatch import AutoDispatch
    from dispatch.department import api as department_api
    from dispatch.department import files as department_files
    from dispatch.department import page as department_page
    from dispatch.escalation import Escalation
    from dispatch.notices import NoticeWriter, department_notices
    from dispatch.routing import Router
    from dispatch.service import DISPATCH, DispatchService
    from dispatch.webhooks import KIND, WebhookSender
    from hotline.outbox import RetryPolicy

    cfg = dispatch_config(h.settings)
    d = cfg.delivery
    h.outbox.policy = RetryPolicy(lease_seconds=d.lease_seconds, max_attempts=d.max_attempts,
                                  base_delay_seconds=d.base_delay_seconds, max_delay_seconds=d.max_delay_seconds,
                                  send_timeout_seconds=d.timeout_seconds)
    webhooks = WebhookSender(lambda: h.settings, h.clock, h.http, timeout=d.timeout_seconds)
    h.add_sender(KIND, webhooks)

    def count(message: OutboxMessage, result: str) -> None:
        if message.kind == KIND:
            h.metrics.webhook_deliveries.labels(result).inc()

    h.outbox.on_result.append(count)
    writer = NoticeWriter(h.settings)
    escalation = Escalation(h.sessions, h.clock, cfg.calendar, cfg.rules, cfg.escalation, writer, h.metrics,
                            h.live.publish, h.outbox.nudge)
    router = Router.from_settings(h.settings, cfg.routing)
    service = DispatchService(h.settings, cfg, router, escalation, writer, webhooks, h.orders)
    h.share(DISPATCH, service)
    h.add_rule_router(rule_router(router))  # routing assist (the knowledge module) falls back to the rules

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
    from dispatch.followup import Reopening

    h.add_effect(Reopening(cfg.followup, service.context).on_change)
    from prometheus_client import Counter

    held = Counter("hotline_auto_dispatch_held", "Orders a routing rule matched that auto-dispatch could not send",
                   ["reason"], registry=h.metrics.registry)
    auto = AutoDispatch(h.settings, cfg.calendar, cfg.rules, router, h.orders, held)
    h.add_on_created(auto, when=auto.may_dispatch)

    h.add_api(actions.routes, api.routes, supervisor.routes, dead_letters.routes, department_api.routes,
              department_files.routes)
    h.add_routes(department_page.install)
    h.add_link(Link("/department", "承办单位办理页面", "Department page (for offices without a system)",
                    "departments", 20))

    _run_delivery(h, escalation, d.poll_seconds)
    return service


def _run_delivery(h: Hotline, escalation: Escalation, poll_seconds: float) -> None:
    from dispatch.delivery import redis_nudger

    if h.redis is not None:
        # `hotline worker` delivers and ticks; this process only wakes the workers.
        h.background.pop("outbox", None)
        h.outbox.notifiers.append(redis_nudger(h.redis))
    else:
        h.add_task("outbox", lambda: h.outbox.run(poll_seconds))
        h.add_task("timers", escalation.run)


def rule_router(router: Router) -> RuleRouter:
    """The routing rules through the core's port: what other modules may ask of them."""
    from dispatch.routing import Facts

    def ask(f: RoutingFacts, limit: int) -> list[RuleSuggestion]:
        facts = Facts(category=f.category, subject=f.subject, area=f.area, text=f.text, legacy_line=f.legacy_line)
        return [RuleSuggestion(m.department, m.reason) for m in router.candidates(facts, limit=limit)]
    return ask


def check(settings: Settings) -> Summary:
    """The sections, and what `check-config` says about routing, the SLA rules and the calendar."""
    cfg = dispatch_config(settings)
    sla = cfg.sla
    lines = (f"routing rules: {len(cfg.routing)}",
             f"SLA policies: {len(sla.policies)} covering {len(cfg.rules.policies)} category×urgency pairs; "
             f"return within {sla.return_within_working_days} working days, "
             f"extensions up to {sla.extension_max_working_days}")
    year = date.today().year
    warnings = tuple(f"the holiday calendar has no notice for {y} yet; Monday–Friday is assumed until "
                     "calendar.extra_holidays/extra_workdays list it"
                     for y in (year, year + 1)
                     if not cfg.calendar.knows_year(y) and not any(d.year == y for d in cfg.calendar_section.extra_holidays))
    return Summary(lines, warnings)


MODULE = Module(name="dispatch", package="dispatch", install=install,
                sections=("routing", "sla", "calendar", "escalation", "delivery", "followup"),
                check=check, models=("dispatch.models",), migrations=Path(__file__).resolve().parent / "migrations",
                commands=add_commands)
