"""Small helpers the channel endpoints share: bounded body reads, form parsing, client keys."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from multidict import MultiDict

from channels.errors import BadPayload
from hotline.errors import PayloadTooLarge, UnsupportedMedia
from hotline.web.boundary import clean_text
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


MAX_FIELDS = 100  # Twilio's richest webhook has ~40 fields; a form of 200,000 is an attack


async def read_form(request: web.Request, limit: int, *, signed: bool = False) -> MultiDict[str]:
    """A url-encoded form: strict UTF-8, at most MAX_FIELDS fields, its text cleaned at the
    boundary (`clean_form`). `signed`: kept byte for byte, because the sender's signature
    covers it; the caller cleans it after checking."""
    if request.content_type != "application/x-www-form-urlencoded":
        raise UnsupportedMedia(f"请使用 application/x-www-form-urlencoded（收到 {request.content_type or '空'}）")
    raw = await read_body(request, limit)
    try:
        text = raw.decode("utf-8")
        form = MultiDict(parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=MAX_FIELDS,
                                   errors="strict"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadPayload(f"表单无法解析：{type(exc).__name__}") from None
    return form if signed else clean_form(form)


def clean_form(form: MultiDict[str]) -> MultiDict[str]:
    return MultiDict((clean_text(k), clean_text(v)) for k, v in form.items())


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
