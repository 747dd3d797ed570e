"""More of the department API (承办单位接口, `X-Api-Key`): who am I, my 催办/超期
notices, and files: upload one to attach to a reply, download an order's files.

The core's `/api/v1/department/orders...` lists, shows and acts on orders; these sit
beside it. As there, an order the department does not hold answers 404.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Literal
from urllib.parse import quote, unquote

from aiohttp import BodyPartReader, web
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.dead_letters import path_id
from dispatch.timers import KINDS, LEVEL_NAMES
from hotline.auth import Principal
from hotline.domain.vocabulary import IN_DEPARTMENT
from hotline.errors import Forbidden, HotlineError, NotFound, ValidationFailed
from hotline.storage.models import Assignment, Attachment, Timer, WorkOrder
from hotline.storage.orders import decode_cursor, department_clause, encode_cursor
from hotline.web.api import ApiRoutes
from hotline.web.context import HOTLINE, lang_of

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


class DepartmentOut(BaseModel):
    code: str
    name: str
    level: str
    parent: str | None
    children: list[dict[str, str]] = Field(description="villages/communities it may sub-dispatch to (下派)")


@routes.get("/api/v1/department/me", summary="本部门信息 / Who am I", auth="department", response=DepartmentOut,
            tags=TAG)
async def department_me(request: web.Request, principal: Principal) -> DepartmentOut:
    h = request.app[HOTLINE]
    en = lang_of(request) == "en"
    d = h.settings.department(principal.department or "")
    if d is None:
        raise NotFound("部门已不在目录中", code="unknown_department")
    kids = [{"code": c.code, "name": (c.name_en or c.name) if en else c.name}
            for c in h.settings.departments if c.parent == d.code and c.level == "village"]
    return DepartmentOut(code=d.code, name=(d.name_en or d.name) if en else d.name, level=d.level, parent=d.parent,
                         children=kids)


# ---------------------------------------------------------------- notices (催办/超期/督办)

class NoticeQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)
    lang: str | None = None


class NoticeOut(BaseModel):
    id: int
    number: str
    title: str
    kind: str
    name: str
    level: int
    level_name: str
    deadline: str | None
    fired_at: datetime


class NoticePage(BaseModel):
    items: list[NoticeOut]
    next_cursor: str | None


@routes.get("/api/v1/department/notices", summary="催办、超期与督办通知 / My reminders and escalations",
            auth="department", query=NoticeQuery, response=NoticePage, tags=TAG)
async def department_notices(request: web.Request, principal: Principal, query: NoticeQuery) -> NoticePage:
    h = request.app[HOTLINE]
    lang: Literal["zh", "en"] = lang_of(request)
    q = (select(Timer, WorkOrder.number, WorkOrder.title).join(Assignment, Assignment.id == Timer.assignment_id)
         .join(WorkOrder, WorkOrder.id == Timer.work_order_id)
         .where(Assignment.department_code == principal.department, Timer.fired_at.is_not(None)))
    if query.cursor:
        q = q.where(Timer.id < decode_cursor(query.cursor))
    async with h.sessions() as session:
        rows = list((await session.execute(q.order_by(Timer.id.desc()).limit(query.limit + 1))).all())
    more = len(rows) > query.limit
    rows = rows[:query.limit]
    items = []
    for t, number, title in rows:
        assert t.fired_at is not None  # the query asked for fired ones
        _, zh, en = KINDS.get(t.kind, (t.level, t.kind, t.kind))
        items.append(NoticeOut(id=t.id, number=number, title=title, kind=t.kind, name=en if lang == "en" else zh,
                               level=t.level, level_name=LEVEL_NAMES.get(t.level, ("", ""))[lang == "en"],
                               deadline=t.data.get("deadline"), fired_at=t.fired_at))
    return NoticePage(items=items, next_cursor=encode_cursor(rows[-1][0].id) if more and rows else None)


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
    q = select(WorkOrder).where(WorkOrder.number == number, department_clause(department))
    if active:
        q = q.where(WorkOrder.status.in_([s.value for s in IN_DEPARTMENT]))
    order = (await session.execute(q)).scalar_one_or_none()
    if order is None:
        raise NotFound(f"工单 {number} 不存在或不在本部门办理中", code="workorder_not_found")
    return order


@routes.post("/api/v1/department/orders/{number}/attachments",
             summary="上传办理材料（用于办结回复） / Upload a file for the reply", auth="department",
             response=AttachmentOut, status=201, tags=TAG,
             description="multipart/form-data with one `file` (PDF, JPEG, PNG, TIFF, DOCX, XLSX or TXT). "
                         "Pass the returned id in the reply's `attachments`.",
             extra_responses={404: "不存在或不属于本部门", 413: "文件过大", 415: "文件类型不支持"})
async def department_upload(request: web.Request, principal: Principal) -> web.StreamResponse:
    h = request.app[HOTLINE]
    dept = principal.department or ""
    number = request.match_info["number"]
    if not request.content_type.startswith("multipart/"):
        raise _unsupported("请使用 multipart/form-data 上传，字段名 file")
    async with h.sessions() as session:
        order = await _held_order(session, number, dept, active=True)
    reader = await request.multipart()
    part = await reader.next()
    while part is not None and getattr(part, "name", None) != "file":
        part = await reader.next()
    if part is None or not isinstance(part, BodyPartReader) or not part.filename:
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
            while chunk := await part.read_chunk(64 * 1024):
                size += len(chunk)
                if size > limit:
                    raise HotlineError(f"文件超过上限 {limit} 字节", code="payload_too_large", status=413,
                                       title="上传内容过大", title_en="Payload too large")
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
            row = Attachment(work_order_id=order.id, contact_id=None, kind="document", filename=filename,
                             content_type=content_type, size=size, sha256=digest.hexdigest(),
                             location=stored.relative_to(h.settings.data_dir).as_posix(), created_at=h.clock())
            session.add(row)
            await session.flush()
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
        att = (await session.execute(select(Attachment).where(
            Attachment.id == path_id(request), Attachment.work_order_id == order.id))).scalar_one_or_none()
    if att is None:
        raise NotFound("附件不存在", code="attachment_not_found")
    if order.confidential and att.kind in HIDDEN_WHEN_CONFIDENTIAL:
        raise Forbidden("举报件的录音不向承办部门提供（举报人保密）", code="confidential_recording")
    root = h.settings.data_dir.resolve()
    path = (root / att.location).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise NotFound("附件文件不在本机存储中", code="attachment_not_stored")
    return web.FileResponse(path, headers={
        "Content-Type": att.content_type,
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(att.filename)}",
        "X-Content-Type-Options": "nosniff"})
