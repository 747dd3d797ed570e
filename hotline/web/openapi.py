"""The OpenAPI 3.1 document of the JSON API, built from the route tables themselves."""

from __future__ import annotations

import re
import typing
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from hotline import __version__
from hotline.storage.paging import MAX_ID

if typing.TYPE_CHECKING:
    from hotline.web.api import ApiRoutes, Operation

_REF = "#/components/schemas/{model}"
ROW_IDS = {"id", "task"}  # path parameters that are row ids

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details; `code` is stable, `title` is Chinese (English with ?lang=en).",
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "code": {"type": "string"}, "instance": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["type", "title", "status", "code"],
}

SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "user": [{"bearer": []}, {"session": []}],
    "department": [{"apiKey": []}],
    "any": [{"bearer": []}, {"session": []}, {"apiKey": []}],
    "none": [],
}


def _models(model: Any) -> list[type[BaseModel]]:
    if typing.get_origin(model) is list:
        return _models(typing.get_args(model)[0])
    return [model] if isinstance(model, type) and issubclass(model, BaseModel) else []


def _schema(model: Any, refs: dict[Any, Any], mode: JsonSchemaMode) -> dict[str, Any]:
    if typing.get_origin(model) is list:
        return {"type": "array", "items": _schema(typing.get_args(model)[0], refs, mode)}
    if isinstance(model, type) and issubclass(model, BaseModel):
        return dict(refs[(model, mode)])
    return {}


def openapi_path(path: str) -> str:
    """aiohttp's `{name:regex}` (regexes may hold braces) as OpenAPI's `{name}`."""
    out, depth, skipping = [], 0, False
    for ch in path:
        if ch == "{":
            depth += 1
            if depth > 1:
                continue
        elif ch == "}":
            depth -= 1
            if depth > 0:
                continue
            skipping = False
        elif ch == ":" and depth == 1:
            skipping = True
        if not skipping or ch == "}":
            out.append(ch)
    return "".join(out)


def _path_parameter(name: str) -> dict[str, Any]:
    # Row ids are BIGINTs (hotline.web.boundary.path_id); order numbers and codes are text.
    schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID} if name in ROW_IDS else {"type": "string"}
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _parameters(op: Operation, components: dict[str, Any], refs: dict[Any, Any]) -> list[dict[str, Any]]:
    out = [_path_parameter(name) for name in re.findall(r"{(\w+)}", openapi_path(op.path))]
    out += [{"name": name, "in": "header", "required": required,
             "schema": {"type": "string", "minLength": 1, "maxLength": longest}, "description": text}
            for name, (required, longest, text) in op.headers.items()]
    if op.query is not None:
        schema = components[refs[(op.query, "validation")]["$ref"].rsplit("/", 1)[1]]
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            out.append({"name": name, "in": "query", "required": name in required, "schema": prop,
                        **({"description": prop["description"]} if "description" in prop else {})})
    return out


def _responses(op: Operation, refs: dict[Any, Any]) -> dict[str, Any]:
    ok: dict[str, Any] = {"description": "OK"}
    if op.response is not None:
        ok["content"] = {"application/json": {"schema": _schema(op.response, refs, "serialization")}}
    if op.raw_response is not None:
        ok["content"] = {**ok.get("content", {}), **op.raw_response}
    problem = {"content": {"application/problem+json": {"schema": {"$ref": _REF.format(model="Problem")}}}}
    documented: dict[int, str] = {400: "请求格式错误 / bad request", 422: "内容不符合要求 / validation failed"}
    if op.body is not None or op.raw_body is not None:
        documented[413] = "请求体过大 / payload too large"
        documented[415] = "请使用 application/json（或文档所列类型） / unsupported media type"
    if op.auth != "none" or op.key:
        documented |= {401: "未登录或凭据无效 / unauthenticated", 403: "无权限 / forbidden"}
    if "{" in op.path:
        documented[404] = "不存在 / not found"
    documented |= op.extra_responses
    responses: dict[str, Any] = {str(op.status): ok}
    if op.repeat_status is not None:
        responses[str(op.repeat_status)] = {**ok, "description": "重复提交：首次的结果 / a repeat: the first result"}
    for status, text in sorted(documented.items()):
        responses[str(status)] = {"description": text, **problem}
    responses["503"] = {"description": "数据库等依赖暂不可用，请按 Retry-After 重试 / unavailable, retry", **problem,
                        "headers": {"Retry-After": {"schema": {"type": "string"}, "required": True,
                                                    "description": "Seconds to wait before retrying"}}}
    return responses


def build(tables: list[ApiRoutes], *, title: str, description: str) -> dict[str, Any]:
    ops = [op for table in tables for op in table.operations]
    # Every model in one pass: pydantic then names the classes that share a name (two
    # `CitizenOut`s, two `AttachmentOut`s) apart, instead of the later overwriting the earlier.
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = []
    for op in ops:
        wanted += [(m, "validation") for m in (op.body, op.query) if m is not None]
        wanted += [(m, "serialization") for m in _models(op.response)]
    refs, top = models_json_schema(list(dict.fromkeys(wanted)), ref_template=_REF)
    components: dict[str, Any] = {"Problem": PROBLEM_SCHEMA, **top.get("$defs", {})}
    paths: dict[str, Any] = {}
    for op in ops:
        entry: dict[str, Any] = {
            "summary": op.summary, "operationId": f"{op.method.lower()}_{op.handler.__name__}",
            "tags": list(op.tags), "security": [{op.key: []}] if op.key else SECURITY[op.auth],
            "parameters": _parameters(op, components, refs),
        }
        if op.description:
            entry["description"] = op.description
        if op.body is not None:
            entry["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": _schema(op.body, refs, "validation")}}}
        elif op.raw_body is not None:
            entry["requestBody"] = {"required": True, "content": op.raw_body}
        entry["responses"] = _responses(op, refs)
        paths.setdefault(openapi_path(op.path), {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": __version__, "description": description},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "POST /api/v1/auth/login 返回的 token"},
                "session": {"type": "apiKey", "in": "cookie", "name": "hotline_session",
                            "description": "坐席工作台的会话 Cookie；写操作还需 X-CSRF-Token 头"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key",
                           "description": "承办部门的 API 密钥（hotline apikey create）"},
                "appKey": {"type": "apiKey", "in": "header", "name": "X-App-Key",
                           "description": "接入系统（App、Open311 客户端）的密钥（HOTLINE_OPEN311_API_KEYS）"},
                "mediaKey": {"type": "apiKey", "in": "header", "name": "X-Media-Key",
                             "description": "合作媒体的密钥（POST /api/v1/media/partners/{code}/keys）"},
                "companyKey": {"type": "apiKey", "in": "header", "name": "X-Company-Key",
                               "description": "便民服务企业的密钥（POST /api/v1/directory/companies/{code}/key）"},
            },
        },
    }
