"""`/api/v1/telephony/...`: the agents' phone buttons, the board, call records, callbacks.

Agents act on their own extension; supervisors may name another agent's extension
(e.g. to log a forgotten agent out). PBX failures answer problem+json: 502
`pbx_refused`, 503 `pbx_unavailable`, 504 `pbx_timeout`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from hotline.domain.vocabulary import UserRole
from hotline.errors import Conflict, HotlineError, NotFound, Unavailable, ValidationFailed
from hotline.telephony import queries
from hotline.telephony.models import OPEN_TASK, CallbackTask
from hotline.telephony.service import TELEPHONY, Telephony
from hotline.web.api import ApiRoutes
from hotline.web.boundary import path_id
from hotline.web.context import HOTLINE

if TYPE_CHECKING:
    from hotline.auth import Principal

routes = ApiRoutes()
TAG = ["话务 Telephony"]
STAFF = (UserRole.AGENT, UserRole.SUPERVISOR, UserRole.ADMIN)
PBX_ERRORS = {502: "交换机拒绝 / PBX refused (pbx_refused)", 503: "交换机未连接 / PBX not connected (pbx_unavailable)",
              504: "交换机超时 / PBX timeout (pbx_timeout)"}


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    extension: str | None = Field(None, max_length=32, description="Supervisors only: act for this extension")


class QueuesIn(Body):
    queues: list[str] | None = Field(None, description="Default: every queue in telephony.queues")


class PauseIn(Body):
    reason: str = Field("", max_length=64, description="暂停原因, e.g. 小休/培训/用餐")


class DialIn(Body):
    number: str = Field(pattern=r"^\+?\d{3,20}$", description="The citizen's number")


class DepartmentIn(Body):
    department: str = Field(description="Department code; its transfer extension comes from config")


class SpyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    agent: str = Field(min_length=1, max_length=32, description="The agent's extension, on a call")
    mode: str = Field("listen", pattern="^(listen|whisper|barge)$",
                      description="listen 监听 (ChanSpy q), whisper 耳语 (w: to the agent only), barge 强插 (B: to both)")


class CloseTaskIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    result: str = Field(pattern="^(reached|unreachable|not_needed)$")
    note: str = Field("", max_length=2000)


class Done(BaseModel):
    ok: bool = True
    extension: str
    detail: dict[str, Any] = Field(default_factory=dict)


class CallOut(BaseModel):
    linkedid: str
    direction: str
    outcome: str
    caller: str
    line: str
    legacy_line: str | None
    queue: str | None
    agent_extension: str | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime
    wait_seconds: int | None
    talk_seconds: int | None
    recording: str | None
    transferred_to: str | None
    rating: int | None
    work_order_id: int | None
    callback_task_id: int | None


class TaskOut(BaseModel):
    id: int
    phone: str
    reason: str
    status: str
    missed_calls: int
    attempts: int
    first_call_id: str
    last_call_id: str
    last_call_at: datetime
    result: str | None
    result_call_id: str | None
    created_at: datetime
    done_at: datetime | None


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: str | None = None
    outcome: str | None = None
    caller: str | None = None
    limit: int = Field(50, ge=1, le=500)
    lang: str | None = None


def _tel(request: web.Request) -> Telephony:
    return request.app[TELEPHONY]


def _extension(principal: Principal, body: Body) -> str:
    principal.require_role(*STAFF)
    if body.extension and body.extension != principal.extension:
        principal.require_role(UserRole.SUPERVISOR, UserRole.ADMIN)
        return body.extension
    if not principal.extension:
        raise ValidationFailed("您的账号没有分机号（hotline user add --extension）", code="no_extension")
    return principal.extension


def _department_phone(request: web.Request, code: str) -> str:
    dept = request.app[HOTLINE].settings.department(code)
    if dept is None or not dept.phone:
        raise ValidationFailed(f"部门 {code} 不存在或没有转接号码", code="no_transfer_number")
    return dept.phone


@routes.get("/api/v1/telephony/board", summary="话务看板：通话、队列、坐席 / Live calls, queues and agents", tags=TAG)
async def board(request: web.Request, principal: Principal) -> dict[str, Any]:
    principal.require_role(*STAFF)
    tel, h = _tel(request), request.app[HOTLINE]
    tracker = tel.tracker
    if tracker is not None:
        return {"connected": bool(tel.consumer and tel.consumer.link.up), "shared": False, **tracker.board(h.clock())}
    shared = await tel.shared_board()  # a stand-by node: the consuming node's copy, at most a second old
    if shared is None:
        raise Unavailable("话务看板暂不可用：交换机未连接，或本节点不是话务主节点且未配置 Redis",
                          code="telephony_standby")
    return {"connected": True, "shared": True, **shared}


@routes.post("/api/v1/telephony/agent/login", summary="签入队列 / Log in to the queues (QueueAdd)", body=QueuesIn,
             response=Done, tags=TAG, extra_responses=PBX_ERRORS)
async def agent_login(request: web.Request, principal: Principal, body: QueuesIn) -> Done:
    ext = _extension(principal, body)
    queues = await _tel(request).switchboard.login(ext, principal.name if ext == principal.extension else ext,
                                                   body.queues)
    return Done(extension=ext, detail={"queues": queues})


@routes.post("/api/v1/telephony/agent/logout", summary="签出队列 / Log out of the queues (QueueRemove)",
             body=QueuesIn, response=Done, tags=TAG, extra_responses=PBX_ERRORS)
async def agent_logout(request: web.Request, principal: Principal, body: QueuesIn) -> Done:
    ext = _extension(principal, body)
    return Done(extension=ext, detail={"queues": await _tel(request).switchboard.logout(ext, body.queues)})


@routes.post("/api/v1/telephony/agent/pause", summary="示忙（暂停接听）/ Pause with a reason (QueuePause)",
             body=PauseIn, response=Done, tags=TAG, extra_responses=PBX_ERRORS)
async def agent_pause(request: web.Request, principal: Principal, body: PauseIn) -> Done:
    ext = _extension(principal, body)
    await _tel(request).switchboard.pause(ext, True, body.reason)
    return Done(extension=ext, detail={"reason": body.reason})


@routes.post("/api/v1/telephony/agent/unpause", summary="示闲 / Unpause", body=Body, response=Done, tags=TAG,
             extra_responses=PBX_ERRORS)
async def agent_unpause(request: web.Request, principal: Principal, body: Body) -> Done:
    ext = _extension(principal, body)
    await _tel(request).switchboard.pause(ext, False)
    return Done(extension=ext)


@routes.post("/api/v1/telephony/calls/originate", summary="外呼（先振坐席话机）/ Click-to-call (Originate)",
             body=DialIn, response=Done, tags=TAG, extra_responses=PBX_ERRORS)
async def originate(request: web.Request, principal: Principal, body: DialIn) -> Done:
    ext = _extension(principal, body)
    ident = await _tel(request).switchboard.originate(ext, body.number)
    return Done(extension=ext, detail={"id": ident, "number": body.number})


@routes.post("/api/v1/telephony/calls/transfer", summary="转接部门 / Blind transfer to a department",
             body=DepartmentIn, response=Done, tags=TAG, extra_responses={409: "坐席没有通话", **PBX_ERRORS})
async def transfer(request: web.Request, principal: Principal, body: DepartmentIn) -> Done:
    ext = _extension(principal, body)
    phone = _department_phone(request, body.department)
    await _tel(request).switchboard.transfer(ext, phone)
    return Done(extension=ext, detail={"department": body.department, "phone": phone})


@routes.post("/api/v1/telephony/calls/conference", summary="三方通话 / Three-way call with a department expert",
             body=DepartmentIn, response=Done, tags=TAG, extra_responses={409: "坐席没有通话", **PBX_ERRORS})
async def conference(request: web.Request, principal: Principal, body: DepartmentIn) -> Done:
    ext = _extension(principal, body)
    phone = _department_phone(request, body.department)
    room = await _tel(request).switchboard.conference(ext, phone)
    return Done(extension=ext, detail={"department": body.department, "room": room})


@routes.post("/api/v1/telephony/calls/hangup", summary="挂断 / Hang up the agent's call", body=Body,
             response=Done, tags=TAG, extra_responses={409: "坐席没有通话", **PBX_ERRORS})
async def hangup(request: web.Request, principal: Principal, body: Body) -> Done:
    ext = _extension(principal, body)
    await _tel(request).switchboard.hangup(ext)
    return Done(extension=ext)


@routes.post("/api/v1/telephony/calls/spy", summary="监听/耳语/强插 / Listen in, whisper or barge (ChanSpy)",
             body=SpyIn, response=Done, tags=TAG,
             extra_responses={409: "坐席没有接通的通话 / the agent is not on a call", **PBX_ERRORS})
async def spy(request: web.Request, principal: Principal, body: SpyIn) -> Done:
    """Supervisors only. Their own extension's phone rings; answered, it hears the agent's call
    (listen), speaks to the agent alone (whisper) or to both sides (barge)."""
    principal.require_role(UserRole.SUPERVISOR, UserRole.ADMIN)
    if not principal.extension:
        raise ValidationFailed("您的账号没有分机号，无法监听（hotline user set-extension）", code="no_extension")
    ident = await _tel(request).switchboard.spy(principal.extension, body.agent, body.mode)
    return Done(extension=principal.extension, detail={"id": ident, "agent": body.agent, "mode": body.mode})


class StatsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # A string, not a `date`: pydantic would also take a number as a Unix time.
    day: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$",
                            description="本地日期 YYYY-MM-DD；默认今天 / the local day, default today")
    lang: str | None = None


@routes.get("/api/v1/telephony/stats", summary="当日话务指标（接通率、15秒接通率、平均等待/通话时长、分时段）/ "
            "The day's call figures, per hour too", query=StatsQuery, tags=TAG)
async def call_stats(request: web.Request, principal: Principal, query: StatsQuery) -> dict[str, Any]:
    from hotline.telephony.stats import QueuedCall, day_figures

    principal.require_role(*STAFF)
    h = request.app[HOTLINE]
    tz = h.settings.tz
    try:
        day = date.fromisoformat(query.day) if query.day else h.clock().astimezone(tz).date()
    except ValueError:
        raise ValidationFailed(f"日期 {query.day} 不存在", code="invalid_date") from None
    start = datetime.combine(day, time(0), tz)
    async with h.sessions() as session:
        rows = await queries.queued_calls(session, start, start + timedelta(days=1))
    return {"day": day.isoformat(), **day_figures((QueuedCall(*r) for r in rows), tz)}


@routes.get("/api/v1/telephony/calls", summary="通话记录 / Call records, newest first", query=ListQuery,
            response=list[CallOut], tags=TAG)
async def list_calls(request: web.Request, principal: Principal, query: ListQuery) -> list[CallOut]:
    principal.require_role(*STAFF)
    async with request.app[HOTLINE].sessions() as session:
        rows = await queries.calls(session, outcome=query.outcome, caller_number=query.caller, limit=query.limit)
    return [CallOut.model_validate(r, from_attributes=True) for r in rows]


@routes.get("/api/v1/telephony/callbacks", summary="回拨任务 / Callback tasks", query=ListQuery,
            response=list[TaskOut], tags=TAG)
async def list_callbacks(request: web.Request, principal: Principal, query: ListQuery) -> list[TaskOut]:
    principal.require_role(*STAFF)
    async with request.app[HOTLINE].sessions() as session:
        rows = await queries.callback_tasks(session, status=query.status, limit=query.limit)
    return [TaskOut.model_validate(r, from_attributes=True) for r in rows]


async def _task(request: web.Request, session: Any) -> CallbackTask:
    task = await queries.task_for_update(session, path_id(request, "task"))
    if task is None:
        raise NotFound("回拨任务不存在", code="callback_not_found")
    if task.status not in OPEN_TASK:
        raise Conflict("回拨任务已结束", code="callback_closed")
    return task


@routes.post("/api/v1/telephony/callbacks/{task}/call", summary="回拨（外呼并关联任务）/ Call the citizen back",
             body=Body, response=Done, tags=TAG, extra_responses={404: "任务不存在", 409: "任务已结束", **PBX_ERRORS})
async def call_back(request: web.Request, principal: Principal, body: Body) -> Done:
    ext = _extension(principal, body)
    h = request.app[HOTLINE]
    async with h.sessions() as session, session.begin():
        task = await _task(request, session)
        phone, task_id = task.phone, task.id
        task.status, task.agent_id, task.updated_at = "calling", int(principal.id), h.clock()
    try:
        ident = await _tel(request).switchboard.originate(ext, phone, callback_task=task_id)
    except HotlineError:  # not dialled after all: the task waits for the next try
        async with h.sessions() as session, session.begin():
            await queries.reopen_task(session, task_id)
        raise
    return Done(extension=ext, detail={"task": task_id, "number": phone, "id": ident})


@routes.post("/api/v1/telephony/callbacks/{task}/close", summary="结束回拨任务 / Close a callback task",
             body=CloseTaskIn, response=TaskOut, tags=TAG, extra_responses={404: "任务不存在", 409: "任务已结束"})
async def close_callback(request: web.Request, principal: Principal, body: CloseTaskIn) -> TaskOut:
    principal.require_role(*STAFF)
    h = request.app[HOTLINE]
    async with h.sessions() as session, session.begin():
        task = await _task(request, session)
        now = h.clock()
        task.status = "done" if body.result != "unreachable" else "failed"
        task.result, task.note, task.done_at, task.updated_at = body.result, body.note or None, now, now
        task.agent_id = int(principal.id)
        out = TaskOut.model_validate(task, from_attributes=True)
    await h.live.publish("callback", {"event": task.status, "task": out.id, "phone": out.phone})
    return out


@routes.get("/api/v1/telephony/calls/{linkedid}/recording", summary="通话录音 / The call's recording (WAV, Range)",
            tags=TAG, extra_responses={404: "无此通话或无录音 / no such call or no recording",
                                       206: "Range 请求的部分内容 / partial content"})
async def call_recording(request: web.Request, principal: Principal) -> web.StreamResponse:
    """The hotline's own copy of the recording (telephony.recordings), for agents and
    supervisors from the order (`call_id` = the Linkedid). Range requests let a player seek."""
    principal.require_role(*STAFF)
    h = request.app[HOTLINE]
    linkedid = request.match_info["linkedid"]
    async with h.sessions() as session:
        record = await queries.call_by_linkedid(session, linkedid)
    kept = (record.data or {}).get("recording_file") if record is not None else None
    if record is None or not kept:
        raise NotFound("该通话没有录音", code="recording_not_found")
    root = h.settings.data_dir.resolve()
    path = (root / str(kept["location"])).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise NotFound("录音文件不在本机存储中", code="recording_not_stored")
    name = quote(f"{linkedid}.wav")
    return web.FileResponse(path, headers={"Content-Type": "audio/wav", "X-Content-Type-Options": "nosniff",
                                           "Content-Disposition": f"inline; filename*=UTF-8''{name}"})
