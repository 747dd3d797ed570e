"""The dispatch module's services, built once by `dispatch.module.install`: its handlers
find them as `request.app[DISPATCH]`, the CLI and the worker as `running.module(DispatchService)`.

The use cases of more than one step live here, not in the handlers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from dispatch import commands
from hotline.domain import workorder as wo

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from dispatch.config import DispatchConfig
    from dispatch.escalation import Escalation
    from dispatch.notices import NoticeWriter
    from dispatch.routing import Router
    from dispatch.webhooks import WebhookSender
    from hotline.settings import Settings
    from hotline.storage.models import WorkOrder
    from hotline.workorders import Change, WorkOrderService


@dataclass
class DispatchService:
    settings: Settings
    config: DispatchConfig
    router: Router
    escalation: Escalation
    writer: NoticeWriter
    webhooks: WebhookSender
    orders: WorkOrderService

    def context(self, now: datetime) -> commands.Context:
        """What dispatch's command builders need: the directory, the calendar, the SLA rules."""
        return commands.Context(self.settings, self.config.calendar, self.config.rules, now)

    async def accept_return_and_redispatch(self, number: str, actor: wo.Actor, *, lead: str,
                                           assisting: Sequence[str], note: str, reason: str,
                                           expected_version: int | None) -> tuple[Change, Change]:
        """退单审核: accept a department's return and dispatch to another, in one transaction."""
        now = self.orders.clock()

        async def review(session: AsyncSession, order: WorkOrder, state: wo.OrderState) -> wo.Command:
            return wo.ReviewReturn(actor, True, note)

        async def dispatch(session: AsyncSession, order: WorkOrder, state: wo.OrderState) -> wo.Command:
            return commands.dispatch(self.context(now), order, actor, lead, assisting, note,
                                     reason or "退单审核后改派")

        accepted, dispatched = await self.orders.execute_steps(number, [review, dispatch],
                                                               expected_version=expected_version)
        return accepted, dispatched


DISPATCH: web.AppKey[DispatchService] = web.AppKey("dispatch", DispatchService)
