"""Small helpers the channel endpoints share: bounded body reads, form parsing, client keys."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from multidict import MultiDict

from channels.errors import BadPayload, PayloadTooLarge, UnsupportedMedia
from hotline.web.clients import client_address

if TYPE_CHECKING:
    from aiohttp import web


async def read_body(request: web.Request, limit: int) -> bytes:
    """The raw body, refused early (Content-Length) or late (actual size) past `limit`."""
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"请求体超过上限 {limit} 字节")
    data = await request.content.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"请求体超过上限 {limit} 字节")
    return data


async def read_form(request: web.Request, limit: int) -> MultiDict[str]:
    if request.content_type != "application/x-www-form-urlencoded":
        raise UnsupportedMedia(f"请使用 application/x-www-form-urlencoded（收到 {request.content_type or '空'}）")
    raw = await read_body(request, limit)
    try:
        text = raw.decode("utf-8")
        return MultiDict(parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=500))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadPayload(f"表单无法解析：{exc}") from None


def client_key(request: web.Request) -> str:
    """Who is asking, for rate limits: the client's address, through trusted proxies only
    (`http.trusted_proxies`, see `hotline.web.clients`)."""
    return client_address(request)


def external_url(request: web.Request, public_url: str | None) -> str:
    """The URL the sender signed: HOTLINE_PUBLIC_URL + path and query when set (behind a
    proxy the request's own host and scheme are not what Twilio saw)."""
    if public_url:
        return public_url.rstrip("/") + request.path_qs
    return str(request.url)
