"""The supervisors' view of the outbox: messages that could not be delivered (死信), sent
again with the same delivery id, and the outbox at a glance."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from dispatch import queries
from hotline.errors import NotFound, ValidationFailed
from hotline.web.api import ApiRoutes
from hotline.web.boundary import path_id
from hotline.web.context import HOTLINE
from hotline.web.orders import SUPERVISORS

if TYPE_CHECKING:
    from aiohttp import web

    from hotline.auth import Principal

routes = ApiRoutes()
TAG = ["督办 Supervision"]


class LetterQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target: str | None = None
    kind: str | None = None
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)
    lang: str | None = None


class LetterOut(BaseModel):
    id: int
    delivery_id: str
    kind: str
    target: str
    event: str
    workorder: str | None
    attempts: int
    last_error: str | None
    created_at: datetime


class LetterPage(BaseModel):
    items: list[LetterOut]
    next_cursor: str | None


@routes.get("/api/v1/supervisor/dead-letters", summary="投递失败的消息（死信） / Dead letters", query=LetterQuery,
            response=LetterPage, tags=TAG)
async def supervisor_dead_letters(request: web.Request, principal: Principal, query: LetterQuery) -> LetterPage:
    principal.require_role(*SUPERVISORS)
    h = request.app[HOTLINE]
    async with h.sessions() as session:
        rows, cursor = await queries.dead_letters_page(session, target=query.target, kind=query.kind,
                                                       cursor=query.cursor, limit=query.limit)
    items = [LetterOut(id=m.id, delivery_id=m.delivery_id, kind=m.kind, target=m.target, event=m.event,
                       workorder=number, attempts=m.attempts, last_error=m.last_error, created_at=m.created_at)
             for m, number in rows]
    return LetterPage(items=items, next_cursor=cursor)


class RetriedOut(BaseModel):
    retried: int


@routes.post("/api/v1/supervisor/dead-letters/{id}/retry", summary="重新投递一条死信 / Send a dead letter again",
             response=RetriedOut, tags=TAG, extra_responses={404: "没有这条死信"})
async def supervisor_retry_letter(request: web.Request, principal: Principal) -> RetriedOut:
    principal.require_role(*SUPERVISORS)
    h = request.app[HOTLINE]
    if not await h.outbox.retry_dead(path_id(request)):
        raise NotFound("没有这条死信（可能已重新投递）", code="dead_letter_not_found")
    return RetriedOut(retried=1)


class RetryAllIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target: str | None = Field(None, description="only this department / recipient")
    kind: str | None = None


@routes.post("/api/v1/supervisor/dead-letters/retry", summary="批量重新投递死信 / Send dead letters again",
             body=RetryAllIn, response=RetriedOut, tags=TAG)
async def supervisor_retry_letters(request: web.Request, principal: Principal, body: RetryAllIn) -> RetriedOut:
    principal.require_role(*SUPERVISORS)
    h = request.app[HOTLINE]
    if not body.target and not body.kind:
        raise ValidationFailed("请指定 target 或 kind，避免误操作全部死信", code="filter_required")
    async with h.sessions() as session:
        ids = await queries.dead_letter_ids(session, target=body.target, kind=body.kind)
    n = 0
    for message_id in ids:
        n += await h.outbox.retry_dead(message_id)
    return RetriedOut(retried=n)


class OutboxSummary(BaseModel):
    counts: dict[str, dict[str, int]] = Field(description="kind → status → messages")
    oldest_undelivered_at: datetime | None


@routes.get("/api/v1/supervisor/outbox", summary="消息投递概况 / Outbox at a glance", response=OutboxSummary,
            tags=TAG)
async def supervisor_outbox(request: web.Request, principal: Principal) -> OutboxSummary:
    principal.require_role(*SUPERVISORS)
    h = request.app[HOTLINE]
    async with h.sessions() as session:
        counts, oldest = await queries.outbox_summary(session)
    return OutboxSummary(counts=counts, oldest_undelivered_at=oldest)
