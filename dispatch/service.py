"""The dispatch module's services, built once by `dispatch.module.install`: its handlers
find them as `request.app[DISPATCH]`, the CLI and the worker as `running.module(DispatchService)`."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from dispatch.config import DispatchConfig
from dispatch.escalation import Escalation
from dispatch.notices import NoticeWriter
from dispatch.routing import Router
from dispatch.webhooks import WebhookSender


@dataclass
class DispatchService:
    config: DispatchConfig
    router: Router
    escalation: Escalation
    writer: NoticeWriter
    webhooks: WebhookSender


DISPATCH: web.AppKey[DispatchService] = web.AppKey("dispatch", DispatchService)
