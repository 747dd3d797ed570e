"""The composition root: the module list, and the wiring that builds every client once,
installs the modules and closes it all.

`open_hotline(settings)` yields a `Running` hotline: the core's services and plug-in points
(`hotline.ports.Hotline`, all a module ever sees) and what each module's `install`
returned. Nothing else in the code base opens a connection; only this file and the
`hotline` command (`hotline.cli`) name the modules.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

from channels.module import MODULE as CHANNELS
from dispatch.module import MODULE as DISPATCH
from hotline.clock import Clock, utc_now
from hotline.desk.module import MODULE as DESK
from hotline.errors import ConfigError
from hotline.knowledge.module import MODULE as KNOWLEDGE
from hotline.module import Module, Running, Summary
from hotline.public.module import MODULE as PUBLIC
from hotline.reports.module import MODULE as REPORTS
from hotline.settings import Settings
from hotline.settings import load_settings as load_core_settings
from hotline.telephony.module import MODULE as TELEPHONY

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping, Sequence

    from hotline.domain.workorder import Event
    from hotline.storage.migrate import Schema
    from hotline.workorders import OrderFacts

log = logging.getLogger(__name__)

# The modules, in install order. A new feature: a package with a `module.py` declaring its
# `Module`, and one line here (docs/architecture.md, "Adding a module").
MODULES: tuple[Module[Any], ...] = (
    CHANNELS,
    DISPATCH,
    TELEPHONY,
    PUBLIC,
    REPORTS,
    KNOWLEDGE,
    DESK,
)


def schema(modules: Sequence[Module[Any]] = MODULES) -> Schema:
    """The core's migrations and every module's branch."""
    from hotline.storage.migrate import CORE_VERSIONS, Schema

    return Schema(locations=(CORE_VERSIONS, *(m.migrations for m in modules if m.migrations is not None)),
                  models=("hotline.storage.models", *(name for m in modules for name in m.models)))


def load_settings(env: Mapping[str, str] | None = None, *, modules: Sequence[Module[Any]] = MODULES) -> Settings:
    """The settings with every section checked, the core's and the modules' (what every
    `hotline` command starts with); `ConfigError` lists every problem."""
    settings = load_core_settings(env, sections={s for m in modules for s in m.sections})
    check(settings, modules)
    return settings


def check(settings: Settings, modules: Sequence[Module[Any]] = MODULES) -> list[Summary]:
    """Every module validates its own sections; `serve` and `worker` refuse to start on a
    problem, `check-config` prints the summaries."""
    problems: list[str] = []
    summaries = []
    for m in modules:
        if m.check is None:
            continue
        try:
            summaries.append(m.check(settings))
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    return summaries


async def _publish_change(h: Running, o: OrderFacts, event: Event) -> None:
    h.metrics.transitions.labels(event.kind).inc()
    await h.live.publish("workorder", {"number": o.number, "status": o.status, "event": event.kind,
                                       "department": o.lead_department, "version": o.version})


@contextlib.asynccontextmanager
async def _clients(settings: Settings) -> AsyncIterator[tuple[Any, Any, Any, Any]]:
    """The process's network clients, each built once here and closed here, last."""
    import aiohttp

    from hotline.storage.engine import create_engine

    async with contextlib.AsyncExitStack() as stack:
        engine = create_engine(settings.database_url, pool_size=settings.database.pool_size,
                               echo=settings.database.echo, schema=settings.database.schema_)
        stack.push_async_callback(engine.dispose)
        # One HTTP client for webhooks and vendor APIs: connections are pooled across them.
        http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))
        stack.push_async_callback(http.close)
        redis = redis_sync = None
        if settings.redis.url:
            import redis as sync_redis
            import redis.asyncio as aioredis

            redis = aioredis.from_url(settings.redis.url)
            stack.push_async_callback(redis.aclose)
            # rq and wechatpy's token store are synchronous; a connect gives up after 3 s.
            redis_sync = sync_redis.Redis.from_url(settings.redis.url, socket_connect_timeout=3)
            stack.callback(redis_sync.close)
        yield engine, http, redis, redis_sync


@contextlib.asynccontextmanager
async def open_hotline(settings: Settings, *, clock: Clock = utc_now, modules: Sequence[Module[Any]] = MODULES,
                       demo: bool = False) -> AsyncIterator[Running]:
    # The core's services are imported here, when a hotline opens: the `hotline` command
    # starts (and checks the settings) without them.
    from hotline.auth import Auth, PasswordPool
    from hotline.intake import Intake
    from hotline.live import LiveBus, RedisLiveBus
    from hotline.metrics import Metrics
    from hotline.outbox import Outbox
    from hotline.settings import ensure_secret_key
    from hotline.storage.engine import session_factory
    from hotline.workorders import WorkOrderService

    async with _clients(settings) as (engine, http, redis, redis_sync):
        sessions = session_factory(engine)
        metrics = Metrics()
        live: LiveBus = RedisLiveBus(redis) if redis is not None else LiveBus()
        orders = WorkOrderService(sessions, clock)
        sec = settings.security
        passwords = PasswordPool(sec.password_workers, sec.password_queue)
        h = Running(
            settings=settings, clock=clock, engine=engine, sessions=sessions, schema=schema(modules),
            metrics=metrics, live=live,
            auth=Auth(sessions, ensure_secret_key(settings), sec.session_hours, passwords),
            orders=orders, intake=Intake(settings, engine, sessions, clock, orders, metrics),
            outbox=Outbox(sessions, clock), http=http, redis=redis, redis_sync=redis_sync, demo=demo,
        )
        h.add_closer(passwords.close)
        orders.on_committed.append(lambda order, event: _publish_change(h, order, event))
        h.add_task("live", live.run)
        h.add_task("outbox", h.outbox.run)
        for m in modules:
            h.installed[m.name] = m.install(h)
        try:
            yield h
        finally:
            for close in reversed(h.closers):
                try:
                    await close()
                except Exception:  # closing one must not keep the others open
                    log.exception("closing %r failed", close)
