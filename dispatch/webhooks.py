"""Signed department webhooks: the outbox sender for kind "webhook" (the wire format, shared
with the press partners' webhooks, is `hotline.signed`).

One delivery on the wire (CONTRACT):

    POST /hotline/inbox HTTP/1.1
    Content-Type: application/json; charset=utf-8
    X-Hotline-Event: workorder.dispatched
    X-Hotline-Delivery: 6f1c0e5e-2b7d-4c1a-9a55-0b8d1f3e2a10
    X-Hotline-Timestamp: 1795665600
    X-Hotline-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>

    {"id": "6f1c0e5e-...", "event": "workorder.dispatched", "occurred_at": "...",
     "department": "scjgj", "workorder": {...}, "data": {...}}

A retry sends the same body and the same `X-Hotline-Delivery` (the receiver's idempotency
key) with a fresh timestamp and signature, so a receiver may refuse old timestamps.

>>> sign("s3cret", "1795665600", b'{"id":"x"}')
'sha256=b904e07a7b6beae29a718bbe2d91b94c2c7cfdb8c10354b93010dfa50cb2a0a3'
>>> verify("s3cret", "1795665600", b'{"id":"x"}', sign("s3cret", "1795665600", b'{"id":"x"}'), now=1795665660)
True
>>> verify("s3cret", "1795665600", b'{"id":"y"}', sign("s3cret", "1795665600", b'{"id":"x"}'), now=1795665660)
False
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp

from hotline.outbox import DeliveryFailed
from hotline.signed import USER_AGENT, body_of, post_signed, sign, verify

if TYPE_CHECKING:
    from collections.abc import Callable

    from hotline.clock import Clock
    from hotline.settings import Settings
    from hotline.storage.models import OutboxMessage

KIND = "webhook"
__all__ = ["KIND", "USER_AGENT", "WebhookSender", "body_of", "sign", "verify"]  # the wire format: hotline.signed


class WebhookSender:
    """The outbox strategy for department webhooks, on the process's HTTP client."""

    def __init__(self, settings_of: Callable[[], Settings], clock: Clock, http: aiohttp.ClientSession, *,
                 timeout: float = 10.0) -> None:
        self._settings_of = settings_of
        self._clock = clock
        self._http = http
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, message: OutboxMessage) -> None:
        dept = self._settings_of().department(message.target)
        if dept is None or not dept.webhook.url or not dept.webhook.secret:
            # Config changed since the message was written; a supervisor can retry once it is fixed.
            raise DeliveryFailed(f"department {message.target!r} has no webhook URL/secret configured",
                                 retryable=False)
        await post_signed(self._http, dept.webhook.url, dept.webhook.secret, message, self._clock, self._timeout)
