"""Signed department webhooks: the wire format, and the outbox sender for kind "webhook".

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

import hashlib
import hmac
import json
from typing import TYPE_CHECKING

import aiohttp

from hotline.outbox import DeliveryFailed

if TYPE_CHECKING:
    from collections.abc import Callable

    from hotline.clock import Clock
    from hotline.settings import Settings
    from hotline.storage.models import OutboxMessage

KIND = "webhook"
USER_AGENT = "Hotline12345-Webhook/1"
# The receiver refused this very message; sending the same bytes again cannot help.
_REFUSED = {400, 404, 410, 413, 415, 422}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, now: float,
           tolerance: float = 300) -> bool:
    """What a receiver does: constant-time compare, and refuse stale timestamps (replays)."""
    try:
        age = abs(now - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance and hmac.compare_digest(sign(secret, timestamp, body), signature)


def body_of(message: OutboxMessage) -> bytes:
    """The exact bytes sent: the same for every attempt of one message."""
    doc = {"id": message.delivery_id, "event": message.event, **message.payload}
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, min(float(value), 3600.0)) if value else None
    except ValueError:
        return None


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
        body = body_of(message)
        ts = str(int(self._clock().timestamp()))
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
                   "X-Hotline-Event": message.event,
                   "X-Hotline-Delivery": message.delivery_id, "X-Hotline-Timestamp": ts,
                   "X-Hotline-Signature": sign(dept.webhook.secret, ts, body)}
        try:
            async with self._http.post(dept.webhook.url, data=body, headers=headers, timeout=self._timeout,
                                       allow_redirects=False) as resp:
                await resp.content.read(4096)  # drain a little, keep the connection reusable
                status = resp.status
                retry_after = _retry_after(resp.headers.get("Retry-After"))
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc or 'no answer'}") from None
        if 200 <= status < 300:
            return
        if status in _REFUSED:
            raise DeliveryFailed(f"HTTP {status}: the receiver refused the message", retryable=False)
        raise DeliveryFailed(f"HTTP {status}", retry_after=retry_after if status in (429, 503) else None)
