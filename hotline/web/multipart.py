"""Bounded, hostile-proof multipart reading: the one way every multipart endpoint (fax
gateway, portal, department uploads, Open311) reads its body.

    async for part in parts(request, max_parts=8):
        if part.name == "file":
            data = await part.read(limit)          # PayloadTooLarge past `limit`
        elif part.name == "from":
            sender = await part.text(256)           # strict UTF-8, cleaned at the boundary

A body with more parts than `max_parts` is refused as soon as the one too many starts
(200,000 tiny parts no longer keep a worker busy); a broken body (bad headers, CR/LF in
a file name, junk, a truncated stream) is a 400; a part without a name is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import BodyPartReader
from aiohttp.http_exceptions import HttpProcessingError

from hotline.errors import PayloadTooLarge, UnsupportedMedia
from hotline.web.boundary import BadInput, clean_text

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aiohttp import web

# What aiohttp raises on a body that is not the multipart it claims to be.
_BROKEN = (ValueError, AssertionError, LookupError, UnicodeError, HttpProcessingError, EOFError)


def broken(exc: BaseException) -> BadInput:
    return BadInput(f"multipart 无法解析：{type(exc).__name__}", code="bad_multipart")


@dataclass
class Part:
    name: str
    filename: str | None  # cleaned of control characters (CR, LF, NUL ...); None when absent
    content_type: str
    reader: BodyPartReader

    async def chunks(self, limit: int, *, what: str = "文件") -> AsyncIterator[bytes]:
        """The part's bytes as they arrive, refused past `limit`."""
        size = 0
        while True:
            try:
                chunk = await self.reader.read_chunk(64 * 1024)
            except _BROKEN as exc:
                raise broken(exc) from None
            if not chunk:
                return
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"{what}超过上限 {limit} 字节")
            yield chunk

    async def read(self, limit: int, *, what: str = "文件") -> bytes:
        return b"".join([chunk async for chunk in self.chunks(limit, what=what)])

    async def text(self, limit: int) -> str:
        data = await self.read(limit, what=f"字段 {self.name} ")
        try:
            return clean_text(data.decode("utf-8"))
        except UnicodeDecodeError:
            raise BadInput(f"字段 {self.name} 不是 UTF-8 文本", code="bad_encoding") from None


async def parts(request: web.Request, *, max_parts: int) -> AsyncIterator[Part]:
    if request.content_type != "multipart/form-data":
        raise UnsupportedMedia(f"请使用 multipart/form-data（收到 {request.content_type or '空'}）")
    try:
        reader = await request.multipart()
    except _BROKEN as exc:
        raise broken(exc) from None
    count = 0
    while True:
        try:
            part = await reader.next()
        except _BROKEN as exc:
            raise broken(exc) from None
        if part is None:
            return
        count += 1
        if count > max_parts:
            raise BadInput(f"multipart 最多 {max_parts} 个部分", code="too_many_parts")
        if not isinstance(part, BodyPartReader) or not part.name:
            continue  # a nested multipart or a nameless part: nothing of ours (released by next())
        try:
            filename = part.filename
        except _BROKEN as exc:
            raise broken(exc) from None
        yield Part(clean_text(part.name), clean_text(filename) if filename is not None else None,
                   part.headers.get("Content-Type", "application/octet-stream"), part)
