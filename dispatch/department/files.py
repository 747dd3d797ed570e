"""The department API's files (承办单位接口, `X-Api-Key`): upload one to attach to a reply,
download an order's files. As everywhere in this API, an order the department does not
hold answers 404.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import uuid
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

from aiohttp import web
from pydantic import BaseModel

from dispatch import queries
from hotline.errors import Forbidden, HotlineError, NotFound, ValidationFailed
from hotline.redaction import Audience, attachment_name
from hotline.web.api import ApiRoutes
from hotline.web.boundary import path_id
from hotline.web.context import HOTLINE
from hotline.web.multipart import parts

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from hotline.auth import Principal
    from hotline.storage.models import WorkOrder

routes = ApiRoutes()
TAG = ["承办部门 Departments"]

# Extension → (content type, magic bytes or None for text). Only what offices really send.
ALLOWED: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".tif": ("image/tiff", (b"II*\x00", b"MM\x00*")),
    ".tiff": ("image/tiff", (b"II*\x00", b"MM\x00*")),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    ".txt": ("text/plain; charset=utf-8", None),
}
# A confidential report's recordings carry the reporter's voice: never to the department.
HIDDEN_WHEN_CONFIDENTIAL = {"recording", "voice"}
MAX_PARTS = 4  # one `file`; a form library may add a field or two


# ---------------------------------------------------------------- files

class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str


def _safe_name(name: str) -> str:
    # Browsers send UTF-8 names as they are; some clients percent-encode them.
    name = unquote(name) if re.search(r"%[0-9A-Fa-f]{2}", name) else name
    name = os.path.basename(name.replace("\\", "/")).strip() or "file"
    return re.sub(r"[\x00-\x1f<>:\"/\\|?*]", "_", name)[:200]


async def _held_order(session: AsyncSession, number: str, department: str, *, active: bool) -> WorkOrder:
    order = await queries.held_order(session, number, department, active=active)
    if order is None:
        raise NotFound(f"工单 {number} 不存在或不在本部门办理中", code="workorder_not_found")
    return order


@routes.post("/api/v1/department/orders/{number}/attachments",
             summary="上传办理材料（用于办结回复） / Upload a file for the reply", auth="department",
             response=AttachmentOut, status=201, tags=TAG,
             description="multipart/form-data with one `file` (PDF, JPEG, PNG, TIFF, DOCX, XLSX or TXT). "
                         "Pass the returned id in the reply's `attachments`.",
             extra_responses={404: "不存在或不属于本部门", 413: "文件过大", 415: "文件类型不支持"},
             raw_body={"multipart/form-data": {"schema": {
                 "type": "object", "required": ["file"],
                 "properties": {"file": {"type": "string", "format": "binary",
                                         "description": "PDF, JPEG, PNG, TIFF, DOCX, XLSX 或 UTF-8 TXT"}}},
                 "encoding": {"file": {"contentType": "application/octet-stream"}}}})
async def department_upload(request: web.Request, principal: Principal) -> web.StreamResponse:
    h = request.app[HOTLINE]
    dept = principal.department or ""
    number = request.match_info["number"]
    if request.content_type != "multipart/form-data":
        raise _unsupported("请使用 multipart/form-data 上传，字段名 file")
    async with h.sessions() as session:
        order = await _held_order(session, number, dept, active=True)
    part = None
    async for candidate in parts(request, max_parts=MAX_PARTS):
        if candidate.name == "file":
            part = candidate
            break
    if part is None or not part.filename:
        raise ValidationFailed("缺少文件字段 file", code="file_required")
    filename = _safe_name(part.filename)
    ext = Path(filename).suffix.lower()
    if ext not in ALLOWED:
        raise _unsupported(f"不支持的文件类型 {ext or '（无扩展名）'}；可上传 {', '.join(sorted(ALLOWED))}")
    content_type, magic = ALLOWED[ext]
    limit = h.settings.http.max_body_bytes
    folder = h.settings.data_dir / "attachments" / order.number
    folder.mkdir(parents=True, exist_ok=True)
    stored = folder / f"{dept}-{uuid.uuid4().hex}{ext}"
    digest, size, head = hashlib.sha256(), 0, b""
    try:
        f = await asyncio.to_thread(stored.open, "wb")  # disk writes off the event loop
        try:
            async for chunk in part.chunks(limit):
                size += len(chunk)
                if len(head) < 16:
                    head += chunk[:16]
                digest.update(chunk)
                await asyncio.to_thread(f.write, chunk)
        finally:
            f.close()
        if size == 0:
            raise ValidationFailed("文件为空", code="empty_file")
        if magic is not None and not head.startswith(magic):
            raise _unsupported(f"文件内容与扩展名 {ext} 不符")
        if magic is None:
            await asyncio.to_thread(_check_text, stored)
        async with h.sessions() as session, session.begin():
            await _held_order(session, number, dept, active=True)  # still ours, now that the upload is done
            row = await queries.add_attachment(session, order.id, filename=filename, content_type=content_type,
                                               size=size, sha256=digest.hexdigest(),
                                               location=stored.relative_to(h.settings.data_dir).as_posix(),
                                               now=h.clock())
            out = AttachmentOut(id=row.id, filename=filename, content_type=content_type, size=size,
                                sha256=row.sha256 or "")
    except BaseException:
        stored.unlink(missing_ok=True)  # nothing half-written: no row without its file, no stray file
        raise
    return web.json_response(out.model_dump(), status=201)


def _check_text(path: Path) -> None:
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise _unsupported("文本文件须为 UTF-8 编码") from None


def _unsupported(detail: str) -> HotlineError:
    return HotlineError(detail, code="unsupported_media_type", status=415, title="不支持的文件类型",
                        title_en="Unsupported media type")


@routes.get("/api/v1/department/orders/{number}/attachments/{id}",
            summary="下载工单附件 / Download one of the order's files", auth="department", tags=TAG,
            extra_responses={404: "不存在或不属于本部门", 403: "举报件录音不提供"})
async def department_download(request: web.Request, principal: Principal) -> web.StreamResponse:
    h = request.app[HOTLINE]
    async with h.sessions() as session:
        order = await _held_order(session, request.match_info["number"], principal.department or "", active=False)
        att = await queries.attachment_of(session, order.id, path_id(request))
    if att is None:
        raise NotFound("附件不存在", code="attachment_not_found")
    if order.confidential and att.kind in HIDDEN_WHEN_CONFIDENTIAL:
        raise Forbidden("举报件的录音不向承办部门提供（举报人保密）", code="confidential_recording")
    root = h.settings.data_dir.resolve()
    path = (root / att.location).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise NotFound("附件文件不在本机存储中", code="attachment_not_stored")
    if path.is_relative_to(root / "originals"):  # a citizen's untouched file: the hotline's staff only
        raise Forbidden("原始文件仅热线工作人员可见", code="original_file")
    name = attachment_name(att.id, att.filename, att.content_type, audience=Audience.DEPARTMENT,
                           from_citizen=att.contact_id is not None)
    return web.FileResponse(path, headers={
        "Content-Type": att.content_type,
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
        "X-Content-Type-Options": "nosniff"})
