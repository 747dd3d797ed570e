"""Work-order actions over HTTP: one POST endpoint per transition, declared as a table.

    OrderAction("sign", SignIn, "签收 / Sign for", lambda a: wo.SignFor(a.actor, a.department))

`run_action` is the use case behind every one of them: lock the order, build the command
from it (deadlines, directory checks), apply it, commit, announce — in one transaction.
The core's agent actions (`hotline.web.orders`) and a module's own (dispatch's dispatch and
extension decisions, its department API) are declared with `add_actions`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hotline.auth import Principal
from hotline.domain import workorder as wo
from hotline.web import schemas as s
from hotline.web.context import HOTLINE
from hotline.web.serialize import action_out

if TYPE_CHECKING:
    from datetime import datetime

    from aiohttp import web
    from sqlalchemy.ext.asyncio import AsyncSession

    from hotline.domain.vocabulary import UserRole
    from hotline.ports import Hotline
    from hotline.storage.models import WorkOrder
    from hotline.web.api import ApiRoutes, AuthKind


@dataclass(frozen=True)
class ActionArgs:
    """What a command builder gets: the locked order, its state, the caller, the body."""

    session: AsyncSession
    order: WorkOrder
    state: wo.OrderState
    actor: wo.Actor
    body: Any
    now: datetime
    hotline: Hotline
    request: web.Request  # for a module's own objects: `a.request.app[ITS_KEY]`
    department: str | None = None  # the department acting (the department API), if any


Build = Callable[[ActionArgs], Awaitable[wo.Command] | wo.Command]


@dataclass(frozen=True)
class OrderAction:
    path: str  # after /{number}/
    body: type[s.VersionedIn]
    summary: str
    build: Build
    roles: Sequence[UserRole] = ()  # users' actions: who may; the department API checks the key instead


async def run_action(request: web.Request, actor: wo.Actor, body: s.VersionedIn, build: Build, *,
                     department: str | None = None) -> s.ActionOut:
    h = request.app[HOTLINE]
    now = h.clock()

    async def builder(session: AsyncSession, order: WorkOrder, state: wo.OrderState) -> wo.Command:
        cmd = build(ActionArgs(session, order, state, actor, body, now, h, request, department))
        return await cmd if not isinstance(cmd, wo.Command) else cmd

    change = await h.orders.execute(request.match_info["number"], builder,
                                    expected_version=body.expected_version, department=department)
    return action_out(change, department=department)


# The department acting, when the caller is a department (from its key), else None.
ActingDepartment = Callable[[Principal, Any], str | None]


def add_actions(routes: ApiRoutes, actions: Sequence[OrderAction], *, base: str, name: str, tags: list[str],
                extra_responses: Mapping[int, str], auth: AuthKind = "user",
                department: ActingDepartment | None = None) -> None:
    """One POST `{base}/{number}/{path}` per action, named `{name}_{path}` (the OpenAPI operation id)."""
    for action in actions:
        handler = _handler(action, department)
        handler.__name__ = f"{name}_{action.path.replace('-', '_')}"
        routes.post(f"{base}/{{number}}/{action.path}", summary=action.summary, auth=auth, body=action.body,
                    response=s.ActionOut, tags=tags, extra_responses=dict(extra_responses))(handler)


def _handler(action: OrderAction, department: ActingDepartment | None) -> Callable[..., Awaitable[s.ActionOut]]:
    async def handler(request: web.Request, principal: Principal, body: s.VersionedIn) -> s.ActionOut:
        if action.roles:
            principal.require_role(*action.roles)
        acting = department(principal, body) if department is not None else None
        return await run_action(request, principal.actor, body, action.build, department=acting)
    return handler
