"""The ports: what a module may use of the core, and where it plugs in (docs/architecture.md).

`Hotline` is handed to every module's `install` by the composition root
(`hotline.root.open_hotline`), which builds each client once and closes it. A module uses
the services below and registers what it brings through the `add_*` methods; it never
opens a connection of its own and never reaches another module through this object.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import aiohttp
    from aiohttp import web
    from redis import Redis as SyncRedis
    from redis.asyncio import Redis
    from sqlalchemy.ext.asyncio import AsyncEngine

    from hotline.auth import Auth
    from hotline.clock import Clock
    from hotline.contact import Contact
    from hotline.intake import Intake
    from hotline.live import LiveBus
    from hotline.metrics import Metrics
    from hotline.outbox import Outbox, Sender
    from hotline.settings import Settings
    from hotline.storage.engine import SessionFactory
    from hotline.storage.migrate import Schema
    from hotline.web.api import ApiRoutes
    from hotline.workorders import Announcement, Effect, WorkOrderService

T = TypeVar("T")
BackgroundTask = Callable[[], Awaitable[None]]
RouteInstaller = Callable[["web.Application"], None]
Closer = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Link:
    """An entry of the front door (`/`): a page or document a module serves."""

    path: str
    zh: str
    en: str
    audience: str  # citizens | departments | integrators | apps | operators | agents | supervisors
    rank: int = 50  # the front door lists links by rank, then in the order they were added


@dataclass(frozen=True)
class RoutingFacts:
    """What the routing rules look at in an order or a draft (the rules are dispatch's)."""

    category: str | None = None
    subject: str | None = None
    area: str | None = None
    text: str = ""
    legacy_line: str | None = None


@dataclass(frozen=True)
class RuleSuggestion:
    department: str
    reason: str  # which rule, in an agent's words


# The routing rules as a module may ask them: the matching departments, first match first.
RuleRouter = Callable[[RoutingFacts, int], Sequence[RuleSuggestion]]


@dataclass
class Hotline:
    """The core's services, built once per process, and the modules' plug-in points."""

    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessions: SessionFactory
    schema: Schema  # the migrations of the core and of every module
    metrics: Metrics
    live: LiveBus
    auth: Auth
    orders: WorkOrderService
    intake: Intake
    outbox: Outbox
    http: aiohttp.ClientSession  # the process's one HTTP client: webhooks, vendor APIs
    redis: Redis | None = None  # HOTLINE_REDIS_URL set: the asyncio client ...
    redis_sync: SyncRedis | None = None  # ... and the synchronous one that rq and wechatpy's token store need
    demo: bool = False  # `serve --demo`: the PBX simulator and sample data
    # What the modules register (read by the web shell and the root).
    api_tables: list[ApiRoutes] = field(default_factory=list)
    routes: list[RouteInstaller] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    background: dict[str, BackgroundTask] = field(default_factory=dict)
    closers: list[Closer] = field(default_factory=list)
    rule_routers: list[RuleRouter] = field(default_factory=list)

    # ------------------------------------------------------------ the web
    def add_api(self, *tables: ApiRoutes) -> None:
        """JSON endpoints: routed, validated, authenticated and described in OpenAPI."""
        self.api_tables.extend(tables)

    def add_routes(self, install: RouteInstaller) -> None:
        """Anything else the web app serves: vendor webhooks (TwiML, XML), pages, static files."""
        self.routes.append(install)

    def share(self, key: web.AppKey[T], value: T) -> None:
        """Make `value` the module's handlers' `request.app[key]` (a typed aiohttp key)."""
        self.routes.append(lambda app: app.__setitem__(key, value))

    def add_link(self, link: Link) -> None:
        self.links.append(link)

    # ------------------------------------------------------------ work
    def add_task(self, name: str, run: BackgroundTask) -> None:
        """A loop the web process owns: started with the app, restarted if it crashes,
        cancelled on shutdown. The same name again replaces the task."""
        self.background[name] = run

    def add_effect(self, effect: Effect) -> None:
        """Runs inside the transaction of every work-order change."""
        self.orders.effects.append(effect)

    def add_on_committed(self, hook: Announcement) -> None:
        """Runs after every committed work-order change, intake's new orders included, before
        the caller is answered: it must not wait for anything (wake a loop, publish)."""
        self.orders.on_committed.append(hook)

    def add_on_created(self, effect: Effect, when: Callable[[Contact], bool] | None = None) -> None:
        """Runs inside the intake transaction of every new order. `when` tells cheaply and
        conservatively (False only if the effect would surely do nothing) whether it can
        apply to a contact; when none can, intake needs no transaction of its own."""
        self.intake.add_on_created(effect, when)

    def add_sender(self, kind: str, sender: Sender) -> None:
        """Delivers the outbox messages of `kind` (at least once; see `hotline.outbox`)."""
        self.outbox.register(kind, sender)

    def add_rule_router(self, router: RuleRouter) -> None:
        """The routing rules, for modules that suggest departments (routing assist falls
        back to them); dispatch registers its own."""
        self.rule_routers.append(router)

    def add_closer(self, close: Closer) -> None:
        """Called when the hotline shuts down, newest first."""
        self.closers.append(close)
