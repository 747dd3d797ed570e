"""Channel errors: vendor failures translated at each adapter's edge into the hotline's own.

They are `HotlineError`s, so the core's middleware turns them into RFC 9457 problems
(or the adapter catches them first where the sender expects another format, e.g. Open311).
"""

from __future__ import annotations

from hotline.errors import HotlineError, Unavailable


class ChannelAuthError(HotlineError):
    """A request whose signature, key or token does not check out: nothing is stored."""

    code = "bad_signature"
    status = 403
    title = "签名校验失败"
    title_en = "Signature check failed"


class BadPayload(HotlineError):
    """Malformed XML/form/file: the sender's fault, retrying will not help."""

    code = "bad_payload"
    status = 400
    title = "请求内容无法解析"
    title_en = "The request body cannot be parsed"


class ChannelNotConfigured(HotlineError):
    code = "channel_not_configured"
    status = 404
    title = "该渠道未启用"
    title_en = "This channel is not configured"


class TooManyRequests(HotlineError):
    code = "too_many_requests"
    status = 429
    title = "请求过于频繁，请稍后再试"
    title_en = "Too many requests, try again later"


class ChannelUnavailable(Unavailable):
    """The vendor (Twilio, WeChat) is unreachable or failing; the outbox retries."""

    code = "channel_unavailable"
