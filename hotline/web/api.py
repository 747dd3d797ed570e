"""JSON API routes that describe themselves: one declaration gives the aiohttp route,
the request validation (pydantic), the authentication and the OpenAPI operation.

    routes = ApiRoutes()

    @routes.post("/api/v1/workorders", summary="...", body=NewOrder, response=OrderOut, status=201)
    async def create(request, principal, body): ...

A handler returns a pydantic model, a dict/list (sent as JSON) or an aiohttp response.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ValidationError
from pydantic_core import to_json

from hotline.errors import HotlineError, ValidationFailed
from hotline.web.boundary import clean_json, too_deep
from hotline.web.messages import describe

AuthKind = Literal["none", "user", "department", "any"]
Handler = Callable[..., Awaitable[Any]]


@dataclass
class Operation:
    method: str
    path: str
    handler: Handler
    summary: str
    description: str = ""
    tags: tuple[str, ...] = ()
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: Any = None  # a pydantic model class, or list[Model]
    status: int = 200
    auth: AuthKind = "user"
    extra_responses: dict[int, str] = field(default_factory=dict)
    # Request headers the handler reads: name → (required, longest accepted, description).
    headers: dict[str, tuple[bool, int, str]] = field(default_factory=dict)
    # A key checked by the handler itself (auth="none"): a securitySchemes name, e.g. "appKey".
    key: str | None = None
    # A request body the handler reads itself (multipart uploads): its OpenAPI `content`.
    raw_body: dict[str, Any] | None = None
    # Other media types of the success response (a report as CSV/XLSX): its OpenAPI `content`.
    raw_response: dict[str, Any] | None = None
    # Another success status with the same body (200 for an idempotent repeat of a 201).
    repeat_status: int | None = None


def _validation_problem(exc: ValidationError, where: str) -> ValidationFailed:
    """The errors as pydantic reports them (type, context, English message): the web shell
    words them in the caller's language (`hotline.web.messages`) when it answers."""
    errors = [{"loc": [where, *err["loc"]], "msg": err["msg"], "type": err["type"], "ctx": err.get("ctx") or {}}
              for err in exc.errors(include_url=False)]
    detail, _ = describe(errors, "en")
    return ValidationFailed(detail, errors=errors)


async def read_json(request: web.Request) -> Any:
    ctype = request.content_type
    if ctype != "application/json" and not ctype.endswith("+json"):
        raise HotlineError(f"请使用 Content-Type: application/json（收到 {ctype or '空'}）",
                           code="unsupported_media_type", status=415, title="不支持的内容类型",
                           title_en="Unsupported media type")
    raw = await request.read()
    try:
        data = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise HotlineError(f"请求体不是合法的 JSON：{exc}", code="malformed_json", status=400,
                           title="请求格式错误", title_en="Malformed JSON") from None
    except RecursionError:  # nested deeper than the parser goes; clean_json refuses far less already
        raise too_deep() from None
    return clean_json(data)


def parse_body(model: type[BaseModel], data: Any) -> BaseModel:
    try:
        # Strict, as JSON reads it: `0` is not `false` and "5" is not 5 (the document says
        # boolean and integer), while strings still make enums and datetimes.
        return model.model_validate_json(to_json(data), strict=True)
    except ValidationError as exc:
        raise _validation_problem(exc, "body") from None


def parse_query(model: type[BaseModel], request: web.Request, zone: tzinfo = UTC) -> BaseModel:
    data: dict[str, Any] = {}
    for key in request.query:
        values = request.query.getall(key)
        data[key] = values if len(values) > 1 else values[0]
    try:
        # The county's zone, for the date filters (a plain date is that day there).
        return model.model_validate(data, context={"tz": zone})
    except ValidationError as exc:
        raise _validation_problem(exc, "query") from None


def to_response(result: Any, status: int) -> web.StreamResponse:
    if isinstance(result, web.StreamResponse):
        return result
    payload: Any
    if isinstance(result, BaseModel):
        payload = result.model_dump(mode="json")
    elif isinstance(result, list):
        payload = [r.model_dump(mode="json") if isinstance(r, BaseModel) else r for r in result]
    else:
        payload = result
    if status == 204:
        return web.Response(status=204)
    return web.json_response(payload, status=status, dumps=dumps)


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str)


class ApiRoutes:
    """A route table (like aiohttp's RouteTableDef) that keeps OpenAPI metadata."""

    def __init__(self) -> None:
        self.operations: list[Operation] = []

    def route(self, method: str, path: str, *, summary: str, **kw: Any) -> Callable[[Handler], Handler]:
        def deco(handler: Handler) -> Handler:
            self.operations.append(Operation(method.upper(), path, handler, summary, **kw))
            return handler
        return deco

    def get(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("PUT", path, **kw)

    def delete(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path, **kw)

    def install(self, app: web.Application, authenticate: Callable[[web.Request, AuthKind], Awaitable[Any]],
                zone: tzinfo = UTC) -> None:
        """`zone`: the county's, in which a plain date of a query filter is read."""
        for op in self.operations:
            app.router.add_route(op.method, op.path, _wrap(op, authenticate, zone), name=_route_name(op))


def _route_name(op: Operation) -> str:
    return op.handler.__name__


def _wrap(op: Operation, authenticate: Callable[[web.Request, AuthKind], Awaitable[Any]], zone: tzinfo) -> Handler:
    params = inspect.signature(op.handler).parameters

    async def handler(request: web.Request) -> web.StreamResponse:
        kwargs: dict[str, Any] = {}
        principal = await authenticate(request, op.auth)
        if "principal" in params:
            kwargs["principal"] = principal
        if op.body is not None:
            kwargs["body"] = parse_body(op.body, await read_json(request))
        if op.query is not None:
            kwargs["query"] = parse_query(op.query, request, zone)
        return to_response(await op.handler(request, **kwargs), op.status)

    handler.__name__ = op.handler.__name__
    return handler
