"""Typed keys for what the web app shares, and the language switch (中文 first)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from aiohttp import web

if TYPE_CHECKING:
    from hotline.ports import Hotline

HOTLINE: web.AppKey[Hotline] = web.AppKey("hotline")
LANG_COOKIE = "hotline_lang"


def lang_of(request: web.Request) -> Literal["zh", "en"]:
    """?lang=en, then the language cookie, then Accept-Language; Chinese by default."""
    choice = request.query.get("lang") or request.cookies.get(LANG_COOKIE)
    if choice in ("zh", "en"):
        return choice  # type: ignore[return-value]
    accept = request.headers.get("Accept-Language", "")
    first = accept.split(",")[0].strip().lower()
    return "en" if first.startswith("en") else "zh"
