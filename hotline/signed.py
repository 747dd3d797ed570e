"""Signed webhooks: the one wire format of every message the hotline POSTs to a partner
system (a department's, a press partner's), and the POST itself (CONTRACT):

    X-Hotline-Event, X-Hotline-Delivery (the receiver's idempotency key), X-Hotline-Timestamp,
    X-Hotline-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>

A retry sends the same body and the same delivery id with a fresh timestamp and signature.
The senders of the modules (dispatch's department webhooks, public's press partners) look
up the URL and secret of a target and call `post_signed`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING

import aiohttp

from hotline.outbox import DeliveryFailed

if TYPE_CHECKING:
    from hotline.clock import Clock
    from hotline.storage.models import OutboxMessage

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


async def post_signed(http: aiohttp.ClientSession, url: str, secret: str, message: OutboxMessage, clock: Clock,
                      limit: aiohttp.ClientTimeout) -> None:
    """POST `message` signed with `secret` within `limit` (the HTTP client's own timeout, so a
    slow receiver is a retryable `DeliveryFailed`); `DeliveryFailed` says whether a retry can help."""
    body = body_of(message)
    ts = str(int(clock().timestamp()))
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
               "X-Hotline-Event": message.event,
               "X-Hotline-Delivery": message.delivery_id, "X-Hotline-Timestamp": ts,
               "X-Hotline-Signature": sign(secret, ts, body)}
    try:
        async with http.post(url, data=body, headers=headers, timeout=limit, allow_redirects=False) as resp:
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
