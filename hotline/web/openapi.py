"""The OpenAPI 3.1 document of the JSON API, built from the route tables themselves."""

from __future__ import annotations

import re
import typing
from typing import Any

from pydantic import BaseModel

from hotline import __version__

if typing.TYPE_CHECKING:
    from hotline.web.api import ApiRoutes, Operation

_REF = "#/components/schemas/{model}"

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


def _schema(model: Any, components: dict[str, Any]) -> dict[str, Any]:
    origin = typing.get_origin(model)
    if origin is list:
        (item,) = typing.get_args(model)
        return {"type": "array", "items": _schema(item, components)}
    if isinstance(model, type) and issubclass(model, BaseModel):
        schema = model.model_json_schema(ref_template=_REF, mode="serialization")
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
        return {"$ref": _REF.format(model=model.__name__)}
    return {}


def _parameters(op: Operation, components: dict[str, Any]) -> list[dict[str, Any]]:
    out = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
           for name in re.findall(r"{(\w+)[^}]*}", op.path)]
    if op.query is not None:
        schema = op.query.model_json_schema(ref_template=_REF)
        components.update(schema.pop("$defs", {}))
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            out.append({"name": name, "in": "query", "required": name in required, "schema": prop,
                        **({"description": prop["description"]} if "description" in prop else {})})
    return out


def build(tables: list[ApiRoutes], *, title: str, description: str) -> dict[str, Any]:
    components: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}
    paths: dict[str, Any] = {}
    for table in tables:
        for op in table.operations:
            entry: dict[str, Any] = {
                "summary": op.summary, "operationId": f"{op.method.lower()}_{op.handler.__name__}",
                "tags": list(op.tags), "security": SECURITY[op.auth],
                "parameters": _parameters(op, components),
            }
            if op.description:
                entry["description"] = op.description
            if op.body is not None:
                entry["requestBody"] = {"required": True, "content": {
                    "application/json": {"schema": _schema(op.body, components)}}}
            ok: dict[str, Any] = {"description": "OK"}
            if op.response is not None:
                ok["content"] = {"application/json": {"schema": _schema(op.response, components)}}
            problem = {"content": {"application/problem+json": {"schema": {"$ref": _REF.format(model="Problem")}}}}
            responses: dict[str, Any] = {str(op.status): ok}
            for status, text in {400: "请求格式错误 / bad request", 422: "内容不符合要求 / validation failed",
                                 **({401: "未登录 / unauthenticated", 403: "无权限 / forbidden"}
                                    if op.auth != "none" else {}),
                                 **op.extra_responses}.items():
                responses[str(status)] = {"description": text, **problem}
            entry["responses"] = responses
            paths.setdefault(op.path, {})[op.method.lower()] = entry
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
            },
        },
    }
