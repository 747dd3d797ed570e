"""The composition root: builds every client once and hands it down.

`open_hotline(settings)` yields a `Hotline` holding the engine, the services and the
extension points the other modules plug into (effects, outbox senders, web routes,
background tasks). Nothing else in the code base opens a connection or reads settings.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

import channels
from dispatch.install import install as install_dispatch
from dispatch.sla import SlaRules
from dispatch.workcalendar import WorkCalendar
from hotline import telephony
from hotline.auth import Auth
from hotline.clock import Clock, utc_now
from hotline.contact import Contact
from hotline.domain.workorder import Event
from hotline.intake import Intake
from hotline.live import LiveBus, RedisLiveBus
from hotline.metrics import Metrics
from hotline.outbox import Outbox
from hotline.settings import Settings, ensure_secret_key
from hotline.storage.engine import SessionFactory, create_engine, session_factory
from hotline.web.api import ApiRoutes
from hotline.workorders import Effect, OrderFacts, WorkOrderService

log = logging.getLogger(__name__)
BackgroundTask = Callable[[], Awaitable[None]]
RouteInstaller = Callable[[web.Application], None]


@dataclass
class Hotline:
    settings: Settings
    engine: AsyncEngine
    sessions: SessionFactory
    clock: Clock
    metrics: Metrics
    live: LiveBus
    auth: Auth
    orders: WorkOrderService
    intake: Intake
    outbox: Outbox
    calendar: WorkCalendar
    sla: SlaRules
    redis: Any | None = None  # redis.asyncio.Redis when HOTLINE_REDIS_URL is set
    demo: bool = False  # `serve --demo`: the PBX simulator and sample data
    # Extension points, filled by the modules' `install` functions below.
    routes: list[RouteInstaller] = field(default_factory=list)  # non-JSON endpoints (TwiML, pages)
    api_tables: list[ApiRoutes] = field(default_factory=list)  # JSON endpoints, also in OpenAPI
    background: dict[str, BackgroundTask] = field(default_factory=dict)
    services: dict[str, Any] = field(default_factory=dict)
    # Resources modules open (HTTP sessions ...), closed when the hotline shuts down, newest first.
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def add_effect(self, effect: Effect) -> None:
        """Runs inside the transaction of every work-order change."""
        self.orders.effects.append(effect)

    def add_on_created(self, effect: Effect, when: Callable[[Contact], bool] | None = None) -> None:
        """Runs inside the intake transaction of every new order. `when` tells cheaply and
        conservatively (False only if the effect would surely do nothing) whether it can
        apply to a contact; when none can, intake needs no transaction of its own."""
        self.intake.add_on_created(effect, when)


async def _publish_change(h: Hotline, o: OrderFacts, event: Event) -> None:
    h.metrics.transitions.labels(event.kind).inc()
    await h.live.publish("workorder", {"number": o.number, "status": o.status, "event": event.kind,
                                       "department": o.lead_department, "version": o.version})


@contextlib.asynccontextmanager
async def open_hotline(settings: Settings, *, clock: Clock = utc_now, install_modules: bool = True,
                       demo: bool = False) -> AsyncIterator[Hotline]:
    engine = create_engine(settings.database_url, pool_size=settings.database.pool_size,
                           echo=settings.database.echo, schema=settings.database.schema_)
    redis = None
    if settings.redis.url:
        import redis.asyncio as aioredis

        redis = aioredis.from_url(settings.redis.url)
    try:
        sessions = session_factory(engine)
        metrics = Metrics()
        live: LiveBus = RedisLiveBus(redis) if redis is not None else LiveBus()
        orders = WorkOrderService(sessions, clock)
        h = Hotline(
            settings=settings, engine=engine, sessions=sessions, clock=clock, metrics=metrics, live=live,
            auth=Auth(sessions, ensure_secret_key(settings), settings.security.session_hours),
            orders=orders,
            intake=Intake(settings, engine, sessions, clock, orders, metrics),
            outbox=Outbox(sessions, clock),
            calendar=settings.work_calendar(), sla=settings.sla_rules(), redis=redis, demo=demo,
        )
        orders.on_committed.append(lambda order, event: _publish_change(h, order, event))
        h.background["live"] = live.run
        h.background["outbox"] = h.outbox.run
        if install_modules:
            for install in MODULES:
                install(h)
        try:
            yield h
        finally:
            for close in reversed(h.closers):
                try:
                    await close()
                except Exception:  # closing one must not keep the others open
                    log.exception("closing %r failed", close)
    finally:
        if redis is not None:
            await redis.aclose()
        await engine.dispose()


# Each later module contributes one `install(hotline)` here: effects, senders, routes, tasks.
MODULES: list[Callable[[Hotline], None]] = [
    channels.install,
    install_dispatch,
    telephony.install,
]


def check_module_settings(settings: Settings) -> list[str]:
    """Every problem in the modules' own sections (channels:, telephony:, escalation:,
    delivery:); `serve` and `worker` refuse to start on them, `check-config` lists them."""
    from channels.config import load_channels_config
    from dispatch.config import dispatch_config
    from hotline.errors import ConfigError
    from hotline.telephony.config import telephony_settings

    problems: list[str] = []
    for check in (load_channels_config, dispatch_config, telephony_settings):
        try:
            check(settings)
        except ConfigError as exc:
            problems.extend(exc.problems)
    return problems
