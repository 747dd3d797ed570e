"""The dispatch module's services, built once by `dispatch.install` and kept in
`hotline.services["dispatch"]` for the web handlers, the CLI and the worker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dispatch.config import DispatchConfig
from dispatch.escalation import Escalation
from dispatch.notices import NoticeWriter
from dispatch.routing import Router
from dispatch.webhooks import WebhookSender

if TYPE_CHECKING:
    from hotline.root import Hotline

KEY = "dispatch"


@dataclass
class DispatchService:
    config: DispatchConfig
    router: Router
    escalation: Escalation
    writer: NoticeWriter
    webhooks: WebhookSender


def dispatch_of(h: Hotline) -> DispatchService:
    service = h.services.get(KEY)
    if not isinstance(service, DispatchService):
        raise RuntimeError("the dispatch module is not installed (hotline.root.MODULES)")
    return service
