"""An order's files for the hotline's own staff (`GET /api/v1/workorders/{number}/attachments/{id}`):
the fax page preview in the inbox, the original PDF/TIFF, a citizen's photo. Agents,
supervisors and admins only (a department downloads through its own API); the file is
looked up by its row, never by a name from the request, and served only from inside the
data directory (a row pointing elsewhere answers 404, not the file)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from aiohttp import web

from hotline.desk import queries
from hotline.domain.vocabulary import UserRole
from hotline.errors import NotFound
from hotline.redaction import Audience, attachment_name
from hotline.web.api import ApiRoutes
from hotline.web.boundary import path_id
from hotline.web.context import HOTLINE

if TYPE_CHECKING:
    from hotline.auth import Principal

routes = ApiRoutes()
TAG = ["坐席工作台 Desk"]
STAFF = (UserRole.AGENT, UserRole.SUPERVISOR, UserRole.ADMIN)
# Shown in the page (an <img>, the browser's PDF viewer); anything else is a download.
INLINE = {"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"}


@routes.get("/api/v1/workorders/{number}/attachments/{id}",
            summary="工单附件（热线工作人员） / One of the order's files, for the hotline's staff",
            description="Fax pages and their PNG preview, citizens' photos, reply documents. "
                        "A department uses GET /api/v1/department/orders/{number}/attachments/{id}.",
            tags=TAG, extra_responses={200: "the file", 404: "工单或附件不存在 / no such file"})
async def staff_download(request: web.Request, principal: Principal) -> web.StreamResponse:
    principal.require_role(*STAFF)
    h = request.app[HOTLINE]
    attachment_id = path_id(request)
    async with h.sessions() as session:
        att = await queries.attachment_of(session, request.match_info["number"], attachment_id)
    if att is None or "://" in att.location:
        raise NotFound("附件不存在", code="attachment_not_found")
    root = h.settings.data_dir.resolve()
    path = (root / att.location).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise NotFound("附件文件不在本机存储中", code="attachment_not_stored")
    name = attachment_name(att.id, att.filename, att.content_type, audience=Audience.STAFF,
                           from_citizen=att.contact_id is not None)
    disposition = "inline" if att.content_type in INLINE else "attachment"
    headers = {"Content-Type": att.content_type,
               "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name)}",
               "X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=300"}
    if att.content_type != "application/pdf":  # Chromium's PDF viewer does not open in a sandbox
        # An image or a download is shown, never run: nothing it could load or script.
        headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    return web.FileResponse(path, headers=headers)
