"""The knowledge API under /api/v1/knowledge/: entries (supervisors write, staff read),
search, suggestions from a draft, import and export (CSV/XLSX); and the order action that
answers and resolves an order citing an entry (`POST /api/v1/workorders/{number}/resolve-with-knowledge`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from hotline.domain import workorder as wo
from hotline.errors import HotlineError, NotFound, ValidationFailed
from hotline.knowledge import queries
from hotline.knowledge import schemas as ks
from hotline.knowledge.models import KnowledgeCitation
from hotline.knowledge.service import KNOWLEDGE
from hotline.knowledge.tabular import parse_rows, read_table, write_csv, write_xlsx
from hotline.web.actions import ActionArgs, OrderAction, add_actions
from hotline.web.api import ApiRoutes
from hotline.web.orders import ACTION_RESPONSES, STAFF, SUPERVISORS
from hotline.web.orders import TAG as ORDER_TAG

if TYPE_CHECKING:
    from hotline.auth import Principal

routes = ApiRoutes()
TAG = ["知识库 Knowledge base"]
BASE = "/api/v1/knowledge"
MAX_IMPORT_BYTES = 20 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound(f"知识条目 {raw} 不存在", code="entry_not_found")
    return int(raw)


def _by(principal: Principal) -> str:
    return principal.username or principal.name or principal.id


@routes.get(f"{BASE}/entries", summary="知识条目列表 / List entries", query=ks.ListQuery, response=ks.EntryPage,
            tags=TAG)
async def list_entries(request: web.Request, principal: Principal, query: ks.ListQuery) -> ks.EntryPage:
    principal.require_role(*STAFF)
    kb = request.app[KNOWLEDGE]
    async with kb.sessions() as session:
        rows, cursor = await queries.list_entries(session, cursor=query.cursor, limit=query.limit,
                                                  status=query.status, department=query.department, tag=query.tag)
    return ks.EntryPage(items=[kb.out(e) for e in rows], next_cursor=cursor)


@routes.post(f"{BASE}/entries", summary="新建知识条目（保存即审核通过） / Create an entry (saving approves it)",
             body=ks.EntryIn, response=ks.EntryOut, status=201, tags=TAG,
             extra_responses={409: "编号已存在 / key taken", 422: "内容不合规 / invalid"})
async def create_entry(request: web.Request, principal: Principal, body: ks.EntryIn) -> ks.EntryOut:
    principal.require_role(*SUPERVISORS)
    return await request.app[KNOWLEDGE].create(body, _by(principal))


@routes.get(f"{BASE}/entries/{{id}}", summary="知识条目 / One entry", response=ks.EntryOut, tags=TAG,
            extra_responses={404: "不存在 / not found"})
async def get_entry(request: web.Request, principal: Principal) -> ks.EntryOut:
    principal.require_role(*STAFF)
    return await request.app[KNOWLEDGE].get(_id(request))


@routes.put(f"{BASE}/entries/{{id}}", summary="修改知识条目（新版本） / Update an entry (a new version)",
            body=ks.EntryUpdateIn, response=ks.EntryOut, tags=TAG,
            extra_responses={404: "不存在 / not found", 409: "版本冲突 / version conflict"})
async def update_entry(request: web.Request, principal: Principal, body: ks.EntryUpdateIn) -> ks.EntryOut:
    principal.require_role(*SUPERVISORS)
    return await request.app[KNOWLEDGE].update(_id(request), body, _by(principal), body.expected_version)


@routes.post(f"{BASE}/entries/{{id}}/retire", summary="下线知识条目 / Retire an entry", body=ks.RetireIn,
             response=ks.EntryOut, tags=TAG, extra_responses={404: "不存在 / not found", 409: "版本冲突"})
async def retire_entry(request: web.Request, principal: Principal, body: ks.RetireIn) -> ks.EntryOut:
    principal.require_role(*SUPERVISORS)
    return await request.app[KNOWLEDGE].retire(_id(request), _by(principal), body.expected_version,
                                               body.reason)


@routes.get(f"{BASE}/entries/{{id}}/versions", summary="修订记录 / Version history", response=list[ks.VersionOut],
            tags=TAG, extra_responses={404: "不存在 / not found"})
async def entry_versions(request: web.Request, principal: Principal) -> list[ks.VersionOut]:
    principal.require_role(*STAFF)
    return await request.app[KNOWLEDGE].versions(_id(request))


@routes.get(f"{BASE}/search", summary="检索知识库 / Search the knowledge base", query=ks.SearchQuery,
            response=list[ks.Hit], tags=TAG)
async def search(request: web.Request, principal: Principal, query: ks.SearchQuery) -> list[ks.Hit]:
    principal.require_role(*STAFF)
    return await request.app[KNOWLEDGE].search(query.q, limit=query.limit, department=query.department)


@routes.post(f"{BASE}/suggest", summary="按草稿内容推荐知识条目 / Suggestions for a draft's text",
             description="The agent desk calls this as the agent types; a text shorter than "
                         "knowledge.search.suggest_min_chars gets an empty list.",
             body=ks.SuggestIn, response=list[ks.Hit], tags=TAG)
async def suggest(request: web.Request, principal: Principal, body: ks.SuggestIn) -> list[ks.Hit]:
    principal.require_role(*STAFF)
    return await request.app[KNOWLEDGE].suggest(body.text, limit=body.limit)


@routes.post(f"{BASE}/import", summary="导入知识条目（CSV/XLSX，全部成功或全部不写） / Import entries",
             description="The request body is the file itself: Content-Type text/csv or the XLSX type. "
                         "Rows are matched on 编号 (key); every row is checked before anything is written.",
             response=ks.ImportOut, tags=TAG, extra_responses={415: "不支持的文件类型", 422: "某行不合规 / a bad row"},
             raw_body={"text/csv": {"schema": {"type": "string"}},
                       XLSX: {"schema": {"type": "string", "format": "binary"}}})
async def import_entries(request: web.Request, principal: Principal) -> ks.ImportOut:
    principal.require_role(*SUPERVISORS)
    ctype = request.content_type
    fmt = "xlsx" if ctype == XLSX else "csv" if ctype in ("text/csv", "application/csv") else None
    if fmt is None:
        raise HotlineError(f"请上传 CSV（text/csv）或 XLSX 文件（收到 {ctype or '空'}）", code="unsupported_media_type",
                           status=415, title="不支持的内容类型", title_en="Unsupported media type")
    if request.content_length is not None and request.content_length > MAX_IMPORT_BYTES:
        raise ValidationFailed("文件过大（最大 20 MB）", code="too_large")
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(64 * 1024):  # a body without Content-Length is counted too
        size += len(chunk)
        if size > MAX_IMPORT_BYTES:
            raise ValidationFailed("文件过大（最大 20 MB）", code="too_large")
        chunks.append(chunk)
    data = b"".join(chunks)
    kb = request.app[KNOWLEDGE]
    entries = parse_rows(read_table(data, fmt), kb.department_code)
    return await kb.import_entries(entries, _by(principal))


@routes.get(f"{BASE}/export", summary="导出知识条目（CSV/XLSX） / Export entries", query=ks.ExportQuery, tags=TAG,
            raw_response={"text/csv": {"schema": {"type": "string"}},
                          XLSX: {"schema": {"type": "string", "format": "binary"}}})
async def export_entries(request: web.Request, principal: Principal, query: ks.ExportQuery) -> web.Response:
    principal.require_role(*STAFF)
    rows = await request.app[KNOWLEDGE].entries()
    if query.format == "xlsx":
        return web.Response(body=write_xlsx(rows), content_type=XLSX,
                            headers={"Content-Disposition": 'attachment; filename="knowledge.xlsx"'})
    return web.Response(body=write_csv(rows), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": 'attachment; filename="knowledge.csv"'})


# ---------------------------------------------------------------- the order action


async def resolve_with_entry(a: ActionArgs) -> wo.Command:
    """直接办结，引用知识条目: the answer (the entry's, or the agent's words) with the entry's
    number and version cited in it; the citation row is written in the order's transaction."""
    kb = a.request.app[KNOWLEDGE]
    e = await queries.entry_by_id(a.session, a.body.entry_id)
    if e is None or e.status != "active":
        raise ValidationFailed(f"知识条目 {a.body.entry_id} 不存在或已下线", code="bad_entry")
    today = kb.today()
    if (e.valid_from and e.valid_from > today) or (e.valid_to and e.valid_to < today):
        raise ValidationFailed(f"知识条目 {e.key} 不在有效期内", code="entry_not_valid")
    said = (a.body.answer or "").strip() or e.answer
    source = f"（答复依据：知识库 {e.key} 第{e.version}版" + (f"；{e.policy_source}" if e.policy_source else "") + "）"
    queries.add_citation(a.session, KnowledgeCitation(entry_id=e.id, version=e.version, work_order_id=a.order.id,
                                                      cited_by=a.actor.id or "", cited_at=a.now))
    await queries.count_citation(a.session, e.id)
    return wo.ResolveDirectly(a.actor, f"{said}\n{source}")


ACTIONS = [OrderAction("resolve-with-knowledge", ks.ResolveWithEntryIn,
                       "引用知识条目直接办结 / Answer from a knowledge entry and resolve", resolve_with_entry, STAFF)]
add_actions(routes, ACTIONS, base="/api/v1/workorders", name="workorder", tags=ORDER_TAG,
            extra_responses={**ACTION_RESPONSES, 422: "条目不存在或不在有效期 / no such valid entry"})
